"""Every dashboard query, panel and annotation, run against a real Prometheus and PostgreSQL: each
must be valid and return data. Started by grafana/test/check_dashboards.py (the e2e's entry
point), which passes the servers in the environment:

  OPSWATCH_LIVE_PROMETHEUS     Prometheus base URL (Prometheus cases skip without it)
  OPSWATCH_LIVE_POSTGRES_URL   libpq URL of the app database, as Grafana's role (SQL cases skip without it)
  OPSWATCH_LIVE_ALERTMANAGER   Alertmanager base URL (optional)
  OPSWATCH_LIVE_TIME_FROM      e.g. now-15m: query the Prometheus panels over this range instead of
                               each dashboard's own (for a Prometheus only minutes old)

No Grafana runs here, so the queries are expanded simply, not as Grafana would to the pixel: the
time range is the dashboard's (now-<duration> or now/M in the dashboard's time zone), or the
panel's own timeFrom; range queries use a step of range/250, at least the scrape interval, which
$__interval, $__rate_interval and $__range follow; "All" variables take their allValue; SQL gets
$__timeFilter. A variable or macro it does not know fails the case instead of passing unexpanded."""
import datetime
import json
import os
import re
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
import zoneinfo

import pytest

import dashboards as dm

PROMETHEUS = os.environ.get("OPSWATCH_LIVE_PROMETHEUS", "").rstrip("/")
POSTGRES_URL = os.environ.get("OPSWATCH_LIVE_POSTGRES_URL", "")
ALERTMANAGER = os.environ.get("OPSWATCH_LIVE_ALERTMANAGER", "").rstrip("/")
TIME_FROM = os.environ.get("OPSWATCH_LIVE_TIME_FROM", "")

REPO = dm.Repo()
DASHBOARDS = REPO.dashboards()
SCRAPE_SECONDS = 15  # grafana/provisioning/datasources/opswatch.yml timeInterval
NOW = time.time()
# Series a healthy stack may lack: ALERTS when nothing fires, counters before their first increment.
MAY_BE_ABSENT = {"ALERTS", "ALERTS_FOR_STATE", "opswatch_source_errors_total", "opswatch_rows_rejected_total"}
# SQL annotations run over the incident lookback, whatever the dashboard's range (the same query
# is on every dashboard; the cost dashboard's month may be an hour old).
SQL_ANNOTATION_SECONDS = 24 * 3600

needs_prometheus = pytest.mark.skipif(not PROMETHEUS, reason="no OPSWATCH_LIVE_PROMETHEUS")
needs_postgres = pytest.mark.skipif(not POSTGRES_URL, reason="no OPSWATCH_LIVE_POSTGRES_URL")


def seconds(text):
    match = re.fullmatch(r"(\d+)([smhdw])", text)
    if not match:
        raise ValueError(f"unsupported duration {text!r}")
    return int(match.group(1)) * {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}[match.group(2)]


def time_range(dashboard, panel, prometheus=True):
    """(start, end) in epoch seconds."""
    if panel.get("timeFrom"):
        return NOW - seconds(panel["timeFrom"]), NOW
    start = TIME_FROM if prometheus and TIME_FROM else (dashboard.get("time") or {}).get("from", "now-6h")
    if start == "now/M":
        zone = (dashboard.get("timezone") or "utc")
        zone = zoneinfo.ZoneInfo("UTC" if zone.lower() in ("utc", "browser") else zone)
        today = datetime.datetime.fromtimestamp(NOW, zone)
        return today.replace(day=1, hour=0, minute=0, second=0, microsecond=0).timestamp(), NOW
    if start.startswith("now-"):
        return NOW - seconds(start[4:]), NOW
    raise ValueError(f"unsupported time range start {start!r}")


def step_of(start, end):
    return max(SCRAPE_SECONDS, int((end - start) / 250))


def expand(text, dashboard, start, end, kind):
    step = step_of(start, end)
    builtins = {"__interval": f"{step}s", "__rate_interval": f"{max(step + SCRAPE_SECONDS, 4 * SCRAPE_SECONDS)}s",
                "__range": f"{int(end - start)}s", "__range_s": str(int(end - start))}
    variables = dm.variables(dashboard)

    def replace(match):
        name = match.group(1) or match.group(2)
        if name in builtins:
            return builtins[name]
        variable = variables.get(name)
        if variable and variable.get("type") == "query" and variable.get("allValue"):
            return variable["allValue"] if kind == "prometheus" else f"'{variable['allValue']}'"
        if variable and variable.get("type") in ("textbox", "constant"):
            return dm.variable_default(variable)[0]
        raise AssertionError(f"${name}: a variable this test does not expand")

    text = re.sub(r"\$\{([A-Za-z0-9_]+)(?::[A-Za-z]+)?\}|\$(?!__timeFilter)([A-Za-z_][A-Za-z0-9_]*)", replace, text)
    if kind == "sql":
        iso = lambda t: datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")  # noqa: E731
        text = re.sub(r"\$__timeFilter\(([^)]+)\)", lambda m: f"{m.group(1).strip()} BETWEEN '{iso(start)}' AND '{iso(end)}'", text)
    assert "$" not in re.sub(r"'[^']*'|\"[^\"]*\"", "", text), f"unexpanded macro or variable in {text!r}"
    return text


def prometheus(path, params):
    data = urllib.parse.urlencode(params).encode()
    try:
        with urllib.request.urlopen(urllib.request.Request(PROMETHEUS + path, data=data), timeout=30) as r:
            return json.load(r)
    except urllib.error.HTTPError as e:
        return json.load(e)


def series(answer, query):
    assert answer.get("status") == "success", f"{answer.get('errorType')}: {answer.get('error')}\n{query}"
    result = answer["data"]["result"]
    if answer["data"]["resultType"] == "matrix":
        result = [r for r in result if r.get("values")]
    return result


def psql(sql):
    done = subprocess.run(["psql", POSTGRES_URL, "-X", "-q", "-A", "-t", "-0", "-v", "ON_ERROR_STOP=1",
                           "-c", "SET default_transaction_read_only = on", "-c", sql],
                          capture_output=True, text=True, timeout=60, env=dict(os.environ, PGCONNECT_TIMEOUT="10"))
    assert done.returncode == 0, f"{done.stderr.strip()}\n{sql}"
    return [r for r in done.stdout.split("\0") if r.strip()]


def cases(kind):
    for name, d in DASHBOARDS.items():
        for where, k, target in dm.queries(d):
            if k != kind:
                continue
            is_panel = "gridPos" in where
            label = dm.panel_label(name, where) if is_panel else f"{name} annotation {where.get('name')}"
            yield pytest.param(d, where if is_panel else {}, target, is_panel, id=f"{label} {target.get('refId', '')}")


@needs_prometheus
@pytest.mark.parametrize("dashboard, panel, target, is_panel", cases("prometheus"))
def test_promql_returns_series(dashboard, panel, target, is_panel):
    start, end = time_range(dashboard, panel)
    expr = expand(target["expr"], dashboard, start, end, "prometheus")
    if is_panel and target.get("instant"):
        assert series(prometheus("/api/v1/query", {"query": expr, "time": end}), expr), f"no series: {expr}"
    if not is_panel or target.get("range"):
        answer = prometheus("/api/v1/query_range", {"query": expr, "start": start, "end": end, "step": step_of(start, end)})
        assert series(answer, expr), f"no series between {start:.0f} and {end:.0f}: {expr}"


@needs_postgres
@pytest.mark.parametrize("dashboard, panel, target, is_panel", cases("sql"))
def test_sql_returns_rows_as_grafanas_role(dashboard, panel, target, is_panel):
    start, end = time_range(dashboard, panel, prometheus=False) if is_panel else (NOW - SQL_ANNOTATION_SECONDS, NOW)
    sql = expand(target["rawSql"], dashboard, start, end, "sql")
    assert psql(sql), f"no rows: {' '.join(sql.split())}"


@needs_prometheus
@pytest.mark.parametrize("name, variable", [pytest.param(n, v, id=f"{n} ${v['name']}") for n, d in DASHBOARDS.items()
                                            for v in dm.variables(d).values() if v.get("type") == "query"])
def test_variable_has_values(name, variable):
    metric = dm.label_values_metric(variable)
    label = re.search(r",\s*([A-Za-z_]\w*)\s*\)", variable["query"]["query"]).group(1)
    with urllib.request.urlopen(f"{PROMETHEUS}/api/v1/label/{label}/values?" + urllib.parse.urlencode(
            {"match[]": metric, "start": NOW - 3600, "end": NOW}), timeout=30) as r:
        assert json.load(r)["data"], f"label_values({metric}, {label}) is empty"


@needs_prometheus
def test_every_metric_name_has_series_of_its_own():
    """'... or vector(0)' passes even when its family is missing: so every name needs series."""
    names = set()
    for d in DASHBOARDS.values():
        for _, kind, target in dm.queries(d):
            if kind == "prometheus":
                names |= dm.promql_metric_names(target["expr"])
    missing = []
    for name in sorted(names - MAY_BE_ABSENT):
        answer = prometheus("/api/v1/query", {"query": f"count({{__name__={json.dumps(name)}}})", "time": NOW})
        if not series(answer, name):
            missing.append(name)
    assert missing == []


@needs_prometheus
@pytest.mark.parametrize("name, panel", [pytest.param(n, p, id=dm.panel_label(n, p)) for n, d in DASHBOARDS.items()
                                         for p in dm.iter_panels(d)
                                         if any(t["id"] == "rowsToFields" for t in p.get("transformations") or [])])
def test_every_row_has_ascending_thresholds(name, panel):
    """Grafana needs each row's threshold steps in ascending order."""
    dashboard = DASHBOARDS[name]
    mappings = next(t for t in panel["transformations"] if t["id"] == "rowsToFields")["options"]["mappings"]
    name_label = next(m["fieldName"] for m in mappings if m["handlerKey"] == "field.name")
    value_ref = next(m["fieldName"].split("#")[1] for m in mappings if m["handlerKey"] == "field.value")
    steps_refs = [m["fieldName"].split("#")[1] for m in mappings if m["handlerKey"] == "threshold1"]
    start, end = time_range(dashboard, panel)

    def by_row(ref):
        target = next(t for t in panel["targets"] if t["refId"] == ref)
        expr = expand(target["expr"], dashboard, start, end, "prometheus")
        return {r["metric"].get(name_label): float(r["value"][1]) for r in series(prometheus("/api/v1/query", {"query": expr, "time": end}), expr)}

    rows = by_row(value_ref)
    assert rows
    thresholds = {ref: by_row(ref) for ref in steps_refs}
    for row in rows:
        steps = [thresholds[ref].get(row) for ref in steps_refs]
        assert None not in steps, f"{row}: a threshold is missing: {steps}"
        assert steps == sorted(steps), f"{row}: thresholds {steps} are not ascending"


@needs_prometheus
def test_cost_dashboard_time_zone_is_the_billing_time_zone():
    answer = prometheus("/api/v1/query", {"query": "opswatch_billing_info", "time": NOW})
    found = series(answer, "opswatch_billing_info")
    if not found:
        pytest.skip("opswatch_billing_info is not exported yet (agreed in the cross-team contract)")
    zone = found[0]["metric"]["time_zone"]
    dashboard_zone = DASHBOARDS["opswatch-cost"].get("timezone") or "browser"
    same = dashboard_zone == zone or (dashboard_zone.lower() == "utc" and zone in ("UTC", "Etc/UTC", "Z", "GMT"))
    assert same, (f"the exporter bills in {zone}, the cost dashboard shows {dashboard_zone}: "
                  f"run grafana/export-dashboards.py --billing-time-zone {zone}")


@needs_prometheus
def test_alert_list_reads_the_rules_api():
    with urllib.request.urlopen(PROMETHEUS + "/api/v1/rules", timeout=30) as r:
        assert json.load(r)["status"] == "success"


@pytest.mark.skipif(not ALERTMANAGER, reason="no OPSWATCH_LIVE_ALERTMANAGER")
def test_alert_groups_panel_reads_alertmanager():
    with urllib.request.urlopen(ALERTMANAGER + "/api/v2/alerts/groups", timeout=30) as r:
        assert r.status == 200
