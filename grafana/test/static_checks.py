"""Checks that need no running Prometheus, PostgreSQL or Grafana."""

import collections
import glob
import os
import re

import dashmodel as dm

# The Grafana this kit pins (grafana/README.md). Its dashboard migrator reads
# schema versions from MIN up to LATEST; a dashboard saved by a newer Grafana
# (for example 13.x, schemaVersion 43 or the v2 resource format) would not load.
PINNED_GRAFANA = "12.4.3"
SCHEMA_VERSION_MIN = 13
SCHEMA_VERSION_LATEST = 42

GRID_WIDTH = 24

# SafetyEvent columns that hold free text or personal data: never selected.
FORBIDDEN_SQL_COLUMNS = ("contentSnippet", "resolution", "metadata", "userId", "conversationId",
                         "sessionId", "resolvedBy", "locale")

UNIT_CLASSES = {
    "currencyEUR": "EUR", "percentunit": "ratio", "s": "seconds", "dtdurations": "seconds",
}
FORBIDDEN_UNITS = {"percent": "a 0-1 ratio needs percentunit", "currencyUSD": "spend is in EUR"}

SECRET_REFERENCE = re.compile(r"^(\$\{[A-Za-z_][A-Za-z0-9_]*\}|\$[A-Za-z_][A-Za-z0-9_]*|\$__(env|file)\{[^}]+\})$")


class Context:
    def __init__(self, repo):
        self.repo = repo
        self.dashboards = dm.load_dashboards(repo)
        self.datasources = dm.provisioned_datasources(repo)
        self.contract = dm.metric_contract(repo)
        self.recorded = dm.recording_rules(repo)
        self.by_uid = {d["uid"]: d for _, d, _ in self.dashboards if d and d.get("uid")}

    def datasource(self, uid):
        return next((d for d in self.datasources if d.get("uid") == uid), None)

    def datasource_named(self, name, kind):
        return next((d for d in self.datasources if d.get("name") == name and d.get("type") == kind), None)


def run(repo, report):
    ctx = Context(repo)
    check_provisioning(ctx, report)
    for path, dashboard, error in ctx.dashboards:
        if error:
            report.fail(f"parse {repo.rel(path)}: {error}")
        else:
            report.ok(f"parse {repo.rel(path)}")
    valid = [d for _, d, _ in ctx.dashboards if d]
    report.check([] if valid else ["no dashboards in grafana/dashboards/"], "at least one dashboard")
    check_unique(valid, report)
    expected = dm.architecture_dashboard_uids(repo)
    report.check([f"uid {u} (docs/architecture.md) has no dashboard" for u in sorted(expected - ctx.by_uid.keys())],
                 "every dashboard uid of docs/architecture.md exists")
    for dashboard in valid:
        for check in (check_schema_version, check_panel_ids, check_layout, check_datasources,
                      check_targets, check_metric_names, check_sql, check_units,
                      check_rows_to_fields, check_links, check_alert_panels):
            check(ctx, dashboard, report)
    check_rule_dashboard_urls(ctx, report)
    return ctx


def check_provisioning(ctx, report):
    repo = ctx.repo
    problems = []
    documents = dm.load_yaml_files(repo.datasources_dir)
    if not documents:
        problems.append("no datasource file in grafana/provisioning/datasources/")
    for path, _, error in documents:
        if error:
            problems.append(error)
    seen = collections.Counter(d.get("uid") for d in ctx.datasources)
    problems += [f"datasource uid {u!r} provisioned {n} times" for u, n in seen.items() if n > 1]
    for ds in ctx.datasources:
        where = f"{repo.rel(ds['_file'])} {ds.get('name')!r}"
        for key in ("name", "uid", "type"):
            if not ds.get(key):
                problems.append(f"{where}: no {key}")
        for key, value in (ds.get("secureJsonData") or {}).items():
            if not SECRET_REFERENCE.match(str(value)):
                problems.append(f"{where}: secureJsonData.{key} is a literal, not an environment or file reference")
        if ds.get("password") or ds.get("basicAuthPassword"):
            problems.append(f"{where}: password outside secureJsonData")
    report.check(problems, "datasource provisioning: unique uids, secrets only from the environment")

    problems = []
    providers = [p for _, doc, _ in dm.load_yaml_files(repo.providers_dir) for p in (doc or {}).get("providers") or []]
    if not any(p.get("type") == "file" and p.get("folder") == "opswatch" for p in providers):
        problems.append("no file provider into the folder 'opswatch' in grafana/provisioning/dashboards/")
    report.check(problems, "dashboard provisioning: a file provider into the opswatch folder")


def check_unique(dashboards, report):
    for key in ("uid", "title"):
        counts = collections.Counter(d.get(key) for d in dashboards)
        problems = [f"{key} {value!r} used {n} times" for value, n in counts.items() if n > 1]
        problems += [f"a dashboard has no {key}" for value in counts if not value]
        if key == "uid":
            problems += [f"uid {u!r} is not 1-40 characters of [A-Za-z0-9_-]" for u in counts
                         if u and not re.fullmatch(r"[A-Za-z0-9_-]{1,40}", u)]
        report.check(problems, f"dashboard {key}s are unique")


def check_schema_version(ctx, dashboard, report):
    version = dashboard.get("schemaVersion")
    problems = []
    if not isinstance(version, int) or not SCHEMA_VERSION_MIN <= version <= SCHEMA_VERSION_LATEST:
        problems.append(f"schemaVersion {version!r} is outside {SCHEMA_VERSION_MIN}..{SCHEMA_VERSION_LATEST}")
    report.check(problems, f"{dashboard['uid']}: schemaVersion {version} readable by the pinned "
                           f"Grafana {PINNED_GRAFANA} ({SCHEMA_VERSION_MIN}..{SCHEMA_VERSION_LATEST})")


def check_panel_ids(ctx, dashboard, report):
    counts = collections.Counter(p.get("id") for p, _ in dm.iter_panels(dashboard))
    problems = [f"panel id {i!r} used {n} times" for i, n in counts.items() if n > 1 or i is None]
    report.check(problems, f"{dashboard['uid']}: panel ids are unique")


def check_layout(ctx, dashboard, report):
    problems = []
    groups = [[p for p in dashboard.get("panels") or []]]
    groups += [p.get("panels") for p in dashboard.get("panels") or [] if p.get("panels")]
    for group in groups:
        boxes = []
        for panel in group:
            grid = panel.get("gridPos") or {}
            label = f"#{panel.get('id')} {panel.get('title', '')!r}"
            if not all(isinstance(grid.get(k), int) for k in ("x", "y", "w", "h")):
                problems.append(f"{label}: gridPos needs integer x, y, w, h")
                continue
            if grid["w"] <= 0 or grid["h"] <= 0 or grid["x"] < 0 or grid["y"] < 0 or grid["x"] + grid["w"] > GRID_WIDTH:
                problems.append(f"{label}: gridPos {grid} is outside the {GRID_WIDTH}-column grid")
            for other_label, other in boxes:
                if (grid["x"] < other["x"] + other["w"] and other["x"] < grid["x"] + grid["w"]
                        and grid["y"] < other["y"] + other["h"] and other["y"] < grid["y"] + grid["h"]):
                    problems.append(f"{label} overlaps {other_label}")
            boxes.append((label, grid))
    report.check(problems, f"{dashboard['uid']}: panels stay in the grid and do not overlap")


def resolve_datasource(ctx, dashboard, reference):
    """Returns (provisioned datasource or None, problem or None) for a datasource reference."""
    if reference is None:
        return None, "no datasource (Grafana would pick the default one)"
    if isinstance(reference, str):
        return None, f"datasource given by name {reference!r}, not by {{type, uid}}"
    uid, kind = reference.get("uid"), reference.get("type")
    if uid in dm.BUILTIN_DATASOURCE_UIDS:
        return None, None
    name = dm.variable_name_of(uid)
    if name:
        variable = dm.variables(dashboard).get(name)
        if not variable or variable.get("type") != "datasource":
            return None, f"{uid} is not a datasource variable of this dashboard"
        if variable.get("query") != kind:
            return None, f"{uid} lists {variable.get('query')!r} datasources, the reference says {kind!r}"
        values = dm.variable_current_values(variable)
        if len(values) != 1:
            return None, f"{uid} has no single default value"
        uid = values[0]
    ds = ctx.datasource(uid)
    if not ds:
        return None, f"datasource uid {uid!r} is not provisioned"
    if kind and ds.get("type") != kind:
        return None, f"datasource {uid!r} is provisioned as {ds.get('type')!r}, referenced as {kind!r}"
    return ds, None


def check_datasources(ctx, dashboard, report):
    problems = []
    for variable in dm.variables(dashboard).values():
        if variable.get("type") == "query":
            _, problem = resolve_datasource(ctx, dashboard, variable.get("datasource"))
            if problem:
                problems.append(f"variable {variable.get('name')}: {problem}")
        if variable.get("type") == "datasource":
            values = dm.variable_current_values(variable)
            ds = ctx.datasource(values[0]) if values else None
            if not ds or ds.get("type") != variable.get("query"):
                problems.append(f"variable {variable.get('name')}: default {values} is not a provisioned "
                                f"{variable.get('query')} datasource uid")
    for panel, _ in dm.iter_panels(dashboard):
        if panel.get("type") in dm.TARGETLESS_PANEL_TYPES:
            continue
        for where, reference in [("panel", panel.get("datasource"))] + [
                (f"target {t.get('refId')}", t.get("datasource")) for t in panel.get("targets") or []]:
            _, problem = resolve_datasource(ctx, dashboard, reference)
            if problem:
                problems.append(f"#{panel.get('id')} {panel.get('title')!r} {where}: {problem}")
    report.check(problems, f"{dashboard['uid']}: every datasource reference resolves to a provisioned uid")


def check_targets(ctx, dashboard, report):
    problems = []
    for panel, _ in dm.iter_panels(dashboard):
        label = f"#{panel.get('id')} {panel.get('title')!r}"
        if panel.get("type") in dm.TARGETLESS_PANEL_TYPES:
            continue
        targets = panel.get("targets") or []
        if not targets:
            problems.append(f"{label} ({panel.get('type')}) has no targets")
        refs = collections.Counter(t.get("refId") for t in targets)
        problems += [f"{label}: refId {r!r} used {n} times" for r, n in refs.items() if n > 1 or not r]
        for target in targets:
            kind = (target.get("datasource") or {}).get("type")
            if kind == "prometheus" and not (target.get("expr") or "").strip():
                problems.append(f"{label} {target.get('refId')}: empty PromQL")
            if kind == "grafana-postgresql-datasource" and not (target.get("rawSql") or "").strip():
                problems.append(f"{label} {target.get('refId')}: empty SQL")
            if kind == "prometheus" and not (target.get("instant") or target.get("range")):
                problems.append(f"{label} {target.get('refId')}: neither instant nor range")
    report.check(problems, f"{dashboard['uid']}: every panel has targets with unique refIds and a query")


def check_metric_names(ctx, dashboard, report):
    known = ctx.contract | ctx.recorded | dm.PROMETHEUS_BUILTIN_SERIES
    problems = []
    used = set()
    for variable in dm.variables(dashboard).values():
        metric = dm.label_values_metric(dm.variable_query_text(variable))
        if variable.get("type") == "query" and metric:
            used.add(metric)
            if metric not in known:
                problems.append(f"variable {variable.get('name')}: {metric} is not in docs/metrics.md")
    for panel, _ in dm.iter_panels(dashboard):
        for target in panel.get("targets") or []:
            if (target.get("datasource") or {}).get("type") != "prometheus":
                continue
            for name in sorted(dm.promql_metric_names(target.get("expr") or "")):
                used.add(name)
                if name not in known:
                    problems.append(f"#{panel.get('id')} {panel.get('title')!r} {target.get('refId')}: "
                                    f"{name} is neither in docs/metrics.md nor a recording rule")
    report.check(problems, f"{dashboard['uid']}: the {len(used)} metric names used are in the contract")


def check_sql(ctx, dashboard, report):
    problems = []
    count = 0
    for panel, _ in dm.iter_panels(dashboard):
        for target in panel.get("targets") or []:
            sql = target.get("rawSql")
            if not sql:
                continue
            count += 1
            label = f"#{panel.get('id')} {panel.get('title')!r} {target.get('refId')}"
            bare = re.sub(r"--[^\n]*", "", sql)
            for column in FORBIDDEN_SQL_COLUMNS:
                if re.search(rf'"{column}"|\b{column}\b', bare, re.IGNORECASE):
                    problems.append(f"{label}: selects {column} (free text or personal data)")
            if re.search(r"select\s+(\w+\.)?\*", bare, re.IGNORECASE):
                problems.append(f"{label}: SELECT * would include free-text columns")
            if not re.search(r"\blimit\s+\d+", bare, re.IGNORECASE):
                problems.append(f"{label}: no LIMIT")
            if not re.search(r"\$__timeFilter\(|\$__unixEpochFilter\(", bare):
                problems.append(f"{label}: not bounded by the time range ($__timeFilter)")
            if target.get("format") != "table" and panel.get("type") == "table":
                problems.append(f"{label}: a table panel wants format 'table'")
            if re.search(r"\b(insert|update|delete|drop|alter|create|grant|truncate)\b", bare, re.IGNORECASE):
                problems.append(f"{label}: SQL that writes")
    report.check(problems, f"{dashboard['uid']}: {count} SQL queries are bounded and read no free text")


def _unit_classes(panel):
    config = panel.get("fieldConfig") or {}
    units = [(config.get("defaults") or {}).get("unit")]
    for override in config.get("overrides") or []:
        units += [p.get("value") for p in override.get("properties") or [] if p.get("id") == "unit"]
    return {u for u in units if u}, {UNIT_CLASSES.get(u, "other") for u in units if u}


def _expected_class(expr):
    names = dm.promql_metric_names(expr)
    for suffix, kind in (("_eur", "EUR"), ("_ratio", "ratio"), ("_seconds", "seconds")):
        if any(n.endswith(suffix) for n in names):
            return kind
    return None


def check_units(ctx, dashboard, report):
    problems = []
    for panel, _ in dm.iter_panels(dashboard):
        units, classes = _unit_classes(panel)
        label = f"#{panel.get('id')} {panel.get('title')!r}"
        for unit in units & FORBIDDEN_UNITS.keys():
            problems.append(f"{label}: unit {unit}: {FORBIDDEN_UNITS[unit]}")
        targets = [t for t in panel.get("targets") or [] if t.get("expr")]
        if any(t["id"] == "rowsToFields" for t in panel.get("transformations") or []):
            targets = [t for t in targets if t.get("refId") == "A"]  # the others configure thresholds
        for target in targets:
            expected = _expected_class(target["expr"])
            if expected and expected not in classes:
                problems.append(f"{label} {target.get('refId')}: shows {expected} without a {expected} unit "
                                f"(has {sorted(units) or 'none'})")
    report.check(problems, f"{dashboard['uid']}: units: EUR currency, percentunit for ratios, seconds")


def check_rows_to_fields(ctx, dashboard, report):
    problems = []
    for panel, _ in dm.iter_panels(dashboard):
        steps = [t for t in panel.get("transformations") or [] if t.get("id") == "rowsToFields"]
        if not steps:
            continue
        label = f"#{panel.get('id')} {panel.get('title')!r}"
        mappings = steps[0].get("options", {}).get("mappings") or []
        mapped = {m.get("fieldName"): m.get("handlerKey") for m in mappings}
        refs = {t.get("refId") for t in panel.get("targets") or []}
        for ref in sorted(refs):
            if f"Value #{ref}" not in mapped:
                problems.append(f"{label}: the column of target {ref} is not mapped")
        for field in mapped:
            match = re.fullmatch(r"Value #(\w+)", field or "")
            if match and match.group(1) not in refs:
                problems.append(f"{label}: maps {field}, but there is no target {match.group(1)}")
        if list(mapped.values()).count("field.name") != 1 or list(mapped.values()).count("field.value") != 1:
            problems.append(f"{label}: needs exactly one name and one value field")
        if not any(t.get("id") == "merge" for t in panel.get("transformations") or []):
            problems.append(f"{label}: rowsToFields needs the targets merged into one table first")
        if any(t.get("format") != "table" or not t.get("instant") for t in panel.get("targets") or []):
            problems.append(f"{label}: rowsToFields needs instant queries in table format")
    report.check(problems, f"{dashboard['uid']}: thresholds-from-data transformations match the targets")


def _links(dashboard):
    for link in dashboard.get("links") or []:
        yield "dashboard link", link.get("url") or ""
    for panel, _ in dm.iter_panels(dashboard):
        for link in panel.get("links") or []:
            yield f"#{panel.get('id')} {panel.get('title')!r} link", link.get("url") or ""


def check_links(ctx, dashboard, report):
    problems = []
    variables = dm.variables(dashboard)
    has_dashboard_links = any(l.get("type") == "dashboards" and "opswatch" in (l.get("tags") or [])
                              for l in dashboard.get("links") or [])
    if not has_dashboard_links:
        problems.append("no dashboard link to the other opswatch dashboards (tag 'opswatch')")
    if "opswatch" not in (dashboard.get("tags") or []):
        problems.append("not tagged 'opswatch', so the other dashboards do not link to it")
    runbooks_ready = os.path.isfile(os.path.join(ctx.repo.runbooks_dir, "README.md"))
    pages = 0
    for where, url in _links(dashboard):
        for uid in re.findall(r"/d/([A-Za-z0-9_-]+)", url):
            if uid not in ctx.by_uid:
                problems.append(f"{where}: /d/{uid} is not a dashboard uid")
        for name in re.findall(r"\$\{?([A-Za-z0-9_]+)", url):
            if not name.startswith("__") and name not in variables:
                problems.append(f"{where}: ${name} is not a variable of this dashboard")
        match = re.match(r"^\$\{runbooks\}/([^#?]+)(?:#(.+))?$", url)
        if match and runbooks_ready:
            pages += 1
            page = os.path.join(ctx.repo.runbooks_dir, match.group(1))
            if not os.path.isfile(page):
                problems.append(f"{where}: runbooks/{match.group(1)} does not exist")
            elif match.group(2) and match.group(2) not in dm.markdown_anchors(page):
                problems.append(f"{where}: runbooks/{match.group(1)} has no anchor #{match.group(2)}")
    message = f"{dashboard['uid']}: links between dashboards and to runbook pages resolve"
    if not runbooks_ready:
        message += " (runbooks/README.md not there yet: runbook pages not checked)"
    report.check(problems, message)


def check_alert_panels(ctx, dashboard, report):
    problems = []
    found = 0
    for panel, _ in dm.iter_panels(dashboard):
        label = f"#{panel.get('id')} {panel.get('title')!r}"
        options = panel.get("options") or {}
        if panel.get("type") == "alertlist":
            found += 1
            if not ctx.datasource_named(options.get("datasource"), "prometheus"):
                problems.append(f"{label}: alert source {options.get('datasource')!r} is not a provisioned "
                                "Prometheus datasource name")
        if panel.get("type") == "alertGroups":
            found += 1
            if not ctx.datasource_named(options.get("alertmanager"), "alertmanager"):
                problems.append(f"{label}: {options.get('alertmanager')!r} is not a provisioned Alertmanager name")
    report.check(problems, f"{dashboard['uid']}: {found} alert panels name provisioned alert sources")


def check_rule_dashboard_urls(ctx, report):
    files = sorted(glob.glob(os.path.join(ctx.repo.rules_dir, "*.y*ml")))
    if not files:
        report.skip("alert rules' dashboard_url uids (no prometheus/rules/ yet)")
        return
    problems, count = [], 0
    for path in files:
        with open(path, encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                for uid in re.findall(r"/d/([A-Za-z0-9_-]+)", line):
                    count += 1
                    if uid not in ctx.by_uid:
                        problems.append(f"{ctx.repo.rel(path)}:{number}: /d/{uid} is not a dashboard uid")
    report.check(problems, f"the {count} dashboard links in prometheus/rules/ name existing dashboard uids")
