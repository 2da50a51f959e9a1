#!/usr/bin/python3
"""Renders prometheus/ (prometheus.yml and rules/*.yml) for a deployment profile of prometheus/profiles.yml.

prometheus/rules/*.yml carry the `production` profile's link bases; a rendered copy differs from them only in
what the profile sets: the Grafana and runbook base URLs of every annotation, `for:`/`keep_firing_for:` capped
at `fast`, the scrape/evaluation `interval`, and (on the command line) the exporter and Alertmanager targets.

  render_rules.py render PROFILE --out DIR [--exporter HOST:PORT] [--alertmanager HOST:PORT]
                                            [--grafana-url URL] [--runbook-url URL] [--fast D] [--interval D]
  render_rules.py update      rewrite every committed copy (profiles with `out`)
  render_rules.py check       the shipped files link to production and never to localhost, and every
                              committed copy is what `update` would write; exit 1 naming each problem

Needs PyYAML (Debian: python3-yaml). The compose Prometheus container has no Python, hence committed copies.
"""
import argparse
import copy
import pathlib
import re
import sys

import yaml

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parent
PROFILES = HERE / "profiles.yml"
LINK_KEYS = ("grafana_url", "runbook_url")
DURATION = re.compile(r"(\d+)(ms|s|m|h|d|w|y)")
UNITS = {"y": 365 * 86400, "w": 7 * 86400, "d": 86400, "h": 3600, "m": 60, "s": 1, "ms": 0.001}
# Loopback names a production file must never contain: a link there opens the on-call engineer's own machine.
LOCAL = re.compile(r"localhost|127\.0\.0\.1|\[::1\]|0\.0\.0\.0")
SHIPPED = ("prometheus/prometheus.yml", "prometheus/rules/*.yml", "alertmanager/alertmanager.yml",
           "alertmanager/templates/*.tmpl")


class RenderError(Exception):
    pass


def seconds(text):
    """Prometheus duration (1h30m, 5m, 30s, 100ms) -> seconds."""
    text = str(text)
    parts = DURATION.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise RenderError(f"not a Prometheus duration: {text!r}")
    return sum(int(n) * UNITS[u] for n, u in parts)


def duration(secs):
    """Seconds -> the shortest Prometheus duration (90 -> 1m30s)."""
    if secs < 1:
        return f"{round(secs * 1000)}ms"
    out, rest = "", int(secs)
    for unit in ("d", "h", "m", "s"):
        n, rest = divmod(rest, UNITS[unit])
        if n:
            out += f"{n}{unit}"
    return out or "0s"


def load_profiles(path=PROFILES):
    with open(path, encoding="utf-8") as f:
        raw = yaml.safe_load(f)
    production = raw.get("production") or {}
    missing = [k for k in LINK_KEYS if not production.get(k)]
    if missing:
        raise RenderError(f"{path}: production has no {', '.join(missing)}")
    profiles = {}
    for name, values in raw.items():
        merged = {**production, **(values or {})}
        for key in LINK_KEYS:
            merged[key] = merged[key].rstrip("/")
        profiles[name] = merged
    return profiles


def relink(text, production, profile):
    for key in LINK_KEYS:
        text = text.replace(production[key] + "/", profile[key] + "/")
    return text


def render_rules(doc, production, profile):
    """One rules file (as loaded YAML) for the profile: links rebased, for/keep_firing_for capped."""
    doc = copy.deepcopy(doc)
    cap = seconds(profile["fast"]) if profile.get("fast") else None
    for group in doc.get("groups", []):
        for rule in group.get("rules", []):
            for section in ("labels", "annotations"):
                for k, v in (rule.get(section) or {}).items():
                    rule[section][k] = relink(str(v), production, profile)
            if cap is not None:
                for k in ("for", "keep_firing_for"):
                    if k in rule and seconds(rule[k]) > cap:
                        rule[k] = duration(cap)
    return doc


def render_config(doc, interval=None, exporter=None, alertmanager=None):
    """prometheus.yml with intervals and targets changed, nothing else."""
    doc = copy.deepcopy(doc)
    if interval:
        secs = seconds(interval)
        glob = doc.setdefault("global", {})
        for section in [glob] + doc.get("scrape_configs", []):
            if section is glob or "scrape_interval" in section:
                section["scrape_interval"] = interval
            if "scrape_timeout" in section and seconds(section["scrape_timeout"]) > secs:
                section["scrape_timeout"] = interval
        glob["evaluation_interval"] = interval
    if exporter:
        jobs = [j for j in doc.get("scrape_configs", []) if j.get("job_name") == "opswatch"]
        if not jobs:
            raise RenderError("prometheus.yml has no scrape job `opswatch`")
        for job in jobs:
            job["static_configs"] = [{"targets": [exporter]}]
    if alertmanager:
        ams = doc.get("alerting", {}).get("alertmanagers", [])
        if not ams:
            raise RenderError("prometheus.yml has no alerting.alertmanagers")
        for am in ams:
            am["static_configs"] = [{"targets": [alertmanager]}]
    return doc


class _Dumper(yaml.SafeDumper):
    pass


def _str(dumper, value):
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def dump(doc, header):
    body = yaml.dump(doc, Dumper=_Dumper, sort_keys=False, width=4096, allow_unicode=True)
    return "".join(f"# {line}\n" for line in header) + body


def rendered_files(name, profile, production, source=HERE, exporter=None, alertmanager=None):
    """{relative path: text} of the rendered folder."""
    header = [f"Generated by prometheus/render_rules.py (profile {name}) from prometheus/{{}}.",
              "Do not edit: edit the source and run `prometheus/render_rules.py update`."]
    files = {}
    config_text = (source / "prometheus.yml").read_text(encoding="utf-8")
    if profile.get("interval") or exporter or alertmanager:
        config = render_config(yaml.safe_load(config_text), profile.get("interval"), exporter, alertmanager)
        files["prometheus.yml"] = dump(config, [h.format("prometheus.yml") for h in header])
    else:
        files["prometheus.yml"] = config_text
    for path in sorted((source / "rules").glob("*.yml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        out = render_rules(doc, production, profile)
        files[f"rules/{path.name}"] = dump(out, [h.format(f"rules/{path.name}") for h in header])
    return files


def write(files, out):
    out = pathlib.Path(out)
    (out / "rules").mkdir(parents=True, exist_ok=True)
    for old in (out / "rules").glob("*.yml"):
        if f"rules/{old.name}" not in files:
            old.unlink()
    for rel, text in files.items():
        (out / rel).write_text(text, encoding="utf-8")


def committed(profiles):
    return {name: p for name, p in profiles.items() if p.get("out")}


def link_problems(production, repo=REPO):
    """Why the shipped files are not production's: a loopback address anywhere, or an alert whose
    runbook_url/dashboard_url does not start with the production bases."""
    problems = []
    for pattern in SHIPPED:
        for path in sorted(repo.glob(pattern)):
            for no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if LOCAL.search(line):
                    problems.append(f"{path.relative_to(repo)}:{no}: points at a loopback address: {line.strip()}")
    for path in sorted((repo / "prometheus/rules").glob("*.yml")):
        for group in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("groups", []):
            for rule in group.get("rules", []):
                if "alert" not in rule:
                    continue
                ann = rule.get("annotations") or {}
                where = f"{path.relative_to(repo)}: {rule['alert']}"
                if not str(ann.get("runbook_url", "")).startswith(production["runbook_url"] + "/"):
                    problems.append(f"{where}: runbook_url does not start with {production['runbook_url']}/")
                if not str(ann.get("dashboard_url", "")).startswith(production["grafana_url"] + "/d/"):
                    problems.append(f"{where}: dashboard_url does not start with {production['grafana_url']}/d/")
    return problems


def drift(profiles, source=HERE):
    """Committed copies that differ from a fresh render: [(profile, path, reason)]."""
    production = profiles["production"]
    out = []
    for name, profile in committed(profiles).items():
        folder = source / profile["out"]
        want = rendered_files(name, profile, production, source)
        have = {f"rules/{p.name}" for p in (folder / "rules").glob("*.yml")} | (
            {"prometheus.yml"} if (folder / "prometheus.yml").exists() else set())
        for rel in sorted(set(want) | have):
            path = folder / rel
            if rel not in want:
                out.append((name, path, "not rendered from any source file"))
            elif not path.exists():
                out.append((name, path, "missing"))
            elif path.read_text(encoding="utf-8") != want[rel]:
                out.append((name, path, "differs from a fresh render"))
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    render = sub.add_parser("render", help="render a profile into a folder")
    render.add_argument("profile")
    render.add_argument("--out", required=True)
    render.add_argument("--exporter", help="HOST:PORT of the exporter (job opswatch)")
    render.add_argument("--alertmanager", help="HOST:PORT of Alertmanager")
    render.add_argument("--grafana-url")
    render.add_argument("--runbook-url")
    render.add_argument("--fast", help="cap every for:/keep_firing_for at this duration")
    render.add_argument("--interval", help="scrape and evaluation interval")
    sub.add_parser("update", help="rewrite the committed copies")
    sub.add_parser("check", help="production links, no localhost, committed copies current")
    args = parser.parse_args(argv)

    try:
        profiles = load_profiles()
        production = profiles["production"]
        if args.command == "render":
            if args.profile not in profiles:
                raise RenderError(f"unknown profile {args.profile!r} (profiles.yml has {', '.join(profiles)})")
            profile = dict(profiles[args.profile])
            for key in ("grafana_url", "runbook_url", "fast", "interval"):
                if getattr(args, key):
                    profile[key] = getattr(args, key).rstrip("/")
            write(rendered_files(args.profile, profile, production, HERE, args.exporter, args.alertmanager),
                  args.out)
            print(pathlib.Path(args.out).resolve() / "prometheus.yml")
        elif args.command == "update":
            for name, profile in committed(profiles).items():
                write(rendered_files(name, profile, production), HERE / profile["out"])
                print(HERE / profile["out"])
        else:
            problems = link_problems(production)
            problems += [f"{path.relative_to(REPO)} ({name}): {why}; run prometheus/render_rules.py update"
                         for name, path, why in drift(profiles)]
            for p in problems:
                print(p, file=sys.stderr)
            return 1 if problems else 0
    except (RenderError, OSError, yaml.YAMLError) as e:
        print(f"render_rules: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
