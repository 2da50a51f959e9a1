#!/usr/bin/env python3
"""Checks the rules a running Prometheus loaded (GET /api/v1/rules) against the house rules:

- every alert: a PascalCase name, severity critical|warning|info, the annotations summary, description,
  value, runbook_url and dashboard_url; runbook_url is RUNBOOK_BASE + kebab-case name + ".md" and that page
  exists under runbooks/ with Meaning / Impact / Diagnosis / Mitigation, and is listed in runbooks/README.md;
  dashboard_url is one of the opswatch dashboards; the alert is tested in prometheus/tests/*-test.yaml;
- every recording rule is named level:metric:operation;
- every opswatch_* name in a query or annotation is in the metric contract (docs/metrics.md);
- every runbook page belongs to an alert.

Reading the rules from Prometheus itself keeps this standard-library only and checks what Prometheus
actually parsed. Prints one "ok ..." or "FAIL ..." line per check; prometheus/test.sh counts them.
"""
import argparse
import glob
import json
import os
import re
import sys
import urllib.request

RUNBOOK_BASE = "https://github.com/opswatch/opswatch/blob/main/runbooks/"
DASHBOARDS = {f"https://grafana.example.com/d/{uid}" for uid in ("opswatch-cost", "opswatch-health", "opswatch-incidents")}
ANNOTATIONS = ("summary", "description", "value", "runbook_url", "dashboard_url")
SECTIONS = ("## Meaning", "## Impact", "## Diagnosis", "## Mitigation")

results = []


def check(name, ok, detail=""):
    results.append(ok)
    print(("ok   " if ok else "FAIL ") + name + ("" if ok or not detail else "\n     " + detail))


def kebab(name):
    """BudgetSpendWarning -> budget-spend-warning, LLMSpendSpike -> llm-spend-spike."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "-", name).lower()


def read(path):
    if not os.path.isfile(path):
        return ""
    with open(path, encoding="utf-8") as f:
        return f.read()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--prometheus", required=True, help="base URL of a Prometheus that loaded the rules")
    parser.add_argument("--repo", required=True, help="repository root")
    args = parser.parse_args()
    repo = args.repo

    with urllib.request.urlopen(args.prometheus.rstrip("/") + "/api/v1/rules", timeout=10) as resp:
        groups = json.load(resp)["data"]["groups"]
    rules = [r for g in groups for r in g["rules"]]
    alerts = [r for r in rules if r["type"] == "alerting"]
    records = [r for r in rules if r["type"] == "recording"]
    rule_files = sorted({os.path.basename(g["file"]) for g in groups})
    expected_files = sorted(os.path.basename(p) for p in glob.glob(os.path.join(repo, "prometheus/rules/*.yml")))
    check(f"Prometheus loaded every rule file ({len(expected_files)})", rule_files == expected_files,
          f"loaded {rule_files}")
    check("there are alerts and recording rules", bool(alerts) and bool(records))

    contract = set(re.findall(r"`(opswatch_[a-z0-9_]+)`", read(os.path.join(repo, "docs/metrics.md"))))
    tests = "\n".join(read(p) for p in glob.glob(os.path.join(repo, "prometheus/tests/*-test.yaml")))
    tested = set(re.findall(r"alertname:\s*(\w+)", tests))
    readme = read(os.path.join(repo, "runbooks/README.md"))
    check("runbooks/README.md exists", bool(readme))

    for rule in alerts:
        name, labels, ann = rule["name"], rule["labels"], rule["annotations"]
        what = name + (f"{{provider={labels['provider']}}}" if "provider" in labels else "")
        problems = []
        if not re.fullmatch(r"[A-Z][a-z0-9]*(?:[A-Z]+[a-z0-9]*)*", name):
            problems.append("name is not PascalCase")
        if labels.get("severity") not in ("critical", "warning", "info"):
            problems.append(f"severity {labels.get('severity')!r}")
        problems += [f"no {a}" for a in ANNOTATIONS if not ann.get(a, "").strip()]
        if ann.get("dashboard_url") not in DASHBOARDS:
            problems.append(f"dashboard_url {ann.get('dashboard_url')!r} is not an opswatch dashboard")
        check(f"alert {what}: name, severity, annotations", not problems, "; ".join(problems))

        url = ann.get("runbook_url", "")
        page = url[len(RUNBOOK_BASE):] if url.startswith(RUNBOOK_BASE) else None
        path = os.path.join(repo, "runbooks", page) if page else None
        check(f"alert {what}: runbook_url {url} is runbooks/{kebab(name)}.md and exists",
              page == f"{kebab(name)}.md" and os.path.isfile(path))

    for name in sorted({r["name"] for r in alerts}):
        page = f"{kebab(name)}.md"
        path = os.path.join(repo, "runbooks", page)
        text = read(path) if os.path.isfile(path) else ""
        missing = [s for s in SECTIONS if not re.search("^" + re.escape(s) + r"\s*$", text, re.M)]
        check(f"runbook {page}: has {' / '.join(s[3:] for s in SECTIONS)}", bool(text) and not missing,
              f"missing {missing}")
        check(f"runbooks/README.md lists {name} with its page",
              bool(re.search(rf"^\|\s*{name}\s*\|.*\]\({re.escape(page)}\)", readme, re.M)))
        check(f"alert {name} has a promtool test", name in tested)

    for rule in records:
        check(f"recording rule {rule['name']} is named level:metric:operation",
              bool(re.fullmatch(r"[a-z_]+:opswatch_[a-z0-9_]+:[a-z0-9_]+", rule["name"])))

    # The same pattern as scripts/check-metric-contract.py, over the rules as loaded and over the tests,
    # runbook pages and templates, which that script also reads.
    name_re = re.compile(r"(?<![A-Za-z0-9_:])opswatch_[a-z0-9_]+")
    texts = {"the rules": [r["query"] for r in rules] + [v for r in alerts for v in r["annotations"].values()]}
    for pattern in ("prometheus/tests/*.yaml", "runbooks/*.md", "alertmanager/templates/*.tmpl"):
        texts[pattern] = [read(p) for p in glob.glob(os.path.join(repo, pattern))]
    for where, docs in texts.items():
        used = {n for text in docs for n in name_re.findall(text)}
        unknown = sorted(used - contract)
        # The templates name no metric; elsewhere an empty set means the pattern found nothing to check.
        check(f"every opswatch_* name in {where} ({len(used)}) is in docs/metrics.md",
              not unknown and (bool(used) or where.endswith(".tmpl")), f"unknown: {unknown}")

    pages = {os.path.basename(p) for p in glob.glob(os.path.join(repo, "runbooks/*.md"))} - {"README.md"}
    orphans = sorted(pages - {f"{kebab(r['name'])}.md" for r in alerts})
    check("every runbook page belongs to an alert", not orphans, f"orphans: {orphans}")
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
