"""The house rules for prometheus/rules/, checked per alert and per recording rule (parametrized from the rule
files), and against what a real Prometheus 2.42 loads from prometheus/prometheus.yml:

- every alert: PascalCase name, severity critical|warning|info, service="opswatch", the annotations summary,
  description, value, runbook_url and dashboard_url; runbook_url is production's runbook base + the kebab-case
  name, and that page exists with Meaning / Impact / Diagnosis / Mitigation and a row in runbooks/README.md;
  dashboard_url is production's Grafana base + /d/ + an opswatch dashboard uid, with the alert's provider
  selected (?var-provider={{ $labels.provider }}; Grafana's All, $__all, for provider="total") when the
  alert carries a `provider` label, as its promtool tests show; a promtool test names it;
- every state alert survives a scrape gap (keep_firing_for longer than its for:);
- every recording rule is named level:metric:operation;
- every opswatch_* name in the rules, tests, runbook pages and templates is in docs/metrics.md;
- every runbook page belongs to an alert.

promtool check config/rules and promtool test rules run before this, from scripts/test.sh (suite `alerting`).
"""
import json
import re
import urllib.parse

import pytest
import yaml

from testkit import REPO

RULES = sorted((REPO / "prometheus/rules").glob("*.yml"))
DASHBOARD_UIDS = ("opswatch-cost", "opswatch-health", "opswatch-incidents")
ANNOTATIONS = ("summary", "description", "value", "runbook_url", "dashboard_url")
SECTIONS = ("Meaning", "Impact", "Diagnosis", "Mitigation")
# Alerts that are events rather than states (a spike, the heartbeat, the exporter itself being down): no
# keep_firing_for needed.
NO_KEEP_FIRING = {"LLMSpendSpike", "OpswatchHeartbeat", "OpswatchExporterDown"}
METRIC = re.compile(r"(?<![A-Za-z0-9_:])opswatch_[a-z0-9_]+")


def load_promtool_expectations():
    """(test file, alertname, exp_labels, exp_annotations) of every expected alert in tests/*-test.yaml.
    promtool test rules compares them with what the rules render, so they are what the rules produce."""
    out = []
    for path in sorted((REPO / "prometheus/tests").glob("*-test.yaml")):
        for test in yaml.safe_load(path.read_text())["tests"]:
            for case in test.get("alert_rule_test") or []:
                for alert in case.get("exp_alerts") or []:
                    out.append((path.name, case["alertname"], alert.get("exp_labels") or {},
                                alert.get("exp_annotations") or {}))
    return out


def load_rules():
    out = []
    for path in RULES:
        for group in yaml.safe_load(path.read_text())["groups"]:
            for rule in group["rules"]:
                out.append((path.name, rule))
    return out


ALL = load_rules()
ALERTS = [(f, r) for f, r in ALL if "alert" in r]
RECORDS = [(f, r) for f, r in ALL if "record" in r]
ALERT_NAMES = sorted({r["alert"] for _, r in ALERTS})
EXPECTED = load_promtool_expectations()
# Alerts whose firing instances carry the exporter's `provider` label (per provider, not the total), as
# their promtool tests expect them.
PER_PROVIDER = {name for _, name, labels, _ in EXPECTED if labels.get("provider", "total") != "total"}
# How a dashboard link selects the alert's provider: the dashboards' variable is `provider` (a multi-value
# query variable with an All value, grafana/dashboards/*.json); $__all is the value Grafana itself puts in
# the URL when All is selected.
PROVIDER_QUERY = {"provider": "?var-provider={{ $labels.provider }}", "total": "?var-provider=$__all"}


def alert_id(item):
    _, rule = item
    return rule["alert"] + (f"[{rule['labels']['provider']}]" if "provider" in rule.get("labels", {}) else "")


def kebab(name):
    """BudgetSpendWarning -> budget-spend-warning, LLMSpendSpike -> llm-spend-spike."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "-", name).lower()


def seconds(duration):
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}
    return sum(int(n) * units[u] for n, u in re.findall(r"(\d+)(ms|s|m|h|d|w|y)", duration or "0s"))


@pytest.fixture(scope="module")
def production(render_rules):
    return render_rules.load_profiles()["production"]


@pytest.fixture(scope="module")
def loaded_rules(work_module, repo):
    """The rule groups a real Prometheus loads from prometheus/prometheus.yml (its scrape and Alertmanager
    targets do not resolve here, which only logs)."""
    from alerting_servers import Prometheus
    prometheus = Prometheus(work_module, repo / "prometheus/prometheus.yml")
    try:
        yield prometheus.api("rules")["groups"]
    finally:
        prometheus.stop()


def test_prometheus_loads_every_rule_file_and_rule(loaded_rules):
    files = sorted({g["file"].rsplit("/", 1)[-1] for g in loaded_rules})
    assert files == [p.name for p in RULES]
    loaded = sorted((r["type"], r["name"]) for g in loaded_rules for r in g["rules"])
    written = sorted(("alerting", r["alert"]) if "alert" in r else ("recording", r["record"]) for _, r in ALL)
    assert loaded == written


@pytest.mark.parametrize("item", ALERTS, ids=alert_id)
def test_alert_has_name_severity_service_and_annotations(item):
    _, rule = item
    assert re.fullmatch(r"[A-Z][a-z0-9]*(?:[A-Z]+[a-z0-9]*)*", rule["alert"])
    labels = rule.get("labels", {})
    assert labels.get("severity") in ("critical", "warning", "info")
    assert labels.get("service") == "opswatch"
    missing = [a for a in ANNOTATIONS if not str(rule.get("annotations", {}).get(a, "")).strip()]
    assert not missing


@pytest.mark.parametrize("item", ALERTS, ids=alert_id)
def test_alert_links_are_production_runbook_page_and_dashboard(item, production, repo):
    _, rule = item
    ann = rule["annotations"]
    page = f"{kebab(rule['alert'])}.md"
    assert ann["runbook_url"] == f"{production['runbook_url']}/{page}"
    assert (repo / "runbooks" / page).is_file()
    if rule["labels"].get("provider") == "total":
        query = PROVIDER_QUERY["total"]
    elif rule["alert"] in PER_PROVIDER:
        query = PROVIDER_QUERY["provider"]
    else:
        query = ""
    assert ann["dashboard_url"] in {f"{production['grafana_url']}/d/{uid}{query}" for uid in DASHBOARD_UIDS}


def dashboard_variables(repo):
    """{dashboard uid: {variable name: variable}} of grafana/dashboards/*.json."""
    out = {}
    for path in (repo / "grafana/dashboards").glob("*.json"):
        dashboard = json.loads(path.read_text())
        out[dashboard["uid"]] = {v["name"]: v for v in dashboard.get("templating", {}).get("list", [])}
    return out


@pytest.mark.parametrize("expected", EXPECTED, ids=lambda e: f"{e[0]}:{e[1]}[{e[2].get('provider', '')}]")
def test_promtool_expects_the_dashboard_with_the_alerts_provider(expected, production, repo):
    """What promtool proves the rules render: the provider of the alert, selected on a dashboard whose
    `provider` variable takes it (All for the total); no selection for an alert without a provider."""
    _, _, labels, annotations = expected
    url = urllib.parse.urlsplit(annotations["dashboard_url"])
    assert f"{url.scheme}://{url.netloc}" == production["grafana_url"]
    uid = url.path.removeprefix("/d/")
    assert uid in DASHBOARD_UIDS
    query = urllib.parse.parse_qs(url.query, keep_blank_values=True)
    if "provider" not in labels:
        assert query == {}
        return
    assert query == {"var-provider": ["$__all" if labels["provider"] == "total" else labels["provider"]]}
    variable = dashboard_variables(repo)[uid].get("provider")
    assert variable and variable.get("includeAll") and variable.get("multi"), \
        f"/d/{uid} has no multi-value provider variable with All"


@pytest.mark.parametrize("item", [a for a in ALERTS if a[1]["alert"] not in NO_KEEP_FIRING], ids=alert_id)
def test_state_alert_survives_a_scrape_gap(item):
    """keep_firing_for of at least 10m: an exporter restart never resolves a firing alert. A page keeps
    firing longer than its for:, so that even a new `instance` label (a rescheduled pod) hands over from the
    old alert to the new one without an empty group, hence without a resolve."""
    _, rule = item
    assert seconds(rule.get("keep_firing_for")) >= 600
    if rule["labels"]["severity"] == "critical":
        assert seconds(rule.get("keep_firing_for")) > seconds(rule.get("for"))


@pytest.mark.parametrize("name", ALERT_NAMES)
def test_runbook_page_has_its_sections_and_readme_row(name, repo):
    page = f"{kebab(name)}.md"
    text = (repo / "runbooks" / page).read_text()
    missing = [s for s in SECTIONS if not re.search(rf"^## {s}\s*$", text, re.M)]
    assert not missing
    readme = (repo / "runbooks/README.md").read_text()
    assert re.search(rf"^\|\s*{name}\s*\|.*\]\({re.escape(page)}\)", readme, re.M), "no row in runbooks/README.md"


@pytest.mark.parametrize("name", ALERT_NAMES)
def test_alert_has_a_promtool_test(name, repo):
    tests = "\n".join(p.read_text() for p in (repo / "prometheus/tests").glob("*-test.yaml"))
    assert re.search(rf"alertname:\s*{name}\s*$", tests, re.M)


@pytest.mark.parametrize("item", RECORDS, ids=lambda item: item[1]["record"])
def test_recording_rule_is_named_level_metric_operation(item):
    assert re.fullmatch(r"[a-z_]+:opswatch_[a-z0-9_]+:[a-z0-9_]+", item[1]["record"])


@pytest.mark.parametrize("pattern", ["prometheus/rules/*.yml", "prometheus/tests/*.yaml", "runbooks/*.md",
                                     "alertmanager/templates/*.tmpl"])
def test_every_metric_name_is_in_the_contract(pattern, repo):
    contract = set(re.findall(r"`(opswatch_[a-z0-9_]+)`", (repo / "docs/metrics.md").read_text()))
    used = {n for p in repo.glob(pattern) for n in METRIC.findall(p.read_text())}
    assert used or pattern.endswith(".tmpl"), "the pattern found no metric name, so it checks nothing"
    assert sorted(used - contract) == []


def test_every_runbook_page_belongs_to_an_alert(repo):
    pages = {p.name for p in (repo / "runbooks").glob("*.md")} - {"README.md"}
    assert sorted(pages - {f"{kebab(n)}.md" for n in ALERT_NAMES}) == []
