#!/usr/bin/env bash
# Static proof of the compose stack (docker-compose.yml, exporter/Dockerfile, .dockerignore,
# demo/compose/), for machines without a Docker engine (CI, this repository's sandboxes):
#
#   scripts/check-compose.sh
#
# The compose file must parse (Debian's docker-compose 1.29, installed when missing); every
# mounted path, secret file, build context and Dockerfile must exist; service names and ports
# must agree with docs/architecture.md, prometheus/prometheus.yml (scrape and alerting targets),
# grafana/provisioning/ (datasource URLs and the variables they read), alertmanager/ (the secret
# files its receivers read, and where each receiver posts); the exporter image must build as
# a non-root user with a healthcheck; every image must be pinned. It also runs the webhook sink
# once, on a free loopback port, and shellcheck/amtool when they are installed.
# One line per check, then "stack: N passed, M failed"; exits 1 when any check failed.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

ensure_docker_compose() {
  command -v docker-compose >/dev/null 2>&1 && return
  echo "check-compose: installing docker-compose (Debian package)" >&2
  local sudo=()
  [[ "$(id -u)" == 0 ]] || sudo=(sudo)
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends docker-compose >/dev/null
}

# The interpreter that runs docker-compose: PyYAML is one of its dependencies, so the checks
# parse YAML with a real parser (python3 on PATH may be another installation without it).
compose_python() {
  local shebang candidate
  shebang="$(head -n 1 "$(command -v docker-compose)")"
  for candidate in "${shebang#\#!}" /usr/bin/python3 python3; do
    candidate="${candidate%% *}"
    if [[ -n "$candidate" ]] && "$candidate" -c 'import yaml' >/dev/null 2>&1; then
      echo "$candidate"
      return
    fi
  done
  echo "check-compose: no python3 with PyYAML (docker-compose's own should have it)" >&2
  exit 2
}

main() {
  ensure_docker_compose
  local py
  py="$(compose_python)"
  "$py" - "$REPO" <<'PY'
import glob
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

import yaml

REPO = sys.argv[1]
os.chdir(REPO)
RESULTS = []


def check(name, ok, detail=""):
    RESULTS.append(bool(ok))
    print(f"{'ok  ' if ok else 'FAIL'} {name}" + (f": {detail}" if detail else ""), flush=True)
    return ok


def problems_check(name, problems, ok_detail=""):
    return check(name, not problems, "; ".join(problems) if problems else ok_detail)


def skip(name, why):
    print(f"skip {name}: {why}", flush=True)


def read(path):
    with open(os.path.join(REPO, path), encoding="utf-8") as f:
        return f.read()


def load_yaml(path):
    with open(os.path.join(REPO, path), encoding="utf-8") as f:
        return yaml.safe_load(f)


def rel(path):
    return os.path.relpath(path, REPO)


# ---------------------------------------------------------------- compose file parses
dc_version = subprocess.run(["docker-compose", "version", "--short"], capture_output=True, text=True).stdout.strip()
parsed = subprocess.run(["docker-compose", "-f", "docker-compose.yml", "config", "-q"], capture_output=True, text=True)
check(f"docker-compose.yml parses (docker-compose {dc_version} config -q)", parsed.returncode == 0,
      parsed.stderr.strip()[:500])
normalized = subprocess.run(["docker-compose", "-f", "docker-compose.yml", "config"], capture_output=True, text=True)
if normalized.returncode != 0:
    print(f"stack: {sum(RESULTS)} passed, {len(RESULTS) - sum(RESULTS)} failed")
    sys.exit(1)
config = yaml.safe_load(normalized.stdout)
services = config.get("services") or {}


def run_checks():


    def svc(name):
        return services.get(name) or {}


    def env(name):
        value = svc(name).get("environment") or {}
        if isinstance(value, list):
            value = dict(item.split("=", 1) if "=" in item else (item, "") for item in value)
        return {k: ("" if v is None else str(v)) for k, v in value.items()}


    def as_list(value):
        if value is None:
            return []
        if isinstance(value, str):
            return value.split()
        return [str(v) for v in value]


    def mounts(name):
        """(kind, source, target, read_only) of a service's volumes, short or long syntax."""
        result = []
        for v in svc(name).get("volumes") or []:
            if isinstance(v, dict):
                kind = v.get("type", "volume")
                result.append((kind, str(v.get("source", "")), v["target"], bool(v.get("read_only"))))
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


    def host_path(name, container_path):
        """The host path a service sees at container_path through its bind mounts (or None)."""
        best = None
        for kind, source, target, _ in mounts(name):
            if kind != "bind":
                continue
            if container_path == target or container_path.startswith(target.rstrip("/") + "/"):
                if best is None or len(target) > len(best[1]):
                    best = (source, target)
        if best is None:
            return None
        source, target = best
        return os.path.normpath(os.path.join(source, os.path.relpath(container_path, target)))


    def service_secrets(name):
        result = {}
        for s in svc(name).get("secrets") or []:
            source = s if isinstance(s, str) else s["source"]
            target = source if isinstance(s, str) else (s.get("target") or source)
            path = target if target.startswith("/") else f"/run/secrets/{target}"
            result[path] = (config.get("secrets") or {}).get(source, {}).get("file")
        return result


    def secret_host_file(name, container_path):
        """The host file behind a secret path in a service: compose secret or bind mount."""
        return service_secrets(name).get(container_path) or host_path(name, container_path)


    def dockerfile_lines(path):
        text = re.sub(r"\\\n", " ", read(path))
        return [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]


    # ---------------------------------------------------------------- docs/architecture.md
    arch = read("docs/architecture.md")
    row = next((line for line in arch.splitlines() if line.startswith("| compose services")), "")
    ARCH_PORTS = {n: (int(p) if p else None) for n, p in re.findall(r"`([a-z][a-z0-9-]*)`(?:\s+(\d+))?", row)}
    check("services are docs/architecture.md's compose services",
          ARCH_PORTS and set(services) == set(ARCH_PORTS),
          f"compose {sorted(services)} vs architecture {sorted(ARCH_PORTS)}" if set(services) != set(ARCH_PORTS)
          else ", ".join(sorted(services)))

    exporter_dockerfile = (svc("exporter").get("build") or {}).get("dockerfile", "exporter/Dockerfile")
    exporter_dockerfile_path = os.path.join((svc("exporter").get("build") or {}).get("context", REPO), exporter_dockerfile)
    dockerfile = dockerfile_lines(rel(exporter_dockerfile_path)) if os.path.isfile(exporter_dockerfile_path) else []


    def flag_port(args, flag, default):
        for a in args:
            if a.startswith(flag + "="):
                return int(a.rsplit(":", 1)[-1])
        return default


    def listen_port(name):
        """The port a service listens on inside the network, from its own configuration."""
        s = svc(name)
        args = as_list(s.get("command"))
        if name == "exporter":
            image_env = {}
            for line in dockerfile:
                if line.upper().startswith("ENV "):
                    image_env.update(dict(re.findall(r'(\w+)="?([^"\s]*)"?', line[4:])))
            return int(env("exporter").get("OPSWATCH_HTTP_PORT") or image_env.get("OPSWATCH_HTTP_PORT") or 9824)
        if name == "prometheus":
            return flag_port(args, "--web.listen-address", 9090)
        if name == "alertmanager":
            return flag_port(args, "--web.listen-address", 9093)
        if name == "grafana":
            return int(env("grafana").get("GF_SERVER_HTTP_PORT") or 3000)
        if name == "postgres":
            return int(args[args.index("-p") + 1]) if "-p" in args else 5432
        if name == "webhook-sink":
            return int(args[args.index("--port") + 1]) if "--port" in args else 8080
        return None


    port_problems = []
    for name, want in ARCH_PORTS.items():
        if want is not None and listen_port(name) != want:
            port_problems.append(f"{name} listens on {listen_port(name)}, architecture says {want}")
    for name in services:
        for p in svc(name).get("ports") or []:
            text = p if isinstance(p, str) else f"{p.get('host_ip', '')}:{p.get('published', '')}:{p.get('target')}"
            text = text.split("/")[0]
            parts = text.split(":")
            container, ip = int(parts[-1]), (parts[0] if len(parts) == 3 else "")
            if container != listen_port(name):
                port_problems.append(f"{name} publishes {container}, listens on {listen_port(name)}")
            if len(parts) == 3 and parts[1] and int(parts[1]) != container:
                port_problems.append(f"{name} publishes {container} as host port {parts[1]}")
            if ip not in ("127.0.0.1", "localhost"):
                port_problems.append(f"{name} publishes {container} on all interfaces")
    problems_check("ports agree with docs/architecture.md, published on 127.0.0.1 only", port_problems,
                   ", ".join(f"{n} {listen_port(n)}" for n in ARCH_PORTS if ARCH_PORTS[n]))

    # ---------------------------------------------------------------- images pinned
    PINNED = re.compile(r"^[a-z0-9./-]+:v?\d+(\.\d+)+([_.-][A-Za-z0-9._-]+)?(@sha256:[0-9a-f]{64})?$")
    image_problems, images = [], []
    for name, s in services.items():
        if "build" in s and "image" not in s:
            continue
        image = str(s.get("image", ""))
        images.append(image)
        if not PINNED.match(image) or ":latest" in image:
            image_problems.append(f"{name}: {image or 'no image'}")
    for line in dockerfile:
        if line.upper().startswith("FROM "):
            image = line.split()[1]
            images.append(image)
            if not PINNED.match(image):
                image_problems.append(f"{rel(exporter_dockerfile_path)}: {image}")
    problems_check("every image pinned to an exact version (compose and Dockerfile)", image_problems,
                   ", ".join(sorted(set(images))))

    # ---------------------------------------------------------------- paths exist
    missing, binds = [], 0
    for name in services:
        for kind, source, target, _ in mounts(name):
            if kind == "bind":
                binds += 1
                if not os.path.exists(source):
                    missing.append(f"{name}: {rel(source)} -> {target}")
    problems_check("every bind-mounted host path exists", missing, f"{binds} mounts")

    config_mounts_rw = [f"{n}: {rel(s)}" for n in services for k, s, t, ro in mounts(n)
                        if k == "bind" and not ro]
    problems_check("every bind mount from the repository is read-only (configs mounted, not copied or written)",
                   config_mounts_rw)

    secret_files = {}
    for sname, spec in (config.get("secrets") or {}).items():
        secret_files[spec.get("file") or f"(secret {sname} has no file)"] = f"secret {sname}"
    for name in services:
        for kind, source, target, _ in mounts(name):
            if kind == "bind" and "/demo/compose/secrets/" in source + "/":
                secret_files[source] = f"{name}:{target}"
    secret_problems = []
    for path, user in sorted(secret_files.items()):
        if not os.path.isfile(path):
            secret_problems.append(f"{user}: {path} missing")
            continue
        content = open(path, encoding="utf-8").read()
        if not content.strip():
            secret_problems.append(f"{rel(path)} is empty")
        if content.rstrip("\n").count("\n") or content != content.rstrip("\n") + ("\n" if content.endswith("\n") else ""):
            secret_problems.append(f"{rel(path)} must be one line (at most one trailing newline)")
        if not os.stat(path).st_mode & 0o004:
            secret_problems.append(f"{rel(path)} is not world-readable (containers read it as non-root users)")
    problems_check("every secret file exists, one non-empty line, readable by the containers' non-root users",
                   secret_problems, f"{len(secret_files)} files")

    build = svc("exporter").get("build") or {}
    context = build.get("context", "")
    check("exporter build context and Dockerfile exist",
          os.path.isdir(context) and os.path.isfile(exporter_dockerfile_path) and os.path.isfile(os.path.join(context, "pom.xml")),
          f"context {rel(context) if context else '?'}/, {rel(exporter_dockerfile_path)}")

    # ---------------------------------------------------------------- Dockerfile
    stages = [line for line in dockerfile if line.upper().startswith("FROM ")]
    runtime = []
    for line in dockerfile:
        if line.upper().startswith("FROM "):
            runtime = []
        runtime.append(line)
    users = [line.split()[1] for line in runtime if line.upper().startswith("USER ")]
    user = users[-1] if users else "root"
    healthchecks = [line for line in runtime if line.upper().startswith("HEALTHCHECK ")]
    build_runs = " ".join(line for line in dockerfile if line.upper().startswith("RUN "))
    exposes = [int(p.split("/")[0]) for line in runtime if line.upper().startswith("EXPOSE ") for p in line.split()[1:]]
    shade = re.search(r"<finalName>([^<]+)</finalName>", read("exporter/pom.xml"))
    jar = f"exporter/target/{shade.group(1)}.jar" if shade else "?"
    df_problems = []
    if len(stages) < 2:
        df_problems.append("not multi-stage")
    if not stages or "maven" not in stages[0]:
        df_problems.append("first stage is not a maven image")
    if stages and ("jre" not in stages[-1] or "maven" in stages[-1]):
        df_problems.append(f"runtime stage {stages[-1].split()[1]} is not a JRE image")
    if not re.search(r"mvn -B\b[^&]*\bpackage\b[^&]*-DskipTests", build_runs):
        df_problems.append("no `mvn -B ... package -DskipTests`")
    if user.split(":")[0] in ("root", "0"):
        df_problems.append(f"runtime USER is {user}")
    if not healthchecks or "/-/healthy" not in healthchecks[-1]:
        df_problems.append("no HEALTHCHECK on /-/healthy")
    if listen_port("exporter") not in exposes:
        df_problems.append(f"EXPOSE {exposes} lacks {listen_port('exporter')}")
    if jar not in " ".join(dockerfile):
        df_problems.append(f"does not copy {jar} (exporter/pom.xml's shaded jar)")
    problems_check("exporter/Dockerfile: multi-stage maven build, JRE runtime, non-root USER, HEALTHCHECK /-/healthy",
                   df_problems, f"USER {user}, {len(stages)} stages, copies {jar}")

    ignore = [line.strip() for line in read(".dockerignore").splitlines() if line.strip() and not line.startswith("#")]
    copies = [line.split()[1] for line in dockerfile if line.upper().startswith("COPY ") and "--from" not in line]
    ignore_problems = []
    if "*" not in ignore:
        ignore_problems.append("does not exclude everything by default ('*')")
    for path in copies:
        if not any(line.lstrip("!").rstrip("/") == path.rstrip("/") and line.startswith("!") for line in ignore):
            ignore_problems.append(f"COPY {path} is not re-included")
        if not os.path.exists(path):
            ignore_problems.append(f"COPY {path}: no such path")
    problems_check(".dockerignore sends the Dockerfile's COPY sources and nothing else", ignore_problems,
                   ", ".join(copies))

    # ---------------------------------------------------------------- healthchecks and depends_on
    def has_healthcheck(name):
        hc = svc(name).get("healthcheck")
        if hc and not hc.get("disable"):
            return True
        return "build" in svc(name) and bool(healthchecks)


    dep_problems, deps = [], 0
    for name, s in services.items():
        depends = s.get("depends_on") or {}
        if isinstance(depends, list):
            depends = {d: {"condition": "service_started"} for d in depends}
        for dep, cond in depends.items():
            deps += 1
            if dep not in services:
                dep_problems.append(f"{name} depends on unknown {dep}")
            elif (cond or {}).get("condition") == "service_healthy" and not has_healthcheck(dep):
                dep_problems.append(f"{name} waits for {dep} to be healthy, which has no healthcheck")
    for name in services:
        if name != "demo-traffic" and not has_healthcheck(name):
            dep_problems.append(f"{name} has no healthcheck")
    problems_check("healthchecks on every server; depends_on conditions name services with a healthcheck",
                   dep_problems, f"{deps} dependencies")

    # ---------------------------------------------------------------- target helper
    def target_problem(what, host, port, path=None):
        if host not in services:
            return f"{what}: host {host} is not a compose service"
        if port != listen_port(host):
            return f"{what}: {host}:{port}, but {host} listens on {listen_port(host)}"
        return None


    def url_problem(what, url):
        u = urllib.parse.urlsplit(url)
        default = {"http": 80, "https": 443}.get(u.scheme)
        return target_problem(what, u.hostname, u.port or default)


    # ---------------------------------------------------------------- prometheus.yml
    prom = load_yaml("prometheus/prometheus.yml")
    prom_args = as_list(svc("prometheus").get("command"))
    config_file = next((a.split("=", 1)[1] for a in prom_args if a.startswith("--config.file=")), "/etc/prometheus/prometheus.yml")
    prom_host_config = host_path("prometheus", config_file)
    check("Prometheus runs the repository's prometheus/prometheus.yml",
          prom_host_config and os.path.samefile(prom_host_config, "prometheus/prometheus.yml"),
          f"--config.file={config_file} -> {rel(prom_host_config) if prom_host_config else 'not mounted'}")
    jobs = {j.get("job_name"): j for j in prom.get("scrape_configs") or []}
    scrape_problems, scrape_targets = [], []
    if "opswatch" not in jobs:
        scrape_problems.append("no job `opswatch` (docs/architecture.md)")
    for job in jobs.values():
        for sc in job.get("static_configs") or []:
            for t in sc.get("targets") or []:
                scrape_targets.append(f"{job.get('job_name')}={t}")
                host, _, port = t.rpartition(":")
                problem = target_problem(f"job {job.get('job_name')}", host, int(port))
                if problem:
                    scrape_problems.append(problem)
    if "opswatch" in jobs and not any(t.startswith("opswatch=exporter:") for t in scrape_targets):
        scrape_problems.append("job opswatch does not scrape the exporter service")
    problems_check("prometheus.yml scrape targets are compose services on their ports", scrape_problems,
                   ", ".join(scrape_targets))
    am_targets, am_problems = [], []
    for am in (prom.get("alerting") or {}).get("alertmanagers") or []:
        for sc in am.get("static_configs") or []:
            for t in sc.get("targets") or []:
                am_targets.append(t)
                host, _, port = t.rpartition(":")
                problem = target_problem("alerting", host, int(port))
                if problem:
                    am_problems.append(problem)
    if not am_targets:
        am_problems.append("no alerting target")
    problems_check("prometheus.yml alerting target is the alertmanager service", am_problems, ", ".join(am_targets))
    rule_problems, rule_files = [], []
    for pattern in prom.get("rule_files") or []:
        found = glob.glob(os.path.join(REPO, "prometheus", pattern))
        rule_files += found
        if not found:
            rule_problems.append(f"rule_files {pattern} matches nothing under prometheus/")
    problems_check("prometheus.yml rule_files resolve inside the mounted prometheus/", rule_problems,
                   f"{len(rule_files)} files")

    # ---------------------------------------------------------------- Grafana
    ds_file = "grafana/provisioning/datasources/opswatch.yml"
    datasources = (load_yaml(ds_file) or {}).get("datasources") or []
    ds_problems, ds_seen = [], []
    for ds in datasources:
        url = str(ds.get("url", ""))
        if "://" not in url:
            url = ("postgres://" if "postgres" in str(ds.get("type")) else "http://") + url
        ds_seen.append(f"{ds.get('uid')}={ds.get('url')}")
        problem = url_problem(f"datasource {ds.get('uid')}", url)
        if problem:
            ds_problems.append(problem)
    arch_uids = set(re.findall(r"`(opswatch-(?:prometheus|alertmanager|postgres))`", arch))
    missing_uids = arch_uids - {ds.get("uid") for ds in datasources}
    if missing_uids:
        ds_problems.append(f"architecture datasource uids missing: {sorted(missing_uids)}")
    problems_check("Grafana datasource URLs are compose services on their ports", ds_problems, ", ".join(ds_seen))

    provisioning_text = "\n".join(open(p, encoding="utf-8").read()
                                  for p in glob.glob(os.path.join(REPO, "grafana/provisioning/**/*.y*ml"), recursive=True))
    provisioning_text = re.sub(r"(?m)^\s*#.*$", "", provisioning_text).replace("$$", "")
    wanted_vars = set(re.findall(r"\$\{(\w+)\}|\$(\w+)", provisioning_text))
    wanted_vars = {a or b for a, b in wanted_vars}
    start_script = read("demo/compose/grafana-start.sh")
    grafana_entry = [host_path("grafana", a) for a in as_list(svc("grafana").get("entrypoint")) if a.startswith("/")]
    runs_start = any(h and os.path.isfile(h) and os.path.samefile(h, "demo/compose/grafana-start.sh") for h in grafana_entry)
    exported = set(re.findall(r"^export (\w+)", start_script, re.M)) if runs_start else set()
    grafana_env = env("grafana")
    var_problems = [f"${{{v}}} is neither in grafana's environment nor exported by demo/compose/grafana-start.sh"
                    for v in sorted(wanted_vars) if v not in grafana_env and v not in exported]
    for v in sorted(exported):
        file_var = f"{v}_FILE"
        path = grafana_env.get(file_var) or ""
        default = re.search(r"\$\{" + re.escape(file_var) + r":-([^}]+)\}", start_script)
        path = path or (default.group(1) if default else "")
        if not path or not secret_host_file("grafana", path):
            var_problems.append(f"{v} comes from {path or '?'}, which is not a secret of the grafana service")
    if grafana_env.get("POSTGRES_DB") != env("postgres").get("POSTGRES_DB"):
        var_problems.append(f"grafana POSTGRES_DB={grafana_env.get('POSTGRES_DB')} but postgres has {env('postgres').get('POSTGRES_DB')}")
    pg_ds = next((ds for ds in datasources if "postgres" in str(ds.get("type"))), {})
    role = re.search(r"CREATE ROLE (\w+)", read("exporter/sql/role.sql"))
    grafana_role = re.search(r"CREATE ROLE (\w+)", read("exporter/sql/grafana-role.sql"))
    if grafana_role and pg_ds.get("user") != grafana_role.group(1):
        var_problems.append(f"PostgreSQL datasource user {pg_ds.get('user')} is not {grafana_role.group(1)} (exporter/sql/grafana-role.sql)")
    problems_check("Grafana datasource variables are provided (passwords from secret files)", var_problems,
                   ", ".join(f"${v}" for v in sorted(wanted_vars)))

    dash_prov = load_yaml("grafana/provisioning/dashboards/opswatch.yml") or {}
    dash_problems, dash_paths = [], []
    for provider in dash_prov.get("providers") or []:
        path = (provider.get("options") or {}).get("path", "")
        dash_paths.append(path)
        host = host_path("grafana", path)
        if not host or not os.path.isdir(host):
            dash_problems.append(f"provider path {path} is not a mounted directory")
        elif not os.path.samefile(host, "grafana/dashboards"):
            dash_problems.append(f"provider path {path} is {rel(host)}, not grafana/dashboards")
        elif not glob.glob(os.path.join(host, "*.json")):
            dash_problems.append(f"no dashboards in {rel(host)}")
    home = grafana_env.get("GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH")
    if home and not (host_path("grafana", home) and os.path.isfile(host_path("grafana", home))):
        dash_problems.append(f"home dashboard {home} is not a mounted file")
    prov_mount = host_path("grafana", "/etc/grafana/provisioning")
    if not prov_mount or not os.path.samefile(prov_mount, "grafana/provisioning"):
        dash_problems.append("grafana/provisioning is not mounted at /etc/grafana/provisioning")
    problems_check("Grafana provisioning and dashboards are mounted where the provisioning looks", dash_problems,
                   ", ".join(dash_paths))

    # ---------------------------------------------------------------- exporter
    exp_env = env("exporter")
    exp_problems = []
    db = urllib.parse.urlsplit(exp_env.get("OPSWATCH_DATABASE_URL", ""))
    problem = target_problem("OPSWATCH_DATABASE_URL", db.hostname, db.port or 5432)
    if problem:
        exp_problems.append(problem)
    if db.path.lstrip("/") != env("postgres").get("POSTGRES_DB"):
        exp_problems.append(f"database {db.path.lstrip('/')} is not postgres' POSTGRES_DB")
    if role and db.username != role.group(1):
        exp_problems.append(f"user {db.username} is not {role.group(1)}")
    if db.password:
        exp_problems.append("the URL carries a password")
    reader_files = {
        "postgres": secret_host_file("postgres", env("postgres").get("OPSWATCH_READER_PASSWORD_FILE", "")),
        "exporter": secret_host_file("exporter", exp_env.get("OPSWATCH_DATABASE_PASSWORD_FILE", "")),
    }
    if None in reader_files.values() or len({os.path.realpath(p) for p in reader_files.values()}) != 1:
        exp_problems.append(f"the reader password files differ or are not mounted: {reader_files}")
    for var in [k for k in exp_env if k.endswith("_FILE")]:
        if not secret_host_file("exporter", exp_env[var]):
            exp_problems.append(f"{var}={exp_env[var]} is not a secret of the exporter service")
    problems_check("exporter reads postgres as opswatch_reader, with the same password file as the init script",
                   exp_problems, f"{db.hostname}:{db.port}/{db.path.lstrip('/')} as {db.username}")

    sources = ""
    for root, _, files in os.walk("exporter/src/main"):
        for f in files:
            if f.endswith((".java", ".conf")):
                sources += open(os.path.join(root, f), encoding="utf-8").read()
    unknown = [k for k in exp_env if k.startswith(("OPSWATCH_", "BUDGET_", "CONFIG_FORCE_"))
               and k not in sources and not re.fullmatch(r"BUDGET_\w+_EUR|CONFIG_FORCE_\w+", k)]
    problems_check("every exporter environment variable is one the exporter reads (exporter/src/main)", unknown,
                   ", ".join(sorted(exp_env)))
    health = exp_env.get("OPSWATCH_APP_HEALTH_URL", "")
    hp = [p for p in [url_problem("OPSWATCH_APP_HEALTH_URL", health) if health else "unset"] if p]
    if health and urllib.parse.urlsplit(health).path != "/api/health":
        hp.append(f"{health} is not the sink's /api/health")
    problems_check("exporter health probe targets the webhook sink's /api/health", hp, health)

    # ---------------------------------------------------------------- postgres init
    init_problems, init_files = [], []
    init_dir = host_path("postgres", "/docker-entrypoint-initdb.d")
    scripts = sorted(glob.glob(os.path.join(init_dir or "/nonexistent", "*")))
    pg_env = env("postgres")
    for script in scripts:
        text = open(script, encoding="utf-8").read()
        sql_dir = re.search(r'sql_dir="\$\{OPSWATCH_SQL_DIR:-([^}]+)\}"', text)
        for ref in re.findall(r'\$sql_dir/([\w./-]+\.sql)', text):
            container = f"{sql_dir.group(1) if sql_dir else '?'}/{ref}"
            host = host_path("postgres", container)
            init_files.append(rel(host) if host else container)
            if not host or not os.path.isfile(host):
                init_problems.append(f"{os.path.basename(script)} reads {container}, which is not mounted")
        pw = re.search(r'OPSWATCH_READER_PASSWORD_FILE:-([^}]+)\}', text)
        wanted = pg_env.get("OPSWATCH_READER_PASSWORD_FILE") or (pw.group(1) if pw else "")
        if not secret_host_file("postgres", wanted):
            init_problems.append(f"reader password {wanted} is not a secret of the postgres service")
    for needed in ("demo/schema.sql", "demo/seed.sql", "exporter/sql/role.sql", "exporter/sql/indexes.sql"):
        if needed not in init_files:
            init_problems.append(f"{needed} is not loaded")
    if not scripts:
        init_problems.append("no init script mounted at /docker-entrypoint-initdb.d")
    if not secret_host_file("postgres", pg_env.get("POSTGRES_PASSWORD_FILE", "")):
        init_problems.append("POSTGRES_PASSWORD_FILE is not a secret of the postgres service")
    problems_check("postgres init loads schema, seed, role and indexes from the repository", init_problems,
                   " -> ".join(init_files))

    # ---------------------------------------------------------------- Alertmanager
    am_args = as_list(svc("alertmanager").get("command"))
    am_config_path = next((a.split("=", 1)[1] for a in am_args if a.startswith("--config.file=")),
                          "/etc/alertmanager/alertmanager.yml")
    am_host = host_path("alertmanager", am_config_path)
    am_ok = bool(am_host and os.path.isfile(am_host))
    check("Alertmanager's config file is mounted from the repository", am_ok,
          f"{am_config_path} <- {rel(am_host) if am_host else 'not mounted'}")
    am_config = yaml.safe_load(open(am_host, encoding="utf-8")) if am_ok else {}

    file_problems, file_refs = [], []

    def walk_files(node, where):
        if isinstance(node, dict):
            for k, v in node.items():
                if k.endswith("_file") and isinstance(v, str):
                    file_refs.append(v)
                    host = host_path("alertmanager", v)
                    if not host or not os.path.isfile(host):
                        file_problems.append(f"{where}.{k} {v} is not mounted")
                    elif "/demo/compose/secrets/" not in host:
                        file_problems.append(f"{where}.{k} {v} is {rel(host)}, not a demo/compose/secrets/ file")
                else:
                    walk_files(v, f"{where}.{k}")
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk_files(v, f"{where}[{i}]")

    walk_files(am_config, "config")
    if not file_refs:
        file_problems.append("the config reads no secret file (expected the pager routing key and the chat URL)")
    problems_check("every secret file the Alertmanager config reads is a mounted demo secret", file_problems,
                   ", ".join(file_refs))

    work = tempfile.mkdtemp(prefix="check-compose.")
    try:
        # The mounted config must be what alertmanager/sink-config.sh makes of alertmanager.yml today
        # (alertmanager/test.sh checks the files too): only the sink URLs differ from production.
        sink_dir = os.path.join(work, "sink-config")
        sc_run = subprocess.run(["alertmanager/sink-config.sh", "--sink", "http://webhook-sink:8080", "--out", sink_dir,
                                 "--secrets-dir", "/etc/alertmanager/secrets"], capture_output=True, text=True)
        reference = yaml.safe_load(open(os.path.join(sink_dir, "alertmanager.yml"))) if sc_run.returncode == 0 else None
        check("compose's Alertmanager config is alertmanager.yml as sink-config.sh points it at the webhook sink",
              am_ok and reference is not None and am_config == reference,
              sc_run.stderr.strip()[:300] or ("" if am_config == reference else
                                              "differs; regenerate with alertmanager/sink-config.sh (alertmanager/README.md)"))

        # Where each receiver posts, in the config compose mounts, with the demo secret files.
        sink_source = "demo/compose/webhook_sink.py"
        sink_paths = set(re.findall(r'"(/[a-z]+)": "[a-z]+"', read(sink_source))) if os.path.isfile(sink_source) else set()
        expected = {"pager": "/pager", "chat": "/chat", "deadmans-switch": "/heartbeat"}
        recv_problems, routes = [], []
        cfg = am_config or {}
        glob_cfg = cfg.get("global") or {}

        def secret_value(path):
            host = host_path("alertmanager", path)
            return open(host).read().strip() if host and os.path.isfile(host) else None

        for receiver in cfg.get("receivers") or []:
            rname = receiver.get("name")
            urls = []
            for pd in receiver.get("pagerduty_configs") or []:
                urls.append(pd.get("url") or glob_cfg.get("pagerduty_url") or "https://events.pagerduty.com/v2/enqueue")
            for sl in receiver.get("slack_configs") or []:
                urls.append(sl.get("api_url") or secret_value(sl.get("api_url_file", "")) or glob_cfg.get("slack_api_url") or "")
            for wh in receiver.get("webhook_configs") or []:
                urls.append(wh.get("url") or secret_value(wh.get("url_file", "")) or "")
            other = [k for k in receiver if k.endswith("_configs") and k not in ("pagerduty_configs", "slack_configs", "webhook_configs")]
            if other:
                recv_problems.append(f"{rname}: {other} cannot be checked against the sink")
            for url in urls:
                routes.append(f"{rname}->{url}")
                problem = url_problem(f"receiver {rname}", url)
                if problem:
                    recv_problems.append(problem)
                    continue
                u = urllib.parse.urlsplit(url)
                if u.hostname != "webhook-sink":
                    recv_problems.append(f"receiver {rname} posts to {url}, not the webhook sink")
                elif u.path not in sink_paths:
                    recv_problems.append(f"receiver {rname} posts to {u.path}, which webhook_sink.py does not serve")
                elif rname in expected and u.path != expected[rname]:
                    recv_problems.append(f"receiver {rname} posts to {u.path}, expected {expected[rname]}")
        for rname in expected:
            if rname not in {rc.get("name") for rc in cfg.get("receivers") or []}:
                recv_problems.append(f"no receiver {rname}")
        problems_check("Alertmanager receivers post to the webhook sink (pager, chat, heartbeat)", recv_problems,
                       ", ".join(routes))

        tmpl_problems = []
        for pattern in cfg.get("templates") or []:
            container = os.path.join(os.path.dirname(am_config_path), pattern)
            host = host_path("alertmanager", os.path.dirname(container))
            if not host or not glob.glob(os.path.join(host, os.path.basename(container))):
                tmpl_problems.append(f"templates {pattern} ({container}) matches no mounted file")
        if not cfg.get("templates"):
            tmpl_problems.append("no templates")
        problems_check("Alertmanager templates resolve inside the container", tmpl_problems,
                       ", ".join(cfg.get("templates") or []))

        if not am_ok:
            check("amtool check-config accepts compose's Alertmanager config", False, "no config")
        elif shutil.which("amtool"):
            # The same config, with the secret paths and templates on this machine.
            local_dir = os.path.join(work, "amtool")
            os.makedirs(local_dir)
            text = open(am_host, encoding="utf-8").read()
            for ref in file_refs:
                text = text.replace(ref, host_path("alertmanager", ref) or ref)
            with open(os.path.join(local_dir, "alertmanager.yml"), "w") as f:
                f.write(text)
            tmpl_host = host_path("alertmanager", os.path.join(os.path.dirname(am_config_path), "templates"))
            if tmpl_host:
                os.symlink(tmpl_host, os.path.join(local_dir, "templates"))
            a = subprocess.run(["amtool", "check-config", os.path.join(local_dir, "alertmanager.yml")],
                               capture_output=True, text=True)
            version = subprocess.run(["amtool", "--version"], capture_output=True, text=True)
            v = re.search(r"version (\S+)", version.stdout + version.stderr)
            check(f"amtool {v.group(1) if v else ''} check-config accepts compose's Alertmanager config", a.returncode == 0,
                  (a.stdout + a.stderr).strip().splitlines()[-1] if a.returncode else "")
        else:
            skip("amtool check-config", "amtool not installed (Debian: prometheus-alertmanager)")

        # ------------------------------------------------------------ webhook sink, for real
        def free_port():
            with socket.socket() as so:
                so.bind(("127.0.0.1", 0))
                return so.getsockname()[1]

        port = free_port()
        sink_log = open(os.path.join(work, "sink.log"), "w+")
        proc = subprocess.Popen([sys.executable, "demo/compose/webhook_sink.py", "--port", str(port), "--bind", "127.0.0.1"],
                                stdout=sink_log, stderr=subprocess.STDOUT)
        sink_problems = []
        try:
            base = f"http://127.0.0.1:{port}"
            for _ in range(50):
                try:
                    urllib.request.urlopen(base + "/-/healthy", timeout=1)
                    break
                except OSError:
                    time.sleep(0.1)

            def post(path, body):
                req = urllib.request.Request(base + path, data=json.dumps(body).encode(),
                                             headers={"Content-Type": "application/json"})
                with urllib.request.urlopen(req, timeout=3) as resp:
                    return resp.status

            codes = {
                "/pager": post("/pager", {"routing_key": "k", "event_action": "trigger", "dedup_key": "d",
                                          "payload": {"summary": "[FIRING:1] BudgetExceeded azure_openai (demo)", "severity": "critical",
                                                      "custom_details": {"firing": "CRITICAL: azure_openai has spent more than its monthly budget.\nRunbook: https://example/runbooks/budget-exceeded.md"}},
                                          "links": [{"href": "https://example/runbooks/budget-exceeded.md", "text": "Runbook"}]}),
                "/chat": post("/chat", {"attachments": [{"title": "[FIRING:1] BudgetSpendWarning azure_openai (demo)", "text": "WARNING: ...",
                                                         "actions": [{"text": "Runbook", "url": "https://example/r.md"}]}]}),
                "/heartbeat": post("/heartbeat", {"version": "4", "status": "firing", "receiver": "deadmans-switch",
                                                  "alerts": [{"status": "firing", "labels": {"alertname": "OpswatchHeartbeat"}, "annotations": {}}]}),
            }
            for path, code in codes.items():
                if code // 100 != 2:
                    sink_problems.append(f"POST {path} answered {code}")
            listing = json.load(urllib.request.urlopen(base + "/?format=json", timeout=3))
            if [e["receiver"] for e in listing] != ["heartbeat", "chat", "pager"]:
                sink_problems.append(f"GET / lists {[e['receiver'] for e in listing]}")
            app = json.load(urllib.request.urlopen(base + "/api/health", timeout=3))
            if app.get("status") not in ("healthy", "degraded") or not {"database", "ai_provider", "memory"} <= set(app.get("checks", {})):
                sink_problems.append(f"/api/health answered {app}")
            time.sleep(0.2)
            sink_log.seek(0)
            logged = sink_log.read()
            for word in ("PAGE trigger severity=critical", "Runbook=https://example/runbooks/budget-exceeded.md", "CHAT [FIRING:1]",
                         "WEBHOOK firing"):
                if word not in logged:
                    sink_problems.append(f"log lacks '{word}'")
        except (OSError, ValueError, KeyError) as e:
            sink_problems.append(f"{type(e).__name__}: {e}")
        finally:
            proc.terminate()
            proc.wait(timeout=5)
        problems_check("webhook sink records and logs pager, chat and heartbeat posts, and answers /api/health",
                       sink_problems, f"ran on 127.0.0.1:{port}")
    finally:
        shutil.rmtree(work, ignore_errors=True)

    # ---------------------------------------------------------------- secrets hygiene
    inline = []
    for name in services:
        for k, v in env(name).items():
            if re.search(r"PASSWORD|TOKEN|SECRET|_KEY$", k) and not k.endswith("_FILE") and v:
                inline.append(f"{name}.{k}")
            if re.search(r"://[^/@\s:]+:[^/@\s]+@", v):
                inline.append(f"{name}.{k} has credentials in a URL")
    raw_text = read("docker-compose.yml")
    for value in {open(p).read().strip() for p in secret_files if os.path.isfile(p)}:
        if value and not value.startswith("http") and value in raw_text:
            inline.append(f"a secret's value appears in docker-compose.yml")
    problems_check("no secret inline in docker-compose.yml (only *_FILE variables and secret files)", inline)

    readme = read("demo/compose/secrets/README.md") if os.path.isfile("demo/compose/secrets/README.md") else ""
    demo_problems = []
    if "DEMO ONLY" not in readme:
        demo_problems.append("demo/compose/secrets/README.md does not say DEMO ONLY")
    for path in sorted(glob.glob("demo/compose/secrets/*")):
        name = os.path.basename(path)
        if name == "README.md":
            continue
        if f"`{name}`" not in readme:
            demo_problems.append(f"{name} is not listed in the README")
        value = open(path).read().strip()
        if not (value.startswith("demo-only") or value.startswith("http://webhook-sink:")):
            demo_problems.append(f"{name}'s value does not say demo-only")
    problems_check("demo secrets are marked DEMO ONLY (README and values)", demo_problems)

    # ---------------------------------------------------------------- demo budget
    ref = read("exporter/src/main/resources/reference.conf")
    total = re.search(r"total-eur\s*=\s*([\d.]+)", ref)
    fees = [float(x) for x in re.findall(r"monthly-fee-eur\s*=\s*([\d.]+)", ref)]
    remainder = float(total.group(1)) - sum(fees) if total else None
    demo_budget = float(env("demo-traffic").get("DEMO_BUDGET_EUR") or "nan")
    check("demo-traffic's fallback budget is the exporter's default Azure OpenAI budget (total minus fixed fees)",
          remainder is not None and abs(remainder - demo_budget) < 0.005,
          f"{demo_budget:g} EUR vs {total.group(1) if total else '?'} - {' - '.join(f'{f:g}' for f in fees)} = {remainder}")
    metrics_url = env("demo-traffic").get("DEMO_EXPORTER_METRICS_URL", "")
    mp = url_problem("DEMO_EXPORTER_METRICS_URL", metrics_url) if metrics_url else "unset"
    check("demo-traffic reads the budget from the exporter service", not mp, mp or metrics_url)

    # ---------------------------------------------------------------- shell
    shell_scripts = sorted(glob.glob("demo/compose/*.sh") + glob.glob("demo/compose/initdb/*.sh") + ["scripts/check-compose.sh", "exporter/bin/opswatch-exporter"])
    if shutil.which("shellcheck"):
        sc = subprocess.run(["shellcheck", *shell_scripts], capture_output=True, text=True)
        check("shellcheck: compose scripts are clean", sc.returncode == 0,
              sc.stdout.strip().splitlines()[0] if sc.returncode else f"{len(shell_scripts)} scripts")
    else:
        skip("shellcheck", "not installed")
    not_exec = [p for p in glob.glob("demo/compose/initdb/*.sh") if not os.access(p, os.X_OK)]
    problems_check("postgres init scripts are executable (the entrypoint runs them, not sources them)", not_exec)



try:
    run_checks()
except Exception as e:  # a crash is a failure, reported, not a traceback
    check("the remaining checks ran", False, f"{type(e).__name__}: {e}")

failed = len(RESULTS) - sum(RESULTS)
print(f"stack: {sum(RESULTS)} passed, {failed} failed")
sys.exit(1 if failed else 0)
PY
}

main "$@"
