"""Helpers shared by every Python test of the repository (pytest imports this through pytest.ini's
`pythonpath`). Fixtures that wrap these live in the root conftest.py.

Everything binds to 127.0.0.1; every process started here is stopped by its own PID."""
import http.server
import json
import os
import pathlib
import socket
import subprocess
import threading
import time
import urllib.parse
import urllib.request
import uuid

REPO = pathlib.Path(__file__).resolve().parent.parent


def free_port():
    """A TCP port free on 127.0.0.1 right now (the OS picks it)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(url, timeout=5, headers=None):
    request = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(request, timeout=timeout) as r:
        return r.status, r.read().decode()


def http_json(url, timeout=5, headers=None):
    return json.loads(http_get(url, timeout, headers)[1])


def http_post_json(url, payload, timeout=5, headers=None):
    request = urllib.request.Request(url, data=json.dumps(payload).encode(), method="POST",
                                     headers={"Content-Type": "application/json", **(headers or {})})
    with urllib.request.urlopen(request, timeout=timeout) as r:
        return r.status, r.read().decode()


def wait_for(what, predicate, timeout, interval=0.5):
    """Polls predicate until it returns something truthy; fails naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last_error = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except (OSError, ValueError, KeyError, IndexError) as e:
            last_error = e
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}"
                         + (f" (last error: {last_error!r})" if last_error else ""))


class _Server:
    """A ThreadingHTTPServer on a free loopback port, served from a daemon thread."""

    def __init__(self, handler):
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path="/"):
        return f"http://127.0.0.1:{self.port}{path}"

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def reply(handler, status, body, content_type):
    """Writes one whole response from a BaseHTTPRequestHandler."""
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


class ScrapeTarget(_Server):
    """A stand-in for an exporter: every GET answers with what `respond()` returns, (status, text)."""

    def __init__(self, respond):
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                status, text = respond()
                reply(self, status, text.encode(), "text/plain; version=0.0.4")

            def log_message(self, *args):
                pass

        super().__init__(Handler)


class WebhookSink(_Server):
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

        super().__init__(Handler)

    def bodies(self, path):
        return [r["body"] for r in self.received if r["path"] == path]


HEALTH_CHECK = {"healthy": "pass", "degraded": "warn", "unhealthy": "fail"}


class HealthStub(_Server):
    """The app's GET /api/health (shape: docs and demo/compose), healthy unless `status` is changed to
    "degraded" or "unhealthy" (503)."""

    def __init__(self, status="healthy"):
        self.status = status
        stub = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                code = 503 if stub.status == "unhealthy" else 200
                body = json.dumps({
                    "status": stub.status, "version": "0.24.8", "timestamp": "2026-11-28T00:00:00Z", "uptime": 100,
                    "checks": {
                        "database": {"status": HEALTH_CHECK[stub.status], "message": "Connected", "latency_ms": 4},
                        "ai_provider": {"status": "pass", "message": "Azure OpenAI configured"},
                        "memory": {"status": "pass", "message": "ok"}}}).encode()
                reply(self, code, body, "application/json")

            def log_message(self, *args):
                pass

        super().__init__(Handler)
        self.health_url = self.url("/api/health")


class Process:
    """A child process with its output in WORK/NAME.log, run in CWD (default WORK); stop() terminates it by
    PID (then kills)."""

    def __init__(self, name, args, work, env=None, cwd=None):
        self.name = name
        self.log_path = pathlib.Path(work) / f"{name}.log"
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT, env=env, cwd=cwd or work)
        self.pid = self.proc.pid

    def alive(self):
        return self.proc.poll() is None

    def stop(self, timeout=15):
        if self.alive():
            self.proc.terminate()
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()

    def kill(self):
        if self.alive():
            self.proc.kill()
            self.proc.wait()

    def tail(self, lines=30):
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


class Processes:
    """The processes one test (or one module) starts, each logging into WORK/NAME.log; stop_all() stops
    them by PID, newest first. The root conftest.py adds the tail of every log to a failed test's report."""

    def __init__(self, work):
        self.work = pathlib.Path(work)
        self.started = []

    def start(self, name, args, env=None, cwd=None):
        process = Process(name, args, self.work, env, cwd)
        self.started.append(process)
        return process

    def stop_all(self):
        for process in reversed(self.started):
            process.stop()

    def tails(self, lines=30):
        return [(p.name, p.tail(lines)) for p in self.started]

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop_all()


def psql(url, *args, capture=False):
    result = subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-At", url, *args], check=True,
                            stdout=subprocess.PIPE if capture else subprocess.DEVNULL, text=True)
    return result.stdout.strip() if capture else None


def server_url():
    """The throwaway PostgreSQL server that scripts/test.sh started (OPSWATCH_TEST_DATABASE_URL)."""
    url = os.environ.get("OPSWATCH_TEST_DATABASE_URL")
    if not url:
        raise RuntimeError("OPSWATCH_TEST_DATABASE_URL is not set: run through scripts/test.sh, or start "
                           "a server with `eval \"$(scripts/pg-throwaway.sh start DIR)\"`")
    return url


def database_url(url, name):
    return url.rsplit("/", 1)[0] + "/" + name


class Database:
    """A fresh database on the test server, dropped by drop()."""

    def __init__(self, prefix="opswatch_py_"):
        self.server = server_url()
        self.name = prefix + uuid.uuid4().hex[:8]
        psql(self.server, "-c", f"CREATE DATABASE {self.name}")
        self.url = database_url(self.server, self.name)

    def load(self, *files):
        args = []
        for f in files:
            args += ["-f", str(f)]
        psql(self.url, *args)

    def drop(self):
        psql(self.server, "-c", f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.drop()


def demo_database():
    """A fresh database with the source app's schema and a month of demo data (demo/); use it in `with`."""
    db = Database()
    try:
        db.load(REPO / "demo/schema.sql", REPO / "demo/seed.sql")
    except BaseException:
        db.drop()
        raise
    return db


def _newest_source_mtime():
    sources = [REPO / "pom.xml", REPO / "exporter/pom.xml", *(REPO / "exporter/src/main").rglob("*")]
    return max(p.stat().st_mtime for p in sources if p.is_file())


def exporter_jar():
    """The packaged exporter jar, built with `mvn package -DskipTests` when it is missing or older than
    a source file (a suite run alone after a change must not test a stale jar)."""
    jar = REPO / "exporter/target/opswatch-exporter.jar"
    if not jar.exists() or jar.stat().st_mtime < _newest_source_mtime():
        subprocess.run(["mvn", "-B", "-q", "-ntp", "package", "-DskipTests"], cwd=REPO, check=True)
    return jar


def with_credentials(url, user, password=None):
    """The same database URL with another user (and password, if given): for the read-only role."""
    parts = urllib.parse.urlsplit(url)
    userinfo = urllib.parse.quote(user) + (":" + urllib.parse.quote(password, safe="") if password else "")
    netloc = f"{userinfo}@{parts.hostname}:{parts.port}"
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))


def start_exporter(processes, database_url, name="exporter", **env):
    """Starts the packaged exporter the way operators do (exporter/bin/opswatch-exporter, its JVM flags)
    on a free loopback port, and waits for /-/ready. Keyword arguments are extra environment variables
    (e.g. OPSWATCH_APP_HEALTH_URL=...). Returns (process, base URL)."""
    port = free_port()
    environment = dict(os.environ, OPSWATCH_JAR=str(exporter_jar()), OPSWATCH_DATABASE_URL=database_url,
                       OPSWATCH_HTTP_PORT=str(port), **env)
    process = processes.start(name, [str(REPO / "exporter/bin/opswatch-exporter")], environment)
    base = f"http://127.0.0.1:{port}"
    wait_ready(process, base, 90)
    return process, base


def wait_ready(process, base, timeout):
    """Waits until BASE/-/ready answers 200; fails at once, with its log, if the process exits."""
    def ready():
        if not process.alive():
            raise AssertionError(f"{process.name} exited with {process.proc.returncode}:\n{process.tail()}")
        return http_get(base + "/-/ready", timeout=2)[0] == 200

    wait_for(f"{process.name} ready on {base}", ready, timeout)


OPENMETRICS = "application/openmetrics-text; version=1.0.0; charset=utf-8"


def metric_families(url):
    """The families a /metrics endpoint serves, parsed as OpenMetrics by prometheus_client's parser
    (Debian's python3-prometheus-client), by the name a sample carries: counters as NAME_total and info
    as NAME_info, so that they read as docs/metrics.md writes them."""
    from prometheus_client.openmetrics.parser import text_string_to_metric_families

    families = {}
    for family in text_string_to_metric_families(http_get(url, headers={"Accept": OPENMETRICS})[1]):
        suffix = {"counter": "_total", "info": "_info"}.get(family.type, "")
        families[family.name + suffix] = family
    return families


def start_prometheus(processes, config, name="prometheus", extra_args=()):
    """A real Prometheus (Debian's `prometheus`) with CONFIG on a free loopback port; waits for /-/ready.
    Returns its base URL."""
    port = free_port()
    process = processes.start(name, ["prometheus", f"--config.file={config}",
                                     f"--storage.tsdb.path={processes.work / (name + '-data')}",
                                     f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn", *extra_args])
    base = f"http://127.0.0.1:{port}"
    wait_ready(process, base, 60)
    return base


def start_alertmanager(processes, config, name="alertmanager"):
    """A real Alertmanager (Debian's `prometheus-alertmanager`) with CONFIG on a free loopback port, no
    cluster; waits for /-/ready. Returns its base URL."""
    port = free_port()
    process = processes.start(name, ["prometheus-alertmanager", f"--config.file={config}",
                                     f"--storage.path={processes.work / (name + '-data')}",
                                     f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address=",
                                     "--log.level=warn"])
    base = f"http://127.0.0.1:{port}"
    wait_ready(process, base, 60)
    return base


def prometheus_query(base, promql):
    """The result vector of an instant query (Prometheus HTTP API /api/v1/query)."""
    return http_json(base + "/api/v1/query?" + urllib.parse.urlencode({"query": promql}))["data"]["result"]
