"""Each project check catches the fault it is for: a broken copy of a real dashboard (or of the
repository's provisioning and rules), one fault each."""
import copy
import shutil

import pytest

import checks
import dashboards as dm

REPO = dm.Repo()
DASHBOARDS = REPO.dashboards()
DATASOURCES = REPO.datasources()
UIDS = {d["uid"] for d in DASHBOARDS.values()}
KNOWN = REPO.contract() | REPO.recording_rules() | dm.PROMETHEUS_BUILTIN_SERIES


def dashboard(name):
    return copy.deepcopy(DASHBOARDS[name])


def first(d, panel_type):
    return next(p for p in dm.iter_panels(d) if p.get("type") == panel_type)


@pytest.fixture
def broken_repo(tmp_path):
    for part in ("grafana/dashboards", "grafana/provisioning", "docs", "prometheus/rules", "runbooks"):
        if (REPO.root / part).is_dir():
            shutil.copytree(REPO.root / part, tmp_path / part, ignore=shutil.ignore_patterns("test", "lib", "*.sh"))
    return dm.Repo(tmp_path)


def test_overlapping_panels():
    d = dashboard("opswatch-cost")
    d["panels"][1]["gridPos"] = dict(d["panels"][0]["gridPos"])
    assert any("overlaps" in p for p in checks.layout(d))


def test_panel_outside_the_grid():
    d = dashboard("opswatch-health")
    d["panels"][1]["gridPos"]["x"] = 20
    assert any("outside the 24-column grid" in p for p in checks.layout(d))


def test_duplicate_panel_id():
    d = dashboard("opswatch-incidents")
    d["panels"][1]["id"] = d["panels"][0]["id"]
    assert any("used 2 times" in p for p in checks.layout(d))


def test_schema_version_newer_than_the_pinned_grafana():
    d = dashboard("opswatch-incidents")
    d["schemaVersion"] = dm.SCHEMA_VERSION_LATEST + 1
    assert checks.schema_version(d)


def test_metric_missing_from_the_contract():
    d = dashboard("opswatch-cost")
    first(d, "stat")["targets"][0]["expr"] = 'sum(opswatch_spend_eur{provider=~"$provider"})'
    problems, _ = checks.metric_names(d, KNOWN)
    assert problems == ["opswatch_spend_eur is neither in docs/metrics.md nor a recording rule"]


def test_metric_in_an_annotation_missing_from_the_contract():
    d = dashboard("opswatch-health")
    next(a for a in d["annotations"]["list"] if a["name"] == "Firing alerts")["target"]["expr"] = "opswatch_alerts_firing"
    problems, _ = checks.metric_names(d, KNOWN)
    assert problems == ["opswatch_alerts_firing is neither in docs/metrics.md nor a recording rule"]


def test_datasource_uid_written_out():
    d = dashboard("opswatch-incidents")
    first(d, "table")["datasource"] = {"type": "grafana-postgresql-datasource", "uid": "opswatch-postgres"}
    assert any("written out, not a variable" in p for p in checks.datasource_references(d, DATASOURCES))


def test_datasource_variable_defaulting_to_an_unknown_uid():
    d = dashboard("opswatch-health")
    dm.variables(d)["datasource"]["current"]["value"] = "prometheus-prod"
    assert any("not a provisioned prometheus datasource" in p for p in checks.datasource_references(d, DATASOURCES))


def test_alert_list_naming_its_datasource():
    d = dashboard("opswatch-incidents")
    first(d, "alertlist")["options"]["datasource"] = "opswatch Prometheus"
    assert any("names the datasource" in p for p in checks.datasource_references(d, DATASOURCES))


def test_annotation_on_a_datasource_uid():
    d = dashboard("opswatch-cost")
    d["annotations"]["list"][-1]["datasource"] = {"type": "grafana-postgresql-datasource", "uid": "opswatch-postgres"}
    assert any("annotation 'S3 incidents'" in p for p in checks.datasource_references(d, DATASOURCES))


def test_panel_without_targets():
    d = dashboard("opswatch-health")
    panel = first(d, "bargauge")
    panel["targets"] = []
    assert checks.targets(panel) == ["a bargauge panel without targets"]


@pytest.mark.parametrize("column", ['"contentSnippet"', "metadata", '"userId"', '"sessionId"'])
def test_sql_reading_free_text_or_user_ids(column):
    target = copy.deepcopy(first(dashboard("opswatch-incidents"), "table")["targets"][0])
    target["rawSql"] = target["rawSql"].replace("     id\n   FROM \"SafetyEvent\"", f"     id, {column}\n   FROM \"SafetyEvent\"")
    assert any("free text or personal data" in p for p in checks.sql(target))


def test_sql_without_limit_or_time_filter():
    problems = checks.sql({"rawSql": 'SELECT id, type FROM "SafetyEvent"', "format": "table"})
    assert "no LIMIT" in problems and "not bounded by the time range ($__timeFilter)" in problems


def test_sql_that_writes():
    assert "SQL that writes" in checks.sql({"rawSql": "DELETE FROM x WHERE $__timeFilter(t) LIMIT 1", "format": "table"})


def test_ratio_shown_in_percent_instead_of_percentunit():
    panel = first(dashboard("opswatch-health"), "bargauge")
    panel["fieldConfig"]["defaults"]["unit"] = "percent"
    assert any("percent: a 0-1 ratio needs percentunit" in p for p in checks.units(panel))


def test_spend_without_a_currency_unit():
    panel = first(dashboard("opswatch-cost"), "timeseries")
    panel["fieldConfig"]["defaults"]["unit"] = "short"
    assert any("shows EUR without a EUR unit" in p for p in checks.units(panel))


def test_thresholds_mapping_a_column_no_target_makes():
    panel = next(p for p in dm.iter_panels(dashboard("opswatch-cost")) if p.get("transformations")
                 and p["transformations"][-1]["id"] == "rowsToFields")
    panel["targets"] = panel["targets"][:-1]
    assert any("but there is no target" in p for p in checks.rows_to_fields(panel))


def test_link_to_a_missing_dashboard():
    d = dashboard("opswatch-health")
    d["panels"][1].setdefault("links", []).append({"title": "x", "url": "/d/opswatch-nope?${__url_time_range}&${__all_variables}"})
    assert any("/d/opswatch-nope is not a dashboard uid" in p for p in checks.links(d, UIDS, REPO.runbooks_dir))


def test_drill_down_link_dropping_the_time_range_or_variables():
    d = dashboard("opswatch-health")
    link = next(p for p in dm.iter_panels(d) if p.get("fieldConfig", {}).get("defaults", {}).get("links"))["fieldConfig"]["defaults"]["links"][0]
    link["url"] = "/d/opswatch-health?var-provider=${__field.labels.provider}"
    problems = checks.links(d, UIDS, REPO.runbooks_dir)
    assert any("drops the time range" in p for p in problems)
    assert any("drops the variables" in p for p in problems)


def test_link_bar_not_keeping_the_variables():
    d = dashboard("opswatch-cost")
    d["links"][0]["includeVars"] = False
    assert "the link bar does not keep the time range and the variables" in checks.links(d, UIDS, REPO.runbooks_dir)


def test_link_to_a_missing_runbook_page(broken_repo):
    (broken_repo.runbooks_dir / "README.md").parent.mkdir(parents=True, exist_ok=True)
    (broken_repo.runbooks_dir / "README.md").write_text("# Runbooks\n")
    page = broken_repo.runbooks_dir / "budget-exceeded.md"
    if page.exists():
        page.unlink()
    problems = checks.links(broken_repo.dashboards()["opswatch-cost"], UIDS, broken_repo.runbooks_dir)
    assert any("budget-exceeded.md does not exist" in p for p in problems)


@pytest.mark.parametrize("name, problem", [
    ("Firing alerts", "no Prometheus annotation"),
    ("Deploys and rollbacks", "no built-in annotation filtered on the tag 'deploy'"),
    ("S3 incidents", "no PostgreSQL annotation of S3"),
])
def test_missing_annotation(name, problem):
    d = dashboard("opswatch-incidents")
    d["annotations"]["list"] = [a for a in d["annotations"]["list"] if a["name"] != name]
    assert any(problem in p for p in checks.annotations(d))


def test_firing_alerts_without_the_service_label():
    d = dashboard("opswatch-health")
    next(a for a in d["annotations"]["list"] if a["name"] == "Firing alerts")["target"]["expr"] = 'ALERTS{alertstate="firing"}'
    assert any("no Prometheus annotation" in p for p in checks.annotations(d))


def test_cost_dashboard_on_the_last_24_hours_in_the_browser_zone():
    d = dashboard("opswatch-cost")
    d["time"], d["timezone"] = {"from": "now-24h", "to": "now"}, ""
    assert len(checks.month_time_range(d)) == 2


def test_literal_secret_in_provisioning(broken_repo):
    path = broken_repo.datasources_dir / "opswatch.yml"
    text = path.read_text()
    assert "${OPSWATCH_GRAFANA_PASSWORD}" in text
    path.write_text(text.replace("password: ${OPSWATCH_GRAFANA_PASSWORD}", "password: hunter2"))
    assert any("secureJsonData.password is a literal" in p for p in checks.provisioning(broken_repo))


def test_rule_linking_to_a_missing_dashboard(broken_repo):
    broken_repo.rules_dir.mkdir(parents=True, exist_ok=True)
    (broken_repo.rules_dir / "x.yml").write_text("# dashboard_url: http://localhost:3000/d/opswatch-costs\n")
    assert any("/d/opswatch-costs is not a dashboard uid" in p for p in checks.rule_dashboard_urls(broken_repo, UIDS))


@pytest.mark.parametrize("url, problem", [
    ("/d/opswatch-cost?var-providers={{ $labels.provider }}", "var-providers is not a variable of /d/opswatch-cost"),
    ("/d/opswatch-incidents?var-provider={{ $labels.provider }}", "var-provider is not a variable of /d/opswatch-incidents"),
    ("/d/opswatch-health?var-runbooks=$__all", "var-runbooks=$__all but $runbooks of /d/opswatch-health has no All value"),
    ("/d/opswatch-cost?var-provider={{ $labels.quota }}", "var-provider gets the label 'quota'"),
])
def test_rule_linking_to_a_variable_the_dashboard_lacks(broken_repo, url, problem):
    path = broken_repo.rules_dir / "quota.yml"
    text = path.read_text()
    good = "https://grafana.example.com/d/opswatch-health?var-provider={{ $labels.provider }}"
    assert good in text
    path.write_text(text.replace(good, "https://grafana.example.com" + url, 1))
    problems = checks.rule_dashboard_urls(broken_repo, UIDS)
    assert [p for p in problems if problem in p and p.startswith("prometheus/rules/quota.yml:")], problems


def test_rule_links_with_the_provider_and_all_pass(broken_repo):
    (broken_repo.rules_dir / "x.yml").write_text(
        "a: 'https://g.test/d/opswatch-cost?var-provider={{ $labels.provider }}'\n"
        "b: https://g.test/d/opswatch-cost?var-provider=$__all\n"
        "c: https://g.test/d/opswatch-health?var-provider={{$labels.provider}}&from=now-6h\n")
    assert [p for p in checks.rule_dashboard_urls(broken_repo, UIDS) if p.startswith("prometheus/rules/x.yml")] == []


def test_recording_rule_counts_as_known(broken_repo):
    (broken_repo.rules_dir / "x.yml").write_text(
        "groups:\n  - name: x\n    rules:\n      - record: provider:made_up:rate5m\n        expr: vector(1)\n")
    assert "provider:made_up:rate5m" in broken_repo.recording_rules()


def test_metric_names_leave_out_functions_labels_and_keywords():
    expr = ('sum by (provider) (increase(opswatch_cost_month_to_date_eur{provider=~"$provider"}[$__rate_interval]))\n'
            ' / on (provider) group_left() max by (provider) (opswatch_budget_eur offset 1h)'
            ' or label_replace(vector(0), "x", "$1", "y", "(.*)") and time() - 1e3 > bool 2'
            ' unless {__name__="opswatch_build_info"}')
    assert dm.promql_metric_names(expr) == {"opswatch_cost_month_to_date_eur", "opswatch_budget_eur", "opswatch_build_info"}
