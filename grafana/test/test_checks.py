#!/usr/bin/env python3
"""Tests of the dashboard checker itself: each check must catch the fault it is for.

Every case copies the repository's grafana/ and docs/ into a temporary tree, breaks
one thing, runs the static checks and expects a named check to fail. The helpers
of live mode (time ranges, intervals, variables, macros) are tested directly.

Prints one line per test and "checker self-test: N passed, M failed".
"""

import calendar
import copy
import io
import json
import os
import shutil
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import dashmodel as dm  # noqa: E402
import live_checks as live  # noqa: E402
import miniyaml  # noqa: E402
import static_checks  # noqa: E402
from report import Report  # noqa: E402

REPO = os.path.abspath(os.path.join(HERE, "..", ".."))


class BrokenRepo:
    """A scratch copy of the parts of the repository the static checks read."""

    def __init__(self):
        self.root = tempfile.mkdtemp(prefix="opswatch-grafana-test.")
        for part in ("grafana/dashboards", "grafana/provisioning", "docs", "prometheus/rules", "runbooks"):
            if os.path.isdir(os.path.join(REPO, part)):
                shutil.copytree(os.path.join(REPO, part), os.path.join(self.root, part),
                                ignore=shutil.ignore_patterns("*.sh", "test", "lib"))

    def dashboard(self, uid):
        with open(self._path(uid), encoding="utf-8") as handle:
            return json.load(handle)

    def save(self, dashboard, uid=None):
        with open(self._path(uid or dashboard["uid"]), "w", encoding="utf-8") as handle:
            json.dump(dashboard, handle)

    def write(self, relative, text):
        path = os.path.join(self.root, relative)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)

    def failures(self):
        out = io.StringIO()
        static_checks.run(dm.Repo(self.root), Report(out))
        return [line for line in out.getvalue().splitlines() if line.startswith("FAIL")], out.getvalue()

    def _path(self, uid):
        return os.path.join(self.root, "grafana", "dashboards", uid + ".json")

    def remove(self):
        shutil.rmtree(self.root, ignore_errors=True)


def first_panel(dashboard, kind):
    return next(p for p, _ in dm.iter_panels(dashboard) if p.get("type") == kind)


class StaticChecksCatchFaults(unittest.TestCase):
    def setUp(self):
        self.repo = BrokenRepo()

    def tearDown(self):
        self.repo.remove()

    def expect_failure(self, fragment, detail=None):
        failures, output = self.repo.failures()
        self.assertTrue(any(fragment in line for line in failures), f"no FAIL with {fragment!r}:\n{output}")
        if detail:
            self.assertIn(detail, output)

    def test_the_repository_as_it_is_passes(self):
        failures, output = self.repo.failures()
        self.assertEqual([], failures, output)

    def test_overlapping_panels(self):
        d = self.repo.dashboard("opswatch-cost")
        d["panels"][1]["gridPos"] = dict(d["panels"][0]["gridPos"])
        self.repo.save(d)
        self.expect_failure("opswatch-cost: panels stay in the grid and do not overlap", "overlaps")

    def test_panel_outside_the_grid(self):
        d = self.repo.dashboard("opswatch-health")
        d["panels"][1]["gridPos"]["x"] = 20
        self.repo.save(d)
        self.expect_failure("opswatch-health: panels stay in the grid", "outside the 24-column grid")

    def test_metric_missing_from_the_contract(self):
        d = self.repo.dashboard("opswatch-cost")
        first_panel(d, "stat")["targets"][0]["expr"] = 'sum(opswatch_spend_eur{provider=~"$provider"})'
        self.repo.save(d)
        self.expect_failure("opswatch-cost: the", "opswatch_spend_eur is neither in docs/metrics.md")

    def test_recording_rule_counts_as_known(self):
        d = self.repo.dashboard("opswatch-cost")
        first_panel(d, "stat")["targets"][0]["expr"] = "sum(provider:made_up:rate5m)"
        self.repo.save(d)
        self.repo.write("prometheus/rules/x.yml", "groups:\n  - name: x\n    rules:\n      - record: provider:made_up:rate5m\n        expr: vector(1)\n")
        failures, output = self.repo.failures()
        self.assertEqual([], failures, output)

    def test_unprovisioned_datasource(self):
        d = self.repo.dashboard("opswatch-incidents")
        panel = first_panel(d, "table")
        panel["datasource"] = {"type": "grafana-postgresql-datasource", "uid": "someone-elses-db"}
        self.repo.save(d)
        self.expect_failure("opswatch-incidents: every datasource reference", "'someone-elses-db' is not provisioned")

    def test_datasource_variable_defaulting_to_an_unknown_uid(self):
        d = self.repo.dashboard("opswatch-health")
        dm.variables(d)["datasource"]["current"]["value"] = "prometheus-prod"
        self.repo.save(d)
        self.expect_failure("opswatch-health: every datasource reference", "'prometheus-prod' is not provisioned")

    def test_panel_without_targets(self):
        d = self.repo.dashboard("opswatch-health")
        first_panel(d, "bargauge")["targets"] = []
        self.repo.save(d)
        self.expect_failure("opswatch-health: every panel has targets", "has no targets")

    def test_duplicate_uid_and_title(self):
        d = self.repo.dashboard("opswatch-cost")
        twin = copy.deepcopy(d)
        self.repo.save(twin, uid="twin")
        self.expect_failure("dashboard uids are unique")
        self.expect_failure("dashboard titles are unique")

    def test_schema_version_newer_than_the_pinned_grafana(self):
        d = self.repo.dashboard("opswatch-incidents")
        d["schemaVersion"] = static_checks.SCHEMA_VERSION_LATEST + 1
        self.repo.save(d)
        self.expect_failure("opswatch-incidents: schemaVersion")

    def test_sql_reading_the_content_snippet(self):
        d = self.repo.dashboard("opswatch-incidents")
        target = first_panel(d, "table")["targets"][0]
        target["rawSql"] = target["rawSql"].replace("  id\n", '  id,\n  "contentSnippet"\n')
        self.repo.save(d)
        self.expect_failure("opswatch-incidents: 1 SQL queries", "selects contentSnippet")

    def test_sql_without_limit_or_time_filter(self):
        d = self.repo.dashboard("opswatch-incidents")
        first_panel(d, "table")["targets"][0]["rawSql"] = 'SELECT id, type FROM "SafetyEvent"'
        self.repo.save(d)
        self.expect_failure("opswatch-incidents: 1 SQL queries", "no LIMIT")
        self.expect_failure("opswatch-incidents: 1 SQL queries", "not bounded by the time range")

    def test_ratio_shown_in_percent_instead_of_percentunit(self):
        d = self.repo.dashboard("opswatch-health")
        first_panel(d, "bargauge")["fieldConfig"]["defaults"]["unit"] = "percent"
        self.repo.save(d)
        self.expect_failure("opswatch-health: units", "percent: a 0-1 ratio needs percentunit")

    def test_spend_without_a_currency_unit(self):
        d = self.repo.dashboard("opswatch-cost")
        first_panel(d, "timeseries")["fieldConfig"]["defaults"]["unit"] = "short"
        self.repo.save(d)
        self.expect_failure("opswatch-cost: units", "shows EUR without a EUR unit")

    def test_literal_secret_in_provisioning(self):
        path = os.path.join(self.repo.root, "grafana/provisioning/datasources/opswatch.yml")
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
        self.repo.write("grafana/provisioning/datasources/opswatch.yml",
                        text.replace("password: ${OPSWATCH_READER_PASSWORD}", "password: hunter2"))
        self.expect_failure("datasource provisioning", "secureJsonData.password is a literal")

    def test_thresholds_mapping_a_column_no_target_makes(self):
        d = self.repo.dashboard("opswatch-cost")
        panel = next(p for p, _ in dm.iter_panels(d) if p.get("transformations"))
        panel["targets"] = panel["targets"][:-1]
        self.repo.save(d)
        self.expect_failure("opswatch-cost: thresholds-from-data", "but there is no target")

    def test_link_to_a_missing_dashboard(self):
        d = self.repo.dashboard("opswatch-health")
        d["panels"][1].setdefault("links", []).append({"title": "x", "url": "/d/opswatch-nope"})
        self.repo.save(d)
        self.expect_failure("opswatch-health: links", "/d/opswatch-nope is not a dashboard uid")

    def test_link_to_a_missing_runbook_page(self):
        self.repo.write("runbooks/README.md", "# Runbooks\n")
        page = os.path.join(self.repo.root, "runbooks", "budget-exceeded.md")
        if os.path.exists(page):
            os.remove(page)
        failures, output = self.repo.failures()
        self.assertTrue(any("links between dashboards and to runbook pages" in f for f in failures), output)
        self.assertIn("budget-exceeded.md does not exist", output)

    def test_alert_list_naming_an_unknown_datasource(self):
        d = self.repo.dashboard("opswatch-incidents")
        first_panel(d, "alertlist")["options"]["datasource"] = "Prometheus"
        self.repo.save(d)
        self.expect_failure("opswatch-incidents: 2 alert panels", "not a provisioned Prometheus datasource name")

    def test_rule_linking_to_a_missing_dashboard(self):
        self.repo.write("prometheus/rules/x.yml", "      dashboard_url: http://localhost:3000/d/opswatch-costs\n")
        self.expect_failure("dashboard links in prometheus/rules/", "/d/opswatch-costs is not a dashboard uid")


class Helpers(unittest.TestCase):
    def test_metric_names_leave_out_functions_labels_and_keywords(self):
        expr = ('sum by (provider) (increase(opswatch_cost_month_to_date_eur{provider=~"$provider"}[$__rate_interval]))\n'
                ' / on (provider) group_left() max by (provider) (opswatch_budget_eur offset 1h)'
                ' or label_replace(vector(0), "x", "$1", "y", "(.*)") and time() - 1e3 > bool 2'
                ' unless {__name__="opswatch_build_info"}')
        self.assertEqual({"opswatch_cost_month_to_date_eur", "opswatch_budget_eur", "opswatch_build_info"},
                         dm.promql_metric_names(expr))
        self.assertEqual({"provider:x_eur:increase1h"}, dm.promql_metric_names("sum(provider:x_eur:increase1h)"))

    def test_relative_times(self):
        now = 1700000000.0  # 2023-11-14T22:13:20Z
        self.assertEqual(now - 86400, live.parse_relative_time("now-24h", now))
        self.assertEqual(calendar.timegm((2023, 11, 1, 0, 0, 0)), live.parse_relative_time("now/M", now))
        self.assertEqual(live.parse_relative_time("now-1M/M", now), 1696118400.0)  # 2023-10-01
        self.assertEqual(now, live.parse_relative_time("now", now))

    def test_interval_and_rate_interval_as_grafana_computes_them(self):
        dashboard = {"time": {"from": "now-24h", "to": "now"}}
        window = live.QueryWindow(dashboard, {"gridPos": {"w": 12}}, 1700000000.0, 15)
        self.assertEqual(120, window.interval)  # 86400 s / 900 points = 96 s -> 2m
        self.assertEqual(135, window.rate_interval)  # max(2m + 15s, 4 * 15s)
        self.assertEqual("135s", window.macros()["__rate_interval"])
        self.assertEqual("86400s", window.macros()["__range"])
        start, end = window.aligned()
        self.assertEqual(0, end % 120)
        self.assertLessEqual(end, 1700000000.0)
        short = live.QueryWindow({"time": {"from": "now-5m", "to": "now"}}, {"gridPos": {"w": 24}}, 1700000000.0, 15)
        self.assertEqual(15, short.interval)  # never below the scrape interval
        pinned = live.QueryWindow(dashboard, {"timeFrom": "24h", "gridPos": {"w": 12}}, 1700000000.0, 15)
        self.assertEqual(86400, pinned.end - pinned.start)

    def test_variables_expand_like_the_prometheus_datasource(self):
        dashboard = {"templating": {"list": [
            {"name": "provider", "type": "query", "multi": True, "includeAll": True, "allValue": ".+",
             "current": {"value": ["$__all"]}},
            {"name": "one", "type": "custom", "multi": True, "current": {"value": ["a.b", "c"]}},
            {"name": "runbooks", "type": "textbox", "query": "https://x/runbooks", "current": {"value": "https://x/runbooks"}}]}}
        window = live.QueryWindow({"time": {"from": "now-1h", "to": "now"}}, {}, 1700000000.0, 15)
        self.assertEqual('x{provider=~".+"}[60s]', live.interpolate('x{provider=~"$provider"}[$__rate_interval]',
                                                                     dashboard, window, "prometheus"))
        self.assertEqual('y{m=~"(a\\.b|c)"}', live.interpolate('y{m=~"${one}"}', dashboard, window, "prometheus"))
        self.assertEqual("https://x/runbooks/a.md", live.interpolate("${runbooks}/a.md", dashboard, window, "prometheus"))

    def test_sql_time_macros(self):
        window = live.QueryWindow({"time": {"from": "now-24h", "to": "now"}}, {}, 1700000000.0, 15)
        sql = live.sql_macros('WHERE $__timeFilter("timestamp") AND x < $__timeTo()', window)
        self.assertEqual("WHERE \"timestamp\" BETWEEN '2023-11-13T22:13:20Z' AND '2023-11-14T22:13:20Z' "
                         "AND x < '2023-11-14T22:13:20Z'", sql)

    def test_yaml_subset(self):
        doc = miniyaml.load("a: 1\nb:\n  - name: x  # c\n    uid: 'y'\n  - z\nc: \"q # r\"\nd:\n")
        self.assertEqual({"a": 1, "b": [{"name": "x", "uid": "y"}, "z"], "c": "q # r", "d": None}, doc)
        with self.assertRaises(ValueError):
            miniyaml.load("a: &anchor 1\n")


class LineResult(unittest.TextTestResult):
    def addSuccess(self, test):
        super().addSuccess(test)
        self.stream.writeln(f"PASS  self-test {test.id().split('.', 1)[1]}")

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self.stream.writeln(f"FAIL  self-test {test.id().split('.', 1)[1]}")

    def addError(self, test, err):
        super().addError(test, err)
        self.stream.writeln(f"FAIL  self-test {test.id().split('.', 1)[1]} (error)")


def main():
    suite = unittest.defaultTestLoader.loadTestsFromModule(sys.modules[__name__])
    runner = unittest.TextTestRunner(stream=sys.stdout, resultclass=LineResult, verbosity=0)
    result = runner.run(suite)
    failed = len(result.failures) + len(result.errors)
    print(f"checker self-test: {result.testsRun - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
