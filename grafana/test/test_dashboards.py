"""The project's own checks of the dashboards and provisioning (checks.py), on the repository:
one case per dashboard, or per panel and query where that reads better."""
import pytest

import checks
import dashboards as dm

REPO = dm.Repo()
DASHBOARDS = REPO.dashboards()
DATASOURCES = REPO.datasources()
UIDS = {d.get("uid") for d in DASHBOARDS.values()}
KNOWN_METRICS = REPO.contract() | REPO.recording_rules() | dm.PROMETHEUS_BUILTIN_SERIES

PANELS = [pytest.param(name, p, id=dm.panel_label(name, p)) for name, d in DASHBOARDS.items() for p in dm.iter_panels(d)]
QUERIES = [pytest.param(name, kind, target, id=f"{dm.panel_label(name, where) if 'gridPos' in where else name + ' annotation ' + where.get('name', '')} {target.get('refId', '')}")
           for name, d in DASHBOARDS.items() for where, kind, target in dm.queries(d)]
BY_DASHBOARD = pytest.mark.parametrize("name", sorted(DASHBOARDS))


def test_provisioning_has_unique_uids_secrets_from_the_environment_and_the_opswatch_folder():
    assert checks.provisioning(REPO) == []


def test_dashboard_uids_are_the_agreed_ones_and_uids_and_titles_are_unique():
    assert checks.unique_uids_and_titles(DASHBOARDS, set(dm.UIDS) | REPO.architecture_uids()) == []


@BY_DASHBOARD
def test_schema_version_is_one_the_pinned_grafana_reads(name):
    assert checks.schema_version(DASHBOARDS[name]) == []


@BY_DASHBOARD
def test_panels_have_unique_ids_and_stay_in_the_grid(name):
    assert checks.layout(DASHBOARDS[name]) == []


@BY_DASHBOARD
def test_datasources_are_referenced_through_variables_only(name):
    assert checks.datasource_references(DASHBOARDS[name], DATASOURCES) == []


@pytest.mark.parametrize("name, panel", PANELS)
def test_panel_targets_have_a_query_and_unique_refids(name, panel):
    assert checks.targets(panel) == []


@BY_DASHBOARD
def test_metric_names_are_in_the_contract(name):
    problems, used = checks.metric_names(DASHBOARDS[name], KNOWN_METRICS)
    assert problems == []
    assert used, "no metric names found: the extraction is broken"


@pytest.mark.parametrize("name, kind, target", [q for q in QUERIES if q.values[1] == "sql"])
def test_sql_is_bounded_read_only_and_reads_no_free_text(name, kind, target):
    assert checks.sql(target) == []


@pytest.mark.parametrize("name, panel", PANELS)
def test_units_match_the_metrics_shown(name, panel):
    assert checks.units(panel) == []


@pytest.mark.parametrize("name, panel", [p for p in PANELS if p.values[1].get("transformations")])
def test_thresholds_from_data_map_every_target(name, panel):
    assert checks.rows_to_fields(panel) == []


@BY_DASHBOARD
def test_links_resolve_and_keep_time_range_and_variables(name):
    assert checks.links(DASHBOARDS[name], UIDS, REPO.runbooks_dir) == []


@BY_DASHBOARD
def test_annotations_show_firing_alerts_deploys_and_s3_incidents(name):
    assert checks.annotations(DASHBOARDS[name]) == []


def test_cost_dashboard_opens_on_this_month_in_the_billing_time_zone():
    assert checks.month_time_range(DASHBOARDS["opswatch-cost"]) == []


def test_alert_rules_link_to_existing_dashboards():
    assert checks.rule_dashboard_urls(REPO, UIDS) == []


def test_month_over_month_uses_the_previous_period_metrics():
    _, used = checks.metric_names(DASHBOARDS["opswatch-cost"], KNOWN_METRICS)
    assert {"opswatch_cost_previous_period_eur", "opswatch_cost_total_previous_period_eur"} <= used


def test_incident_table_lists_both_tables_with_a_source_column():
    table = next(p for p in dm.iter_panels(DASHBOARDS["opswatch-incidents"]) if p["type"] == "table")
    sql = table["targets"][0]["rawSql"]
    assert 'FROM "SafetyEvent"' in sql and 'FROM "TelemetryEvent"' in sql
    assert "AS source" in sql
