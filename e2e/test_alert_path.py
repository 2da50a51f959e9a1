"""End-to-end proof of the alert path on local binaries (e2e/conftest.py sets it up once).

The tests run in this order and build on each other, as an incident does:
  1. a provider's spend is pushed past its budget: the budget alert fires and reaches the pager receiver
     with severity=critical, the provider, the value, a runbook_url naming a page of runbooks/ and a
     dashboard_url opening the cost dashboard on that provider (one its provider variable offers);
  2. the lower-severity alert of the same provider is inhibited in Alertmanager and never sent;
  3. the database stops: the source-down alert fires while /metrics keeps answering;
  4. the database starts again: everything recovers without restarting the exporter;
  5. every dashboard query runs against this Prometheus and PostgreSQL and returns data.
The timeline from the breach to the page is printed at the end of pytest's report."""
import json
import os
import re
import subprocess
import sys
import urllib.parse

from alertpath import REPO, mark, pg_throwaway
from testkit import http_get, psql, wait_for

PROVIDER = "azure_openai"


def test_budget_breach_pages_on_call_with_its_runbook(alert_path):
    budget = float(alert_path.query(f'opswatch_budget_eur{{provider="{PROVIDER}"}}')[0]["value"][1])
    mark(f"breach: a {budget:.2f} EUR text session inserted (one whole budget)")
    psql(alert_path.db.url, "-c", f"""
        INSERT INTO session_metrics ("id", "sessionId", "userId", "tokensIn", "tokensOut", "costEur",
                                     "createdAt", "updatedAt")
        VALUES ('e2e-breach', 'e2e-breach', 'demo-user-1', 1000, 1000, {budget:.2f},
                now() AT TIME ZONE 'UTC', now())""")
    wait_for("usage ratio >= 1",
             lambda: alert_path.query(f'opswatch_budget_usage_ratio{{provider="{PROVIDER}"}} >= 1'), 30)
    mark("exporter: usage ratio >= 1")
    wait_for("BudgetExceeded firing", lambda: alert_path.firing("BudgetExceeded", provider=PROVIDER), 90)
    mark("prometheus: BudgetExceeded firing")
    page = wait_for("the page", lambda: alert_path.pages("BudgetExceeded", PROVIDER), 120)[0]
    mark("pager receiver: BudgetExceeded received")

    assert page["event_action"] == "trigger", page
    assert page["payload"]["severity"] == "critical", page
    details = page["payload"]["custom_details"]
    runbook = details["runbook_url"]
    assert "/runbooks/" in runbook, f"runbook_url {runbook} names no runbook page"
    assert (REPO / "runbooks" / runbook.rsplit("/runbooks/", 1)[1]).is_file(), \
        f"runbook_url {runbook} names no page in the repository"
    description = details["firing"]
    assert "EUR" in description and any(ch.isdigit() for ch in description), description
    # The link as Prometheus rendered it and Alertmanager sent it: the cost dashboard, this provider selected,
    # and a value the dashboard's provider variable (label_values(metric, label)) lists on this Prometheus.
    link = urllib.parse.urlsplit(details["dashboard_url"])
    assert (link.path, urllib.parse.parse_qs(link.query)) == ("/d/opswatch-cost", {"var-provider": [PROVIDER]}), \
        details["dashboard_url"]
    cost = json.loads((REPO / "grafana/dashboards/opswatch-cost.json").read_text())
    variable = next(v for v in cost["templating"]["list"] if v["name"] == "provider")
    metric, label = re.fullmatch(r"label_values\((\w+),\s*(\w+)\)", variable["query"]["query"]).groups()
    assert PROVIDER in {s["metric"][label] for s in alert_path.query(f"group by ({label}) ({metric})")}


def test_the_warning_of_the_same_provider_is_inhibited(alert_path):
    wait_for("BudgetSpendWarning firing in Prometheus",
             lambda: alert_path.firing("BudgetSpendWarning", provider=PROVIDER), 60)

    def inhibited():
        for alert in alert_path.alertmanager_alerts(active="true", inhibited="true", silenced="false",
                                                    unprocessed="false"):
            labels = alert["labels"]
            if labels.get("alertname") == "BudgetSpendWarning" and labels.get("provider") == PROVIDER:
                return alert["status"]["state"] == "suppressed" and alert["status"]["inhibitedBy"]
        return False

    wait_for("BudgetSpendWarning inhibited in Alertmanager", inhibited, 60)
    assert not alert_path.pages("BudgetSpendWarning", PROVIDER), "the inhibited warning was still sent"


def test_database_down_fires_source_down_while_metrics_answer(alert_path):
    mark("database stopped")
    pg_throwaway("stop")
    wait_for("opswatch_source_up{source=costs} == 0",
             lambda: alert_path.query('opswatch_source_up{source="costs"} == 0'), 60)
    wait_for("OpswatchSourceDown firing", lambda: alert_path.firing("OpswatchSourceDown", source="costs"), 90)
    mark("prometheus: OpswatchSourceDown firing")
    status, body = http_get(alert_path.exporter_url + "/metrics")
    assert status == 200 and "opswatch_source_up" in body


def test_database_back_recovers_without_an_exporter_restart(alert_path):
    exports = pg_throwaway("start")
    assert f"OPSWATCH_TEST_PG_PORT={os.environ['OPSWATCH_TEST_PG_PORT']}" in exports, \
        "the cluster came back on another port"
    mark("database started")
    wait_for("every source up", lambda: not alert_path.query('opswatch_source_up{source!="probes"} == 0')
             and alert_path.query('opswatch_source_up{source="costs"} == 1'), 90)
    wait_for("OpswatchSourceDown resolved", lambda: not alert_path.firing("OpswatchSourceDown"), 90)
    mark("recovered: OpswatchSourceDown resolved")
    assert alert_path.exporter.alive(), "the exporter was restarted or died"


def test_every_dashboard_query_returns_data(alert_path):
    # grafana/test/check_dashboards.py's live mode, as Grafana's own role (opswatch_grafana), over a
    # short range: Prometheus holds only this run's minutes.
    result = subprocess.run([sys.executable, str(REPO / "grafana/test/check_dashboards.py"),
                             "--prometheus", alert_path.prometheus, "--postgres-url", alert_path.grafana_url,
                             "--alertmanager", alert_path.alertmanager, "--time-from", "now-15m"],
                            capture_output=True, text=True)
    failures = [line for line in result.stdout.splitlines() if line.startswith("FAIL")]
    assert result.returncode == 0, "dashboard queries failed:\n" + "\n".join(
        failures or [result.stdout[-3000:]]) + "\n" + result.stderr[-2000:]
