"""The shareable exports (grafana/export/, written by grafana/export-dashboards.py) are up to date
and portable: every datasource comes from __inputs, nothing names a provisioned uid."""
import importlib.util
import json

import pytest

import dashboards as dm

REPO = dm.Repo()
spec = importlib.util.spec_from_file_location("export_dashboards", REPO.root / "grafana/export-dashboards.py")
exporter = importlib.util.module_from_spec(spec)
spec.loader.exec_module(exporter)
DASHBOARDS = REPO.dashboards()
PROVISIONED_UIDS = {d["uid"] for d in REPO.datasources()}


@pytest.mark.parametrize("name", sorted(DASHBOARDS))
def test_export_is_what_the_script_writes(name):
    path = REPO.export_dir / f"{name}.json"
    assert path.exists(), f"{path} is missing: run grafana/export-dashboards.py"
    assert path.read_text(encoding="utf-8") == exporter.text(exporter.export(DASHBOARDS[name])), \
        f"{path} is out of date: run grafana/export-dashboards.py"


@pytest.mark.parametrize("name", sorted(DASHBOARDS))
def test_export_asks_for_every_datasource_and_names_no_provisioned_uid(name):
    exported = json.loads((REPO.export_dir / f"{name}.json").read_text(encoding="utf-8"))
    inputs = {i["name"] for i in exported["__inputs"]}
    for variable in dm.variables(exported).values():
        if variable["type"] == "datasource":
            reference = dm.variable_reference(variable["current"]["value"])
            assert reference in inputs, f"${variable['name']} defaults to {variable['current']}, not an input"
    text = json.dumps({k: v for k, v in exported.items() if k != "__inputs"})
    assert not [u for u in PROVISIONED_UIDS if f'"{u}"' in text]
    assert {"type": "grafana", "id": "grafana", "name": "Grafana", "version": dm.PINNED_GRAFANA} in exported["__requires"]
    panel_types = {p["type"] for p in dm.iter_panels(exported) if p["type"] != "row"}
    assert panel_types == {r["id"] for r in exported["__requires"] if r["type"] == "panel"}


def test_check_mode_reports_drift(tmp_path, monkeypatch):
    (tmp_path / "dashboards").mkdir()
    (tmp_path / "export").mkdir()
    (tmp_path / "dashboards/opswatch-health.json").write_text(json.dumps(DASHBOARDS["opswatch-health"]))
    (tmp_path / "export/opswatch-health.json").write_text("{}\n")
    monkeypatch.setattr(exporter, "ROOT", tmp_path)
    assert exporter.main(["--check"]) == 1
    assert exporter.main([]) == 0
    assert exporter.main(["--check"]) == 0


def test_billing_time_zone_option_refuses_an_unknown_zone(tmp_path, monkeypatch):
    monkeypatch.setattr(exporter, "ROOT", tmp_path)
    assert exporter.main(["--billing-time-zone", "Mars/Olympus"]) == 2
