"""Every dashboard type-checks against Grafana's published types at the pinned version
(@grafana/schema, grafana/schema-check/package-lock.json) with `tsc --noEmit --strict`; and the
check refuses each kind of fault it is for (a broken copy of a real dashboard, one fault each)."""
import copy
import json
import shutil

import pytest

import dashboards as dm
import schema_check

DASHBOARDS = dm.Repo().dashboards()


def first(dashboard, panel_type):
    return next(p for p in dm.iter_panels(dashboard) if p.get("type") == panel_type)


def annotation(dashboard, datasource_type):
    return next(a for a in dashboard["annotations"]["list"]
                if a["datasource"].get("type") == datasource_type and not a.get("builtIn"))


def fault(name, change):
    def apply():
        d = copy.deepcopy(DASHBOARDS[name])
        change(d)
        return d
    return name, apply


# id: (dashboard, change, what tsc names in its error)
FAULTS = {
    "table footer in options, where 12.4 no longer has it": (
        *fault("opswatch-incidents", lambda d: first(d, "table")["options"].update(footer={"show": True})), "'\"footer\"' does not exist"),
    "unknown stat option": (
        *fault("opswatch-cost", lambda d: first(d, "stat")["options"].update(colourMode="value")), "'\"colourMode\"' does not exist"),
    "bar gauge display mode no Grafana knows": (
        *fault("opswatch-health", lambda d: first(d, "bargauge")["options"].update(displayMode="fancy")), '"fancy"'),
    "required stat option missing": (
        *fault("opswatch-cost", lambda d: first(d, "stat")["options"].pop("reduceOptions")), "'reduceOptions' is missing"),
    "unknown table field option": (
        *fault("opswatch-incidents", lambda d: first(d, "table")["fieldConfig"]["defaults"]["custom"].update(widht=80)),
        "'\"widht\"' does not exist"),
    "unknown field option in an override": (
        *fault("opswatch-incidents", lambda d: first(d, "table")["fieldConfig"]["overrides"][0]["properties"].append(
            {"id": "custom.widht", "value": 80})), "'\"widht\"' does not exist"),
    "the same override property twice": (
        *fault("opswatch-incidents", lambda d: first(d, "table")["fieldConfig"]["overrides"][0]["properties"].append(
            {"id": "custom.width", "value": 80})), "TS1117"),
    "custom field options on a stat panel": (
        *fault("opswatch-cost", lambda d: first(d, "stat")["fieldConfig"]["defaults"].update(custom={"width": 1})), "not assignable to type 'never'"),
    "unknown dashboard key": (
        *fault("opswatch-health", lambda d: d.update(refreshh="1m")), "'\"refreshh\"' does not exist"),
    "misspelt Prometheus annotation option": (
        *fault("opswatch-cost", lambda d: annotation(d, "prometheus").update(titelFormat="{{alertname}}")), "titelFormat"),
    "deploy annotation with tags as a string": (
        *fault("opswatch-cost", lambda d: annotation(d, "grafana")["target"].update(tags="deploy")), "TS2322"),
    "panel link with a dashboard-link key": (
        *fault("opswatch-cost", lambda d: first(d, "stat")["links"][0].update(icon="doc")), "'\"icon\"' does not exist"),
    "panel type without a schema": (
        *fault("opswatch-health", lambda d: first(d, "stat").update(type="singlestat")), "no schema for panel type singlestat"),
}


@pytest.fixture(scope="module")
def tsc_errors(tmp_path_factory):
    """One tsc run over the dashboards as they are and every faulted copy."""
    files = {f"{name}.ts": schema_check.dashboard_ts(name, d) for name, d in DASHBOARDS.items()}
    for i, (case, (name, apply, _)) in enumerate(FAULTS.items()):
        files[f"fault{i}.ts"] = schema_check.dashboard_ts(name, apply())
    workdir = schema_check.SCHEMA_DIR / "generated" / tmp_path_factory.mktemp("tsc").name
    try:
        yield schema_check.run_tsc(files, workdir), list(FAULTS)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.mark.parametrize("name", sorted(DASHBOARDS))
def test_dashboard_type_checks_against_the_pinned_grafana_schema(tsc_errors, name):
    errors, _ = tsc_errors
    assert errors[f"{name}.ts"] == []


@pytest.mark.parametrize("case", list(FAULTS))
def test_schema_check_refuses(tsc_errors, case):
    errors, cases = tsc_errors
    found = errors[f"fault{cases.index(case)}.ts"]
    expected = FAULTS[case][2]
    assert any(expected in e for e in found), f"no error naming {expected!r}: {found}"


def test_schema_package_matches_the_pinned_grafana():
    compose = (dm.REPO / "docker-compose.yml").read_text(encoding="utf-8")
    lock = json.loads((schema_check.SCHEMA_DIR / "package-lock.json").read_text(encoding="utf-8"))
    schema_version = lock["packages"]["node_modules/@grafana/schema"]["version"]
    assert f"grafana/grafana:{schema_version}\n" in compose
    assert schema_version == dm.PINNED_GRAFANA
    installed = json.loads((schema_check.SCHEMA_DIR / "node_modules/@grafana/schema/package.json").read_text())
    assert installed["version"] == schema_version, "node_modules is stale: run npm ci in grafana/schema-check"
