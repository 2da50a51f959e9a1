#!/usr/bin/python3
"""The demo's timeline, computed from the configuration the compose stack runs with.

    demo/compose/timeline.py            # print the timeline section of demo/compose/README.md
    demo/compose/timeline.py --update   # rewrite that section (between its timeline markers)

Everything comes from the files: docker-compose.yml (and demo/compose/fast.yml for the fast demo), as
`docker-compose config` merges them; the Prometheus config and rules compose mounts; the Alertmanager
config compose mounts; the exporter's reference.conf (cost refresh interval, jitter, budgets) with the
compose environment's CONFIG_FORCE_ overrides; the exporter image's HEALTHCHECK; demo-traffic.sh --plan.
demo/compose/tests/test_stack.py fails when the README's section differs from what this prints.

Times are seconds after the database is healthy (the first run adds the image pulls and the exporter
build, and the database's first start loads the seed before it is healthy).
"""
import argparse
import glob
import json
import math
import os
import re
import subprocess
import sys

import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
README = os.path.join(REPO, "demo/compose/README.md")
START, END = "<!-- timeline:start (demo/compose/timeline.py --update) -->", "<!-- timeline:end -->"
PROFILES = {"demo": ["docker-compose.yml"], "fast": ["docker-compose.yml", "demo/compose/fast.yml"]}


def duration(text):
    """Seconds of a Prometheus/HOCON duration such as 15s, 5m, 1h30m, 500ms."""
    text = str(text).strip()
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)", text)
    if not parts or "".join(n + u for n, u in parts) != text.replace(" ", ""):
        raise ValueError(f"not a duration: {text!r}")
    return sum(float(n) * units[u] for n, u in parts)


def compose_config(files):
    args = ["docker-compose", "--project-directory", REPO]
    for f in files:
        args += ["-f", os.path.join(REPO, f)]
    out = subprocess.run(args + ["config"], capture_output=True, text=True, cwd=REPO,
                         env={k: v for k, v in os.environ.items()
                              if not k.startswith(("DEMO_", "GRAFANA_PORT", "PROMETHEUS_PORT", "ALERTMANAGER_PORT"))})
    if out.returncode != 0:
        raise RuntimeError(f"docker-compose config failed: {out.stderr.strip()}")
    return yaml.safe_load(out.stdout)


def mount_source(service, target):
    """The host path bind-mounted at target (or at a parent of it) in a normalized compose service."""
    best = None
    for v in service.get("volumes") or []:
        if isinstance(v, dict):
            source, dest = v.get("source", ""), v["target"]
        else:
            parts = v.split(":")
            if len(parts) < 2:
                continue
            source, dest = parts[0], parts[1]
        if not source.startswith("/"):
            continue
        if target == dest or target.startswith(dest.rstrip("/") + "/"):
            if best is None or len(dest) > len(best[1]):
                best = (source, dest)
    if best is None:
        return None
    return os.path.normpath(os.path.join(best[0], os.path.relpath(target, best[1])))


def environment(service):
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {k: "" if v is None else str(v) for k, v in env.items()}


def hocon_value(text, block, key):
    """The value of `key` inside the `block { ... }` of reference.conf (flat lookup, enough for sources)."""
    body = re.search(block + r"\s*\{(.*?)\n  \}", text, re.S)
    found = re.search(r"^\s*" + re.escape(key) + r"\s*=\s*(\S+)", body.group(1) if body else "", re.M)
    if not found:
        raise KeyError(f"reference.conf: {block}.{key} not found")
    return found.group(1)


def find_rule(groups, name, metric):
    for group in groups:
        for rule in group.get("rules") or []:
            if rule.get("alert") == name and re.search(r"\b" + metric + r"\b", rule.get("expr", "")):
                return rule
    return None


def matches(matcher, labels):
    m = re.fullmatch(r'\s*(\w+)\s*(=~|!~|!=|=)\s*"?(.*?)"?\s*', matcher)
    name, op, value = m.groups()
    have = labels.get(name, "")
    if op == "=":
        return have == value
    if op == "!=":
        return have != value
    if op == "=~":
        return re.fullmatch(value, have) is not None
    return re.fullmatch(value, have) is None


def inhibited(alert, firing, rules):
    for rule in rules:
        if not all(matches(m, alert) for m in rule.get("target_matchers") or []):
            continue
        for source in firing:
            if source is alert or not all(matches(m, source) for m in rule.get("source_matchers") or []):
                continue
            if all(source.get(label, "") == alert.get(label, "") for label in rule.get("equal") or []):
                return True
    return False


def route_for(route, labels):
    """Alertmanager's first matching child route (these configs do not nest or continue)."""
    for child in route.get("routes") or []:
        if all(matches(m, labels) for m in child.get("matchers") or []):
            return {**route, **child}
    return route


def compute(profile):
    config = compose_config(PROFILES[profile])
    services = config["services"]
    problems = []

    plan_env = {**os.environ, **environment(services["demo-traffic"])}
    plan = subprocess.run(["bash", os.path.join(REPO, "demo/compose/demo-traffic.sh"), "--plan"],
                          capture_output=True, text=True, env=plan_env, check=True).stdout
    plan = dict(line.split("=", 1) for line in plan.split())
    tick, breach_after, ratio = float(plan["interval_seconds"]), float(plan["breach_after_seconds"]), float(plan["breach_ratio"])

    reference = open(os.path.join(REPO, "exporter/src/main/resources/reference.conf"), encoding="utf-8").read()
    refresh = duration(hocon_value(reference, "sources", "costs.refresh-interval"))
    forced = environment(services["exporter"]).get("CONFIG_FORCE_opswatch_sources_costs_refresh__interval")
    if forced:
        refresh = duration(forced)
    jitter = float(hocon_value(reference, "sources", "jitter"))
    total_budget = float(hocon_value(reference, "budget", "total-eur"))
    fees = sum(float(x) for x in re.findall(r"monthly-fee-eur\s*=\s*([\d.]+)", reference))
    azure_budget = total_budget - fees

    prom_args = services["prometheus"].get("command") or []
    config_file = next((a.split("=", 1)[1] for a in prom_args if a.startswith("--config.file=")), "/etc/prometheus/prometheus.yml")
    prom_path = mount_source(services["prometheus"], config_file)
    prom = yaml.safe_load(open(prom_path, encoding="utf-8"))
    job = next(j for j in prom["scrape_configs"] if j["job_name"] == "opswatch")
    scrape = duration(job.get("scrape_interval") or prom["global"]["scrape_interval"])
    evaluation = duration(prom["global"].get("evaluation_interval", "1m"))
    groups = []
    for pattern in prom.get("rule_files") or []:
        for path in sorted(glob.glob(os.path.join(os.path.dirname(prom_path), pattern))):
            groups += (yaml.safe_load(open(path, encoding="utf-8")) or {}).get("groups") or []
    exceeded = find_rule(groups, "BudgetExceeded", "opswatch_budget_usage_ratio")
    hold = duration(exceeded.get("for", "0s"))
    fires_after = math.ceil(hold / evaluation) * evaluation
    spike_history = spike_offset = None
    for rule in (group.get("rules") or [] for group in groups):
        for r in rule:
            if r.get("record") == "provider:opswatch_cost_month_to_date_eur:increase1h_avg24h":
                off = re.search(r"offset\s+(\w+)", r["expr"])
                spike_history = duration(off.group(1)) if off else None
                spike_offset = off.group(1) if off else None

    am_args = services["alertmanager"].get("command") or []
    am_file = next((a.split("=", 1)[1] for a in am_args if a.startswith("--config.file=")), "/etc/alertmanager/alertmanager.yml")
    am = yaml.safe_load(open(mount_source(services["alertmanager"], am_file), encoding="utf-8"))

    # Which pages the breach sends: the critical budget alerts the burst makes true (labelled as their
    # rules and Prometheus' external labels label them), minus those Alertmanager inhibits, one
    # notification per group of the pager's route.
    external = {k: str(v) for k, v in (prom["global"].get("external_labels") or {}).items()}
    total_ratio = (fees + ratio * azure_budget) / total_budget
    critical_ratio = float(hocon_value(reference, "budget", "critical-ratio"))
    firing = []
    for name, threshold in (("BudgetExceeded", 1.0), ("BudgetSpendCritical", critical_ratio)):
        for metric, value in (("opswatch_budget_usage_ratio", ratio), ("opswatch_budget_total_usage_ratio", total_ratio)):
            rule = find_rule(groups, name, metric)
            if rule is None:
                problems.append(f"no {name} rule on {metric}")
            elif value >= threshold:
                labels = {"provider": "azure_openai", **{k: str(v) for k, v in (rule.get("labels") or {}).items()}}
                firing.append({**labels, **external, "alertname": name})
    pages = []
    for alert in firing:
        route = route_for(am["route"], alert)
        if route.get("receiver") == "pager" and not inhibited(alert, firing, am.get("inhibit_rules") or []):
            group = {label: alert.get(label, "") for label in route.get("group_by") or []}
            if group not in pages:
                pages.append(group)
    heartbeat_rule = next((r for g in groups for r in g.get("rules") or [] if r.get("alert") == "OpswatchHeartbeat"), {})
    heartbeat_labels = {**{k: str(v) for k, v in (heartbeat_rule.get("labels") or {}).items()}, **external,
                        "alertname": "OpswatchHeartbeat"}
    critical_route = route_for(am["route"], {"severity": "critical", "alertname": "BudgetExceeded"})
    group_wait = duration(critical_route.get("group_wait", "30s"))
    heartbeat_route = route_for(am["route"], heartbeat_labels)

    healthcheck = re.search(r"HEALTHCHECK\s+--interval=(\w+)", open(os.path.join(REPO, "exporter/Dockerfile")).read())
    exporter_healthy = duration(healthcheck.group(1))

    burst = (breach_after, breach_after + tick + 1)          # the first tick at or after breach_after; SECONDS is whole
    seen = (burst[0], burst[1] + refresh * (1 + jitter))     # the exporter's next cost refresh
    scraped = (seen[0], seen[1] + scrape)
    pending = (scraped[0], scraped[1] + evaluation)
    firing_at = (pending[0] + fires_after, pending[1] + fires_after)
    page = (firing_at[0] + group_wait, firing_at[1] + group_wait)
    return {
        "profile": profile, "mode": plan["mode"], "tick": tick, "breach_after": breach_after, "ratio": ratio,
        "refresh": refresh, "jitter": jitter, "scrape": scrape, "evaluation": evaluation, "for": hold,
        "group_wait": group_wait, "exporter_healthy": exporter_healthy, "burst": burst, "seen": seen,
        "pending": pending, "firing": firing_at, "page": page, "pages": pages, "total_ratio": total_ratio,
        "azure_budget": azure_budget, "spike_history": spike_history, "spike_offset": spike_offset,
        "heartbeat_repeat": duration(heartbeat_route.get("repeat_interval", "4h")),
        "rules_dir": os.path.relpath(os.path.dirname(prom_path), REPO), "problems": problems,
    }


def span(pair):
    lo, hi = pair
    return fmt(lo) if round(lo) == round(hi) else f"{fmt(lo)}–{fmt(hi)}"


def words(seconds):
    """5 minutes, 1 hour: for prose."""
    for unit, size in (("hour", 3600), ("minute", 60), ("second", 1)):
        if seconds >= size and seconds % size == 0:
            n = int(seconds // size)
            return f"{n} {unit}{'s' if n != 1 else ''}"
    return f"{seconds:g} seconds"


def fmt(seconds):
    seconds = int(round(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"


def render(demo, fast):
    def page_names(t):
        return " and ".join(f"`{p.get('alertname')}` for `{p.get('provider')}`" for p in t["pages"])

    lines = [START, "",
             "Minutes:seconds after the database is healthy, earliest–latest, as computed by",
             "`demo/compose/timeline.py` from the files the stack runs with (the `stack` suite fails when",
             "this table and the files disagree):", "",
             "| step | `docker compose up` | fast demo (`-f demo/compose/fast.yml`) | from |",
             "|---|---|---|---|"]
    rows = [
        ("exporter healthy, Prometheus starts", (demo["exporter_healthy"],) * 2, (fast["exporter_healthy"],) * 2,
         "the exporter image's HEALTHCHECK `--interval`"),
        ("`demo-traffic` bursts (log line `BURST`)", demo["burst"], fast["burst"],
         "`DEMO_BREACH_AFTER_SECONDS`, then the next tick of `DEMO_INTERVAL_SECONDS`"),
        ("the exporter reports the ratio ≥ 1", demo["seen"], fast["seen"],
         "its cost refresh interval ± jitter (reference.conf, `CONFIG_FORCE_` in compose)"),
        ("`BudgetExceeded` pending in Prometheus", demo["pending"], fast["pending"],
         "scrape and evaluation intervals (the mounted prometheus.yml)"),
        ("`BudgetExceeded` firing", demo["firing"], fast["firing"], "its `for:` in the mounted rules"),
        ("**the page** (`docker compose logs webhook-sink`: `PAGE trigger`)", demo["page"], fast["page"],
         "the critical route's `group_wait` (mounted alertmanager.yml)"),
    ]
    for name, a, b, source in rows:
        lines.append(f"| {name} | {span(a)} | {span(b)} | {source} |")
    lines += ["",
              f"Settings behind it: a tick every {demo['tick']:g} s, the burst after {demo['breach_after']:g} s "
              f"(fast: {fast['breach_after']:g} s) to {demo['ratio']:g} × Azure OpenAI's {demo['azure_budget']:g} EUR "
              f"budget; cost refresh every {demo['refresh']:g} s ± {demo['jitter'] * 100:g} % (fast: {fast['refresh']:g} s); "
              f"scrapes and evaluations every {demo['scrape']:g} s and {demo['evaluation']:g} s; `for:` "
              f"{fmt(demo['for'])} (fast: {fmt(fast['for'])}, `{fast['rules_dir']}/`); `group_wait` {demo['group_wait']:g} s.",
              "",
              f"**{len(demo['pages'])} page{'s' if len(demo['pages']) != 1 else ''}**: {page_names(demo)}. "
              f"The burst takes the total spend to {demo['total_ratio'] * 100:.1f} % of the total budget "
              "(the fixed fees plus Azure OpenAI), so the total budget is exceeded too"
              + (", and both page until the alerting fix for one-cause duplicates (#13) lands." if len(demo["pages"]) > 1
                 else "; Alertmanager sends one page for the one cause.")
              + " `BudgetSpendCritical` fires with it and is inhibited.", ""]
    if demo["spike_history"]:
        lines += [f"`LLMSpendSpike` cannot fire before Prometheus has {words(demo['spike_history'])} of history, "
                  f"fast demo included: its hourly norm is an average taken `offset {demo['spike_offset']}` back, "
                  "which has no samples before then.", ""]
    lines += [f"`OpswatchHeartbeat` reaches the sink's `/heartbeat` once Prometheus runs, then every "
              f"{words(demo['heartbeat_repeat'])}.", "", END]
    return "\n".join(lines)


def readme_section(text):
    start, end = text.find(START), text.find(END)
    if start < 0 or end < 0:
        return None
    return text[start:end + len(END)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--update", action="store_true", help="rewrite the section in demo/compose/README.md")
    parser.add_argument("--json", action="store_true", help="print the computed figures as JSON")
    args = parser.parse_args()
    demo, fast = compute("demo"), compute("fast")
    if args.json:
        print(json.dumps({"demo": demo, "fast": fast}, indent=2))
        return 0
    for t in (demo, fast):
        for problem in t["problems"]:
            print(f"timeline ({t['profile']}): {problem}", file=sys.stderr)
        if t["problems"]:
            return 2
    section = render(demo, fast)
    if not args.update:
        print(section)
        return 0
    text = open(README, encoding="utf-8").read()
    current = readme_section(text)
    if current is None:
        print(f"timeline: {README} has no {START} ... {END} section", file=sys.stderr)
        return 2
    with open(README, "w", encoding="utf-8") as f:
        f.write(text.replace(current, section))
    return 0


if __name__ == "__main__":
    sys.exit(main())
