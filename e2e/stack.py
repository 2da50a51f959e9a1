"""Local processes for the end-to-end test: PostgreSQL control, the exporter jar, Prometheus,
Alertmanager, a webhook sink and an /api/health stand-in. Everything binds to 127.0.0.1 on
free ports and is stopped by Stack.close()."""
import http.server
import json
import os
import pathlib
import re
import shutil
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

REPO = pathlib.Path(__file__).resolve().parent.parent


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.status, r.read().decode()


def http_json(url, timeout=5):
    return json.loads(http_get(url, timeout)[1])


def wait_for(what, predicate, timeout, interval=0.5):
    deadline = time.time() + timeout
    last_error = None
    while time.time() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except (OSError, ValueError, KeyError, IndexError) as e:
            last_error = e
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}" + (f" (last error: {last_error})" if last_error else ""))


class WebhookSink:
    """Records every POST body, by path: the stand-in for the pager, the chat and the dead man's switch."""

    def __init__(self):
        self.received = []
        sink = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length).decode(errors="replace")
                try:
                    payload = json.loads(body)
                except ValueError:
                    payload = {"raw": body}
                sink.received.append({"at": time.time(), "path": self.path, "body": payload})
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"status":"success"}')

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def close(self):
        self.server.shutdown()


class HealthStub:
    """The app's GET /api/health, healthy unless told otherwise."""

    def __init__(self):
        self.status = "healthy"
        stub = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                code = 503 if stub.status == "unhealthy" else 200
                check = {"healthy": "pass", "degraded": "warn", "unhealthy": "fail"}[stub.status]
                body = json.dumps({"status": stub.status, "version": "0.24.8", "timestamp": "2026-11-28T00:00:00Z",
                                   "uptime": 100, "checks": {
                                       "database": {"status": check, "message": "Connected", "latency_ms": 4},
                                       "ai_provider": {"status": "pass", "message": "Azure OpenAI configured"},
                                       "memory": {"status": "pass", "message": "ok"}}}).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/api/health"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()


class Process:
    def __init__(self, name, args, work, env=None):
        self.name = name
        self.log_path = work / f"{name}.log"
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT, env=env, cwd=work)

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        if self.alive():
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.log.close()

    def tail(self, lines=30):
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def psql(url, *args, capture=False):
    result = subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-At", url, *args], check=True,
                            stdout=subprocess.PIPE if capture else subprocess.DEVNULL, text=True)
    return result.stdout.strip() if capture else None


def rewrite_prometheus_config(source_dir, target_dir, exporter, alertmanager, interval):
    """Copies prometheus/ and rewrites only addresses and intervals: targets to local ports, scrape and
    evaluation intervals and every alert's `for:` shortened, so that the path runs in seconds."""
    shutil.copytree(source_dir, target_dir)
    config = (target_dir / "prometheus.yml").read_text()
    config = config.replace("exporter:9824", exporter).replace("alertmanager:9093", alertmanager)
    config = re.sub(r"(scrape_interval|evaluation_interval):\s*\S+", rf"\1: {interval}", config)
    config = re.sub(r"scrape_timeout:\s*\S+", f"scrape_timeout: {interval}", config)
    (target_dir / "prometheus.yml").write_text(config)
    for rules in (target_dir / "rules").glob("*.yml"):
        text = re.sub(r"(\n\s+for:\s*)\S+", r"\g<1>5s", rules.read_text())
        rules.write_text(text)
