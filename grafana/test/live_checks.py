"""Runs every dashboard query against a real Prometheus and PostgreSQL, expanded as
Grafana would expand it: template variables at their defaults ("All" -> allValue),
the time range of the dashboard (or the panel's own), and Grafana's macros."""

import calendar
import json
import math
import os
import re
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request

import dashmodel as dm

PX_PER_GRID_COLUMN = 75  # a 24-column dashboard on a 1800 px wide screen
HTTP_TIMEOUT_SECONDS = 30

# Names a healthy stack may lack: Prometheus's ALERTS when nothing fires, and the
# exporter's counters before their first increment. The panels that use them fall
# back to 0 with `or`; every other name must have series.
MAY_BE_ABSENT = {"ALERTS", "ALERTS_FOR_STATE", "opswatch_source_errors_total", "opswatch_rows_rejected_total"}


# ------------------------------------------------------------------ time and intervals

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "M": None, "y": None}


def parse_relative_time(text, now, round_up=False):
    """Grafana's 'now-24h', 'now/M', 'now-1d/d' (UTC), epoch milliseconds or ISO dates -> epoch seconds."""
    text = str(text).strip()
    if re.fullmatch(r"\d{10,}", text):
        return int(text) / 1000.0
    if not text.startswith("now"):
        return calendar.timegm(time.strptime(text[:19], "%Y-%m-%dT%H:%M:%S"))
    moment = now
    for sign, amount, unit, rounding in re.findall(r"([+-])(\d*)([smhdwMy])|/([smhdwMy])", text[3:]):
        if rounding:
            moment = _round(moment, rounding, round_up)
        else:
            moment = _shift(moment, int(amount or 1) * (1 if sign == "+" else -1), unit)
    return moment


def _shift(moment, amount, unit):
    if unit in ("M", "y"):
        t = time.gmtime(moment)
        months = t.tm_year * 12 + t.tm_mon - 1 + amount * (12 if unit == "y" else 1)
        year, month = divmod(months, 12)
        day = min(t.tm_mday, calendar.monthrange(year, month + 1)[1])
        return calendar.timegm((year, month + 1, day, t.tm_hour, t.tm_min, t.tm_sec)) + moment % 1
    return moment + amount * _UNITS[unit]


def _round(moment, unit, round_up):
    t = time.gmtime(moment)
    if unit == "y":
        start, end = calendar.timegm((t.tm_year, 1, 1, 0, 0, 0)), calendar.timegm((t.tm_year + 1, 1, 1, 0, 0, 0))
    elif unit == "M":
        start = calendar.timegm((t.tm_year, t.tm_mon, 1, 0, 0, 0))
        end = start + calendar.monthrange(t.tm_year, t.tm_mon)[1] * 86400
    elif unit == "w":  # ISO weeks start on Monday
        day = calendar.timegm((t.tm_year, t.tm_mon, t.tm_mday, 0, 0, 0))
        start = day - t.tm_wday * 86400
        end = start + 7 * 86400
    else:
        size = _UNITS[unit]
        start = math.floor(moment / size) * size
        end = start + size
    return end - 0.001 if round_up else start


# Grafana's rangeutil.roundInterval: milliseconds -> a "nice" interval in milliseconds.
_ROUNDING = [
    (15, 10), (35, 20), (75, 50), (150, 100), (350, 200), (750, 500), (1500, 1000), (3500, 2000),
    (7500, 5000), (12500, 10000), (17500, 15000), (25000, 20000), (45000, 30000), (90000, 60000),
    (150000, 120000), (210000, 180000), (270000, 240000), (450000, 300000), (750000, 600000),
    (1050000, 900000), (1500000, 1200000), (2700000, 1800000), (5400000, 3600000), (9000000, 7200000),
    (16200000, 10800000), (32400000, 21600000), (86400000, 43200000), (604800000, 86400000),
    (1814400000, 604800000), (3628800000, 2592000000),
]


def round_interval_ms(interval_ms):
    for limit, value in _ROUNDING:
        if interval_ms < limit:
            return value
    return 31536000000


def parse_duration(text):
    """'15s', '1m30s', '2h' -> seconds."""
    total, rest = 0.0, str(text).strip()
    for amount, unit in re.findall(r"(\d+(?:\.\d+)?)(ms|[smhdwy])", rest):
        total += float(amount) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}[unit]
    if not total and rest:
        raise ValueError(f"not a duration: {text!r}")
    return total


def format_seconds(seconds):
    return f"{int(round(seconds))}s" if seconds >= 1 else f"{int(round(seconds * 1000))}ms"


class QueryWindow:
    """The time range, interval and macros of one panel, as Grafana computes them."""

    def __init__(self, dashboard, panel, now, scrape_seconds, time_from=None):
        time_range = dashboard.get("time") or {"from": "now-6h", "to": "now"}
        if time_from:  # as if the user had picked this range in the time picker
            time_range = {"from": time_from, "to": "now"}
        if panel.get("timeFrom"):
            self.start, self.end = now - parse_duration(panel["timeFrom"]), now
        else:
            self.start = parse_relative_time(time_range.get("from", "now-6h"), now)
            self.end = parse_relative_time(time_range.get("to", "now"), now, round_up=True)
        if panel.get("timeShift"):
            shift = parse_duration(panel["timeShift"])
            self.start, self.end = self.start - shift, self.end - shift
        self.end = min(self.end, now)
        width = (panel.get("gridPos") or {}).get("w", 12) * PX_PER_GRID_COLUMN
        max_points = panel.get("maxDataPoints") or width
        minimum = parse_duration(panel["interval"]) if panel.get("interval") else scrape_seconds
        interval = round_interval_ms((self.end - self.start) * 1000 / max_points) / 1000
        self.interval = max(interval, minimum)
        self.rate_interval = max(self.interval + scrape_seconds, 4 * scrape_seconds)
        self.step = max(self.interval, math.ceil((self.end - self.start) / 11000))

    def macros(self):
        span = self.end - self.start
        return {
            "__rate_interval": format_seconds(self.rate_interval),
            "__interval": format_seconds(self.interval),
            "__interval_ms": str(int(self.interval * 1000)),
            "__range": format_seconds(span), "__range_s": str(int(round(span))),
            "__range_ms": str(int(round(span * 1000))),
            "__from": str(int(self.start * 1000)), "__to": str(int(self.end * 1000)),
        }

    def aligned(self):
        """Grafana aligns range queries to multiples of the step (rounding down)."""
        return math.floor(self.start / self.step) * self.step, math.floor(self.end / self.step) * self.step


# ------------------------------------------------------------------ variables

_REGEX_SPECIAL = re.compile(r"([\\$^*{}\[\]'+?.()|])")


def format_variable(variable, values, kind):
    """Formats a variable's values as the Prometheus or SQL datasource would."""
    if values == ["$__all"]:
        if variable.get("allValue"):
            return variable["allValue"]
        values = variable.get("_resolved") or []
    if kind == "sql":
        return ",".join("'" + v.replace("'", "''") + "'" for v in values)
    if not variable.get("multi") and not variable.get("includeAll"):
        return values[0] if values else ""
    escaped = [_REGEX_SPECIAL.sub(r"\\\1", v) for v in values]
    return escaped[0] if len(escaped) == 1 else "(" + "|".join(escaped) + ")"


def interpolate(text, dashboard, window, kind):
    variables = dm.variables(dashboard)
    builtins = window.macros()

    def replace(match):
        name = match.group(1) or match.group(2) or match.group(3)
        if name in builtins:
            return builtins[name]
        variable = variables.get(name)
        if variable is None:
            return match.group(0)
        return format_variable(variable, dm.variable_current_values(variable), kind)

    return re.sub(r"\$\{([A-Za-z0-9_]+)(?::[A-Za-z]+)?\}|\[\[([A-Za-z0-9_]+)\]\]|\$([A-Za-z0-9_]+)", replace, text)


def sql_macros(sql, window):
    def iso(seconds):
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))

    start, end = iso(window.start), iso(window.end)
    sql = re.sub(r"\$__timeFilter\(([^)]+)\)", lambda m: f"{m.group(1).strip()} BETWEEN '{start}' AND '{end}'", sql)
    sql = re.sub(r"\$__unixEpochFilter\(([^)]+)\)",
                 lambda m: f"{m.group(1).strip()} >= {int(window.start)} AND {m.group(1).strip()} <= {int(window.end)}", sql)
    sql = sql.replace("$__timeFrom()", f"'{start}'").replace("$__timeTo()", f"'{end}'")
    sql = sql.replace("$__unixEpochFrom()", str(int(window.start))).replace("$__unixEpochTo()", str(int(window.end)))
    sql = re.sub(r"\$__timeGroupAlias\(([^,]+),[^)]*\)",
                 lambda m: f"floor(extract(epoch from {m.group(1).strip()})/{int(window.interval)})*{int(window.interval)} AS \"time\"", sql)
    sql = re.sub(r"\$__timeGroup\(([^,]+),[^)]*\)",
                 lambda m: f"floor(extract(epoch from {m.group(1).strip()})/{int(window.interval)})*{int(window.interval)}", sql)
    return sql


# ------------------------------------------------------------------ clients

class Prometheus:
    def __init__(self, url):
        self.url = url.rstrip("/")

    def call(self, path, params):
        data = urllib.parse.urlencode(params, doseq=True).encode()
        request = urllib.request.Request(self.url + path, data=data, method="POST",
                                         headers={"Content-Type": "application/x-www-form-urlencoded"})
        try:
            with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT_SECONDS) as response:
                return json.load(response)
        except urllib.error.HTTPError as error:
            try:
                body = json.load(error)
            except ValueError:
                body = {}
            return {"status": "error", "error": body.get("error") or str(error)}
        except (urllib.error.URLError, OSError, ValueError) as error:
            return {"status": "error", "error": f"cannot reach {self.url}: {error}"}

    def get(self, path, params=None):
        if params:
            path += "?" + urllib.parse.urlencode(params, doseq=True)
        try:
            with urllib.request.urlopen(self.url + path, timeout=HTTP_TIMEOUT_SECONDS) as response:
                return response.status, json.load(response)
        except urllib.error.HTTPError as error:
            return error.code, None
        except (urllib.error.URLError, OSError, ValueError) as error:
            return 0, str(error)


def run_psql(psql, url, sql):
    """Runs SQL read-only; returns (rows, error)."""
    command = [psql, url, "-X", "-q", "-A", "-t", "-0", "-v", "ON_ERROR_STOP=1",
               "-c", "SET statement_timeout = '15s'", "-c", "SET default_transaction_read_only = on", "-c", sql]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=60,
                              env=dict(os.environ, PGCONNECT_TIMEOUT="10"))
    except (OSError, subprocess.TimeoutExpired) as error:
        return None, str(error)
    if done.returncode != 0:
        return None, done.stderr.strip() or f"psql exited {done.returncode}"
    return [r for r in done.stdout.split("\0") if r.strip()], None


# ------------------------------------------------------------------ the run

class LiveRun:
    def __init__(self, ctx, report, prometheus_url, postgres_url, alertmanager_url, psql, time_from=None):
        self.ctx, self.report = ctx, report
        self.time_from = time_from
        self.prometheus = Prometheus(prometheus_url) if prometheus_url else None
        self.alertmanager = Prometheus(alertmanager_url) if alertmanager_url else None
        self.postgres_url, self.psql = postgres_url, psql
        self.now = time.time()

    def scrape_seconds(self):
        ds = next((d for d in self.ctx.datasources if d.get("type") == "prometheus"), {})
        return parse_duration((ds.get("jsonData") or {}).get("timeInterval") or "15s")

    def run(self):
        if not self.reachable():
            return
        for _, dashboard, _ in self.ctx.dashboards:
            if dashboard:
                self.resolve_variables(dashboard)
                for panel, row in dm.iter_panels(dashboard):
                    self.run_panel(dashboard, panel)
        self.check_names_exist()

    def reachable(self):
        """One line per server instead of one failure per query when a URL is wrong."""
        ok = True
        if self.prometheus:
            status, body = self.prometheus.get("/api/v1/status/buildinfo")
            if status == 200:
                self.report.ok(f"Prometheus {self.prometheus.url} answers (version {body['data'].get('version')})")
            else:
                self.report.fail(f"Prometheus {self.prometheus.url} does not answer: {status or ''} {body or ''}")
                ok = False
        if self.postgres_url:
            rows, error = run_psql(self.psql, self.postgres_url, "SELECT current_user")
            if error:
                self.report.fail(f"PostgreSQL does not answer: {error}")
                ok = False
            else:
                self.report.ok(f"PostgreSQL answers (connected as {rows[0].strip()})")
        return ok

    def check_names_exist(self):
        """A zero-filled query ('... or vector(0)') passes even when its family is missing: so
        every name any panel uses must have series of its own."""
        if not self.prometheus:
            return
        names = set()
        for _, dashboard, _ in self.ctx.dashboards:
            for panel, _ in dm.iter_panels(dashboard or {}):
                for target in panel.get("targets") or []:
                    if (target.get("datasource") or {}).get("type") == "prometheus":
                        names |= dm.promql_metric_names(target.get("expr") or "")
        for name in sorted(names):
            answer = self.prometheus.call("/api/v1/query", {"query": f"count({{__name__={json.dumps(name)}}})",
                                                            "time": self.now})
            result = (answer.get("data") or {}).get("result") or []
            count = int(float(result[0]["value"][1])) if result else 0
            if count:
                self.report.ok(f"metric {name}: {count} series in Prometheus")
            elif name in MAY_BE_ABSENT and answer.get("status") == "success":
                self.report.ok(f"metric {name}: no series (allowed: its panels fall back to 0)")
            else:
                self.report.fail(f"metric {name}: no series in Prometheus {answer.get('error') or ''}".rstrip())

    def resolve_variables(self, dashboard):
        window = QueryWindow(dashboard, {}, self.now, self.scrape_seconds(), self.time_from)
        for variable in dm.variables(dashboard).values():
            if variable.get("type") != "query":
                continue
            label = f"{dashboard['uid']} variable ${variable.get('name')}"
            if not self.prometheus:
                self.report.skip(f"{label}: no --prometheus")
                continue
            query = interpolate(dm.variable_query_text(variable), dashboard, window, "prometheus")
            match = re.match(r"^\s*label_values\(\s*(?:(.+?)\s*,\s*)?([A-Za-z_][A-Za-z0-9_]*)\s*\)\s*$", query)
            if not match:
                self.report.fail(f"{label}: unsupported variable query {query!r}")
                continue
            params = {"start": window.start, "end": window.end}
            if match.group(1):
                params["match[]"] = match.group(1)
            status, answer = self.prometheus.get(f"/api/v1/label/{match.group(2)}/values", params)
            if not isinstance(answer, dict):
                answer = {"status": "error", "error": f"HTTP {status} {answer or ''}"}
            values = answer.get("data") or []
            variable["_resolved"] = values
            if answer.get("status") != "success":
                self.report.fail(f"{label}: {answer.get('error')}")
            elif not values:
                self.report.fail(f"{label}: {query} has no values")
            else:
                self.report.ok(f"{label}: {query} -> {', '.join(values)}")

    def run_panel(self, dashboard, panel):
        label = dm.panel_label(dashboard, panel)
        if panel.get("type") == "alertlist":
            self.check_endpoint(self.prometheus, "/api/v1/rules", f"{label}: Prometheus rules API", "--prometheus")
        if panel.get("type") == "alertGroups":
            self.check_endpoint(self.alertmanager, "/api/v2/alerts/groups",
                                f"{label}: Alertmanager alert groups API", "--alertmanager")
        window = QueryWindow(dashboard, panel, self.now, self.scrape_seconds(), self.time_from)
        results = {}
        for target in panel.get("targets") or []:
            kind = (target.get("datasource") or {}).get("type")
            if kind == "prometheus":
                results[target.get("refId")] = self.run_promql(dashboard, panel, target, window, label)
            elif kind == "grafana-postgresql-datasource":
                self.run_sql(dashboard, target, window, label)
        if any(t.get("id") == "rowsToFields" for t in panel.get("transformations") or []) and all(results.values()):
            self.check_threshold_rows(panel, results, label)

    def check_endpoint(self, client, path, label, option):
        if not client:
            self.report.skip(f"{label}: no {option}")
            return
        status, body = client.get(path)
        if status == 200:
            self.report.ok(f"{label} answers")
        else:
            self.report.fail(f"{label}: HTTP {status} {body or ''}")

    def run_promql(self, dashboard, panel, target, window, label):
        name = f"{label} {target.get('refId')}"
        if not self.prometheus:
            self.report.skip(f"{name}: no --prometheus")
            return None
        expr = interpolate(target.get("expr") or "", dashboard, window, "prometheus")
        instant_result = None
        if target.get("instant"):
            answer = self.prometheus.call("/api/v1/query", {"query": expr, "time": window.end})
            instant_result = self.judge(answer, f"{name} instant", expr)
        if target.get("range"):
            start, end = window.aligned()
            answer = self.prometheus.call("/api/v1/query_range",
                                          {"query": expr, "start": start, "end": end, "step": window.step})
            if self.judge(answer, f"{name} range (step {format_seconds(window.step)})", expr) is None:
                self.explain_empty_range(expr, window, end)
        return instant_result

    def explain_empty_range(self, expr, window, aligned_end):
        """Grafana rounds a range query's end down to the step: data younger than that is not shown yet."""
        answer = self.prometheus.call("/api/v1/query", {"query": expr, "time": window.end})
        if answer.get("status") == "success" and (answer.get("data") or {}).get("result"):
            self.report.note(f"the instant query has series: the data is younger than the range's rounded end "
                             f"({int(window.end - aligned_end)} s before now, step {format_seconds(window.step)}); "
                             f"Grafana shows no data here yet either. Run again once Prometheus has "
                             f"{format_seconds(2 * window.step + 60)} of data, or pass a shorter --time-from.")

    def judge(self, answer, name, expr):
        if answer.get("status") != "success":
            self.report.fail(f"{name}: {answer.get('errorType', 'error')}: {answer.get('error')}")
            self.report.note(expr.replace("\n", " "))
            return None
        data = answer.get("data") or {}
        result = data.get("result") or []
        if data.get("resultType") == "matrix":
            result = [r for r in result if r.get("values")]
        if data.get("resultType") == "scalar":
            result = [{"metric": {}, "value": data.get("result")}]
        if not result:
            self.report.fail(f"{name}: valid, but no series")
            self.report.note(expr.replace("\n", " "))
            return None
        self.report.ok(f"{name}: {len(result)} series")
        for warning in (answer.get("warnings") or []) + (answer.get("infos") or []):
            self.report.note(f"Prometheus says: {warning}")
        return result

    def check_threshold_rows(self, panel, results, label):
        """Grafana needs each row's threshold steps in ascending order."""
        step = next(t for t in panel["transformations"] if t.get("id") == "rowsToFields")
        mappings = step["options"]["mappings"]
        name_label = next(m["fieldName"] for m in mappings if m["handlerKey"] == "field.name")
        refs = [m["fieldName"].split("#")[1] for m in mappings if m["handlerKey"] == "threshold1"]
        value_ref = next(m["fieldName"].split("#")[1] for m in mappings if m["handlerKey"] == "field.value")

        def by_name(ref):
            return {r["metric"].get(name_label): float(r["value"][1]) for r in results.get(ref) or []}

        rows = by_name(value_ref)
        problems = []
        for row in sorted(rows, key=str):
            steps = [by_name(ref).get(row) for ref in refs]
            if None in steps:
                problems.append(f"{row}: no threshold from target {refs[steps.index(None)]}")
            elif any(a > b for a, b in zip(steps, steps[1:])):
                problems.append(f"{row}: thresholds {steps} are not ascending")
        self.report.check(problems, f"{label}: every one of {len(rows)} rows has ascending thresholds")

    def run_sql(self, dashboard, target, window, label):
        name = f"{label} {target.get('refId')} SQL"
        if not self.postgres_url:
            self.report.skip(f"{name}: no --postgres-url")
            return
        sql = sql_macros(interpolate(target.get("rawSql") or "", dashboard, window, "sql"), window)
        rows, error = run_psql(self.psql, self.postgres_url, sql)
        if error:
            self.report.fail(f"{name}: {error}")
            self.report.note(" ".join(sql.split()))
        elif not rows:
            self.report.fail(f"{name}: valid, but no rows between "
                             f"{time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(window.start))} and "
                             f"{time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(window.end))}")
        else:
            self.report.ok(f"{name}: {len(rows)} rows")


def run(ctx, report, prometheus_url, postgres_url, alertmanager_url=None, psql="psql", time_from=None):
    LiveRun(ctx, report, prometheus_url, postgres_url, alertmanager_url, psql, time_from).run()

