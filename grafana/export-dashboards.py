#!/usr/bin/env python3
"""Writes grafana/export/<uid>.json: each dashboard of grafana/dashboards/ as Grafana's "Export for
sharing externally" shapes it, for importing into another Grafana (Dashboards > New > Import) or
publishing on grafana.com. `__inputs` asks the importer for its Prometheus and PostgreSQL
datasources (and, for the alert groups panel, which selects its Alertmanager by name, that name),
and `__requires` lists the Grafana version, datasource plugins and panel types the dashboard needs.

  grafana/export-dashboards.py            regenerate the exports
  grafana/export-dashboards.py --check    exit 1 when an export differs from what it would write
  grafana/export-dashboards.py --billing-time-zone Europe/Rome
                                          set the cost dashboard's time zone (the exporter's
                                          OPSWATCH_BILLING_TIME_ZONE), then regenerate

The dashboards in grafana/dashboards/ stay the source of truth; the exports are generated."""
import argparse
import copy
import json
import pathlib
import sys
import zoneinfo

ROOT = pathlib.Path(__file__).resolve().parent
PINNED_GRAFANA = "12.4.3"

# Datasource variable type -> the __inputs entry that replaces its provisioned default.
DATASOURCE_INPUTS = {
    "prometheus": ("DS_OPSWATCH_PROMETHEUS", "Prometheus", "Prometheus",
                   "The Prometheus that scrapes the opswatch exporter and evaluates its rules."),
    "grafana-postgresql-datasource": ("DS_OPSWATCH_POSTGRESQL", "PostgreSQL", "PostgreSQL",
                                      "The app's PostgreSQL, as the role of exporter/sql/grafana-role.sql."),
}
ALERTMANAGER_INPUT = "VAR_ALERTMANAGER_NAME"
PANEL_NAMES = {"stat": "Stat", "gauge": "Gauge", "bargauge": "Bar gauge", "timeseries": "Time series",
               "table": "Table", "state-timeline": "State timeline", "alertlist": "Alert list",
               "alertGroups": "Alert groups", "text": "Text"}


def iter_panels(dashboard):
    for panel in dashboard.get("panels") or []:
        yield panel
        yield from panel.get("panels") or []


def export(dashboard):
    d = copy.deepcopy(dashboard)
    inputs, requires = [], [{"type": "grafana", "id": "grafana", "name": "Grafana", "version": PINNED_GRAFANA}]
    for variable in d.get("templating", {}).get("list", []):
        if variable.get("type") != "datasource" or variable.get("query") not in DATASOURCE_INPUTS:
            continue
        name, label, plugin_name, description = DATASOURCE_INPUTS[variable["query"]]
        if not any(i["name"] == name for i in inputs):
            inputs.append({"name": name, "label": label, "description": description, "type": "datasource",
                           "pluginId": variable["query"], "pluginName": plugin_name})
            requires.append({"type": "datasource", "id": variable["query"], "name": plugin_name, "version": "1.0.0"})
        variable["current"] = {"selected": False, "text": "${" + name + "}", "value": "${" + name + "}"}
    for panel in iter_panels(d):
        if panel.get("type") == "alertGroups":
            name = panel["options"]["alertmanager"]
            panel["options"]["alertmanager"] = "${" + ALERTMANAGER_INPUT + "}"
            inputs.append({"name": ALERTMANAGER_INPUT, "type": "constant", "label": "Alertmanager datasource name",
                           "value": name, "description": "The alert groups panel selects its Alertmanager by "
                                                         "datasource name: the name of yours."})
    for kind in sorted({p["type"] for p in iter_panels(d) if p.get("type") != "row"}):
        requires.append({"type": "panel", "id": kind, "name": PANEL_NAMES.get(kind, kind), "version": ""})
    d["id"] = None
    return {"__inputs": inputs, "__elements": {}, "__requires": requires, **d}


def text(document):
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only compare; exit 1 on a difference")
    parser.add_argument("--billing-time-zone", metavar="ZONE", help="set the cost dashboard's time zone first")
    args = parser.parse_args(argv)
    if args.billing_time_zone:
        zone = args.billing_time_zone
        if zone.upper() in ("UTC", "ETC/UTC"):
            zone = "utc"
        else:
            try:
                zoneinfo.ZoneInfo(zone)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                print(f"--billing-time-zone {zone}: not an IANA time zone", file=sys.stderr)
                return 2
        path = ROOT / "dashboards/opswatch-cost.json"
        dashboard = json.loads(path.read_text(encoding="utf-8"))
        dashboard["timezone"] = zone
        path.write_text(text(dashboard), encoding="utf-8")
    out = ROOT / "export"
    drift = []
    for path in sorted((ROOT / "dashboards").glob("*.json")):
        wanted = text(export(json.loads(path.read_text(encoding="utf-8"))))
        target = out / path.name
        if not target.exists() or target.read_text(encoding="utf-8") != wanted:
            drift.append(str(target.relative_to(ROOT.parent)))
            if not args.check:
                out.mkdir(exist_ok=True)
                target.write_text(wanted, encoding="utf-8")
    if args.check and drift:
        print("out of date (run grafana/export-dashboards.py): " + ", ".join(drift), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
