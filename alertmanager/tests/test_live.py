"""The real Alertmanager 0.25 with the repository's alertmanager.yml (receivers pointed at a local sink by
sink-config.sh, group_wait 1s), fed through API v2: which alerts it suppresses and by what, what reaches the
pager, the chat and the dead man's switch, and that one cause gives exactly one page. amtool cannot evaluate
inhibit_rules, hence a real process.

Each scenario uses its own `env` label, so that their groups and inhibitions never meet."""
import datetime
import json
import time

import pytest

import testkit

RUNBOOKS = "https://github.com/opswatch/opswatch/blob/main/runbooks/"
GRAFANA = "https://grafana.example.com/d/"
# A notification that must not come is waited for this long after the ones that must: every group here
# flushes group_wait (1s) after its first alert, so a wrong page would be there by then. A slow machine can
# only make this miss a wrong page, never fail a right one.
SETTLE = 4


def kebab(name):
    out = ""
    for i, c in enumerate(name):
        if c.isupper() and i > 0 and (name[i - 1].islower() or (i + 1 < len(name) and name[i + 1].islower())):
            out += "-"
        out += c.lower()
    return out


def dashboard(uid, provider=None):
    """The dashboard_url the rules give (prometheus/rules, proved by their promtool tests): the alert's
    provider selected, Grafana's All ($__all) for the total budget, no selection without a provider."""
    if provider is None:
        return GRAFANA + uid
    return f"{GRAFANA}{uid}?var-provider={'$__all' if provider == 'total' else provider}"


def alert(env, name, severity, service="opswatch", **labels):
    uid = "opswatch-cost" if name.startswith(("Budget", "LLM")) else (
        "opswatch-incidents" if name.startswith("Incident") else "opswatch-health")
    now = datetime.datetime.now(datetime.timezone.utc)
    return {
        "labels": {"alertname": name, "severity": severity, "env": env, "service": service, **labels},
        "annotations": {
            "summary": f"{name} summary",
            "description": f"{name} description for {labels.get('provider', 'all')}",
            "value": "81% of budget",
            "runbook_url": RUNBOOKS + kebab(name) + ".md",
            "dashboard_url": dashboard(uid, labels.get("provider")),
        },
        "startsAt": now.isoformat(),
        "endsAt": (now + datetime.timedelta(hours=1)).isoformat(),
    }


def key(labels):
    return tuple(sorted(labels.items()))


def describe(a):
    lbl = a["labels"]
    return lbl["alertname"] + "{" + ",".join(f"{k}={v}" for k, v in sorted(lbl.items()) if k != "alertname") + "}"


# Inhibition sources, posted first so that the inhibitor knows them before the targets reach the dispatcher.
SOURCES = [
    alert("t-budget", "BudgetExceeded", "critical", provider="vercel"),
    alert("t-budget", "BudgetSpendCritical", "critical", provider="total"),
    alert("t-quota", "QuotaExhausted", "critical", provider="azure_openai", quota="chat_tokens_per_minute"),
    alert("t-exporter", "OpswatchExporterDown", "critical", job="opswatch", instance="exporter:9824"),
    alert("t-source", "OpswatchSourceDown", "warning", source="costs"),
    alert("t-total", "BudgetSpendWarning", "warning", provider="azure_openai"),
]
# (alert, expected state, the alert names that may be reported as its inhibitor). Alertmanager names one
# source, the first rule that matches; an inhibited alert still inhibits others.
CASES = [(a, "active", None) for a in SOURCES if a["labels"].get("provider") != "total"] + [
    # Still an inhibition source for the total's warning, itself silenced by a provider's own spend alert:
    # in t-budget vercel's BudgetExceeded, BudgetSpendCritical and BudgetSpendWarning all match that rule,
    # and Alertmanager 0.25 reports whichever its source cache lists first (a map: any of them).
    (SOURCES[1], "suppressed", "BudgetExceeded|BudgetSpendCritical|BudgetSpendWarning"),
    (alert("t-budget", "BudgetSpendCritical", "critical", provider="vercel"), "suppressed", "BudgetExceeded"),
    (alert("t-budget", "BudgetSpendWarning", "warning", provider="vercel"), "suppressed",
     "BudgetExceeded|BudgetSpendCritical"),
    (alert("t-budget", "BudgetForecastOverBudget", "warning", provider="vercel"), "suppressed",
     "BudgetExceeded|BudgetSpendCritical"),
    (alert("t-budget", "BudgetSpendWarning", "warning", provider="supabase"), "active", None),
    (alert("t-budget", "BudgetSpendWarning", "warning", provider="total"), "suppressed",
     "BudgetSpendCritical|BudgetExceeded"),
    (alert("t-budget", "BudgetForecastOverBudget", "warning", provider="azure_openai"), "active", None),
    # A provider's own alert names the cause: the total's are silenced, whatever their level.
    (alert("t-total", "BudgetSpendCritical", "critical", provider="total"), "suppressed", "BudgetSpendWarning"),
    (alert("t-total", "BudgetForecastOverBudget", "warning", provider="total"), "suppressed",
     "BudgetSpendWarning|BudgetSpendCritical"),
    (alert("t-quota", "QuotaCritical", "critical", provider="azure_openai", quota="chat_tokens_per_minute"),
     "suppressed", "QuotaExhausted"),
    (alert("t-quota", "QuotaWarning", "warning", provider="azure_openai", quota="chat_tokens_per_minute"),
     "suppressed", "QuotaExhausted|QuotaCritical"),
    (alert("t-quota", "QuotaWarning", "warning", provider="azure_openai", quota="chat_requests_per_minute"),
     "active", None),
    (alert("t-quota", "ExternalCallsFailing", "warning", provider="azure_openai"), "suppressed", "QuotaExhausted"),
    (alert("t-quota", "ExternalCallsFailing", "warning", provider="brave_search"), "active", None),
    (alert("t-exporter", "BudgetSpendWarning", "warning", provider="vercel"), "suppressed", "OpswatchExporterDown"),
    (alert("t-exporter", "LLMSpendSpike", "warning", provider="azure_openai"), "suppressed", "OpswatchExporterDown"),
    (alert("t-exporter", "IncidentCriticalSafety", "critical"), "suppressed", "OpswatchExporterDown"),
    (alert("t-exporter", "AppHealthDegraded", "warning", target="app"), "suppressed", "OpswatchExporterDown"),
    (alert("t-exporter", "OpswatchSourceStale", "warning", source="incidents"), "suppressed", "OpswatchExporterDown"),
    (alert("t-exporter", "OpswatchHeartbeat", "info"), "active", None),
    # Another team's alerts in the same Alertmanager are never touched by ours, whatever their names.
    (alert("t-exporter", "BudgetSpendWarning", "warning", service="billing", provider="stripe"), "active", None),
    (alert("t-budget", "BudgetSpendCritical", "critical", service="billing", provider="total"), "active", None),
    (alert("t-other", "IncidentSpike", "warning"), "active", None),
    (alert("t-source", "OpswatchSourceStale", "warning", source="costs"), "suppressed", "OpswatchSourceDown"),
    (alert("t-source", "OpswatchSourceStale", "warning", source="quotas"), "active", None),
    (alert("t-info", "OpswatchTestRecord", "info"), "active", None),
]


@pytest.fixture(scope="module")
def fed(alertmanager):
    """The alertmanager with SOURCES, then every case, posted; returns {labels: (state, inhibitor names)}."""
    alertmanager.post(SOURCES)
    testkit.wait_for("the sources", lambda: len(alertmanager.alerts()) >= len(SOURCES), 20)
    alertmanager.post([a for a, _, _ in CASES if a not in SOURCES])

    def states():
        got = alertmanager.alerts()
        names = {a["fingerprint"]: a["labels"]["alertname"] for a in got}
        return {key(a["labels"]): (a["status"]["state"], sorted(names.get(fp, fp) for fp in a["status"]["inhibitedBy"]))
                for a in got}

    def settled():
        got = states()
        return got if all(got.get(key(a["labels"]), ("",))[0] == want for a, want, _ in CASES) else None

    try:
        return testkit.wait_for("every case in its expected state", settled, 30)
    except AssertionError:
        return states()  # each case then fails with its own state


@pytest.mark.parametrize("case", CASES, ids=[f"{describe(a)}-{want}" for a, want, _ in CASES])
def test_inhibition(fed, case):
    a, want, by = case
    state, inhibited_by = fed.get(key(a["labels"]), ("missing", []))
    if want == "suppressed":
        assert state == "suppressed" and len(inhibited_by) == 1 and inhibited_by[0] in by.split("|"), \
            f"state={state} inhibitedBy={inhibited_by}"
    else:
        assert (state, inhibited_by) == ("active", [])


def bodies(sink, path, *texts):
    return [b for b in sink.bodies(path) if all(t in json.dumps(b) for t in texts)]


@pytest.fixture(scope="module")
def delivered(fed, sink):
    testkit.wait_for("the page, the chat message and the heartbeat",
                     lambda: bodies(sink, "/pager", "BudgetExceeded vercel") and
                     bodies(sink, "/chat", "BudgetSpendWarning supabase") and sink.bodies("/heartbeat"), 30)
    time.sleep(SETTLE)
    return sink


def test_a_critical_pages_with_value_runbook_and_dashboard(delivered, work_module):
    page = bodies(delivered, "/pager", "BudgetExceeded vercel")[0]
    routing_key = (work_module / "am/secrets/pager_routing_key").read_text().strip()
    assert page["routing_key"] == routing_key
    assert page["event_action"] == "trigger"
    payload = page["payload"]
    assert payload["summary"] == "[FIRING:1] BudgetExceeded vercel (t-budget)"
    assert payload["severity"] == "critical"
    details = payload["custom_details"]
    link = GRAFANA + "opswatch-cost?var-provider=vercel"
    assert {k: details[k] for k in ("alertname", "provider", "env", "value", "runbook_url", "dashboard_url")} == {
        "alertname": "BudgetExceeded", "provider": "vercel", "env": "t-budget", "value": "81% of budget",
        "runbook_url": RUNBOOKS + "budget-exceeded.md", "dashboard_url": link}
    for line in ("Value: 81% of budget", f"Runbook: {RUNBOOKS}budget-exceeded.md", f"Dashboard: {link}"):
        assert line in details["firing"]
    assert {(link["text"], link["href"]) for link in page["links"]} == {
        ("Runbook", RUNBOOKS + "budget-exceeded.md"), ("Dashboard", link)}
    assert page["client_url"] == link


def test_a_quota_page_links_the_health_dashboard_with_its_provider(delivered):
    page = testkit.wait_for("the quota page", lambda: bodies(delivered, "/pager", "QuotaExhausted azure_openai"), 30)[0]
    link = GRAFANA + "opswatch-health?var-provider=azure_openai"
    assert page["client_url"] == link
    assert page["payload"]["custom_details"]["dashboard_url"] == link
    assert ("Dashboard", link) in {(l["text"], l["href"]) for l in page["links"]}
    assert f"Dashboard: {link}" in page["payload"]["custom_details"]["firing"]


def test_a_warning_reaches_the_chat_with_value_runbook_and_dashboard(delivered):
    attachment = bodies(delivered, "/chat", "BudgetSpendWarning supabase")[0]["attachments"][0]
    link = GRAFANA + "opswatch-cost?var-provider=supabase"
    for line in ("Value: 81% of budget", f"Runbook: {RUNBOOKS}budget-spend-warning.md", f"Dashboard: {link}"):
        assert line in attachment["text"]
    assert {(a["text"], a["url"]) for a in attachment["actions"]} == {
        ("Runbook", RUNBOOKS + "budget-spend-warning.md"), ("Dashboard", link)}


def test_only_the_heartbeat_goes_to_the_dead_mans_switch(delivered):
    names = [a["labels"]["alertname"] for b in delivered.bodies("/heartbeat") for a in b["alerts"]]
    assert names and set(names) == {"OpswatchHeartbeat"}


@pytest.mark.parametrize("text", ["BudgetSpendWarning vercel (t-budget)", "BudgetSpendCritical vercel",
                                  "QuotaCritical azure_openai", "AppHealthDegraded", "OpswatchTestRecord",
                                  "BudgetSpendCritical total (t-total)", "ExternalCallsFailing azure_openai"])
def test_inhibited_and_info_alerts_reach_nobody(delivered, text):
    assert not any(text in json.dumps(r["body"]) for r in delivered.received)


def test_criticals_never_go_to_chat_and_warnings_never_page(delivered):
    assert not bodies(delivered, "/chat", "BudgetExceeded") and not bodies(delivered, "/chat", "OpswatchExporterDown")
    assert not bodies(delivered, "/pager", "BudgetSpendWarning") and not bodies(delivered, "/pager", "IncidentSpike")


def pages(sink, env):
    return [b for b in sink.bodies("/pager") if b["payload"]["custom_details"].get("env") == env]


def chats(sink, env):
    return [b for b in sink.bodies("/chat") if f"({env})" in b["attachments"][0]["title"]]


def test_one_cause_gives_exactly_one_page(alertmanager, sink):
    """#13.3 With the shipped defaults (total = fixed fees + Azure OpenAI's remainder), an Azure overspend
    fires every budget alert of azure_openai and of the total at once: one page, naming azure_openai, and
    nothing in the chat (each warning is silenced by its provider's page or by Azure's alert)."""
    env = "t-one-cause"
    everything = [alert(env, name, severity, provider=provider)
                  for provider in ("azure_openai", "total")
                  for name, severity in (("BudgetExceeded", "critical"), ("BudgetSpendCritical", "critical"),
                                         ("BudgetSpendWarning", "warning"), ("BudgetForecastOverBudget", "warning"))]
    alertmanager.post(everything)
    testkit.wait_for("the page", lambda: pages(sink, env), 30)
    time.sleep(SETTLE)
    got = pages(sink, env)
    assert [(p["event_action"], p["payload"]["summary"]) for p in got] == [
        ("trigger", f"[FIRING:1] BudgetExceeded azure_openai ({env})")]
    assert chats(sink, env) == []


def test_the_total_alone_links_the_cost_dashboard_with_every_provider(alertmanager, sink):
    """The total budget's alert (provider="total", no such provider on the dashboard) opens the cost
    dashboard on All: the link Grafana itself writes for All, $__all, reaches the chat as it is."""
    env = "t-total-alone"
    alertmanager.post([alert(env, "BudgetSpendWarning", "warning", provider="total")])
    attachment = testkit.wait_for("the chat message", lambda: chats(sink, env), 30)[0]["attachments"][0]
    link = GRAFANA + "opswatch-cost?var-provider=$__all"
    assert f"Dashboard: {link}" in attachment["text"]
    assert ("Dashboard", link) in {(a["text"], a["url"]) for a in attachment["actions"]}


def test_the_totals_critical_before_azures_is_no_page(alertmanager, sink):
    """#13.3 At 71.50 EUR of Azure spend the total is at 95 % (critical) and Azure at 90.5 % (warning): the
    chat hears about Azure, the pager hears nothing."""
    env = "t-ninety"
    alertmanager.post([alert(env, "BudgetSpendWarning", "warning", provider="azure_openai"),
                       alert(env, "BudgetSpendWarning", "warning", provider="total"),
                       alert(env, "BudgetSpendCritical", "critical", provider="total")])
    testkit.wait_for("the chat message", lambda: chats(sink, env), 30)
    time.sleep(SETTLE)
    assert [c["attachments"][0]["title"] for c in chats(sink, env)] == [
        f"[FIRING:1] BudgetSpendWarning azure_openai ({env})"]
    assert pages(sink, env) == []
