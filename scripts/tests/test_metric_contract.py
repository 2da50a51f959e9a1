"""The metric contract (docs/metrics.md) against a real scrape and against every file that uses it.

The exporter jar runs once for this module over the demo data, with a local /api/health stand-in so
that the probe families are served too. Each documented family is one test case (served, with the
documented type and labels); each consumer (rules, rule tests, dashboards, runbook pages, README,
notification templates, docs) is one test case (every opswatch_* name it uses is documented)."""
import re

import pytest

import testkit

REPO = testkit.REPO
CONTRACT = REPO / "docs/metrics.md"
# A row of the contract's tables: | `name` | type | label, label | meaning |
ROW = re.compile(r"^\|\s*`(opswatch_[a-z0-9_]+)`\s*\|\s*([a-z]+)\s*\|([^|]*)\|")
NAME = re.compile(r"(?<![A-Za-z0-9_:])opswatch_[a-z0-9_]+")
# opswatch_* words that are not metrics: the database role and the test databases' name prefixes.
NOT_METRICS = re.compile(r"opswatch_(reader|grafana\b|fault|it_|e2e_|contract_|py_)")
CONSUMERS = ("prometheus/rules/*.yml", "prometheus/tests/*.yaml", "grafana/dashboards/*.json", "runbooks/*.md",
             "README.md", "alertmanager/templates/*.tmpl", "docs/*.md")


def documented():
    """{name: (type, labels)} from the contract's tables."""
    families = {}
    for line in CONTRACT.read_text().splitlines():
        m = ROW.match(line)
        if m:
            labels = frozenset(label.strip() for label in m.group(3).split(",") if label.strip())
            families[m.group(1)] = (m.group(2), labels)
    return families


DOCUMENTED = documented()
CONSUMER_FILES = sorted({p for pattern in CONSUMERS for p in REPO.glob(pattern)} - {CONTRACT})


def consumer_id(path):
    return str(path.relative_to(REPO))


@pytest.fixture(scope="module")
def served(module_demo_database, module_health_stub, module_processes):
    """The families the exporter serves over the demo data, once every source has refreshed."""
    # The costs source reads the previous billing period from its second refresh on (not in the
    # first, which readiness waits for): a short interval brings that refresh within seconds.
    _, base = testkit.start_exporter(module_processes, module_demo_database.url,
                                     OPSWATCH_APP_HEALTH_URL=module_health_stub.health_url,
                                     CONFIG_FORCE_opswatch_sources_costs_refresh__interval="2s")
    return testkit.wait_for("every source refreshed, probes included, and costs a second time",
                            lambda: _all_sources_seen(testkit.metric_families(base + "/metrics")), 60)


def _all_sources_seen(families):
    up = families.get("opswatch_source_up")
    if up is None or "opswatch_probe_success" not in families:
        return None
    sources = {s.labels["source"] for s in up.samples}
    previous = families.get("opswatch_cost_previous_period_eur")
    metered_previous = previous is not None and any(s.labels.get("provider") == "azure_openai" for s in previous.samples)
    return families if {"costs", "quotas_fast", "quotas", "incidents", "probes"} <= sources and metered_previous else None


def test_the_contract_lists_the_families():
    assert len(DOCUMENTED) > 40, f"{CONTRACT.name} lists only {len(DOCUMENTED)} families: has its table format changed?"


@pytest.mark.parametrize("name", sorted(DOCUMENTED))
def test_documented_family_is_served_as_documented(served, name):
    doc_type, doc_labels = DOCUMENTED[name]
    assert name in served, f"docs/metrics.md lists {name}, which the exporter did not serve over the demo data"
    family = served[name]
    assert family.type == doc_type, f"{name} is served as a {family.type}, documented as a {doc_type}"
    labels = set().union(*(s.labels for s in family.samples)) - {family.name}  # a StateSet's own state label
    assert labels == doc_labels, (f"{name} is served with labels {sorted(labels)}, documented with "
                                  f"{sorted(doc_labels)}")


def test_every_served_family_is_documented(served):
    undocumented = sorted(set(served) - set(DOCUMENTED))
    assert not undocumented, f"the exporter serves {undocumented}, which docs/metrics.md does not list"


def test_the_consumers_are_there():
    for pattern in ("prometheus/rules/*.yml", "grafana/dashboards/*.json", "runbooks/*.md"):
        assert any(p.match(pattern) for p in CONSUMER_FILES), f"no {pattern} found"


@pytest.mark.parametrize("path", CONSUMER_FILES, ids=consumer_id)
def test_consumer_uses_only_documented_names(path):
    used = {n for n in NAME.findall(path.read_text()) if not NOT_METRICS.match(n)}
    unknown = sorted(used - set(DOCUMENTED))
    assert not unknown, f"{consumer_id(path)} uses {unknown}, which docs/metrics.md does not list"
