"""The project's own dashboard checks, beyond what Grafana's schema checks (test_schema.py): each
returns the problems it finds, an empty list when there are none. test_dashboards.py runs them on
the repository, test_checks.py on broken copies."""
import collections
import re
import urllib.parse

import dashboards as dm

GRID_WIDTH = 24

# Columns that hold free text or personal data, in either incident table: never selected.
FORBIDDEN_SQL_COLUMNS = ("contentSnippet", "resolution", "metadata", "userId", "conversationId", "sessionId",
                         "resolvedBy", "locale", "eventId")

UNIT_CLASSES = {"currencyEUR": "EUR", "percentunit": "ratio", "s": "seconds", "dtdurations": "seconds"}
FORBIDDEN_UNITS = {"percent": "a 0-1 ratio needs percentunit", "currencyUSD": "spend is in EUR"}

SECRET_REFERENCE = re.compile(r"^(\$\{[A-Za-z_][A-Za-z0-9_]*\}|\$[A-Za-z_][A-Za-z0-9_]*|\$__(env|file)\{[^}]+\})$")

# The annotations every dashboard carries (issue #17 item 3; the cross-team agreement).
FIRING_ALERTS = 'ALERTS{alertstate="firing", service="opswatch"}'
DEPLOY_TAG = "deploy"

# The billing time zone the exporter defaults to (exporter reference.conf, opswatch.billing.time-zone),
# as Grafana names it. The live test compares the cost dashboard with opswatch_billing_info.
DEFAULT_BILLING_TIME_ZONE = "utc"


def provisioning(repo):
    problems = []
    datasources = repo.datasources()
    if not datasources:
        problems.append("no datasource in grafana/provisioning/datasources/")
    counts = collections.Counter(d.get("uid") for d in datasources)
    problems += [f"datasource uid {u!r} provisioned {n} times" for u, n in counts.items() if n > 1]
    for ds in datasources:
        where = f"{ds['_file']} {ds.get('name')!r}"
        problems += [f"{where}: no {key}" for key in ("name", "uid", "type") if not ds.get(key)]
        for key, value in (ds.get("secureJsonData") or {}).items():
            if not SECRET_REFERENCE.match(str(value)):
                problems.append(f"{where}: secureJsonData.{key} is a literal, not an environment or file reference")
        if ds.get("password") or ds.get("basicAuthPassword"):
            problems.append(f"{where}: a password outside secureJsonData")
    if not any(p.get("type") == "file" and p.get("folder") == "opswatch" for p in repo.providers()):
        problems.append("no file provider into the folder 'opswatch' in grafana/provisioning/dashboards/")
    return problems


def unique_uids_and_titles(all_dashboards, expected_uids):
    problems = []
    for key in ("uid", "title"):
        counts = collections.Counter(d.get(key) for d in all_dashboards.values())
        problems += [f"{key} {value!r} used {n} times" for value, n in counts.items() if n > 1]
        problems += [f"a dashboard has no {key}" for value in counts if not value]
    uids = {d.get("uid") for d in all_dashboards.values()}
    problems += [f"uid {u} has no dashboard" for u in sorted(set(expected_uids) - uids)]
    return problems


def schema_version(dashboard):
    version = dashboard.get("schemaVersion")
    if not isinstance(version, int) or not dm.SCHEMA_VERSION_MIN <= version <= dm.SCHEMA_VERSION_LATEST:
        return [f"schemaVersion {version!r} is outside {dm.SCHEMA_VERSION_MIN}..{dm.SCHEMA_VERSION_LATEST}, "
                f"what Grafana {dm.PINNED_GRAFANA} reads"]
    return []


def layout(dashboard):
    """Unique panel ids, and panels inside the 24-column grid without overlapping."""
    problems = []
    counts = collections.Counter(p.get("id") for p in dm.iter_panels(dashboard))
    problems += [f"panel id {i!r} used {n} times" for i, n in counts.items() if n > 1 or i is None]
    groups = [dashboard.get("panels") or []] + [p["panels"] for p in dashboard.get("panels") or [] if p.get("panels")]
    for group in groups:
        boxes = []
        for panel in group:
            g, label = panel.get("gridPos") or {}, f"#{panel.get('id')} {panel.get('title', '')!r}"
            if g.get("x", 0) + g.get("w", 0) > GRID_WIDTH:
                problems.append(f"{label}: gridPos {g} is outside the {GRID_WIDTH}-column grid")
            for other_label, o in boxes:
                if g["x"] < o["x"] + o["w"] and o["x"] < g["x"] + g["w"] and g["y"] < o["y"] + o["h"] and o["y"] < g["y"] + g["h"]:
                    problems.append(f"{label} overlaps {other_label}")
            boxes.append((label, g))
    return problems


def resolve_datasource(dashboard, datasources, reference):
    """The provisioned datasource a {type, uid} reference reaches (through a datasource variable's
    default), or a problem."""
    if not isinstance(reference, dict):
        return None, f"datasource {reference!r} is not a {{type, uid}} reference"
    uid, kind = reference.get("uid"), reference.get("type")
    if uid in dm.BUILTIN_DATASOURCE_UIDS:
        return None, None
    name = dm.variable_reference(uid)
    if not name:
        return None, f"datasource uid {uid!r} is written out, not a variable: another Grafana has other uids"
    variable = dm.variables(dashboard).get(name)
    if not variable or variable.get("type") != "datasource":
        return None, f"{uid} is not a datasource variable of this dashboard"
    if variable.get("query") != kind:
        return None, f"{uid} lists {variable.get('query')!r} datasources, the reference says {kind!r}"
    values = dm.variable_default(variable)
    ds = next((d for d in datasources if values and d.get("uid") == values[0]), None)
    if not ds or ds.get("type") != kind:
        return None, f"{uid} defaults to {values}, not a provisioned {kind} datasource uid"
    return ds, None


def datasource_references(dashboard, datasources):
    """Every panel, target, variable and annotation names its datasource through a datasource
    variable (or Grafana's built-in one), never by uid or name; alert panels name none."""
    problems = []
    for variable in dm.variables(dashboard).values():
        if variable.get("type") == "query":
            _, problem = resolve_datasource(dashboard, datasources, variable.get("datasource"))
            if problem:
                problems.append(f"variable {variable.get('name')}: {problem}")
    for panel in dm.iter_panels(dashboard):
        label = f"#{panel.get('id')} {panel.get('title')!r}"
        if panel.get("type") == "alertlist" and (panel.get("options") or {}).get("datasource"):
            problems.append(f"{label}: the alert list names the datasource {panel['options']['datasource']!r}; "
                            "leave it empty and filter on service=\"opswatch\"")
        if panel.get("type") == "alertGroups":
            name = (panel.get("options") or {}).get("alertmanager")
            if not any(d.get("name") == name and d.get("type") == "alertmanager" for d in datasources):
                problems.append(f"{label}: {name!r} is not a provisioned Alertmanager datasource name")
        if panel.get("type") in dm.TARGETLESS_PANEL_TYPES:
            continue
        refs = [("panel", panel.get("datasource"))] + [(f"target {t.get('refId')}", t.get("datasource"))
                                                       for t in panel.get("targets") or []]
        for where, reference in refs:
            _, problem = resolve_datasource(dashboard, datasources, reference)
            if problem:
                problems.append(f"{label} {where}: {problem}")
    for annotation in (dashboard.get("annotations") or {}).get("list") or []:
        _, problem = resolve_datasource(dashboard, datasources, annotation.get("datasource"))
        if problem:
            problems.append(f"annotation {annotation.get('name')!r}: {problem}")
    return problems


def targets(panel):
    """Targets with unique refIds and a query; Prometheus ones instant or range."""
    if panel.get("type") in dm.TARGETLESS_PANEL_TYPES:
        return []
    found = panel.get("targets") or []
    problems = [] if found else [f"a {panel.get('type')} panel without targets"]
    refs = collections.Counter(t.get("refId") for t in found)
    problems += [f"refId {r!r} used {n} times" for r, n in refs.items() if n > 1 or not r]
    for t in found:
        kind = (t.get("datasource") or {}).get("type")
        if kind == "prometheus" and not (t.get("expr") or "").strip():
            problems.append(f"{t.get('refId')}: empty PromQL")
        if kind == "prometheus" and not (t.get("instant") or t.get("range")):
            problems.append(f"{t.get('refId')}: neither instant nor range")
        if kind == "grafana-postgresql-datasource" and not (t.get("rawSql") or "").strip():
            problems.append(f"{t.get('refId')}: empty SQL")
    return problems


def metric_names(dashboard, known):
    """(problems, names used) of the PromQL in variables, panels and annotations."""
    problems, used = [], set()
    for variable in dm.variables(dashboard).values():
        metric = dm.label_values_metric(variable) if variable.get("type") == "query" else None
        if metric:
            used.add(metric)
    for _, kind, target in dm.queries(dashboard):
        if kind == "prometheus":
            used |= dm.promql_metric_names(target.get("expr") or "")
    for name in sorted(used):
        if name not in known:
            problems.append(f"{name} is neither in docs/metrics.md nor a recording rule")
    return problems, used


def sql(target, panel_type=None):
    """Bounded, read-only SQL that selects no free text or personal data."""
    text = target.get("rawSql") or ""
    bare = re.sub(r"--[^\n]*", "", text)
    problems = []
    for column in FORBIDDEN_SQL_COLUMNS:
        if re.search(rf'"{column}"|\b{column}\b', bare, re.IGNORECASE):
            problems.append(f"selects {column} (free text or personal data)")
    if re.search(r"select\s+(\w+\.)?\*\s+from\s+\"", bare, re.IGNORECASE):
        problems.append("SELECT * from a table would include free-text columns")
    if not re.search(r"\blimit\s+\d+", bare, re.IGNORECASE):
        problems.append("no LIMIT")
    if not re.search(r"\$__timeFilter\(", bare):
        problems.append("not bounded by the time range ($__timeFilter)")
    if re.search(r"\b(insert|update|delete|drop|alter|create|grant|truncate|copy)\b", bare, re.IGNORECASE):
        problems.append("SQL that writes")
    if target.get("format") != "table":
        problems.append("format is not 'table'")
    return problems


def units(panel):
    """EUR currency for spend, percentunit for ratios, seconds for durations."""
    config = panel.get("fieldConfig") or {}
    found = [(config.get("defaults") or {}).get("unit")]
    for override in config.get("overrides") or []:
        found += [p.get("value") for p in override.get("properties") or [] if p.get("id") == "unit"]
    found = {u for u in found if u}
    classes = {UNIT_CLASSES.get(u, "other") for u in found}
    problems = [f"unit {u}: {FORBIDDEN_UNITS[u]}" for u in sorted(found & FORBIDDEN_UNITS.keys())]
    shown = [t for t in panel.get("targets") or [] if t.get("expr")]
    if any(t["id"] == "rowsToFields" for t in panel.get("transformations") or []):
        shown = [t for t in shown if t.get("refId") == "A"]  # the other targets configure thresholds
    for t in shown:
        names = dm.promql_metric_names(t["expr"])
        expected = next((kind for suffix, kind in (("_eur", "EUR"), ("_ratio", "ratio"), ("_seconds", "seconds"))
                         if any(n.endswith(suffix) for n in names)), None)
        if expected and expected not in classes:
            problems.append(f"{t.get('refId')} shows {expected} without a {expected} unit (has {sorted(found) or 'none'})")
    return problems


def rows_to_fields(panel):
    """The per-row thresholds transformation maps exactly the targets' columns."""
    steps = [t for t in panel.get("transformations") or [] if t.get("id") == "rowsToFields"]
    if not steps:
        return []
    mapped = {m.get("fieldName"): m.get("handlerKey") for m in steps[0].get("options", {}).get("mappings") or []}
    refs = {t.get("refId") for t in panel.get("targets") or []}
    problems = [f"the column of target {r} is not mapped" for r in sorted(refs) if f"Value #{r}" not in mapped]
    for field in mapped:
        match = re.fullmatch(r"Value #(\w+)", field or "")
        if match and match.group(1) not in refs:
            problems.append(f"maps {field}, but there is no target {match.group(1)}")
    if list(mapped.values()).count("field.name") != 1 or list(mapped.values()).count("field.value") != 1:
        problems.append("needs exactly one name and one value field")
    if not any(t.get("id") == "merge" for t in panel.get("transformations") or []):
        problems.append("rowsToFields needs the targets merged into one table first")
    if any(t.get("format") != "table" or not t.get("instant") for t in panel.get("targets") or []):
        problems.append("rowsToFields needs instant queries in table format")
    return problems


def _links(dashboard):
    for link in dashboard.get("links") or []:
        yield "dashboard link", link, link.get("url") or ""
    for panel in dm.iter_panels(dashboard):
        label = f"#{panel.get('id')} {panel.get('title')!r}"
        for link in panel.get("links") or []:
            yield f"{label} link", link, link.get("url") or ""
        for link in ((panel.get("fieldConfig") or {}).get("defaults") or {}).get("links") or []:
            yield f"{label} data link", link, link.get("url") or ""


def links(dashboard, uids, runbooks_dir):
    """Links name existing dashboards, variables and runbook pages; drill-down links keep the time
    range and the variables; the link bar carries both to the other opswatch dashboards."""
    problems = []
    variables = dm.variables(dashboard)
    bar = [l for l in dashboard.get("links") or [] if l.get("type") == "dashboards" and "opswatch" in (l.get("tags") or [])]
    if not bar:
        problems.append("no dashboard link to the other opswatch dashboards (tag 'opswatch')")
    problems += ["the link bar does not keep the time range and the variables" for l in bar
                 if not (l.get("keepTime") and l.get("includeVars"))]
    if "opswatch" not in (dashboard.get("tags") or []):
        problems.append("not tagged 'opswatch', so the other dashboards do not link to it")
    runbooks_ready = (runbooks_dir / "README.md").is_file()
    for where, link, url in _links(dashboard):
        for uid in re.findall(r"/d/([A-Za-z0-9_-]+)", url):
            if uid not in uids:
                problems.append(f"{where}: /d/{uid} is not a dashboard uid")
        if "/d/" in url and "${__url_time_range}" not in url:
            problems.append(f"{where}: {url} drops the time range (${{__url_time_range}})")
        if "/d/" in url and "${__all_variables}" not in url:
            missing = [v for v in variables if v != "provider" and f"${{{v}:queryparam}}" not in url]
            if missing:
                problems.append(f"{where}: {url} drops the variables {missing}")
        for name in re.findall(r"\$\{?([A-Za-z0-9_]+)", url):
            if not name.startswith("__") and name not in variables:
                problems.append(f"{where}: ${name} is not a variable of this dashboard")
        match = re.match(r"^\$\{runbooks\}/([^#?]+)(?:#(.+))?$", url)
        if match and runbooks_ready:
            page = runbooks_dir / match.group(1)
            if not page.is_file():
                problems.append(f"{where}: runbooks/{match.group(1)} does not exist")
            elif match.group(2) and match.group(2) not in dm.markdown_anchors(page):
                problems.append(f"{where}: runbooks/{match.group(1)} has no anchor #{match.group(2)}")
    return problems


def annotations(dashboard):
    """Firing alerts from Prometheus, deploys and rollbacks from Grafana's own annotations tagged
    'deploy', and S3 incidents from PostgreSQL, all enabled."""
    found = (dashboard.get("annotations") or {}).get("list") or []
    problems = []
    prometheus = [a for a in found if (a.get("datasource") or {}).get("type") == "prometheus"]
    if not any(re.sub(r"\s", "", (a.get("target") or {}).get("expr", "")) == re.sub(r"\s", "", FIRING_ALERTS)
               for a in prometheus):
        problems.append(f"no Prometheus annotation with {FIRING_ALERTS}")
    deploys = [a for a in found if (a.get("datasource") or {}).get("uid") in dm.BUILTIN_DATASOURCE_UIDS
               and (a.get("target") or {}).get("type") == "tags"]
    if not any((a.get("target") or {}).get("tags") == [DEPLOY_TAG] for a in deploys):
        problems.append(f"no built-in annotation filtered on the tag {DEPLOY_TAG!r}")
    postgres = [a for a in found if (a.get("datasource") or {}).get("type") == "grafana-postgresql-datasource"]
    if not any("'critical'" in (a.get("target") or {}).get("rawSql", "") for a in postgres):
        problems.append("no PostgreSQL annotation of S3 (critical) incidents")
    problems += [f"annotation {a.get('name')!r} is disabled" for a in found if not a.get("builtIn") and not a.get("enable")]
    return problems


def month_time_range(dashboard):
    """The cost dashboard opens on this month, in the billing time zone."""
    problems = []
    if dashboard.get("time") != {"from": "now/M", "to": "now"}:
        problems.append(f"opens on {dashboard.get('time')}, not this month (now/M to now)")
    if (dashboard.get("timezone") or "browser").lower() != DEFAULT_BILLING_TIME_ZONE:
        problems.append(f"time zone {dashboard.get('timezone')!r} is not the billing time zone "
                        f"{DEFAULT_BILLING_TIME_ZONE!r} (see grafana/README.md to change both)")
    return problems


# A dashboard link in a rule: /d/<uid>, then an optional query whose values may be Prometheus templates
# ({{ $labels.provider }}, spaces included).
RULE_DASHBOARD_LINK = re.compile(r"/d/([A-Za-z0-9_-]+)(\?(?:\{\{.*?\}\}|[^\s'\"{])*)?")
LABEL_TEMPLATE = re.compile(r"^\{\{\s*\$labels\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}$")


def rule_dashboard_urls(repo, uids):
    """The alert rules' dashboard_url annotations name existing dashboards, and every var-NAME they pass
    is a variable of that dashboard: `$__all` (Grafana's All) only where the variable includes All, and
    `{{ $labels.L }}` only for a variable that lists the values of label L (label_values(metric, L))."""
    by_uid = {d.get("uid"): d for d in repo.dashboards().values()}
    problems = []
    for path in sorted(repo.rules_dir.glob("*.y*ml")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            where = f"{path.relative_to(repo.root)}:{number}"
            for uid, query in RULE_DASHBOARD_LINK.findall(line):
                if uid not in uids:
                    problems.append(f"{where}: /d/{uid} is not a dashboard uid")
                    continue
                variables = dm.variables(by_uid.get(uid) or {})
                for key, value in urllib.parse.parse_qsl(query.lstrip("?"), keep_blank_values=True):
                    name = key[len("var-"):] if key.startswith("var-") else None
                    if name is None:
                        continue
                    variable = variables.get(name)
                    if variable is None:
                        problems.append(f"{where}: {key} is not a variable of /d/{uid}")
                    elif value == "$__all" and not variable.get("includeAll"):
                        problems.append(f"{where}: {key}=$__all but ${name} of /d/{uid} has no All value")
                    elif LABEL_TEMPLATE.match(value):
                        label = LABEL_TEMPLATE.match(value).group(1)
                        if dm.label_values_label(variable) != label:
                            problems.append(f"{where}: {key} gets the label {label!r}, but ${name} of /d/{uid} "
                                            f"does not list that label's values")
    return problems
