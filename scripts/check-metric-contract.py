#!/usr/bin/env python3
"""Keeps the metric contract (docs/metrics.md) and its consumers in step.

1. Starts the exporter jar against a fresh database with the demo schema and data (on the
   server named by OPSWATCH_TEST_DATABASE_URL) and a local /api/health stand-in, scrapes it, and
   checks that every family it serves is in the contract and every family in the contract is
   served.
2. Checks that every opswatch_* name used by the Prometheus rules, the Grafana dashboards, the
   runbook pages and the README is in the contract.

Prints one line per problem and a final "contract: N passed, N failed" line.
"""
import http.server
import json
import os
import pathlib
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import uuid

REPO = pathlib.Path(__file__).resolve().parent.parent
NAME = re.compile(r"(?<![A-Za-z0-9_:])opswatch_[a-z0-9_]+")
# opswatch_* words that are not metrics: the database role and test database prefixes.
NOT_METRICS = re.compile(r"opswatch_(reader|fault|it_|e2e_|contract_)")
results = {"passed": 0, "failed": 0}


def check(ok, message):
    results["passed" if ok else "failed"] += 1
    if not ok:
        print("FAIL " + message)


def contract():
    names = set()
    for line in (REPO / "docs/metrics.md").read_text().splitlines():
        m = re.match(r"\|\s*`(opswatch_[a-z0-9_]+)`\s*\|", line)
        if m:
            names.add(m.group(1))
    return names


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({"status": "degraded", "version": "0.24.8", "checks": {
            "database": {"status": "pass", "message": "Connected", "latency_ms": 3},
            "ai_provider": {"status": "warn", "message": "CI"},
            "memory": {"status": "pass", "message": "ok"}}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def psql(url, *args):
    subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", url, *args], check=True, stdout=subprocess.DEVNULL)


def scrape_exporter():
    server_url = os.environ.get("OPSWATCH_TEST_DATABASE_URL")
    if not server_url:
        sys.exit("OPSWATCH_TEST_DATABASE_URL is not set; run this through scripts/test.sh")
    jar = REPO / "exporter/target/opswatch-exporter.jar"
    if not jar.exists():
        subprocess.run(["mvn", "-B", "-q", "-ntp", "package", "-DskipTests"], cwd=REPO, check=True)
    db = "opswatch_contract_" + uuid.uuid4().hex[:8]
    psql(server_url, "-c", f"CREATE DATABASE {db}")
    db_url = server_url.rsplit("/", 1)[0] + "/" + db
    psql(db_url, "-f", str(REPO / "demo/schema.sql"), "-f", str(REPO / "demo/seed.sql"))
    health = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Health)
    threading.Thread(target=health.serve_forever, daemon=True).start()
    port = free_port()
    env = dict(os.environ, OPSWATCH_DATABASE_URL=db_url, OPSWATCH_HTTP_PORT=str(port),
               OPSWATCH_APP_HEALTH_URL=f"http://127.0.0.1:{health.server_address[1]}/api/health")
    proc = subprocess.Popen(["java", "-jar", str(jar)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.time() + 60
        body = ""
        while time.time() < deadline:
            try:
                ready = urllib.request.urlopen(f"http://127.0.0.1:{port}/-/ready", timeout=2).status == 200
                body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
                if ready and "opswatch_probe_success" in body:
                    break
            except OSError:
                pass
            time.sleep(0.5)
        return {line.split("{")[0].split(" ")[0] for line in body.splitlines() if line and not line.startswith("#")}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        health.shutdown()
        psql(server_url, "-c", f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")


def names_in(paths):
    used = {}
    for path in paths:
        for name in NAME.findall(path.read_text()):
            if not NOT_METRICS.match(name):
                used.setdefault(name, path.relative_to(REPO))
    return used


def main():
    documented = contract()
    check(len(documented) > 40, f"docs/metrics.md lists only {len(documented)} families")
    served = scrape_exporter()
    for name in sorted(served):
        check(name in documented, f"the exporter serves {name}, which docs/metrics.md does not list")
    for name in sorted(documented):
        check(name in served, f"docs/metrics.md lists {name}, which the exporter did not serve over the demo data")
    consumers = []
    for pattern in ("prometheus/rules/*.yml", "prometheus/tests/*.yaml", "grafana/dashboards/*.json",
                    "runbooks/*.md", "README.md", "alertmanager/templates/*.tmpl"):
        consumers.extend(sorted(REPO.glob(pattern)))
    check(any(p.match("prometheus/rules/*.yml") for p in consumers), "no Prometheus rule files found")
    check(any(p.match("grafana/dashboards/*.json") for p in consumers), "no Grafana dashboards found")
    for name, where in sorted(names_in(consumers).items()):
        check(name in documented, f"{where} uses {name}, which docs/metrics.md does not list")
    print(f"contract: {results['passed']} passed, {results['failed']} failed")
    return 1 if results["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
