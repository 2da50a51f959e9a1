"""alertmanager.yml without a running Alertmanager: routing through amtool's own route tester, secrets only
from files, every inhibition scoped to service="opswatch", and the compose demo copy in step.
(`amtool check-config` runs before this, from scripts/test.sh.)"""
import filecmp
import subprocess

import pytest
import yaml

from testkit import REPO

CONFIG = REPO / "alertmanager/alertmanager.yml"

# (labels, the one receiver they must reach)
ROUTES = [
    ({"alertname": "BudgetExceeded", "severity": "critical", "service": "opswatch", "provider": "vercel"}, "pager"),
    ({"alertname": "QuotaExhausted", "severity": "critical", "service": "opswatch", "provider": "azure_openai",
      "quota": "chat_tokens_per_minute"}, "pager"),
    ({"alertname": "IncidentCriticalSafety", "severity": "critical", "service": "opswatch"}, "pager"),
    ({"alertname": "OpswatchExporterDown", "severity": "critical", "service": "opswatch"}, "pager"),
    ({"alertname": "BudgetSpendWarning", "severity": "warning", "service": "opswatch", "provider": "total"}, "chat"),
    ({"alertname": "BudgetFixedFeeOverBudget", "severity": "warning", "service": "opswatch", "provider": "supabase"},
     "chat"),
    ({"alertname": "ExternalCallsFailing", "severity": "warning", "service": "opswatch", "provider": "brave_search"},
     "chat"),
    ({"alertname": "QuotaWarning", "severity": "warning", "service": "opswatch", "provider": "google_drive",
      "quota": "queries_per_day"}, "chat"),
    ({"alertname": "OpswatchSourceStale", "severity": "warning", "service": "opswatch", "source": "costs"}, "chat"),
    ({"alertname": "SomethingForTheRecord", "severity": "info"}, "null"),
    ({"alertname": "OpswatchHeartbeat", "severity": "info", "service": "opswatch"}, "deadmans-switch"),
    # No or an unknown severity still reaches a human.
    ({"alertname": "SomethingUnlabelled"}, "chat"),
    ({"alertname": "SomethingOdd", "severity": "page"}, "chat"),
]


def amtool_routes(labels, receivers):
    args = ["amtool", "config", "routes", "test", f"--config.file={CONFIG}", f"--verify.receivers={receivers}"]
    return subprocess.run(args + [f"{k}={v}" for k, v in labels.items()], capture_output=True, text=True)


@pytest.mark.parametrize("labels, receiver", ROUTES, ids=[f"{l['alertname']}->{r}" for l, r in ROUTES])
def test_route(labels, receiver):
    result = amtool_routes(labels, receiver)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("labels, receiver", [
    ({"alertname": "BudgetExceeded", "severity": "critical", "service": "opswatch"}, "chat"),
    ({"alertname": "BudgetExceeded", "severity": "critical", "service": "opswatch"}, "pager,chat"),
    ({"alertname": "OpswatchHeartbeat", "severity": "critical", "service": "opswatch"}, "pager"),
], ids=["critical-not-to-chat", "critical-only-to-pager", "heartbeat-never-pages"])
def test_route_does_not_reach(labels, receiver):
    assert amtool_routes(labels, receiver).returncode != 0


def test_receivers_read_their_secrets_from_files():
    config = yaml.safe_load(CONFIG.read_text())
    receivers = {r["name"]: r for r in config["receivers"]}
    assert receivers["pager"]["pagerduty_configs"][0]["routing_key_file"] == "/etc/alertmanager/secrets/pager_routing_key"
    assert receivers["chat"]["slack_configs"][0]["api_url_file"] == "/etc/alertmanager/secrets/chat_webhook_url"
    inline = [(r["name"], key) for r in config["receivers"] for configs in r.values() if isinstance(configs, list)
              for c in configs for key in ("routing_key", "service_key", "api_url") if key in c]
    assert inline == []


def matchers(rule, side):
    return {m.replace(" ", "") for m in rule.get(f"{side}_matchers", [])}


@pytest.mark.parametrize("index", range(len(yaml.safe_load(CONFIG.read_text())["inhibit_rules"])))
def test_inhibition_is_scoped_to_opswatch(index):
    """In an Alertmanager shared with other teams, an inhibition never touches their alerts."""
    rule = yaml.safe_load(CONFIG.read_text())["inhibit_rules"][index]
    assert 'service="opswatch"' in matchers(rule, "source")
    assert 'service="opswatch"' in matchers(rule, "target")
    assert {"env", "service"} <= set(rule["equal"])


def test_the_compose_demo_copy_is_what_sink_config_makes_today(tmp_path):
    subprocess.run([str(REPO / "alertmanager/sink-config.sh"), "--sink", "http://webhook-sink:8080", "--out",
                    str(tmp_path), "--secrets-dir", "/etc/alertmanager/secrets"], check=True, capture_output=True)
    diff = filecmp.dircmp(REPO / "alertmanager/demo", tmp_path)
    stale = diff.diff_files + diff.left_only + diff.right_only
    for sub in diff.subdirs.values():
        stale += sub.diff_files + sub.left_only + sub.right_only
    assert stale == [], ("regenerate: alertmanager/sink-config.sh --sink http://webhook-sink:8080 "
                         "--out alertmanager/demo --secrets-dir /etc/alertmanager/secrets")
