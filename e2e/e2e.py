#!/usr/bin/env python3
"""End-to-end proof of the alert path on local binaries (issue 7).

PostgreSQL with the demo data -> the exporter jar -> Prometheus with the repository's config and
rules (targets and intervals rewritten) -> Alertmanager with the repository's config (receivers
pointed at a local webhook sink through their secret files). Then:
  1. a provider's spend is pushed past its budget: the budget alert must fire and reach the pager
     receiver with severity=critical, the provider, the value and a runbook_url naming a page;
  2. the lower-severity alert of the same provider must be inhibited;
  3. the database stops: the source-down alert must fire while /metrics keeps answering;
  4. the database starts again: everything recovers without restarting the exporter;
  5. every dashboard query runs against this Prometheus and PostgreSQL.
Prints a timeline from the breach to the page, and "e2e: N passed, N failed".
"""
import os
import pathlib
import subprocess
import sys
import time
import traceback
import urllib.parse
import uuid

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import alertmanager_setup  # noqa: E402
from stack import (REPO, HealthStub, Process, WebhookSink, free_port, http_get, http_json, psql,  # noqa: E402
                   rewrite_prometheus_config, wait_for)

INTERVAL = "1s"
PROVIDER = "azure_openai"
results = {"passed": 0, "failed": 0}
timeline = []


def step(name, fn):
    started = time.time()
    try:
        fn()
        results["passed"] += 1
        print(f"PASS {name} ({time.time() - started:.1f}s)", flush=True)
    except Exception:  # noqa: BLE001 - every failure is reported, then the run goes on
        results["failed"] += 1
        print(f"FAIL {name}\n{traceback.format_exc()}", flush=True)


def mark(event):
    timeline.append((time.time(), event))


class E2E:
    def __init__(self, work):
        self.work = work
        self.server_url = os.environ["OPSWATCH_TEST_DATABASE_URL"]
        self.pg_dir = os.environ["OPSWATCH_TEST_PG_DIR"]
        self.db = "opswatch_e2e_" + uuid.uuid4().hex[:8]
        self.db_url = self.server_url.rsplit("/", 1)[0] + "/" + self.db
        self.processes = []

    # --- setup -------------------------------------------------------------------------------
    def start(self):
        psql(self.server_url, "-c", f"CREATE DATABASE {self.db}")
        psql(self.db_url, "-f", str(REPO / "demo/schema.sql"), "-f", str(REPO / "demo/seed.sql"))
        psql(self.db_url, "-v", "reader_password=e2e-only", "-f", str(REPO / "exporter/sql/role.sql"))
        reader_url = self.db_url.replace("postgresql://postgres@", "postgresql://opswatch_reader:e2e-only@")
        self.reader_url = reader_url
        self.sink = WebhookSink()
        self.health = HealthStub()
        self.exporter_port = free_port()
        self.admin_token = uuid.uuid4().hex
        token_file = self.work / "admin-token"
        token_file.write_text(self.admin_token)
        password_file = self.work / "reader-password"
        password_file.write_text("e2e-only")
        jar = REPO / "exporter/target/opswatch-exporter.jar"
        if not jar.exists():
            subprocess.run(["mvn", "-B", "-q", "-ntp", "package", "-DskipTests"], cwd=REPO, check=True)
        env = dict(os.environ,
                   OPSWATCH_DATABASE_URL=reader_url, OPSWATCH_DATABASE_PASSWORD_FILE=str(password_file),
                   OPSWATCH_HTTP_PORT=str(self.exporter_port), OPSWATCH_ADMIN_TOKEN_FILE=str(token_file),
                   OPSWATCH_APP_HEALTH_URL=self.health.url,
                   CONFIG_FORCE_opswatch_sources_costs_refresh__interval="1s",
                   CONFIG_FORCE_opswatch_sources_quotas_refresh__interval="1s",
                   CONFIG_FORCE_opswatch_sources_quotas___fast_refresh__interval="1s",
                   CONFIG_FORCE_opswatch_sources_incidents_refresh__interval="1s",
                   CONFIG_FORCE_opswatch_sources_probes_refresh__interval="1s",
                   CONFIG_FORCE_opswatch_database_connect__timeout="2s")
        self.exporter = self.spawn("exporter", [str(REPO / "exporter/bin/opswatch-exporter")], {**env, "OPSWATCH_JAR": str(jar)})
        wait_for("exporter ready", lambda: http_get(f"http://127.0.0.1:{self.exporter_port}/-/ready")[0] == 200, 90)

        self.am_port = free_port()
        am_dir = alertmanager_setup.prepare(REPO / "alertmanager", self.work / "alertmanager", self.sink)
        self.spawn("alertmanager", ["prometheus-alertmanager", f"--config.file={am_dir / 'alertmanager.yml'}",
                                    f"--storage.path={self.work / 'am-data'}",
                                    f"--web.listen-address=127.0.0.1:{self.am_port}",
                                    "--cluster.listen-address=", "--log.level=warn"])
        wait_for("alertmanager ready", lambda: http_get(f"http://127.0.0.1:{self.am_port}/-/ready")[0] == 200, 60)

        self.prom_port = free_port()
        prom_dir = self.work / "prometheus"
        rewrite_prometheus_config(REPO / "prometheus", prom_dir, f"127.0.0.1:{self.exporter_port}",
                                  f"127.0.0.1:{self.am_port}", INTERVAL)
        self.spawn("prometheus", ["prometheus", f"--config.file={prom_dir / 'prometheus.yml'}",
                                  f"--storage.tsdb.path={self.work / 'prom-data'}",
                                  f"--web.listen-address=127.0.0.1:{self.prom_port}", "--log.level=warn"])
        wait_for("prometheus ready", lambda: http_get(self.prom("/-/ready"))[0] == 200, 60)
        wait_for("first scrape", lambda: self.query("up{job='opswatch'} == 1"), 60)

    def spawn(self, name, args, env=None):
        process = Process(name, args, self.work, env)
        self.processes.append(process)
        return process

    def prom(self, path):
        return f"http://127.0.0.1:{self.prom_port}{path}"

    def query(self, promql):
        url = self.prom("/api/v1/query?" + urllib.parse.urlencode({"query": promql}))
        return http_json(url)["data"]["result"]

    def firing(self, alertname, **labels):
        selector = ",".join([f'alertname="{alertname}"', 'alertstate="firing"'] + [f'{k}="{v}"' for k, v in labels.items()])
        return self.query("ALERTS{" + selector + "}")

    def am_alerts(self, **filters):
        query = urllib.parse.urlencode(filters)
        return http_json(f"http://127.0.0.1:{self.am_port}/api/v2/alerts?{query}")

    def pages(self, alertname, provider=None):
        """Pages for the alert (and provider): the total budget may page as well, with provider="total"."""
        return [n for n in self.sink.received
                if alertmanager_setup.is_pager(n["path"]) and alertmanager_setup.names(n["body"], alertname, provider)]

    # --- steps -------------------------------------------------------------------------------
    def breach_budget(self):
        budget = float(self.query(f'opswatch_budget_eur{{provider="{PROVIDER}"}}')[0]["value"][1])
        mark(f"breach: a {budget:.2f} EUR text session inserted (one whole budget)")
        psql(self.db_url, "-c", f"""INSERT INTO session_metrics ("id", "sessionId", "userId", "tokensIn", "tokensOut", "costEur",
                                    "createdAt", "updatedAt") VALUES ('e2e-breach', 'e2e-breach', 'demo-user-1', 1000, 1000,
                                    {budget:.2f}, now() AT TIME ZONE 'UTC', now())""")
        wait_for("usage ratio above 1", lambda: self.query(f'opswatch_budget_usage_ratio{{provider="{PROVIDER}"}} >= 1'), 30)
        mark("exporter: usage ratio >= 1")
        wait_for("BudgetExceeded firing", lambda: self.firing("BudgetExceeded", provider=PROVIDER), 90)
        mark("prometheus: BudgetExceeded firing")
        page = wait_for("the page", lambda: self.pages("BudgetExceeded", PROVIDER), 120)
        mark("pager receiver: BudgetExceeded received")
        alert = alertmanager_setup.find_alert(page[0]["body"], "BudgetExceeded", PROVIDER)
        assert alert["labels"]["severity"] == "critical", alert
        assert alert["labels"]["provider"] == PROVIDER, alert
        runbook = alert["annotations"]["runbook_url"]
        page_path = REPO / "runbooks" / runbook.rsplit("/runbooks/", 1)[1]
        assert page_path.is_file(), f"runbook_url {runbook} names no page in the repository"
        description = alert["annotations"]["description"]
        assert "EUR" in description and any(ch.isdigit() for ch in description), description

    def lower_severity_inhibited(self):
        wait_for("BudgetSpendWarning firing in Prometheus", lambda: self.firing("BudgetSpendWarning", provider=PROVIDER), 60)

        def inhibited():
            for a in self.am_alerts(active="true", inhibited="true", silenced="false", unprocessed="false"):
                if a["labels"].get("alertname") == "BudgetSpendWarning" and a["labels"].get("provider") == PROVIDER:
                    return a["status"]["state"] == "suppressed" and a["status"]["inhibitedBy"]
            return False
        wait_for("BudgetSpendWarning inhibited in Alertmanager", inhibited, 60)
        assert not self.pages("BudgetSpendWarning", PROVIDER), "the inhibited warning was still sent"

    def database_down(self):
        mark("database stopped")
        subprocess.run([str(REPO / "scripts/pg-throwaway.sh"), "stop", self.pg_dir], check=True)
        wait_for("source_up 0", lambda: self.query('opswatch_source_up{source="costs"} == 0'), 60)
        wait_for("OpswatchSourceDown firing", lambda: self.firing("OpswatchSourceDown", source="costs"), 90)
        mark("prometheus: OpswatchSourceDown firing")
        status, body = http_get(f"http://127.0.0.1:{self.exporter_port}/metrics")
        assert status == 200 and "opswatch_source_up" in body

    def database_back(self):
        out = subprocess.run([str(REPO / "scripts/pg-throwaway.sh"), "start", self.pg_dir],
                             check=True, capture_output=True, text=True).stdout
        assert f"OPSWATCH_TEST_PG_PORT={os.environ['OPSWATCH_TEST_PG_PORT']}" in out, "the cluster came back on another port"
        mark("database started")
        wait_for("every source up", lambda: not self.query('opswatch_source_up{source!="probes"} == 0')
                 and self.query('opswatch_source_up{source="costs"} == 1'), 90)
        wait_for("OpswatchSourceDown resolved", lambda: not self.firing("OpswatchSourceDown"), 90)
        mark("recovered: OpswatchSourceDown resolved")
        assert self.exporter.alive(), "the exporter was restarted or died"

    def dashboards(self):
        # As the reader role, so the panels are proven with the grants Grafana gets; a short
        # range, since Prometheus has only this run's minutes of data.
        result = subprocess.run([sys.executable, str(REPO / "grafana/test/check_dashboards.py"),
                                 "--prometheus", self.prom(""), "--postgres-url", self.reader_url,
                                 "--alertmanager", f"http://127.0.0.1:{self.am_port}", "--time-from", "now-15m"],
                                capture_output=True, text=True)
        lines = result.stdout.splitlines()
        for line in lines:
            if line.startswith("FAIL"):
                print("   " + line)
        print("   " + (lines[-1] if lines else "(no output)"), result.stderr[-2000:])
        assert result.returncode == 0, "dashboard queries failed"

    def close(self):
        for process in reversed(self.processes):
            process.stop()
        for helper in ("sink", "health"):
            if hasattr(self, helper):
                getattr(self, helper).close()
        try:
            psql(self.server_url, "-c", f"DROP DATABASE IF EXISTS {self.db} WITH (FORCE)")
        except subprocess.CalledProcessError:
            pass


def main():
    work = pathlib.Path(os.environ.get("OPSWATCH_TEST_WORK", "/tmp")) / f"e2e-{uuid.uuid4().hex[:6]}"
    work.mkdir(parents=True)
    e2e = E2E(work)
    try:
        e2e.start()
        step("1. budget breach pages on-call with severity, provider, value and runbook", e2e.breach_budget)
        step("2. the lower-severity alert of the same provider is inhibited", e2e.lower_severity_inhibited)
        step("3. database down: source-down alert fires, /metrics answers", e2e.database_down)
        step("4. database back: recovery without an exporter restart", e2e.database_back)
        step("5. every dashboard query returns data", e2e.dashboards)
    except Exception:  # noqa: BLE001
        results["failed"] += 1
        print("FAIL setup\n" + traceback.format_exc())
        for p in e2e.processes:
            print(f"--- {p.name} log ---\n{p.tail()}")
    finally:
        e2e.close()
    if timeline:
        start = timeline[0][0]
        print("timeline (seconds since the breach):")
        for at, event in timeline:
            print(f"  {at - start:7.1f}  {event}")
    print(f"e2e: {results['passed']} passed, {results['failed']} failed")
    return 1 if results["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
