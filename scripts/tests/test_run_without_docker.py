"""README's "Run without Docker", followed to the letter: the blocks marked `<!-- doc-test: NAME -->` are
taken from README.md (parsed with markdown-it-py, Debian's python3-markdown-it) and run with bash, with
the "settings" block's placeholders replaced by a throwaway PostgreSQL database, a local /api/health
stand-in and folders of this test. The exporter is then scraped, a real Prometheus loads the documented
scrape job and rules (after `promtool check config`), and `amtool` checks the Alertmanager config that
the documented commands installed with its secrets as files."""
import base64
import hashlib
import hmac
import os
import re
import shlex
import subprocess

import pytest
import yaml
from markdown_it import MarkdownIt

import testkit

REPO = testkit.REPO
README = REPO / "README.md"
MARKER = re.compile(r"<!--\s*doc-test:\s*([a-z-]+)\s*-->")
# The blocks this test runs, in the README's order.
EXPECTED = ["settings", "build", "database", "exporter-env", "exporter-run", "exporter-verify",
            "prometheus-rules", "prometheus-config", "prometheus-check", "alertmanager"]
# What the documented scrape job names as the exporter's address; replaced with the running exporter's.
EXPORTER_PLACEHOLDER = "exporter-host:9824"


def readme_blocks():
    """{name: (language, text, line)} of the fenced blocks that follow a doc-test marker."""
    tokens = MarkdownIt("commonmark").parse(README.read_text())
    blocks = {}
    for marker, fence in zip(tokens, tokens[1:]):
        m = MARKER.fullmatch(marker.content.strip()) if marker.type == "html_block" else None
        if m:
            assert fence.type == "fence", f"README.md:{marker.map[0] + 1}: doc-test marker {m.group(1)} is not " \
                                          "followed by a fenced block"
            assert m.group(1) not in blocks, f"README.md:{marker.map[0] + 1}: doc-test {m.group(1)} twice"
            blocks[m.group(1)] = (fence.info.strip(), fence.content, fence.map[0] + 1)
    return blocks


BLOCKS = readme_blocks()


def block(name):
    assert name in BLOCKS, f"README.md has no block marked <!-- doc-test: {name} -->"
    return BLOCKS[name][1]


def settings_names():
    """The variables the settings block assigns."""
    return re.findall(r"^([A-Z][A-Z0-9_]*)=", block("settings"), re.MULTILINE)


@pytest.fixture(scope="module")
def settings(module_demo_database, module_health_stub, module_work):
    """The test's values for the settings block's placeholders."""
    return {
        "OWNER_URL": module_demo_database.url,
        "READER_URL": testkit.with_credentials(module_demo_database.url, "opswatch_reader"),
        "READER_PASSWORD_FILE": str(module_work / "etc-opswatch/reader-password"),
        "APP_HEALTH_URL": module_health_stub.health_url,
        "HEARTBEAT_URL": "https://deadmans-switch.test/ping/opswatch?check=doc&a=1",
        "PROMETHEUS_DIR": str(module_work / "etc-prometheus"),
        "ALERTMANAGER_DIR": str(module_work / "etc-alertmanager"),
    }


@pytest.fixture(scope="module")
def port():
    return testkit.free_port()


def script(settings, *names, exec_last=False):
    """A bash script: the test's settings, then the named blocks. With exec_last, the last block (one
    command) is exec'd, so that stopping the shell's PID stops the program."""
    lines = [f"{key}={shlex.quote(value)}" for key, value in settings.items()]
    for name in names[:-1] if exec_last else names:
        lines.append(block(name))
    if exec_last:
        last = block(names[-1]).strip()
        assert "\n" not in last, f"the {names[-1]} block should be one command"
        lines.append("exec " + last)
    return "\n".join(lines)


def run(settings, port, *names, stdin=None):
    """Runs the blocks with bash -euo pipefail from the repository root; fails with their output."""
    result = subprocess.run(["bash", "-euo", "pipefail", "-c", script(settings, *names)], cwd=REPO, text=True,
                            input=stdin, capture_output=True, env=dict(os.environ, OPSWATCH_HTTP_PORT=str(port)))
    assert result.returncode == 0, (f"README blocks {', '.join(names)} exited with {result.returncode}:\n"
                                    f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return result.stdout


@pytest.fixture(scope="module")
def built(settings, port):
    return run(settings, port, "build")


@pytest.fixture(scope="module")
def database(settings, port):
    return run(settings, port, "database")


@pytest.fixture(scope="module")
def exporter(built, database, settings, port, module_processes):
    """The exporter as the README runs it, serving until the module ends."""
    process = module_processes.start("exporter", ["bash", "-euo", "pipefail", "-c", script(
        settings, "exporter-env", "exporter-run", exec_last=True)], env=dict(os.environ, OPSWATCH_HTTP_PORT=str(port)),
        cwd=REPO)
    base = f"http://127.0.0.1:{port}"
    testkit.wait_ready(process, base, 90)
    return base


def test_the_readme_marks_every_block_this_test_runs():
    assert list(BLOCKS) == EXPECTED, f"README.md's doc-test blocks are {list(BLOCKS)}, this test runs {EXPECTED}"
    assert BLOCKS["prometheus-config"][0] == "yaml"
    assert all(BLOCKS[name][0] == "sh" for name in EXPECTED if name != "prometheus-config")


def test_the_settings_are_the_ones_this_test_replaces(settings):
    assert sorted(settings_names()) == sorted(settings), (
        f"the settings block assigns {settings_names()}; this test gives values for {sorted(settings)}")
    assert "ALERTMANAGER_DIR=/etc/alertmanager" in block("settings"), \
        "alertmanager.yml reads its secrets from /etc/alertmanager/secrets: the documented default must match"


def test_build_makes_the_jar_the_start_script_finds(built):
    jar = REPO / "exporter/target/opswatch-exporter.jar"
    assert jar.is_file() and jar.stat().st_size > 1_000_000, "the build block made no exporter jar"


def scram_matches(verifier, password):
    """Whether a PostgreSQL SCRAM-SHA-256 verifier (pg_authid.rolpassword,
    SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>, RFC 5803) was made from PASSWORD.
    The throwaway cluster trusts loopback connections, so this is how the test sees the password took."""
    m = re.fullmatch(r"SCRAM-SHA-256\$(\d+):([^$]+)\$([^:]+):(.+)", verifier)
    assert m, f"not a SCRAM-SHA-256 verifier: {verifier[:16]}..."
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), base64.b64decode(m.group(2)), int(m.group(1)))
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    return hashlib.sha256(client_key).digest() == base64.b64decode(m.group(3))


def test_database_block_creates_the_reader_with_the_filed_password_and_the_indexes(database, settings):
    password_file = settings["READER_PASSWORD_FILE"]
    assert os.stat(password_file).st_mode & 0o077 == 0, "the password file is readable by others"
    password = open(password_file).read().strip()
    assert len(password) >= 24
    verifier = testkit.psql(settings["OWNER_URL"], "-c",
                            "SELECT rolpassword FROM pg_authid WHERE rolname = 'opswatch_reader'", capture=True)
    assert scram_matches(verifier, password), "opswatch_reader's password is not the one in the password file"
    wanted = set(re.findall(r'IF NOT EXISTS "([^"]+)"', (REPO / "exporter/sql/indexes.sql").read_text()))
    present = set(testkit.psql(settings["OWNER_URL"], "-c", "SELECT indexname FROM pg_indexes", capture=True).split())
    assert wanted and wanted <= present, f"indexes missing after the database block: {sorted(wanted - present)}"


def test_exporter_check_config_accepts_the_documented_settings(built, database, settings, port):
    run(settings, port, "exporter-env")


def test_the_exporter_serves_every_source_up_as_the_reader(exporter, settings, port):
    def all_up():
        lines = run(settings, port, "exporter-verify").splitlines()
        values = {re.search(r'source="([^"]+)"', line).group(1): float(line.split()[-1]) for line in lines}
        return values if values and all(v == 1 for v in values.values()) else None

    values = testkit.wait_for("every opswatch_source_up at 1 in the verify block's output", all_up, 60)
    assert {"costs", "quotas", "quotas_fast", "incidents", "probes"} <= set(values)


def test_prometheus_loads_the_documented_job_and_rules(exporter, settings, port, module_processes):
    run(settings, port, "prometheus-rules")
    snippet = block("prometheus-config")
    assert EXPORTER_PLACEHOLDER in snippet, f"the scrape job no longer names {EXPORTER_PLACEHOLDER}"
    snippet = yaml.safe_load(snippet.replace(EXPORTER_PLACEHOLDER, f"127.0.0.1:{port}"))
    # An existing Prometheus, to which the documented lines are added.
    config = {"global": {"scrape_interval": "15s", "evaluation_interval": "15s",
                         "external_labels": {"env": "doc-test"}},
              "scrape_configs": [{"job_name": "prometheus", "static_configs": [{"targets": ["127.0.0.1:9"]}]}]}
    for key, value in snippet.items():
        config[key] = config.get(key, []) + value
    config_file = os.path.join(settings["PROMETHEUS_DIR"], "prometheus.yml")
    with open(config_file, "w") as f:
        yaml.safe_dump(config, f)

    rule_files = sorted((REPO / "prometheus/rules").glob("*.yml"))
    checked = run(settings, port, "prometheus-check")
    assert f"SUCCESS: {len(rule_files)} rule files found" in checked, checked

    prometheus = testkit.start_prometheus(module_processes, config_file)
    testkit.wait_for("Prometheus scraping the exporter (up{job=\"opswatch\"} == 1)",
                     lambda: testkit.prometheus_query(prometheus, 'up{job="opswatch"} == 1'), 60)
    groups = {g["name"] for g in testkit.http_json(prometheus + "/api/v1/rules")["data"]["groups"]}
    wanted = {g["name"] for f in rule_files for g in yaml.safe_load(f.read_text())["groups"]}
    assert groups == wanted, f"Prometheus loaded the rule groups {sorted(groups)}, the repository has {sorted(wanted)}"


def file_settings(node):
    """Every value of a `*_file` key in a parsed YAML document."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key.endswith("_file") and isinstance(value, str):
                yield value
            else:
                yield from file_settings(value)
    elif isinstance(node, list):
        for item in node:
            yield from file_settings(item)


def test_alertmanager_gets_its_config_and_secrets_as_files(settings, port):
    key, chat_url = "doc-test-routing-key", "https://chat.test/hooks/doc-test?token=x&y=1"
    output = run(settings, port, "alertmanager", stdin=f"{key}\n{chat_url}\n")
    assert key not in output and chat_url not in output, "a secret was echoed"
    directory = settings["ALERTMANAGER_DIR"]
    installed = open(os.path.join(directory, "alertmanager.yml")).read()
    assert "webhook-sink" not in installed, "the installed config still names the compose stack's webhook sink"
    assert settings["HEARTBEAT_URL"] in installed, "the heartbeat URL was not written into the config"
    secrets = sorted(file_settings(yaml.safe_load(installed)))
    assert secrets, "alertmanager.yml reads no secret from a file"
    for path in secrets:
        assert path.startswith(os.path.join(directory, "secrets") + "/"), f"{path} is outside ALERTMANAGER_DIR"
        assert os.stat(path).st_mode & 0o077 == 0, f"{path} is readable by others"
    written = {os.path.basename(p): open(p).read().strip() for p in secrets}
    assert written == {"pager_routing_key": key, "chat_webhook_url": chat_url}, written
