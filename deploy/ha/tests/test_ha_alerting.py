"""HA alerting as the Prometheus Operator runs it, on loopback: two Prometheus 2.42 replicas, each with its own
prometheus_replica external label that alert relabeling drops (the Operator's generated config), sending to two
Alertmanager 0.25 instances clustered with --cluster.listen-address/--cluster.peer. They load the real
prometheus/rules/ and alertmanager/alertmanager.yml (receivers pointed at a local sink by
alertmanager/sink-config.sh) and scrape a static stand-in of the exporter whose exposition breaches a budget.

Proved: each alert group reaches the pager exactly once; after SIGKILL of the Alertmanager that sent, a new group
still arrives exactly once and nothing is re-sent. Two negative controls (no cluster; replica label kept) show
duplicates, so the test can fail.

Each Alertmanager gets its own copy of the config whose sink path names it (/am-a/pager, /am-b/pager): the
cluster deduplicates by receiver and group, not by URL, so the sink tells who sent what. Three timings are
shortened so the run takes minutes, the alerting engineer's `fast` profile does the same: every `for` and
`keep_firing_for` at most FOR_CAP, 2 s scrapes and evaluations, and group_interval at most GROUP_INTERVAL_CAP so
that the survivor re-evaluates the old group several times after the kill. group_wait, repeat_interval and the
cluster's timings (--cluster.peer-timeout 15s, gossip, probes) are Alertmanager's and the config's own.
Nothing here names an alert: groups are told apart by PagerDuty's dedup_key, which Alertmanager derives from
the group key."""
import os
import re
import shutil
import signal
import subprocess
import time

import pytest
import yaml

import testkit

REPO = testkit.REPO
FOR_CAP = 10            # seconds
GROUP_INTERVAL_CAP = 20  # seconds
INTERVAL = "2s"
REPLICA_LABEL = "prometheus_replica"  # the Operator's default replicaExternalLabelName
FIRST_PAGE_TIMEOUT = 150
SETTLE = 15 + 10         # --cluster.peer-timeout (15s) plus margin: the second Alertmanager's chance to re-send
PROVIDERS = {"azure_openai": "Azure OpenAI", "brave_search": "Brave Search"}


# --- the exporter stand-in ---------------------------------------------------------------------------------

class Exposition(testkit.ScrapeTarget):
    """Serves a fixed exposition of docs/metrics.md families: every source healthy, a 10-day-old billing
    period, and the providers in `over_budget` at 120 % of their budget (the others at 40 %)."""

    def __init__(self, over_budget):
        self.over_budget = set(over_budget)
        self.period_start = int(time.time()) - 10 * 86400
        super().__init__(lambda: (200, self.text()))

    def text(self):
        now = time.time()
        start, end = self.period_start, self.period_start + 30 * 86400
        lines = ["opswatch_build_info{version=\"ha-test\",revision=\"none\"} 1",
                 f"opswatch_billing_period_start_timestamp_seconds {start}",
                 f"opswatch_billing_period_end_timestamp_seconds {end}"]
        total = 0.0
        for provider, name in PROVIDERS.items():
            ratio = 1.2 if provider in self.over_budget else 0.4
            spend = 100 * ratio
            total += spend
            p = f'provider="{provider}"'
            lines += [f'opswatch_provider_info{{{p},kind="metered",display_name="{name}"}} 1',
                      f"opswatch_budget_eur{{{p}}} 100", f"opswatch_cost_month_to_date_eur{{{p}}} {spend}",
                      f"opswatch_cost_forecast_eur{{{p}}} {spend * 3}", f"opswatch_budget_usage_ratio{{{p}}} {ratio}",
                      f"opswatch_budget_forecast_ratio{{{p}}} {ratio * 3}",
                      f"opswatch_budget_warning_ratio{{{p}}} 0.8", f"opswatch_budget_critical_ratio{{{p}}} 0.95"]
        lines += ["opswatch_budget_total_eur 1000", f"opswatch_cost_total_month_to_date_eur {total}",
                  f"opswatch_cost_total_forecast_eur {total * 3}", f"opswatch_budget_total_usage_ratio {total / 1000}",
                  f"opswatch_budget_total_forecast_ratio {total * 3 / 1000}",
                  "opswatch_budget_total_warning_ratio 0.8", "opswatch_budget_total_critical_ratio 0.95"]
        for source in ["costs", "quotas_fast", "quotas_slow", "incidents"]:
            s = f'source="{source}"'
            lines += [f"opswatch_source_up{{{s}}} 1", f"opswatch_source_last_success_timestamp_seconds{{{s}}} {now}",
                      f"opswatch_source_refresh_interval_seconds{{{s}}} 60", f"opswatch_source_errors_total{{{s}}} 0"]
        return "\n".join(lines) + "\n"


# --- configs -----------------------------------------------------------------------------------------------

def seconds(duration):
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}
    parts = re.findall(r"(\d+)(ms|s|m|h|d|w|y)", str(duration))
    assert parts and "".join(n + u for n, u in parts) == str(duration), f"not a duration: {duration}"
    return sum(int(n) * units[u] for n, u in parts)


def capped_rules(work):
    """prometheus/rules/*.yml with every `for` and `keep_firing_for` at most FOR_CAP seconds."""
    out = work / "rules"
    out.mkdir()
    for path in sorted((REPO / "prometheus/rules").glob("*.yml")):
        content = yaml.safe_load(path.read_text())
        for group in content.get("groups") or []:
            for rule in group.get("rules") or []:
                for key in ["for", "keep_firing_for"]:
                    if key in rule and seconds(rule[key]) > FOR_CAP:
                        rule[key] = f"{FOR_CAP}s"
        (out / path.name).write_text(yaml.safe_dump(content, sort_keys=False))
    return out


def prometheus_config(work, replica, rules, exporter_port, alertmanager_ports, drop_replica_label):
    """prometheus/prometheus.yml's job and external labels, as the Operator would run replica `replica`."""
    source = yaml.safe_load((REPO / "prometheus/prometheus.yml").read_text())
    [job] = [s["job_name"] for s in source["scrape_configs"]]
    labels = dict(source["global"].get("external_labels") or {})
    labels.update({"prometheus": "ha/opswatch", REPLICA_LABEL: replica})
    alerting = {"alertmanagers": [{"static_configs": [{"targets": [f"127.0.0.1:{p}" for p in alertmanager_ports]}]}]}
    if drop_replica_label:
        # What the Operator generates (pkg/prometheus/promcfg.go: "Drop the replica label to enable proper
        # deduplication on the Alertmanager side").
        alerting["alert_relabel_configs"] = [{"action": "labeldrop", "regex": REPLICA_LABEL}]
    config = {"global": {"scrape_interval": INTERVAL, "scrape_timeout": INTERVAL, "evaluation_interval": INTERVAL,
                         "external_labels": labels},
              "rule_files": [str(rules / "*.yml")],
              "alerting": alerting,
              "scrape_configs": [{"job_name": job, "static_configs": [{"targets": [f"127.0.0.1:{exporter_port}"]}]}]}
    path = work / f"prometheus-{replica}.yml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def cap_group_interval(route):
    if "group_interval" in route and seconds(route["group_interval"]) > GROUP_INTERVAL_CAP:
        route["group_interval"] = f"{GROUP_INTERVAL_CAP}s"
    for child in route.get("routes") or []:
        cap_group_interval(child)


def alertmanager_config(work, name, sink):
    """alertmanager/alertmanager.yml through alertmanager/sink-config.sh, posting to SINK/<name>/..."""
    out = work / name
    subprocess.run([str(REPO / "alertmanager/sink-config.sh"), "--sink", sink.url(f"/{name}"), "--out", str(out)],
                   check=True, capture_output=True, text=True)
    config = yaml.safe_load((out / "alertmanager.yml").read_text())
    config["route"].setdefault("group_interval", "5m")
    cap_group_interval(config["route"])
    (out / "alertmanager.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    return out / "alertmanager.yml"


# --- the pair of pairs -------------------------------------------------------------------------------------

def binary(*names):
    for name in names:
        if name and shutil.which(name):
            return shutil.which(name)
    pytest.fail(f"none of {[n for n in names if n]} is installed")


class Timeline:
    def __init__(self):
        self.start = time.time()
        self.events = []

    def add(self, text, at=None):
        self.events.append(((at or time.time()) - self.start, text))
        self.events.sort(key=lambda e: e[0])

    def show(self, title):
        print(f"\n--- timeline: {title}")
        for at, text in self.events:
            print(f"  t={at:6.1f}s  {text}")


class Stack:
    """Two Alertmanagers (am-a, am-b) and two Prometheus replicas (replica-0, replica-1)."""

    def __init__(self, work, processes, sink, exposition, *, cluster, drop_replica_label, timeline):
        self.sink, self.timeline = sink, timeline
        am_bin = binary(os.environ.get("ALERTMANAGER_BIN"), "alertmanager", "prometheus-alertmanager")
        prom_bin = binary("prometheus")
        ports = {n: (testkit.free_port(), testkit.free_port()) for n in ["am-a", "am-b"]}
        self.alertmanagers = {}
        for name, (web, gossip) in ports.items():
            args = [am_bin, f"--config.file={alertmanager_config(work, name, sink)}",
                    f"--storage.path={work / name / 'data'}", f"--web.listen-address=127.0.0.1:{web}",
                    f"--web.external-url=http://127.0.0.1:{web}"]
            if cluster:
                peer = [g for n, (_, g) in ports.items() if n != name][0]
                args += [f"--cluster.listen-address=127.0.0.1:{gossip}", f"--cluster.advertise-address=127.0.0.1:{gossip}",
                         f"--cluster.peer=127.0.0.1:{peer}"]
            else:
                args += ["--cluster.listen-address="]
            self.alertmanagers[name] = {"process": processes.start(name, args), "url": f"http://127.0.0.1:{web}"}
            timeline.add(f"started {name} (pid {self.alertmanagers[name]['process'].pid}, "
                         f"{'clustered' if cluster else 'no cluster'})")
        for name, am in self.alertmanagers.items():
            testkit.wait_for(f"{name} ready", lambda: testkit.http_get(am["url"] + "/-/ready")[0] == 200, 60)
            if cluster:
                testkit.wait_for(f"{name} sees 2 peers, settled", lambda: self.cluster_ready(am["url"]), 60)
        rules = capped_rules(work)
        self.prometheus = {}
        for replica in ["replica-0", "replica-1"]:
            port = testkit.free_port()
            config = prometheus_config(work, replica, rules, exposition.port, [p[0] for p in ports.values()],
                                       drop_replica_label)
            process = processes.start(f"prometheus-{replica}", [
                prom_bin, f"--config.file={config}", f"--storage.tsdb.path={work / replica}",
                f"--web.listen-address=127.0.0.1:{port}"])
            self.prometheus[replica] = f"http://127.0.0.1:{port}"
            timeline.add(f"started prometheus {replica} (pid {process.pid}, "
                         f"{REPLICA_LABEL} {'dropped' if drop_replica_label else 'kept'} in alert relabeling)")
        for replica, url in self.prometheus.items():
            testkit.wait_for(f"prometheus {replica} ready", lambda: testkit.http_get(url + "/-/ready")[0] == 200, 60)

    @staticmethod
    def cluster_ready(url):
        status = testkit.http_json(url + "/api/v2/status")["cluster"]
        return status["status"] == "ready" and len(status.get("peers") or []) == 2

    def pages(self):
        """Every PagerDuty event the sink got: (who sent it, dedup_key, event_action, num_firing, summary)."""
        pages = []
        for record in list(self.sink.received):
            match = re.fullmatch(r"/(am-[ab])/pager", record["path"])
            if match:
                body = record["body"]
                details = body.get("payload", {}).get("custom_details", {})
                pages.append({"by": match.group(1), "at": record["at"], "key": body.get("dedup_key"),
                              "action": body.get("event_action"), "num_firing": int(details.get("num_firing", 0)),
                              "summary": body.get("payload", {}).get("summary")})
        return [p for p in pages if p["action"] == "trigger"]

    def pager_groups(self, alertmanager):
        """Active pager groups as an Alertmanager sees them: [(group labels, alerts' label sets)]."""
        groups = testkit.http_json(self.alertmanagers[alertmanager]["url"] + "/api/v2/alerts/groups")
        out = []
        for group in groups:
            alerts = [a["labels"] for a in group["alerts"] if a["status"]["state"] == "active"]
            if group["receiver"]["name"] == "pager" and alerts:
                out.append((group["labels"], alerts))
        return out

    def per_group(self):
        counts = {}
        for page in self.pages():
            counts.setdefault(page["key"], []).append(page)
        return counts

    def log_pages(self, since=0):
        for page in self.pages()[since:]:
            self.timeline.add(f"pager got {page['summary']!r} from {page['by']} "
                              f"(dedup_key {page['key'][:12]}, num_firing {page['num_firing']})", at=page["at"])


@pytest.fixture
def sink():
    s = testkit.WebhookSink()
    yield s
    s.close()


@pytest.fixture
def exposition():
    e = Exposition(over_budget=["azure_openai"])
    yield e
    e.close()


def wait_for_pages(stack, what, predicate, timeout):
    return testkit.wait_for(what, lambda: predicate(stack.pages()), timeout, interval=1)


# --- the tests ---------------------------------------------------------------------------------------------

def test_each_group_pages_once_and_a_sigkill_neither_loses_nor_repeats_one(work, processes, sink, exposition):
    timeline = Timeline()
    stack = Stack(work, processes, sink, exposition, cluster=True, drop_replica_label=True, timeline=timeline)
    timeline.add(f"exporter stand-in: {sorted(exposition.over_budget)} over budget")
    try:
        # Phase 1: the first groups page once, from one Alertmanager; the other one stays quiet past its
        # peer-timeout wait because the notification log reached it over gossip.
        wait_for_pages(stack, "a first page", lambda pages: pages, FIRST_PAGE_TIMEOUT)
        time.sleep(SETTLE)
        before = stack.pages()
        for key, pages in stack.per_group().items():
            assert len(pages) == 1, f"group {key} paged {len(pages)} times: {pages}"
        senders = {p["by"] for p in before}
        assert len(senders) == 1, f"both Alertmanagers paged: {before}"
        [sender] = senders
        survivor = "am-b" if sender == "am-a" else "am-a"
        groups = stack.pager_groups(survivor)
        assert len(groups) == len(stack.per_group()), (groups, before)
        assert sum(p["num_firing"] for p in before) == sum(len(alerts) for _, alerts in groups)
        assert not [a for _, alerts in groups for a in alerts if REPLICA_LABEL in a], "the replica label was dropped"
        stack.log_pages()
        timeline.add(f"{SETTLE}s after the first page: {len(before)} pages, all from {sender}; "
                     f"{survivor} sent none")

        # Phase 2: SIGKILL the sender, then breach a second budget: a new group.
        process = stack.alertmanagers[sender]["process"]
        os.kill(process.pid, signal.SIGKILL)
        process.proc.wait(timeout=10)
        timeline.add(f"SIGKILL {sender} (pid {process.pid})")
        exposition.over_budget |= set(PROVIDERS)
        timeline.add(f"exporter stand-in: {sorted(exposition.over_budget)} over budget")
        old_keys = set(stack.per_group())
        wait_for_pages(stack, "a page for a new group after the kill",
                       lambda pages: [p for p in pages if p["key"] not in old_keys], FIRST_PAGE_TIMEOUT)
        # Long enough for the survivor to flush every group at least twice (group_interval) and for a second
        # page of the new group to show up if one were coming.
        time.sleep(2 * GROUP_INTERVAL_CAP + 10)
        stack.log_pages(len(before))
        timeline.add(f"end of observation: {len(stack.pages())} pages for {len(stack.per_group())} groups, "
                     f"{len(before)} before the kill")
        after = stack.pages()[len(before):]
        assert after and {p["by"] for p in after} == {survivor}, after
        new_keys = {p["key"] for p in after}
        assert not new_keys & old_keys, f"a group paged before the kill was paged again: {after}"
        for key, pages in stack.per_group().items():
            assert len(pages) == 1, f"group {key} paged {len(pages)} times: {pages}"
        assert len(stack.pager_groups(survivor)) == len(stack.per_group())
    finally:
        timeline.show("clustered Alertmanagers, replica label dropped, SIGKILL of the sender")


@pytest.mark.parametrize("control", ["no cluster", "replica label kept"])
def test_negative_controls_show_duplicates(work, processes, sink, exposition, control):
    timeline = Timeline()
    stack = Stack(work, processes, sink, exposition, cluster=control != "no cluster",
                  drop_replica_label=control != "replica label kept", timeline=timeline)
    timeline.add(f"exporter stand-in: {sorted(exposition.over_budget)} over budget")
    try:
        wait_for_pages(stack, "a first page", lambda pages: pages, FIRST_PAGE_TIMEOUT)
        # Enough for a second Alertmanager's page (peer timeout) or a second notification of a changed group.
        time.sleep(max(SETTLE, GROUP_INTERVAL_CAP + 10))
        stack.log_pages()
        groups = stack.pager_groups("am-a")
        logical = sum(len({tuple(sorted((k, v) for k, v in a.items() if k != REPLICA_LABEL)) for a in alerts})
                      for _, alerts in groups)
        delivered = sum(p["num_firing"] for p in stack.pages())
        duplicate_pages = {k: len(v) for k, v in stack.per_group().items() if len(v) > 1}
        timeline.add(f"{len(stack.pages())} pages for {len(stack.per_group())} groups; "
                     f"{delivered} alerts delivered for {logical} distinct alerts")
        assert duplicate_pages or delivered > logical, (
            f"{control}: expected duplicates, got {stack.pages()} for groups {groups}")
        if control == "no cluster":
            assert {p["by"] for p in stack.pages()} == {"am-a", "am-b"}, "each Alertmanager paged on its own"
        else:
            assert [a for _, alerts in groups for a in alerts if REPLICA_LABEL in a], "alerts differ by replica"
    finally:
        timeline.show(f"negative control: {control}")
