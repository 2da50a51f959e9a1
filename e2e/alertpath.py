"""The alert path on local binaries, for e2e/test_alert_path.py (e2e/conftest.py starts it once):

PostgreSQL with the demo data, read through the read-only role (exporter/sql/role.sql) -> the exporter
(exporter/bin/opswatch-exporter) -> Prometheus with the repository's config and rules (fast variant) ->
Alertmanager with the repository's config, every receiver pointed at a local webhook sink
(alertmanager/sink-config.sh).

Everything binds 127.0.0.1 on free ports and is stopped by PID."""
import os
import subprocess
import sys
import time
import urllib.parse
import uuid

import pytest

import testkit

REPO = testkit.REPO
READER_PASSWORD = "e2e-only-" + uuid.uuid4().hex[:8]
TIMELINE = []


def render_e2e_profile(target_dir, exporter, alertmanager):
    """The repository's Prometheus config and rules rendered by the alerting part's one tool for a fast
    rule set, prometheus/render_rules.py, with its `e2e` profile (prometheus/profiles.yml: 1s scrapes and
    evaluations, every for:/keep_firing_for at most 5s) and the local targets. Returns the config file."""
    subprocess.run([sys.executable, str(REPO / "prometheus/render_rules.py"), "render", "e2e", "--out",
                    str(target_dir), "--exporter", exporter, "--alertmanager", alertmanager],
                   check=True, stdout=subprocess.DEVNULL)
    return target_dir / "prometheus.yml"




def sink_alertmanager_config(target_dir, sink):
    """alertmanager.yml with every receiver posting to SINK (alertmanager/sink-config.sh rewrites only the
    receivers' addresses and the secrets directory) and group_wait at 1s. Returns the config file."""
    subprocess.run([str(REPO / "alertmanager/sink-config.sh"), "--sink", sink.url(""), "--out", str(target_dir),
                    "--group-wait", "1s"], check=True, stdout=subprocess.DEVNULL)
    return target_dir / "alertmanager.yml"


def pg_throwaway(action):
    """Stops or starts scripts/test.sh's throwaway PostgreSQL (the server every test database lives on)."""
    directory = os.environ.get("OPSWATCH_TEST_PG_DIR")
    if not directory:
        pytest.fail("OPSWATCH_TEST_PG_DIR is not set: run the e2e through scripts/test.sh")
    return subprocess.run([str(REPO / "scripts/pg-throwaway.sh"), action, directory],
                          check=True, capture_output=True, text=True).stdout


def mark(event):
    """One line of the timeline printed at the end."""
    TIMELINE.append((time.monotonic(), event))


class AlertPath:
    """The running path, and what the tests ask of it."""

    def __init__(self, db, sink, health, processes, work):
        self.db = db
        self.sink = sink
        testkit.psql(db.url, "-v", f"reader_password={READER_PASSWORD}", "-f", str(REPO / "exporter/sql/role.sql"))
        # As the reader role, so that the exporter and the dashboards are proven with the grants they get.
        self.reader_url = testkit.with_credentials(db.url, "opswatch_reader", READER_PASSWORD)
        # Grafana's own role (exporter/sql/grafana-role.sql): the dashboards' SQL is proven with its grants.
        testkit.psql(db.url, "-v", f"grafana_password={READER_PASSWORD}", "-f",
                     str(REPO / "exporter/sql/grafana-role.sql"))
        self.grafana_url = testkit.with_credentials(db.url, "opswatch_grafana", READER_PASSWORD)
        password_file = work / "reader-password"
        password_file.write_text(READER_PASSWORD)
        token_file = work / "admin-token"
        token_file.write_text(uuid.uuid4().hex)
        fast = {f"CONFIG_FORCE_opswatch_sources_{source}_refresh__interval": "1s"
                for source in ("costs", "quotas", "quotas___fast", "incidents", "probes")}
        self.exporter, self.exporter_url = testkit.start_exporter(
            processes, testkit.with_credentials(db.url, "opswatch_reader"),
            OPSWATCH_DATABASE_PASSWORD_FILE=str(password_file), OPSWATCH_ADMIN_TOKEN_FILE=str(token_file),
            OPSWATCH_APP_HEALTH_URL=health.health_url, CONFIG_FORCE_opswatch_database_connect__timeout="2s", **fast)
        self.alertmanager = testkit.start_alertmanager(
            processes, sink_alertmanager_config(work / "alertmanager", sink))
        host = lambda url: urllib.parse.urlsplit(url).netloc  # noqa: E731
        self.prometheus = testkit.start_prometheus(processes, render_e2e_profile(
            work / "prometheus", host(self.exporter_url), host(self.alertmanager)))
        testkit.wait_for("the first scrape", lambda: self.query("up{job='opswatch'} == 1"), 60)

    def query(self, promql):
        return testkit.prometheus_query(self.prometheus, promql)

    def firing(self, alertname, **labels):
        matchers = [f'alertname="{alertname}"', 'alertstate="firing"'] + [f'{k}="{v}"' for k, v in labels.items()]
        return self.query("ALERTS{" + ",".join(matchers) + "}")

    def alertmanager_alerts(self, **filters):
        return testkit.http_json(f"{self.alertmanager}/api/v2/alerts?{urllib.parse.urlencode(filters)}")

    def pages(self, alertname, provider=None):
        """PagerDuty Events v2 bodies the pager receiver got for the alert (and provider): Alertmanager puts
        the group's first alert in payload.custom_details (alertmanager/templates)."""
        found = []
        for body in self.sink.bodies("/pager"):
            details = body.get("payload", {}).get("custom_details", {}) if isinstance(body, dict) else {}
            if details.get("alertname") == alertname and provider in (None, details.get("provider")):
                found.append(body)
        return found
