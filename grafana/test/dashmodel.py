"""What the dashboard checks read: dashboards, provisioned datasources, the metric
contract, recording rules and runbook pages, plus PromQL name extraction."""

import glob
import json
import os
import re

import miniyaml

# Panels that carry no queries of their own.
TARGETLESS_PANEL_TYPES = {"row", "text", "alertlist", "alertGroups", "dashlist", "news", "annolist"}
# Datasource references Grafana resolves itself.
BUILTIN_DATASOURCE_UIDS = {"-- Grafana --", "grafana", "-- Mixed --", "-- Dashboard --"}
# Series Prometheus makes itself that panels may use besides the contract.
PROMETHEUS_BUILTIN_SERIES = {"ALERTS", "ALERTS_FOR_STATE"}

PROMQL_KEYWORDS = {
    "and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring",
    "group_left", "group_right", "inf", "nan", "atan2",
}


class Repo:
    """Paths of the repository the checks run in."""

    def __init__(self, root):
        self.root = os.path.abspath(root)
        self.grafana = os.path.join(self.root, "grafana")
        self.dashboards_dir = os.path.join(self.grafana, "dashboards")
        self.datasources_dir = os.path.join(self.grafana, "provisioning", "datasources")
        self.providers_dir = os.path.join(self.grafana, "provisioning", "dashboards")
        self.metrics_doc = os.path.join(self.root, "docs", "metrics.md")
        self.architecture_doc = os.path.join(self.root, "docs", "architecture.md")
        self.rules_dir = os.path.join(self.root, "prometheus", "rules")
        self.runbooks_dir = os.path.join(self.root, "runbooks")

    def rel(self, path):
        return os.path.relpath(path, self.root)


def load_dashboards(repo):
    """Returns [(path, dashboard or None, error or None)] for every dashboards/*.json."""
    found = []
    for path in sorted(glob.glob(os.path.join(repo.dashboards_dir, "*.json"))):
        try:
            with open(path, encoding="utf-8") as handle:
                found.append((path, json.load(handle), None))
        except (OSError, ValueError) as error:
            found.append((path, None, str(error)))
    return found


def load_yaml_files(directory):
    """Returns [(path, document or None, error or None)] for *.yml / *.yaml files."""
    documents = []
    for path in sorted(glob.glob(os.path.join(directory, "*.y*ml"))):
        try:
            with open(path, encoding="utf-8") as handle:
                documents.append((path, miniyaml.load(handle.read(), path), None))
        except (OSError, ValueError) as error:
            documents.append((path, None, str(error)))
    return documents


def provisioned_datasources(repo):
    datasources = []
    for path, document, _ in load_yaml_files(repo.datasources_dir):
        for entry in (document or {}).get("datasources") or []:
            if isinstance(entry, dict):
                datasources.append(dict(entry, _file=path))
    return datasources


def iter_panels(dashboard):
    """Every panel, including those nested in collapsed rows, with its row (or None)."""
    for panel in dashboard.get("panels") or []:
        yield panel, None
        for child in panel.get("panels") or []:
            yield child, panel


def variables(dashboard):
    return {v.get("name"): v for v in (dashboard.get("templating") or {}).get("list") or []}


def variable_current_values(variable):
    """The variable's current value(s) as a list of strings."""
    current = variable.get("current") or {}
    value = current.get("value", variable.get("query") if variable.get("type") in ("textbox", "constant") else None)
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


_VAR_REF = re.compile(r"^\$\{?([A-Za-z0-9_]+)(?::[A-Za-z]+)?\}?$")


def variable_name_of(reference):
    """'${datasource}' or '$datasource' -> 'datasource'; anything else -> None."""
    match = _VAR_REF.match(reference or "")
    return match.group(1) if match else None


def metric_contract(repo):
    """Metric names listed in the first column of docs/metrics.md's tables."""
    names = set()
    with open(repo.metrics_doc, encoding="utf-8") as handle:
        for line in handle:
            match = re.match(r"^\|\s*`([a-zA-Z_:][a-zA-Z0-9_:]*)`\s*\|", line)
            if match:
                names.add(match.group(1))
    return names


def recording_rules(repo):
    """Names recorded by prometheus/rules/*.yml (read with a line pattern: those files
    may use YAML this module's reader does not)."""
    names = set()
    for path in sorted(glob.glob(os.path.join(repo.rules_dir, "*.y*ml"))):
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                match = re.match(r"^\s*(?:-\s*)?record:\s*[\"']?([A-Za-z_:][A-Za-z0-9_:]*)", line)
                if match:
                    names.add(match.group(1))
    return names


def architecture_dashboard_uids(repo):
    """Dashboard uids named in docs/architecture.md's table, or an empty set."""
    if not os.path.exists(repo.architecture_doc):
        return set()
    with open(repo.architecture_doc, encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("|") and "dashboard uids" in line.lower():
                cell = re.sub(r"\([^)]*\)", "", line.split("|")[2])  # drop "(folder `opswatch`)"
                return set(re.findall(r"`([A-Za-z0-9_-]+)`", cell))
    return set()


def promql_metric_names(expr):
    """Metric names an expression selects (functions, keywords and labels left out)."""
    names = set(re.findall(r"__name__\s*=~?\s*\"([A-Za-z_:][A-Za-z0-9_:|]*)\"", expr))
    names = {n for group in names for n in group.split("|")}
    text = re.sub(r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'|`[^`]*`', '""', expr)
    text = re.sub(r"#[^\n]*", "", text)
    text = re.sub(r"\{[^}]*\}", " ", text)
    text = re.sub(r"\[[^\]]*\]", " ", text)
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)
    for match in re.finditer(r"(?<![\w.$])([A-Za-z_:][A-Za-z0-9_:]*)(\s*\()?", text):
        word, is_call = match.group(1), match.group(2)
        if is_call or word in PROMQL_KEYWORDS:
            continue
        names.add(word)
    return names


def label_values_metric(query):
    """'label_values(metric{...}, label)' -> 'metric'; other variable queries -> None."""
    match = re.match(r"^\s*label_values\(\s*([A-Za-z_:][A-Za-z0-9_:]*)", query or "")
    return match.group(1) if match else None


def variable_query_text(variable):
    query = variable.get("query")
    if isinstance(query, dict):
        return query.get("query") or ""
    return query or ""


def markdown_anchors(path):
    """GitHub-style anchors of a Markdown file's headings and explicit <a id>/<a name> tags."""
    anchors = set()
    with open(path, encoding="utf-8") as handle:
        in_fence = False
        for line in handle:
            if line.lstrip().startswith("```"):
                in_fence = not in_fence
                continue
            if in_fence:
                continue
            anchors.update(re.findall(r"<a\s+(?:id|name)=\"([^\"]+)\"", line))
            match = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
            if match:
                slug = match.group(1).strip().lower()
                slug = re.sub(r"[^\w\- ]", "", slug).replace(" ", "-")
                base, n = slug, 1
                while slug in anchors:
                    slug, n = f"{base}-{n}", n + 1
                anchors.add(slug)
    return anchors


def panel_label(dashboard, panel):
    return f"{dashboard.get('uid')} #{panel.get('id')} \"{panel.get('title', '')}\""
