"""#13.1 end to end: an exporter restart (failed scrapes, stale series) sends no resolve to the pager or the chat.

Real Prometheus 2.42 with the repository's rules rendered by prometheus/render_rules.py (1s scrapes and
evaluations, every for:/keep_firing_for capped at FAST), the real Alertmanager with alertmanager.yml
(receivers to a local sink, group_wait 1s, group_interval 1s so that a resolve would be sent at once), and a
stand-in exporter serving a fixed exposition: azure_openai over its budget (BudgetExceeded, a page) and
brave_search past its warning (BudgetSpendWarning, the chat). The stand-in then answers 503 for GAP seconds,
as a restarting exporter does, and comes back.

The control renders the same rules without keep_firing_for: the warning then resolves in the gap and the
chat gets the resolve, which proves the test can see one. Timing: GAP is well under FAST, and every wait is
bounded; a slow machine makes the gap look longer to Prometheus, which the slack (FAST - GAP) absorbs."""
import time

import pytest
import yaml

import alerting_servers
import testkit

FAST = "20s"
GAP = 6  # seconds of failed scrapes
AFTER = 25  # seconds watched after the gap: longer than FAST, so a late resolve would be seen

EXPOSITION = """\
# TYPE opswatch_budget_usage_ratio gauge
opswatch_budget_usage_ratio{provider="azure_openai"} 1.2
opswatch_budget_usage_ratio{provider="brave_search"} 0.85
# TYPE opswatch_budget_warning_ratio gauge
opswatch_budget_warning_ratio{provider="azure_openai"} 0.8
opswatch_budget_warning_ratio{provider="brave_search"} 0.8
# TYPE opswatch_budget_critical_ratio gauge
opswatch_budget_critical_ratio{provider="azure_openai"} 0.95
opswatch_budget_critical_ratio{provider="brave_search"} 0.95
# TYPE opswatch_budget_total_usage_ratio gauge
opswatch_budget_total_usage_ratio 0.5
# TYPE opswatch_budget_total_warning_ratio gauge
opswatch_budget_total_warning_ratio 0.8
# TYPE opswatch_budget_total_critical_ratio gauge
opswatch_budget_total_critical_ratio 0.95
# TYPE opswatch_provider_info gauge
opswatch_provider_info{provider="azure_openai",kind="metered",display_name="Azure OpenAI"} 1
opswatch_provider_info{provider="brave_search",kind="metered",display_name="Brave Search"} 1
"""


class StandInExporter(testkit.ScrapeTarget):
    """GET /metrics: EXPOSITION, or 503 while `down`."""

    def __init__(self):
        self.down = False
        super().__init__(lambda: (503, "restarting\n") if self.down else (200, EXPOSITION))


def notifications(sink):
    """[(receiver, what)] in arrival order: pager events and chat titles."""
    out = []
    for r in sink.received:
        if r["path"] == "/pager":
            out.append(("pager", f"{r['body']['event_action']} {r['body']['payload']['summary']}"))
        elif r["path"] == "/chat":
            out.append(("chat", r["body"]["attachments"][0]["title"]))
    return out


def run_gap(repo, work, keep_firing):
    exporter = StandInExporter()
    sink = testkit.WebhookSink()
    am = prometheus = None
    try:
        am = alerting_servers.Alertmanager(work, alerting_servers.sink_config(
            repo, sink.url(""), work / "am", group_wait="1s", group_interval="1s"))
        rendered = work / "prometheus"
        render = alerting_servers.render_rules_module(repo)
        assert render.main(["render", "e2e", "--out", str(rendered), "--fast", FAST,
                            "--exporter", f"127.0.0.1:{exporter.port}", "--alertmanager", f"127.0.0.1:{am.port}"]) == 0
        if not keep_firing:
            for path in (rendered / "rules").glob("*.yml"):
                doc = yaml.safe_load(path.read_text())
                for group in doc["groups"]:
                    for rule in group["rules"]:
                        rule.pop("keep_firing_for", None)
                path.write_text(yaml.safe_dump(doc))
        prometheus = alerting_servers.Prometheus(work, rendered / "prometheus.yml")

        wanted = {("pager", "trigger [FIRING:1] BudgetExceeded azure_openai (demo)"),
                  ("chat", "[FIRING:1] BudgetSpendWarning brave_search (demo)")}
        testkit.wait_for("the page and the chat message", lambda: wanted <= set(notifications(sink)), 120)
        before = notifications(sink)

        exporter.down = True
        testkit.wait_for("Prometheus to see the exporter down",
                         lambda: prometheus.query('up{job="opswatch"} == 0'), 30, interval=0.2)
        time.sleep(GAP)
        exporter.down = False
        testkit.wait_for("Prometheus to see the exporter up",
                         lambda: prometheus.query('up{job="opswatch"} == 1'), 30, interval=0.2)
        time.sleep(AFTER)
        firing = {a["labels"]["alertname"] + " " + a["labels"].get("provider", "")
                  for a in prometheus.api("alerts")["alerts"] if a["state"] == "firing"}
        return before, notifications(sink)[len(before):], firing
    finally:
        for process in (prometheus, am):
            if process:
                process.stop()
        sink.close()
        exporter.close()


def test_an_exporter_restart_sends_no_resolve(repo, tmp_path):
    before, after, firing = run_gap(repo, tmp_path, keep_firing=True)
    print(f"\nbefore the gap: {before}\nafter it: {after}\nfiring at the end: {sorted(firing)}")
    assert after == [], "a notification was sent because of the gap"
    assert {"BudgetExceeded azure_openai", "BudgetSpendWarning brave_search"} <= firing


@pytest.mark.parametrize("control", ["without keep_firing_for"])
def test_control_the_same_gap_without_keep_firing_for_resolves_the_warning(repo, tmp_path, control):
    _, after, _ = run_gap(repo, tmp_path, keep_firing=False)
    print(f"\nafter the gap ({control}): {after}")
    assert ("chat", "[RESOLVED] BudgetSpendWarning brave_search (demo)") in after
