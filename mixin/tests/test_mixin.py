"""The mixin (mixin/mixin.libsonnet): current with its sources, the monitoring-mixins layout, the identity
with the default _config, and every _config setting reaching every place it should.

Generic on purpose: nothing here names an alert, a panel or a dashboard; the expectations are read from
prometheus/rules/*.yml, grafana/dashboards/*.json and grafana/provisioning/."""
import json
import shutil
import subprocess

import pytest
import yaml

import testkit

MIXIN = testkit.REPO / "mixin"


def jsonnet(code, *, string=False):
    """Evaluates jsonnet code in mixin/ with Debian's jsonnet; JSON is parsed unless string=True."""
    out = subprocess.run(["jsonnet", *(["-S"] if string else []), "-e", code], cwd=MIXIN, check=True,
                         capture_output=True, text=True).stdout
    return out if string else json.loads(out)


def with_config(config, field):
    return jsonnet(f"((import 'mixin.libsonnet') + {{ _config+:: {json.dumps(config)} }}).{field}")


def rule_files():
    return {p.name: yaml.safe_load(p.read_text()) for p in sorted((testkit.REPO / "prometheus/rules").glob("*.yml"))}


def dashboards():
    return {p.name: json.loads(p.read_text()) for p in sorted((testkit.REPO / "grafana/dashboards").glob("*.json"))}


def all_rules(groups):
    return [r for g in groups for r in g["rules"]]


def strings(value):
    if isinstance(value, dict):
        for v in value.values():
            yield from strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from strings(v)
    elif isinstance(value, str):
        yield value


@pytest.fixture(scope="module")
def found():
    return jsonnet("(import 'src/sources.libsonnet').found")


def test_src_is_what_sync_makes_of_the_sources_today():
    result = subprocess.run(["/usr/bin/python3", str(MIXIN / "sync.py"), "--check"], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_layout_follows_the_monitoring_mixins_convention():
    fields = jsonnet("local m = import 'mixin.libsonnet'; "
                     "[f for f in ['_config', 'prometheusAlerts', 'prometheusRules', 'grafanaDashboards'] "
                     "if std.objectHasAll(m, f) && !std.objectHas(m, f)]")
    assert fields == ["_config", "prometheusAlerts", "prometheusRules", "grafanaDashboards"], \
        "the four root fields exist and are hidden (::)"
    for path in ["alerts/alerts.libsonnet", "rules/rules.libsonnet", "dashboards/dashboards.libsonnet",
                 "config.libsonnet"]:
        assert (MIXIN / path).is_file(), path
    bundle = json.loads((MIXIN / "jsonnetfile.json").read_text())
    assert bundle["version"] == 1 and bundle["dependencies"] == [], "jsonnet-bundler file with no dependencies"


def test_imports_stay_inside_the_mixin_folder_so_a_vendored_copy_builds():
    for path in MIXIN.rglob("*.*sonnet"):
        for line in path.read_text().splitlines():
            if "import " in line and "'" in line:
                target = (path.parent / line.split("'")[1]).resolve()
                assert MIXIN in target.parents, f"{path.relative_to(MIXIN)} imports {target} outside mixin/"


def test_default_config_renders_exactly_todays_rule_files():
    alerts = jsonnet("(import 'mixin.libsonnet').prometheusAlerts")["groups"]
    rules = jsonnet("(import 'mixin.libsonnet').prometheusRules")["groups"]
    rendered = {g["name"]: g for g in alerts + rules}
    assert len(rendered) == len(alerts) + len(rules), "group names are unique"
    expected_names = []
    for name, content in rule_files().items():
        for group in content.get("groups") or []:
            expected_names.append(group["name"])
            assert rendered.get(group["name"]) == group, f"group {group['name']} of prometheus/rules/{name}"
    assert sorted(rendered) == sorted(expected_names), "no group added or lost"
    assert all(any("alert" in r for r in g["rules"]) for g in alerts)
    assert all(all("record" in r for r in g["rules"]) for g in rules)


def test_default_config_renders_exactly_todays_dashboards():
    assert jsonnet("(import 'mixin.libsonnet').grafanaDashboards") == dashboards()


def test_alerts_manifested_as_yaml_pass_promtool(tmp_path):
    for field in ["prometheusAlerts", "prometheusRules"]:
        path = tmp_path / f"{field}.yaml"
        path.write_text(jsonnet(f"std.manifestYamlDoc((import 'mixin.libsonnet').{field})", string=True))
        result = subprocess.run(["promtool", "check", "rules", str(path)], capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr


def test_config_reaches_every_rule(found):
    assert found["jobSelector"] and found["runbookURLBase"] and found["grafanaURL"], found
    config = {"jobSelector": 'job="opswatch-exporter",namespace="opswatch"',
              "runbookURLBase": "https://runbooks.example.org/opswatch",
              "grafanaURL": "https://grafana.example.org",
              "alertLabels": {"team": "platform"}}
    groups = with_config(config, "prometheusAlerts")["groups"] + with_config(config, "prometheusRules")["groups"]
    original = all_rules(g for f in rule_files().values() for g in f.get("groups") or [])
    rendered = all_rules(groups)
    assert len(rendered) == len(original)
    for before, after in zip(original, rendered):
        name = before.get("alert") or before.get("record")
        assert found["jobSelector"] not in after["expr"], name
        if found["jobSelector"] in before["expr"]:
            assert config["jobSelector"] in after["expr"], name
        if "alert" not in before:
            assert after == {**before, "expr": after["expr"]}, f"recording rule {name} otherwise unchanged"
            continue
        assert after["labels"] == {**before.get("labels", {}), "team": "platform"}, name
        for key, text in after.get("annotations", {}).items():
            assert found["runbookURLBase"] not in text and found["grafanaURL"] not in text, f"{name} {key}"
        runbook = before["annotations"].get("runbook_url", "")
        if runbook:
            assert after["annotations"]["runbook_url"] == runbook.replace(found["runbookURLBase"],
                                                                           config["runbookURLBase"])


def test_alert_overrides_apply_to_every_rule_of_that_alert_only():
    names = sorted({r["alert"] for r in all_rules(g for f in rule_files().values() for g in f.get("groups") or [])
                    if "alert" in r})
    target = names[0]
    groups = with_config({"alertOverrides": {target: {"for": "42m"}}}, "prometheusAlerts")["groups"]
    for rule in all_rules(groups):
        if rule.get("alert") == target:
            assert rule["for"] == "42m"
        elif "alert" in rule:
            assert rule.get("for") != "42m"


def test_datasources_and_urls_reach_every_dashboard(found):
    datasources = {kind: {"name": f"{kind} (cluster)", "uid": f"{kind}-cluster"} for kind in found["datasources"]}
    config = {"datasources": datasources, "runbookURLBase": "https://runbooks.example.org/opswatch",
              "grafanaURL": "https://grafana.example.org"}
    rendered = with_config(config, "grafanaDashboards")
    old_uids = {d["uid"] for d in found["datasources"].values()}
    old_names = {d["name"] for d in found["datasources"].values()}
    for name, before in dashboards().items():
        after = rendered[name]
        assert after["uid"] == before["uid"] and after["title"] == before["title"], name
        texts = list(strings(after))
        assert not old_uids & set(texts), f"{name} still names a default datasource uid"
        assert not old_names & set(texts), f"{name} still names a default datasource"
        assert not [t for t in texts if found["runbookURLBase"] in t], f"{name} still links the default runbooks"
        for variable in after.get("templating", {}).get("list", []):
            if variable.get("type") == "datasource" and variable.get("query") in datasources:
                assert variable["current"]["value"] == datasources[variable["query"]]["uid"], (name, variable["name"])
                assert variable["current"]["text"] == datasources[variable["query"]]["name"], (name, variable["name"])
        assert len(texts) == len(list(strings(before))), f"{name}: same shape, only values changed"


def test_a_vendored_copy_builds_as_the_readme_says(tmp_path):
    """mixin/README.md's jsonnet-bundler layout: the folder under vendor/github.com/opswatch/opswatch/mixin,
    imported with -J vendor and a _config override."""
    vendored = tmp_path / "vendor/github.com/opswatch/opswatch/mixin"
    shutil.copytree(MIXIN, vendored, ignore=shutil.ignore_patterns("tests", "__pycache__"))
    (tmp_path / "opswatch.libsonnet").write_text(
        "(import 'github.com/opswatch/opswatch/mixin/mixin.libsonnet') + "
        "{ _config+:: { runbookURLBase: 'https://runbooks.example.com/opswatch', alertLabels: { team: 'platform' } } }")
    alerts = subprocess.run(["jsonnet", "-J", "vendor", "-S", "-e",
                             'std.manifestYamlDoc((import "opswatch.libsonnet").prometheusAlerts)'],
                            cwd=tmp_path, check=True, capture_output=True, text=True).stdout
    (tmp_path / "prometheus_alerts.yaml").write_text(alerts)
    check = subprocess.run(["promtool", "check", "rules", "prometheus_alerts.yaml"], cwd=tmp_path,
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    rules = [r for g in yaml.safe_load(alerts)["groups"] for r in g["rules"] if "alert" in r]
    assert rules and all(r["labels"]["team"] == "platform" for r in rules)
    assert all(r["annotations"]["runbook_url"].startswith("https://runbooks.example.com/opswatch/")
               for r in rules if "runbook_url" in r.get("annotations", {}))
    (tmp_path / "dashboards_out").mkdir()
    subprocess.run(["jsonnet", "-J", "vendor", "-m", "dashboards_out", "-e",
                    '(import "opswatch.libsonnet").grafanaDashboards'], cwd=tmp_path, check=True, capture_output=True)
    assert sorted(p.name for p in (tmp_path / "dashboards_out").iterdir()) == sorted(dashboards())
