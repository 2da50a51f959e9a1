"""Real Prometheus and Alertmanager processes for the alerting tests: each on a free loopback port with its own
storage under the test's work folder, waited for with a bound, stopped by its PID (testkit.Process). Used by
prometheus/tests and alertmanager/tests (whose conftest.py puts this folder on sys.path); an HA suite can
start several of each the same way."""
import json
import os
import shutil
import subprocess
import urllib.parse

import testkit

READY_TIMEOUT = 60  # seconds; generous, for a busy 2-core machine


def alertmanager_binary():
    for name in (os.environ.get("ALERTMANAGER_BIN"), "alertmanager", "prometheus-alertmanager"):
        if name and shutil.which(name):
            return shutil.which(name)
    raise RuntimeError("no alertmanager binary (install prometheus-alertmanager or set ALERTMANAGER_BIN)")


class Prometheus:
    """`prometheus` with CONFIG; its rules are the ones CONFIG's rule_files name."""

    def __init__(self, work, config, name="prometheus", extra_args=()):
        self.port = testkit.free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = testkit.Process(name, [
            "prometheus", f"--config.file={config}", f"--storage.tsdb.path={work / (name + '-data')}",
            f"--web.listen-address=127.0.0.1:{self.port}", "--log.level=warn", *extra_args], work)
        testkit.wait_for(f"{name} ready", self._ready, READY_TIMEOUT)

    def _ready(self):
        if not self.process.alive():
            raise AssertionError(f"prometheus exited:\n{self.process.tail()}")
        return testkit.http_get(self.url + "/-/ready", timeout=2)[0] == 200

    def api(self, path, **params):
        query = ("?" + urllib.parse.urlencode(params)) if params else ""
        body = testkit.http_json(f"{self.url}/api/v1/{path}{query}", timeout=10)
        assert body["status"] == "success", body
        return body["data"]

    def query(self, promql):
        return self.api("query", query=promql)["result"]

    def stop(self):
        self.process.stop()


class Alertmanager:
    """`alertmanager` with CONFIG, no cluster."""

    def __init__(self, work, config, name="alertmanager"):
        self.port = testkit.free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = testkit.Process(name, [
            alertmanager_binary(), f"--config.file={config}", f"--storage.path={work / (name + '-data')}",
            f"--web.listen-address=127.0.0.1:{self.port}", "--cluster.listen-address=", "--log.level=warn"], work)
        testkit.wait_for(f"{name} ready", self._ready, READY_TIMEOUT)

    def _ready(self):
        if not self.process.alive():
            raise AssertionError(f"alertmanager exited:\n{self.process.tail()}")
        return testkit.http_get(self.url + "/-/ready", timeout=2)[0] == 200

    def post(self, alerts):
        testkit.http_post_json(self.url + "/api/v2/alerts", alerts, timeout=10)

    def alerts(self, **filters):
        query = urllib.parse.urlencode({k: json.dumps(v) if isinstance(v, bool) else v for k, v in filters.items()})
        return testkit.http_json(f"{self.url}/api/v2/alerts?{query}", timeout=10)

    def stop(self):
        self.process.stop()


def sink_config(repo, sink_url, out, group_wait="1s", group_interval=None):
    """alertmanager/sink-config.sh: the repository's alertmanager.yml with every receiver posting to SINK_URL.
    Returns the config file."""
    extra = ["--group-interval", group_interval] if group_interval else []
    result = subprocess.run([str(repo / "alertmanager/sink-config.sh"), "--sink", sink_url, "--out", str(out),
                             "--group-wait", group_wait, *extra], check=True, capture_output=True, text=True)
    return result.stdout.strip()


def render_rules_module(repo):
    """prometheus/render_rules.py as a module."""
    import importlib.util
    spec = importlib.util.spec_from_file_location("render_rules", repo / "prometheus/render_rules.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
