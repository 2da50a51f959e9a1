"""Reading docker-compose.yml as Docker Compose reads it, for demo/compose/tests/test_stack.py.

The file is normalized by Debian's docker-compose (`docker-compose config`: interpolation, override
files, relative paths made absolute); these helpers answer questions about the result."""
import os
import re
import subprocess

import yaml

import testkit

REPO = str(testkit.REPO)
FILES = {"demo": ["docker-compose.yml"], "fast": ["docker-compose.yml", "demo/compose/fast.yml"]}
# Variables the compose files read from the caller's environment; unset for a reproducible result.
COMPOSE_VARIABLES = ("GRAFANA_PORT", "PROMETHEUS_PORT", "ALERTMANAGER_PORT", "DEMO_MODE")
# Folders that come from the alerting branch's prometheus/render_rules.py (#13).
RENDERED = ("prometheus/demo", "prometheus/demo-fast")


def run_compose(files, *args, env=None):
    command = ["docker-compose", "--project-directory", REPO]
    for f in files:
        command += ["-f", os.path.join(REPO, f)]
    clean = {k: v for k, v in os.environ.items() if k not in COMPOSE_VARIABLES}
    return subprocess.run(command + list(args), capture_output=True, text=True, cwd=REPO, env={**clean, **(env or {})})


def load(files, env=None):
    result = run_compose(files, "config", env=env)
    if result.returncode != 0:
        raise AssertionError(f"docker-compose config failed: {result.stderr.strip()}")
    return Compose(yaml.safe_load(result.stdout))


def rel(path):
    return os.path.relpath(path, REPO)


def rendered_missing(path):
    """True when path lies in a rendered Prometheus folder that this checkout does not have yet."""
    r = rel(path)
    return any(r == d or r.startswith(d + "/") for d in RENDERED) and not os.path.exists(os.path.join(REPO, r))


def as_list(value):
    if value is None:
        return []
    if isinstance(value, str):
        return value.split()
    return [str(v) for v in value]


def dockerfile_lines(path):
    text = re.sub(r"\\\n", " ", open(path, encoding="utf-8").read())
    return [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]


class Compose:
    def __init__(self, config):
        self.config = config
        self.services = config.get("services") or {}

    def svc(self, name):
        return self.services.get(name) or {}

    def env(self, name):
        value = self.svc(name).get("environment") or {}
        if isinstance(value, list):
            value = dict(item.split("=", 1) if "=" in item else (item, "") for item in value)
        return {k: ("" if v is None else str(v)) for k, v in value.items()}

    def mounts(self, name):
        """(kind, source, target, read_only) of a service's volumes, short or long syntax."""
        result = []
        for v in self.svc(name).get("volumes") or []:
            if isinstance(v, dict):
                result.append((v.get("type", "volume"), str(v.get("source", "")), v["target"], bool(v.get("read_only"))))
                continue
            parts = v.split(":")
            if len(parts) == 1:
                result.append(("volume", "", parts[0], False))
                continue
            source, target = parts[0], parts[1]
            mode = parts[2] if len(parts) > 2 else "rw"
            kind = "bind" if source.startswith(("/", ".", "~")) else "volume"
            result.append((kind, source, target, "ro" in mode.split(",")))
        return result

    def host_path(self, name, container_path):
        """The host path a service sees at container_path through its bind mounts (or None)."""
        best = None
        for kind, source, target, _ in self.mounts(name):
            if kind == "bind" and (container_path == target or container_path.startswith(target.rstrip("/") + "/")):
                if best is None or len(target) > len(best[1]):
                    best = (source, target)
        if best is None:
            return None
        source, target = best
        return os.path.normpath(os.path.join(source, os.path.relpath(container_path, target)))

    def service_secrets(self, name):
        result = {}
        for s in self.svc(name).get("secrets") or []:
            source = s if isinstance(s, str) else s["source"]
            target = source if isinstance(s, str) else (s.get("target") or source)
            path = target if target.startswith("/") else f"/run/secrets/{target}"
            result[path] = (self.config.get("secrets") or {}).get(source, {}).get("file")
        return result

    def secret_host_file(self, name, container_path):
        """The host file behind a secret path in a service: compose secret or bind mount."""
        return self.service_secrets(name).get(container_path) or self.host_path(name, container_path)

    def depends_on(self, name):
        depends = self.svc(name).get("depends_on") or {}
        if isinstance(depends, list):
            depends = {d: {"condition": "service_started"} for d in depends}
        return {dep: (cond or {}).get("condition", "service_started") for dep, cond in depends.items()}

    def published(self, name):
        """(host_ip, host_port or "", container_port) of a service's published ports."""
        result = []
        for p in self.svc(name).get("ports") or []:
            if isinstance(p, dict):
                result.append((p.get("host_ip", ""), str(p.get("published", "") or ""), int(p["target"])))
                continue
            text = str(p).split("/")[0]
            parts = text.split(":")
            container = int(parts[-1])
            if len(parts) == 3:
                result.append((parts[0], parts[1], container))
            elif len(parts) == 2:
                result.append(("", parts[0], container))
            else:
                result.append(("", "", container))
        return result

    def exporter_dockerfile(self):
        build = self.svc("exporter").get("build") or {}
        return os.path.join(build.get("context", REPO), build.get("dockerfile", "exporter/Dockerfile"))

    def listen_port(self, name):
        """The port a service listens on inside the network, from its own configuration."""
        args = as_list(self.svc(name).get("command"))

        def flag(flag_name, default):
            for a in args:
                if a.startswith(flag_name + "="):
                    return int(a.rsplit(":", 1)[-1])
            return default

        if name == "exporter":
            image_env = {}
            for line in dockerfile_lines(self.exporter_dockerfile()):
                if line.upper().startswith("ENV "):
                    image_env.update(dict(re.findall(r'(\w+)="?([^"\s]*)"?', line[4:])))
            return int(self.env("exporter").get("OPSWATCH_HTTP_PORT") or image_env.get("OPSWATCH_HTTP_PORT") or 9824)
        if name == "prometheus":
            return flag("--web.listen-address", 9090)
        if name == "alertmanager":
            return flag("--web.listen-address", 9093)
        if name == "grafana":
            return int(self.env("grafana").get("GF_SERVER_HTTP_PORT") or 3000)
        if name == "postgres":
            return int(args[args.index("-p") + 1]) if "-p" in args else 5432
        if name == "webhook-sink":
            return int(args[args.index("--port") + 1]) if "--port" in args else 8080
        return None

    def target_problem(self, what, host, port):
        if host not in self.services:
            return f"{what}: host {host} is not a compose service"
        if port != self.listen_port(host):
            return f"{what}: {host}:{port}, but {host} listens on {self.listen_port(host)}"
        return None

    def url_problem(self, what, url):
        import urllib.parse
        u = urllib.parse.urlsplit(url)
        return self.target_problem(what, u.hostname, u.port or {"http": 80, "https": 443}.get(u.scheme))
