"""The compose stack, proved without a Docker engine (CI and this repository's sandboxes have none).

docker-compose.yml (and demo/compose/fast.yml over it) must parse with Debian's docker-compose; every
image must be pinned and published for linux/amd64 and linux/arm64 (demo/compose/images.yml says where
each fact comes from); ports, mounts, secrets, healthchecks and dependencies must agree with
docs/architecture.md and with the configs the services read; the exporter image must build without
test-scope dependencies; scripts, configs and secrets must have LF line ends; the demo's traffic, quiet
mode and timeline must be what demo/compose/README.md says.

    scripts/test.sh stack        # or: python3 -m pytest demo/compose/tests (with a throwaway PostgreSQL)
"""
import glob
import importlib.util
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request
import zipfile

import pytest
import yaml

import composefile
import testkit
from composefile import REPO, rel

IMAGES = yaml.safe_load(open(os.path.join(REPO, "demo/compose/images.yml"), encoding="utf-8"))
BASE = composefile.load(composefile.FILES["demo"])
FAST = composefile.load(composefile.FILES["fast"])
PROFILES = {"demo": BASE, "fast": FAST}
ARCH = open(os.path.join(REPO, "docs/architecture.md"), encoding="utf-8").read()
ARCH_ROW = next((line for line in ARCH.splitlines() if line.startswith("| compose services")), "")
ARCH_PORTS = {n: (int(p) if p else None) for n, p in re.findall(r"`([a-z][a-z0-9-]*)`(?:\s+(\d+))?", ARCH_ROW)}
# Services that run once and exit; the others are servers with a healthcheck.
ONE_SHOT = {"preflight"}
NOT_SERVERS = ONE_SHOT | {"demo-traffic"}


def read(path):
    with open(os.path.join(REPO, path), encoding="utf-8") as f:
        return f.read()


def load_yaml(path):
    return yaml.safe_load(read(path))


def needs_rendered(path):
    if composefile.rendered_missing(path):
        pytest.skip(f"{rel(path)} comes from the alerting branch (prometheus/render_rules.py, #13), not merged here")


def timeline_module():
    spec = importlib.util.spec_from_file_location("timeline", os.path.join(REPO, "demo/compose/timeline.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


DOCKERFILE_PATH = BASE.exporter_dockerfile()
DOCKERFILE = composefile.dockerfile_lines(DOCKERFILE_PATH)
STAGES = [line for line in DOCKERFILE if line.upper().startswith("FROM ")]
RUNTIME = []
for _line in DOCKERFILE:
    if _line.upper().startswith("FROM "):
        RUNTIME = []
    RUNTIME.append(_line)


def used_images():
    """image -> where it is used, from both compose profiles and every FROM of the exporter's Dockerfile."""
    used = {}
    for profile, compose in PROFILES.items():
        for name, s in compose.services.items():
            if "image" in s:
                used.setdefault(str(s["image"]), set()).add(f"service {name}")
    for line in STAGES:
        used.setdefault(line.split()[1], set()).add(rel(DOCKERFILE_PATH))
    return used


# ------------------------------------------------------------------------------------------- parsing

@pytest.mark.parametrize("profile", sorted(composefile.FILES))
def test_compose_file_parses(profile):
    result = composefile.run_compose(composefile.FILES[profile], "config", "-q")
    assert result.returncode == 0, result.stderr


def test_services_are_the_architecture_services():
    assert ARCH_PORTS, "docs/architecture.md has no `| compose services` row"
    assert set(BASE.services) == set(ARCH_PORTS), f"compose {sorted(BASE.services)} vs architecture {sorted(ARCH_PORTS)}"


@pytest.mark.parametrize("service", sorted(n for n, p in ARCH_PORTS.items() if p))
def test_service_listens_on_its_architecture_port(service):
    assert BASE.listen_port(service) == ARCH_PORTS[service]


# ------------------------------------------------------------------------------------------- ports

PUBLISHED = {name: BASE.published(name) for name in BASE.services if BASE.published(name)}


def test_only_grafana_prometheus_and_alertmanager_publish_ports():
    assert set(PUBLISHED) <= {"grafana", "prometheus", "alertmanager"}, sorted(PUBLISHED)
    assert "grafana" in PUBLISHED


@pytest.mark.parametrize("service", sorted(PUBLISHED))
def test_published_port_is_loopback_overridable_and_its_listen_port(service):
    raw = load_yaml("docker-compose.yml")["services"][service]["ports"]
    variable = f"{service.upper()}_PORT"
    for (ip, _, container), spec in zip(BASE.published(service), raw):
        assert ip == "127.0.0.1", f"{service} publishes {container} on {ip or 'every interface'}"
        assert container == BASE.listen_port(service)
        assert re.fullmatch(r"127\.0\.0\.1:\$\{" + variable + r":-\d*\}:\d+", str(spec)), \
            f"{service}: {spec!r} is not 127.0.0.1:${{{variable}:-default}}:{container}"


def test_port_variables_override_the_host_ports(free_port):
    chosen = {f"{s.upper()}_PORT": str(free_port()) for s in PUBLISHED}
    overridden = composefile.load(composefile.FILES["demo"], env=chosen)
    for service in PUBLISHED:
        assert [p[1] for p in overridden.published(service)] == [chosen[f"{service.upper()}_PORT"]]


def fixed_host_ports(compose):
    return {name for name in compose.services if any(port for _, port, _ in compose.published(name))}


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_no_service_depends_on_a_service_with_a_fixed_host_port(profile):
    """A taken host port stops its own service only: nothing waits for one with a fixed host port
    (a port left empty is chosen free by Docker at start)."""
    compose = PROFILES[profile]
    fixed = fixed_host_ports(compose)
    assert fixed == {"grafana"}, f"fixed host ports: {sorted(fixed)}"
    dependents = {name: sorted(set(compose.depends_on(name)) & fixed) for name in compose.services}
    assert not {n: d for n, d in dependents.items() if d}


# ------------------------------------------------------------------------------------------- images

@pytest.mark.parametrize("image", sorted(used_images()))
def test_image_is_pinned_and_published_for_amd64_and_arm64(image):
    assert re.fullmatch(r"[a-z0-9./-]+:v?\d+(\.\d+)+([_.-][A-Za-z0-9._-]+)?(@sha256:[0-9a-f]{64})?", image), \
        f"{image} is not pinned to an exact version"
    entry = (IMAGES.get("images") or {}).get(image)
    assert entry, f"{image} ({', '.join(sorted(used_images()[image]))}) is not in demo/compose/images.yml"
    missing = set(IMAGES["required_platforms"]) - set(entry.get("platforms") or [])
    assert not missing, f"{image} is not published for {sorted(missing)} ({entry.get('source')})"
    assert len(entry.get("source", "")) > 40, f"{image}: say where the platforms come from"


def test_images_yml_lists_only_images_in_use():
    assert set(IMAGES["images"]) - set(used_images()) == set()


@pytest.mark.parametrize("service", sorted(n for n in BASE.services if "image" in BASE.svc(n)))
def test_every_image_volume_is_mounted_so_none_is_anonymous(service):
    declared = IMAGES["images"][BASE.svc(service)["image"]].get("declared_volumes") or []
    targets = {t for _, _, t, _ in BASE.mounts(service)} | set(BASE.svc(service).get("tmpfs") or [])
    assert set(declared) <= targets, f"{service}: {sorted(set(declared) - targets)} would be an anonymous volume"
    assert not [t for kind, source, t, _ in BASE.mounts(service) if kind == "volume" and not source], \
        f"{service} declares an anonymous volume"


# ------------------------------------------------------------------------------------------- mounts and secrets

BIND_MOUNTS = sorted({(profile, name, source, target, ro) for profile, c in PROFILES.items() for name in c.services
                      for kind, source, target, ro in c.mounts(name) if kind == "bind"})


@pytest.mark.parametrize("profile,service,source,target,read_only", BIND_MOUNTS,
                         ids=[f"{p}-{n}-{rel(s)}" for p, n, s, _, _ in BIND_MOUNTS])
def test_bind_mount_exists_and_is_read_only(profile, service, source, target, read_only):
    needs_rendered(source)
    assert os.path.exists(source), f"{service}: {rel(source)} -> {target} does not exist"
    assert read_only, f"{service}: {rel(source)} is mounted writable"


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_preflight_mounts_everything_the_services_mount_from_the_repository(profile):
    compose = PROFILES[profile]
    covered = [source for kind, source, _, _ in compose.mounts("preflight") if kind == "bind"]
    sources = {source for name in compose.services if name != "preflight"
               for kind, source, _, _ in compose.mounts(name) if kind == "bind"}
    sources |= {spec.get("file") for spec in (compose.config.get("secrets") or {}).values()}
    uncovered = [rel(s) for s in sorted(sources) if not any(s == c or s.startswith(c + "/") for c in covered)]
    assert not uncovered, f"preflight does not check {uncovered}"
    assert all(cond == "service_completed_successfully" for name in ("postgres", "webhook-sink", "alertmanager")
               for dep, cond in compose.depends_on(name).items() if dep == "preflight")
    entry = [a for a in composefile.as_list(compose.svc("preflight").get("entrypoint")) if a.endswith(".sh")]
    assert entry and os.path.isfile(compose.host_path("preflight", entry[0]))


def secret_files():
    files = {}
    for sname, spec in (BASE.config.get("secrets") or {}).items():
        files[spec.get("file")] = f"secret {sname}"
    for name in BASE.services:
        for kind, source, target, _ in BASE.mounts(name):
            if kind == "bind" and os.path.isfile(source) and "/demo/compose/secrets/" in source:
                files[source] = f"{name}:{target}"
    return files


@pytest.mark.parametrize("path", sorted(secret_files()), ids=lambda p: rel(p))
def test_secret_file_is_one_lf_line_readable_by_the_containers(path):
    assert os.path.isfile(path), f"{secret_files()[path]}: {rel(path)} missing"
    content = open(path, "rb").read()
    assert content.strip(), f"{rel(path)} is empty"
    assert b"\r" not in content, f"{rel(path)} has a CR (the password would end with it)"
    assert content.rstrip(b"\n").count(b"\n") == 0 and not content.endswith(b"\n\n"), \
        f"{rel(path)} must be one line (at most one trailing newline)"
    assert os.stat(path).st_mode & 0o004, f"{rel(path)} is not world-readable (containers read it as non-root users)"


def test_no_secret_inline_in_the_compose_file():
    inline = []
    for name in BASE.services:
        for k, v in BASE.env(name).items():
            if re.search(r"PASSWORD|TOKEN|SECRET|_KEY$", k) and not k.endswith("_FILE") and v:
                inline.append(f"{name}.{k}")
            if re.search(r"://[^/@\s:]+:[^/@\s]+@", v):
                inline.append(f"{name}.{k} has credentials in a URL")
    raw = read("docker-compose.yml")
    for path in secret_files():
        value = open(path, encoding="utf-8").read().strip()
        if value and not value.startswith("http") and value in raw:
            inline.append(f"the value of {rel(path)} appears in docker-compose.yml")
    assert not inline


def test_demo_secrets_are_marked_demo_only():
    readme = read("demo/compose/secrets/README.md")
    assert "DEMO ONLY" in readme
    problems = []
    for path in sorted(glob.glob(os.path.join(REPO, "demo/compose/secrets/*"))):
        name = os.path.basename(path)
        if name == "README.md":
            continue
        if f"`{name}`" not in readme:
            problems.append(f"{name} is not listed in the README")
        value = open(path, encoding="utf-8").read().strip()
        if not (value.startswith("demo-only") or value.startswith("http://webhook-sink:")):
            problems.append(f"{name}'s value does not say demo-only")
    assert not problems


# ------------------------------------------------------------------------------------------- line ends

TRACKED = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, text=True).stdout.split("\0")
LF_KINDS = {
    "scripts": lambda p: p.endswith((".sh", ".py", ".bats")) or p == "exporter/bin/opswatch-exporter",
    "configs": lambda p: p.endswith((".yml", ".yaml", ".json", ".sql", ".conf", ".tmpl", ".xml", ".properties"))
    or os.path.basename(p) in ("Dockerfile", ".dockerignore", ".gitattributes"),
    "secrets": lambda p: "/secrets/" in p and not p.endswith(".md"),
}


@pytest.mark.parametrize("kind", sorted(LF_KINDS))
def test_files_have_lf_line_ends_in_the_repository_and_every_checkout(kind):
    files = [p for p in TRACKED if p and LF_KINDS[kind](p) and os.path.isfile(os.path.join(REPO, p))]
    assert files, f"no {kind} found"
    with_cr = [p for p in files if b"\r" in open(os.path.join(REPO, p), "rb").read()]
    attrs = subprocess.run(["git", "check-attr", "text", "eol", "--"] + files, cwd=REPO, capture_output=True,
                           text=True, check=True).stdout
    eol = dict(re.findall(r"^(.*): eol: (\S+)$", attrs, re.M))
    not_lf = [p for p in files if eol.get(p) != "lf"]
    assert not with_cr, f"CR in {with_cr}"
    assert not not_lf, f".gitattributes does not force eol=lf for {not_lf}"


# ------------------------------------------------------------------------------------------- exporter image

def test_exporter_build_context_and_dockerfile_exist():
    context = (BASE.svc("exporter").get("build") or {}).get("context", "")
    assert os.path.isdir(context) and os.path.isfile(DOCKERFILE_PATH) and os.path.isfile(os.path.join(context, "pom.xml"))


def test_dockerfile_builds_in_maven_and_runs_on_a_jre_as_non_root_with_a_healthcheck():
    users = [line.split()[1] for line in RUNTIME if line.upper().startswith("USER ")]
    healthchecks = [line for line in RUNTIME if line.upper().startswith("HEALTHCHECK ")]
    exposes = [int(p.split("/")[0]) for line in RUNTIME if line.upper().startswith("EXPOSE ") for p in line.split()[1:]]
    entrypoint = [line for line in RUNTIME if line.upper().startswith("ENTRYPOINT ")]
    shade = re.search(r"<finalName>([^<]+)</finalName>", read("exporter/pom.xml"))
    jar = f"exporter/target/{shade.group(1)}.jar"
    assert len(STAGES) >= 2 and "maven" in STAGES[0]
    assert "jre" in STAGES[-1] and "maven" not in STAGES[-1]
    assert users and users[-1].split(":")[0] not in ("root", "0")
    assert healthchecks and "/-/healthy" in healthchecks[-1]
    assert BASE.listen_port("exporter") in exposes
    assert jar in " ".join(DOCKERFILE)
    # The start script is the entrypoint, run by sh, so a lost executable bit does not matter.
    assert entrypoint and json.loads(entrypoint[-1].split(None, 1)[1]) == ["/bin/sh", "/opt/opswatch/opswatch-exporter"]
    assert "COPY exporter/bin/opswatch-exporter /opt/opswatch/opswatch-exporter" in RUNTIME


def test_dockerignore_sends_the_dockerfile_copy_sources_and_nothing_else():
    ignore = [line.strip() for line in read(".dockerignore").splitlines() if line.strip() and not line.startswith("#")]
    copies = [line.split()[1] for line in DOCKERFILE if line.upper().startswith("COPY ") and "--from" not in line]
    assert "*" in ignore
    for path in copies:
        assert f"!{path.rstrip('/')}" in ignore, f"COPY {path} is not re-included"
        assert os.path.exists(os.path.join(REPO, path)), f"COPY {path}: no such path"


def maven_goals():
    arg = re.search(r'ARG MAVEN_GOALS="([^"]+)"', " ".join(DOCKERFILE))
    assert arg, "exporter/Dockerfile has no ARG MAVEN_GOALS"
    runs = [line for line in DOCKERFILE if line.upper().startswith("RUN MVN ")]
    assert runs and all("$MAVEN_GOALS" in r and "-pl exporter" in r for r in runs)
    return arg.group(1).split()


def repository_megabytes(repo):
    return sum(f.stat().st_size for f in repo.rglob("*") if f.is_file()) / 1e6


def test_image_build_downloads_no_test_scope_dependency_and_makes_the_same_jar(tmp_path):
    """Runs the Dockerfile's Maven command, and `mvn package -Dmaven.test.skip=true` for comparison, on a copy
    of the build context, each with an empty local repository fed from ~/.m2 through a file:// mirror (so
    it works offline): the Dockerfile's build must fetch no jar of the pom's test-scope dependencies (the
    comparison build does: the measurement sees them), make a jar with the same entries, and fetch what
    demo/compose/README.md says."""
    goals = maven_goals()
    home_repo = os.path.expanduser("~/.m2/repository")
    ctx = tmp_path / "ctx"
    (ctx / "exporter").mkdir(parents=True)
    shutil.copy(os.path.join(REPO, "pom.xml"), ctx / "pom.xml")
    shutil.copy(os.path.join(REPO, "exporter/pom.xml"), ctx / "exporter/pom.xml")
    shutil.copytree(os.path.join(REPO, "exporter/src/main"), ctx / "exporter/src/main")
    mvn = ["mvn", "-B", "-ntp", "-q"]
    settings = tmp_path / "settings.xml"
    settings.write_text(f"<settings><mirrors><mirror><id>home</id><mirrorOf>*</mirrorOf>"
                        f"<url>file://{home_repo}</url></mirror></mirrors></settings>")

    def build(name, args):
        shutil.rmtree(ctx / "exporter/target", ignore_errors=True)
        repo = tmp_path / name
        run = subprocess.run(mvn + ["-s", str(settings), f"-Dmaven.repo.local={repo}"] + args, cwd=ctx,
                             capture_output=True, text=True)
        assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
        return repo, sorted(zipfile.ZipFile(ctx / "exporter/target/opswatch-exporter.jar").namelist())

    try:
        image_repo, image_jar = build("image", ["-pl", "exporter"] + goals)
    except AssertionError:
        # ~/.m2 lacks something both builds need (a machine that never built the exporter): fetch it, once.
        subprocess.run(mvn + ["-Dmaven.test.skip=true", "package"], cwd=ctx, check=True, capture_output=True)
        shutil.rmtree(tmp_path / "image")
        image_repo, image_jar = build("image", ["-pl", "exporter"] + goals)
    package_repo, package_jar = build("package", ["-Dmaven.test.skip=true", "package"])

    test_deps = re.findall(r"<dependency>\s*<groupId>([^<]+)</groupId>\s*<artifactId>([^<]+)</artifactId>"
                           r"(?:(?!</dependency>).)*<scope>test</scope>", read("exporter/pom.xml"), re.S)
    assert test_deps, "exporter/pom.xml has no test-scope dependency to look for"

    def jars_of(repo):
        return [f"{g}:{a}" for g, a in test_deps if list((repo / g.replace(".", "/") / a).rglob("*.jar"))]

    assert jars_of(package_repo), "the comparison build fetched no test jar: the measurement sees nothing"
    assert not jars_of(image_repo), f"the image build downloads test-scope dependencies: {jars_of(image_repo)}"
    assert image_jar == package_jar
    image_mb, package_mb = repository_megabytes(image_repo), repository_megabytes(package_repo)
    assert abs(image_mb - readme_figure(r"dependencies, about ([\d.]+) MB")) <= 0.15 * image_mb, image_mb
    assert abs(package_mb - readme_figure(r"would\s+fetch ([\d.]+) MB")) <= 0.15 * package_mb, package_mb


# ------------------------------------------------------------------------------------------- dependencies

def has_healthcheck(compose, name):
    hc = compose.svc(name).get("healthcheck")
    if hc and not hc.get("disable"):
        return True
    return "build" in compose.svc(name) and any(line.upper().startswith("HEALTHCHECK ") for line in RUNTIME)


@pytest.mark.parametrize("service", sorted(BASE.services))
def test_service_dependencies_wait_on_healthchecks_or_completion(service):
    for dep, condition in BASE.depends_on(service).items():
        assert dep in BASE.services, f"{service} depends on unknown {dep}"
        if condition == "service_healthy":
            assert has_healthcheck(BASE, dep), f"{service} waits for {dep} to be healthy, which has no healthcheck"
        if condition == "service_completed_successfully":
            assert dep in ONE_SHOT
    if service not in NOT_SERVERS:
        assert has_healthcheck(BASE, service), f"{service} has no healthcheck"


def test_demo_traffic_runs_under_an_init_and_leaves_no_volume():
    svc = BASE.svc("demo-traffic")
    assert svc.get("init") is True
    assert "/var/lib/postgresql/data" in (svc.get("tmpfs") or [])


# ------------------------------------------------------------------------------------------- Prometheus

@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_prometheus_runs_a_config_from_the_repository_that_targets_compose_services(profile):
    compose = PROFILES[profile]
    args = composefile.as_list(compose.svc("prometheus").get("command"))
    config_file = next((a.split("=", 1)[1] for a in args if a.startswith("--config.file=")), "/etc/prometheus/prometheus.yml")
    host = compose.host_path("prometheus", config_file)
    needs_rendered(host)
    assert host and os.path.isfile(host), f"--config.file={config_file} is not mounted"
    prom = yaml.safe_load(open(host, encoding="utf-8"))
    jobs = {j.get("job_name"): j for j in prom.get("scrape_configs") or []}
    assert "opswatch" in jobs
    problems = []
    targets = [(j, t) for j in jobs.values() for sc in j.get("static_configs") or [] for t in sc.get("targets") or []]
    for job, t in targets:
        h, _, p = t.rpartition(":")
        problems.append(compose.target_problem(f"job {job.get('job_name')}", h, int(p)))
    assert any(j.get("job_name") == "opswatch" and t.startswith("exporter:") for j, t in targets)
    am_targets = [t for am in (prom.get("alerting") or {}).get("alertmanagers") or []
                  for sc in am.get("static_configs") or [] for t in sc.get("targets") or []]
    assert am_targets
    for t in am_targets:
        h, _, p = t.rpartition(":")
        problems.append(compose.target_problem("alerting", h, int(p)))
    for pattern in prom.get("rule_files") or []:
        if not glob.glob(os.path.join(os.path.dirname(host), pattern)):
            problems.append(f"rule_files {pattern} matches nothing")
    assert not [p for p in problems if p]


def test_fast_demo_rules_wait_at_most_30_seconds():
    host = FAST.host_path("prometheus", "/etc/prometheus/rules")
    needs_rendered(host)
    longest = {}
    for path in glob.glob(os.path.join(host, "*.yml")):
        for group in (yaml.safe_load(open(path, encoding="utf-8")) or {}).get("groups") or []:
            for rule in group.get("rules") or []:
                for key in ("for", "keep_firing_for"):
                    if key in rule:
                        longest[f"{rule.get('alert')}.{key}"] = timeline_module().duration(rule[key])
    assert longest and max(longest.values()) <= 30, {k: v for k, v in longest.items() if v > 30}


# ------------------------------------------------------------------------------------------- Grafana

def test_grafana_datasources_point_at_compose_services():
    datasources = (load_yaml("grafana/provisioning/datasources/opswatch.yml") or {}).get("datasources") or []
    problems = []
    for ds in datasources:
        url = str(ds.get("url", ""))
        if "://" not in url:
            url = ("postgres://" if "postgres" in str(ds.get("type")) else "http://") + url
        problems.append(BASE.url_problem(f"datasource {ds.get('uid')}", url))
    uids = set(re.findall(r"`(opswatch-(?:prometheus|alertmanager|postgres))`", ARCH))
    assert uids <= {ds.get("uid") for ds in datasources}
    assert not [p for p in problems if p]


def test_grafana_datasource_variables_are_provided_from_secret_files():
    text = "\n".join(open(p, encoding="utf-8").read()
                     for p in glob.glob(os.path.join(REPO, "grafana/provisioning/**/*.y*ml"), recursive=True))
    text = re.sub(r"(?m)^\s*#.*$", "", text).replace("$$", "")
    wanted = {a or b for a, b in re.findall(r"\$\{(\w+)\}|\$(\w+)", text)}
    start_script = read("demo/compose/grafana-start.sh")
    entry = [BASE.host_path("grafana", a) for a in composefile.as_list(BASE.svc("grafana").get("entrypoint")) if a.startswith("/")]
    assert any(h and os.path.isfile(h) and os.path.samefile(h, os.path.join(REPO, "demo/compose/grafana-start.sh")) for h in entry)
    exported = set(re.findall(r"^export (\w+)", start_script, re.M))
    grafana_env = BASE.env("grafana")
    assert not [v for v in wanted if v not in grafana_env and v not in exported]
    for v in exported:
        path = grafana_env.get(f"{v}_FILE") or ""
        default = re.search(r"\$\{" + re.escape(v) + r"_FILE:-([^}]+)\}", start_script)
        path = path or (default.group(1) if default else "")
        assert path and BASE.secret_host_file("grafana", path), f"{v} comes from {path or '?'}, not a grafana secret"
    assert grafana_env.get("POSTGRES_DB") == BASE.env("postgres").get("POSTGRES_DB")
    pg = next((ds for ds in load_yaml("grafana/provisioning/datasources/opswatch.yml")["datasources"]
               if "postgres" in str(ds.get("type"))), {})
    # Grafana reads as its own role (exporter/sql/grafana-role.sql), never as the exporter's.
    role = re.search(r"CREATE ROLE (\w+)", read("exporter/sql/grafana-role.sql"))
    assert pg.get("user") == role.group(1)


def test_grafana_provisioning_and_dashboards_are_mounted_where_provisioning_looks():
    prov = load_yaml("grafana/provisioning/dashboards/opswatch.yml") or {}
    paths = [(p.get("options") or {}).get("path", "") for p in prov.get("providers") or []]
    assert paths
    for path in paths:
        host = BASE.host_path("grafana", path)
        assert host and os.path.isdir(host) and os.path.samefile(host, os.path.join(REPO, "grafana/dashboards"))
        assert glob.glob(os.path.join(host, "*.json"))
    home = BASE.env("grafana").get("GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH")
    assert not home or os.path.isfile(BASE.host_path("grafana", home) or "")
    assert os.path.samefile(BASE.host_path("grafana", "/etc/grafana/provisioning"), os.path.join(REPO, "grafana/provisioning"))


# ------------------------------------------------------------------------------------------- exporter and postgres

def test_exporter_reads_postgres_as_the_reader_role_with_the_shared_password_file():
    env = BASE.env("exporter")
    db = urllib.parse.urlsplit(env.get("OPSWATCH_DATABASE_URL", ""))
    role = re.search(r"CREATE ROLE (\w+)", read("exporter/sql/role.sql")).group(1)
    assert BASE.target_problem("OPSWATCH_DATABASE_URL", db.hostname, db.port or 5432) is None
    assert db.path.lstrip("/") == BASE.env("postgres").get("POSTGRES_DB")
    assert db.username == role and not db.password
    files = {
        "postgres": BASE.secret_host_file("postgres", BASE.env("postgres").get("OPSWATCH_READER_PASSWORD_FILE", "")),
        "exporter": BASE.secret_host_file("exporter", env.get("OPSWATCH_DATABASE_PASSWORD_FILE", "")),
    }
    assert None not in files.values() and len({os.path.realpath(p) for p in files.values()}) == 1, files
    # Grafana has a role and a password of its own, which the init script sets from the same file.
    grafana = {
        "postgres": BASE.secret_host_file("postgres", BASE.env("postgres").get("OPSWATCH_GRAFANA_PASSWORD_FILE", "")),
        "grafana": BASE.secret_host_file("grafana", BASE.env("grafana").get("OPSWATCH_GRAFANA_PASSWORD_FILE", "")),
    }
    assert None not in grafana.values() and len({os.path.realpath(p) for p in grafana.values()}) == 1, grafana
    assert os.path.realpath(grafana["grafana"]) != os.path.realpath(files["exporter"])
    assert not [k for k in env if k.endswith("_FILE") and not BASE.secret_host_file("exporter", env[k])]


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_exporter_environment_names_only_what_the_exporter_reads(profile):
    sources = ""
    for root, _, files in os.walk(os.path.join(REPO, "exporter/src/main")):
        sources += "".join(open(os.path.join(root, f), encoding="utf-8").read() for f in files if f.endswith((".java", ".conf")))
    env = PROFILES[profile].env("exporter")
    unknown = [k for k in env if k.startswith(("OPSWATCH_", "BUDGET_")) and k not in sources
               and not re.fullmatch(r"BUDGET_\w+_EUR", k)]
    assert not unknown
    for key in [k for k in env if k.startswith("CONFIG_FORCE_")]:
        path = key[len("CONFIG_FORCE_"):].replace("___", "\0").replace("__", "-").replace("_", ".").replace("\0", "_")
        leaf = path.split(".")[-1]
        assert path.startswith("opswatch.") and re.search(r"\b" + re.escape(leaf) + r"\s*=", sources), f"{key}: no key {path}"


def test_exporter_probes_the_webhook_sinks_health_endpoint():
    health = BASE.env("exporter").get("OPSWATCH_APP_HEALTH_URL", "")
    assert health and BASE.url_problem("OPSWATCH_APP_HEALTH_URL", health) is None
    assert urllib.parse.urlsplit(health).path == "/api/health"


def test_postgres_init_loads_schema_seed_role_and_indexes_from_the_repository():
    init_dir = BASE.host_path("postgres", "/docker-entrypoint-initdb.d")
    scripts = sorted(glob.glob(os.path.join(init_dir or "/nonexistent", "*")))
    assert scripts
    loaded = []
    for script in scripts:
        text = open(script, encoding="utf-8").read()
        sql_dir = re.search(r'sql_dir="\$\{OPSWATCH_SQL_DIR:-([^}]+)\}"', text)
        for ref in re.findall(r'\$sql_dir/([\w./-]+\.sql)', text):
            host = BASE.host_path("postgres", f"{sql_dir.group(1)}/{ref}")
            assert host and os.path.isfile(host), f"{os.path.basename(script)} reads {ref}, which is not mounted"
            loaded.append(rel(host))
        pw = re.search(r'OPSWATCH_READER_PASSWORD_FILE:-([^}]+)\}', text)
        wanted = BASE.env("postgres").get("OPSWATCH_READER_PASSWORD_FILE") or (pw.group(1) if pw else "")
        assert BASE.secret_host_file("postgres", wanted)
        assert os.access(script, os.X_OK), f"{rel(script)} is not executable (the entrypoint would source it)"
    for needed in ("demo/schema.sql", "demo/seed.sql", "exporter/sql/role.sql", "exporter/sql/indexes.sql"):
        assert needed in loaded
    assert BASE.secret_host_file("postgres", BASE.env("postgres").get("POSTGRES_PASSWORD_FILE", ""))


def test_demo_traffic_fallback_budget_is_the_exporters_default_azure_openai_budget():
    ref = read("exporter/src/main/resources/reference.conf")
    total = float(re.search(r"total-eur\s*=\s*([\d.]+)", ref).group(1))
    fees = sum(float(x) for x in re.findall(r"monthly-fee-eur\s*=\s*([\d.]+)", ref))
    assert abs(total - fees - float(BASE.env("demo-traffic")["DEMO_BUDGET_EUR"])) < 0.005
    assert BASE.url_problem("DEMO_EXPORTER_METRICS_URL", BASE.env("demo-traffic")["DEMO_EXPORTER_METRICS_URL"]) is None


# ------------------------------------------------------------------------------------------- Alertmanager

AM_ARGS = composefile.as_list(BASE.svc("alertmanager").get("command"))
AM_CONFIG_PATH = next((a.split("=", 1)[1] for a in AM_ARGS if a.startswith("--config.file=")), "/etc/alertmanager/alertmanager.yml")
AM_HOST = BASE.host_path("alertmanager", AM_CONFIG_PATH)


@pytest.fixture(scope="module")
def am_config():
    assert AM_HOST and os.path.isfile(AM_HOST), f"{AM_CONFIG_PATH} is not mounted"
    return yaml.safe_load(open(AM_HOST, encoding="utf-8"))


def file_refs(node):
    if isinstance(node, dict):
        for k, v in node.items():
            if k.endswith("_file") and isinstance(v, str):
                yield v
            else:
                yield from file_refs(v)
    elif isinstance(node, list):
        for v in node:
            yield from file_refs(v)


def test_alertmanager_reads_only_mounted_demo_secrets(am_config):
    refs = list(file_refs(am_config))
    assert refs, "the config reads no secret file (expected the pager routing key and the chat URL)"
    for ref in refs:
        host = BASE.host_path("alertmanager", ref)
        assert host and os.path.isfile(host), f"{ref} is not mounted"
        assert "/demo/compose/secrets/" in host, f"{ref} is {rel(host)}, not a demo/compose/secrets/ file"


def test_alertmanager_config_is_alertmanager_yml_pointed_at_the_sink(am_config, tmp_path):
    out = tmp_path / "sink-config"
    run = subprocess.run([os.path.join(REPO, "alertmanager/sink-config.sh"), "--sink", "http://webhook-sink:8080",
                          "--out", str(out), "--secrets-dir", "/etc/alertmanager/secrets"], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert am_config == yaml.safe_load(open(out / "alertmanager.yml")), \
        "differs; regenerate with alertmanager/sink-config.sh (alertmanager/README.md)"


def test_alertmanager_receivers_post_to_the_webhook_sink(am_config):
    sink_paths = set(re.findall(r'"(/[a-z]+)": "[a-z]+"', read("demo/compose/webhook_sink.py")))
    expected = {"pager": "/pager", "chat": "/chat", "deadmans-switch": "/heartbeat"}
    glob_cfg = am_config.get("global") or {}

    def secret_value(path):
        host = BASE.host_path("alertmanager", path)
        return open(host).read().strip() if host and os.path.isfile(host) else None

    problems, names = [], set()
    for receiver in am_config.get("receivers") or []:
        name = receiver.get("name")
        names.add(name)
        urls = [pd.get("url") or glob_cfg.get("pagerduty_url") for pd in receiver.get("pagerduty_configs") or []]
        urls += [sl.get("api_url") or secret_value(sl.get("api_url_file", "")) or glob_cfg.get("slack_api_url") or ""
                 for sl in receiver.get("slack_configs") or []]
        urls += [wh.get("url") or secret_value(wh.get("url_file", "")) or "" for wh in receiver.get("webhook_configs") or []]
        other = [k for k in receiver if k.endswith("_configs") and k not in ("pagerduty_configs", "slack_configs", "webhook_configs")]
        problems += [f"{name}: {other} cannot be checked against the sink"] if other else []
        for url in urls:
            u = urllib.parse.urlsplit(url)
            problem = BASE.url_problem(f"receiver {name}", url)
            if problem or u.hostname != "webhook-sink" or u.path not in sink_paths:
                problems.append(f"receiver {name} posts to {url}")
            elif name in expected and u.path != expected[name]:
                problems.append(f"receiver {name} posts to {u.path}, expected {expected[name]}")
    assert set(expected) <= names
    assert not problems


def test_alertmanager_templates_resolve_inside_the_container(am_config):
    assert am_config.get("templates")
    for pattern in am_config["templates"]:
        container = os.path.join(os.path.dirname(AM_CONFIG_PATH), pattern)
        host = BASE.host_path("alertmanager", os.path.dirname(container))
        assert host and glob.glob(os.path.join(host, os.path.basename(container))), f"{pattern} matches no mounted file"


def test_amtool_accepts_the_mounted_alertmanager_config(am_config, tmp_path):
    text = open(AM_HOST, encoding="utf-8").read()
    for ref in file_refs(am_config):
        text = text.replace(ref, BASE.host_path("alertmanager", ref) or ref)
    (tmp_path / "alertmanager.yml").write_text(text)
    templates = BASE.host_path("alertmanager", os.path.join(os.path.dirname(AM_CONFIG_PATH), "templates"))
    os.symlink(templates, tmp_path / "templates")
    run = subprocess.run(["amtool", "check-config", str(tmp_path / "alertmanager.yml")], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


# ------------------------------------------------------------------------------------------- webhook sink, for real

def test_webhook_sink_records_and_logs_pager_chat_and_heartbeat_posts(processes, free_port):
    port = free_port()
    sink = processes.start("webhook-sink", ["/usr/bin/python3", os.path.join(REPO, "demo/compose/webhook_sink.py"),
                                            "--port", str(port), "--bind", "127.0.0.1"])
    base = f"http://127.0.0.1:{port}"
    testkit.wait_for("the sink", lambda: testkit.http_get(base + "/-/healthy")[0] == 200, timeout=15)
    posts = {
        "/pager": {"routing_key": "k", "event_action": "trigger", "dedup_key": "d",
                   "payload": {"summary": "[FIRING:1] BudgetExceeded azure_openai (demo)", "severity": "critical",
                               "custom_details": {"firing": "CRITICAL: over budget.\nRunbook: https://example/runbooks/budget-exceeded.md"}},
                   "links": [{"href": "https://example/runbooks/budget-exceeded.md", "text": "Runbook"}]},
        "/chat": {"attachments": [{"title": "[FIRING:1] BudgetSpendWarning azure_openai (demo)", "text": "WARNING: ...",
                                   "actions": [{"text": "Runbook", "url": "https://example/r.md"}]}]},
        "/heartbeat": {"version": "4", "status": "firing", "receiver": "deadmans-switch",
                       "alerts": [{"status": "firing", "labels": {"alertname": "OpswatchHeartbeat"}, "annotations": {}}]},
    }
    for path, body in posts.items():
        assert testkit.http_post_json(base + path, body)[0] // 100 == 2
    assert [e["receiver"] for e in testkit.http_json(base + "/?format=json")] == ["heartbeat", "chat", "pager"]
    app = testkit.http_json(base + "/api/health")
    assert app.get("status") in ("healthy", "degraded") and {"database", "ai_provider", "memory"} <= set(app["checks"])
    for word in ("PAGE trigger severity=critical", "Runbook=https://example/runbooks/budget-exceeded.md",
                 "CHAT [FIRING:1]", "WEBHOOK firing"):
        testkit.wait_for(f"'{word}' in the sink's log", lambda: word in open(sink.log_path).read(), timeout=5, interval=0.1)


# ------------------------------------------------------------------------------------------- scripts

COMPOSE_SCRIPTS = sorted(glob.glob(os.path.join(REPO, "demo/compose/*.sh")) + glob.glob(os.path.join(REPO, "demo/compose/initdb/*.sh")))


def test_shellcheck_compose_scripts():
    run = subprocess.run(["shellcheck", *COMPOSE_SCRIPTS, os.path.join(REPO, "exporter/bin/opswatch-exporter")],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stdout


def preflight_tree(root):
    (root / "demo/compose/secrets").mkdir(parents=True)
    (root / "demo/compose/secrets/postgres_password").write_text("demo-only\n")
    (root / "demo/compose/demo-traffic.sh").write_text("#!/bin/sh\n")
    (root / "prometheus").mkdir()
    (root / "prometheus/prometheus.yml").write_text("global: {}\n")
    return root


PREFLIGHT_CASES = {
    "all-readable": (lambda r: None, 0, "readable by the containers' users"),
    "secret-mode-600": (lambda r: os.chmod(r / "demo/compose/secrets/postgres_password", 0o600), 1,
                        "demo/compose/secrets/postgres_password (mode 600)"),
    "folder-mode-700": (lambda r: os.chmod(r / "demo/compose/secrets", 0o700), 1, "demo/compose/secrets (mode 700)"),
    "config-mode-640": (lambda r: os.chmod(r / "prometheus/prometheus.yml", 0o640), 1, "prometheus/prometheus.yml (mode 640)"),
    "secret-with-crlf": (lambda r: (r / "demo/compose/secrets/postgres_password").write_bytes(b"demo-only\r\n"), 1,
                         "CRLF"),
}


@pytest.mark.parametrize("case", sorted(PREFLIGHT_CASES))
def test_preflight_names_unreadable_or_crlf_files_and_the_fix(case, tmp_path):
    change, code, says = PREFLIGHT_CASES[case]
    root = preflight_tree(tmp_path / "check")
    change(root)
    run = subprocess.run(["sh", os.path.join(REPO, "demo/compose/check-modes.sh"), str(root)], capture_output=True, text=True)
    assert run.returncode == code, run.stdout + run.stderr
    assert says in run.stdout + run.stderr
    if code:
        assert "chmod -R a+rX" in run.stderr or ".gitattributes" in run.stderr


# ------------------------------------------------------------------------------------------- demo traffic, measured

def plan(mode, **env):
    run = subprocess.run(["bash", os.path.join(REPO, "demo/compose/demo-traffic.sh"), "--plan"], capture_output=True,
                         text=True, check=True, env={**os.environ, **BASE.env("demo-traffic"), "DEMO_MODE": mode, **env})
    return dict(line.split("=", 1) for line in run.stdout.split())


def spend(url):
    return float(testkit.psql(url, "-c", """
        SELECT COALESCE((SELECT SUM("costEur") FROM session_metrics WHERE NOT "isTestData"), 0)
             + COALESCE((SELECT SUM("costEur") FROM voice_usage_events WHERE NOT "isTestData"), 0)
             + COALESCE((SELECT SUM("framesUsed") FROM "VideoVisionUsage"), 0) * 0.067""", capture=True))


def measure_eur_per_hour(database, settings, ticks, tmp_path):
    """Runs traffic.sql `ticks` times in one session (setseed: the same draws every run) and returns the
    spend per hour at the plan's tick interval."""
    script = tmp_path / "ticks.sql"
    script.write_text("SELECT setseed(0.42);\n" + f"\\i {REPO}/demo/compose/traffic.sql\n" * ticks)
    before = spend(database.url)
    subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", *[a for k in ("text_per_tick", "voice_per_tick",
                    "realtime_share", "video_per_tick") for a in ("-v", f"{k}={settings[k]}")], database.url, "-f", str(script)],
                   check=True, stdout=subprocess.DEVNULL)
    hours = ticks * float(settings["interval_seconds"]) / 3600
    return (spend(database.url) - before) / hours


def budget_pace_per_hour(days=31):
    """Azure OpenAI's budget spread over a month of `days` days, in EUR an hour (31 days: the slowest pace)."""
    return float(BASE.env("demo-traffic")["DEMO_BUDGET_EUR"]) / (days * 24)


def readme_figure(pattern):
    found = re.search(pattern, read("demo/compose/README.md"))
    assert found, f"demo/compose/README.md does not state /{pattern}/"
    return float(found.group(1))


def test_breach_mode_spends_what_the_readme_says(fresh_database, tmp_path):
    fresh_database.load(os.path.join(REPO, "demo/schema.sql"))
    testkit.psql(fresh_database.url, "-c", """INSERT INTO "User"(id) SELECT 'demo-user-' || g FROM generate_series(1, 40) g""")
    rate = measure_eur_per_hour(fresh_database, plan("breach"), 1440, tmp_path)
    stated = readme_figure(r"breach mode spends about ([\d.]+) EUR an hour")
    assert abs(rate - stated) <= 0.1 * stated, f"measured {rate:.2f} EUR/h, README says {stated}"
    assert plan("breach")["breach_ratio"] != "0"


def test_quiet_mode_spends_at_most_half_the_budget_pace_and_never_bursts(fresh_database, tmp_path):
    fresh_database.load(os.path.join(REPO, "demo/schema.sql"))
    testkit.psql(fresh_database.url, "-c", """INSERT INTO "User"(id) SELECT 'demo-user-' || g FROM generate_series(1, 40) g""")
    settings = plan("quiet")
    assert settings["breach_ratio"] == "0"
    rate = measure_eur_per_hour(fresh_database, settings, 2880, tmp_path)
    pace = budget_pace_per_hour(31)
    assert 0 < rate <= 0.5 * pace, f"quiet mode spends {rate:.4f} EUR/h, the budget's pace is {pace:.4f} EUR/h"
    stated = readme_figure(r"quiet mode spends about ([\d.]+) EUR an hour")
    assert abs(rate - stated) <= 0.25 * stated, f"measured {rate:.4f} EUR/h, README says {stated}"


# Start times: the seed's level depends on the hour it is loaded (it is relative to now()).
SEED_STARTS = ["2026-10-01 12:00", "2026-10-08 12:00", "2026-10-15 12:00", "2026-10-22 12:00", "2026-10-29 12:00",
               "2026-10-31 12:00", "2027-02-14 12:00", "2027-02-28 12:00"]


@pytest.mark.parametrize("start", SEED_STARTS)
def test_quiet_mode_keeps_the_seeded_month_under_budget_until_its_end(start, fresh_database, tmp_path):
    """The seed as of `start`, plus quiet traffic at half the budget's pace (the bound the test above proves)
    until the month ends, stays under the Azure OpenAI and the total budget: BudgetExceeded never fires."""
    import datetime
    fresh_database.load(os.path.join(REPO, "demo/schema.sql"))
    at = datetime.datetime.strptime(start, "%Y-%m-%d %H:%M").replace(tzinfo=datetime.timezone.utc)
    seed = read("demo/seed.sql").replace("now()", f"'{at.isoformat()}'::timestamptz")
    (tmp_path / "seed.sql").write_text(seed)
    fresh_database.load(tmp_path / "seed.sql")
    seeded = spend(fresh_database.url)
    next_month = (at.replace(day=28) + datetime.timedelta(days=4)).replace(day=1, hour=0, minute=0)
    days = (next_month - at.replace(day=1, hour=0, minute=0)).days
    remaining_hours = (next_month - at).total_seconds() / 3600
    month_end = seeded + 0.5 * budget_pace_per_hour(days) * remaining_hours
    ref = read("exporter/src/main/resources/reference.conf")
    total = float(re.search(r"total-eur\s*=\s*([\d.]+)", ref).group(1))
    fees = sum(float(x) for x in re.findall(r"monthly-fee-eur\s*=\s*([\d.]+)", ref))
    budget = total - fees
    assert month_end < budget, f"Azure OpenAI would end at {month_end:.2f} of {budget:g} EUR (seed {seeded:.2f})"
    assert fees + month_end < total


@pytest.mark.parametrize("sig", ["SIGTERM", "SIGINT"])
def test_demo_traffic_stops_at_once_on_a_stop_signal(sig, demo_database, processes):
    url = urllib.parse.urlsplit(demo_database.url)
    env = {**os.environ, "PGHOST": url.hostname, "PGPORT": str(url.port), "PGUSER": url.username or "postgres",
           "PGDATABASE": url.path.lstrip("/"), "DEMO_INTERVAL_SECONDS": "30", "DEMO_BREACH_RATIO": "0",
           "DEMO_EXPORTER_METRICS_URL": "http://127.0.0.1:9/metrics"}
    # With its signals at their defaults, as a container's init delivers them: a shell started with SIGINT
    # ignored (a background job of a non-interactive shell, as CI may be) cannot trap it (bash(1), SIGNALS).
    traffic = processes.start("demo-traffic", ["env", "--default-signal=INT,TERM", "bash",
                                               os.path.join(REPO, "demo/compose/demo-traffic.sh")], env=env)
    testkit.wait_for("the first tick", lambda: "month to date" in open(traffic.log_path).read(), timeout=30, interval=0.2)
    sent = time.monotonic()
    traffic.proc.send_signal(getattr(signal, sig))
    code = traffic.proc.wait(timeout=10)
    assert time.monotonic() - sent < 3, "demo-traffic waited out its sleep"
    assert code == 0, traffic.tail()
    assert "stopping" in open(traffic.log_path).read()


# ------------------------------------------------------------------------------------------- timeline

def test_readme_timeline_is_the_one_the_configuration_gives():
    needs_rendered(BASE.host_path("prometheus", "/etc/prometheus/prometheus.yml"))
    needs_rendered(FAST.host_path("prometheus", "/etc/prometheus/prometheus.yml"))
    timeline = timeline_module()
    demo, fast = timeline.compute("demo"), timeline.compute("fast")
    assert not demo["problems"] and not fast["problems"]
    expected = timeline.render(demo, fast)
    assert timeline.readme_section(read("demo/compose/README.md")) == expected, \
        "demo/compose/README.md's timeline is stale: run demo/compose/timeline.py --update"
    # What the README's prose promises, against the computed figures.
    assert fast["page"][1] <= 150, "the fast demo no longer pages within about two minutes"
    assert len(demo["pages"]) >= 1 and all(p.get("alertname") == "BudgetExceeded" for p in demo["pages"])
