"""What the dashboard tests read: the dashboards, the provisioning (PyYAML), the metric contract,
the recording rules and the runbook pages, plus PromQL metric-name extraction."""
import json
import pathlib
import re

import yaml

REPO = pathlib.Path(__file__).resolve().parents[2]

# The Grafana that docker-compose.yml pins (grafana/README.md). Its dashboard migrator reads schema
# versions up to 42; a dashboard saved by Grafana 13 (schemaVersion 43, or the v2 format) would not load.
PINNED_GRAFANA = "12.4.3"
SCHEMA_VERSION_MIN = 13
SCHEMA_VERSION_LATEST = 42

UIDS = ("opswatch-cost", "opswatch-health", "opswatch-incidents")

# Panels that carry no queries of their own.
TARGETLESS_PANEL_TYPES = {"row", "text", "alertlist", "alertGroups", "dashlist", "news", "annolist"}
# Datasource references Grafana resolves itself.
BUILTIN_DATASOURCE_UIDS = {"-- Grafana --", "grafana", "-- Mixed --", "-- Dashboard --"}
# Series Prometheus makes itself that panels may use besides the contract.
PROMETHEUS_BUILTIN_SERIES = {"ALERTS", "ALERTS_FOR_STATE"}
PROMQL_KEYWORDS = {"and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring",
                   "group_left", "group_right", "inf", "nan", "atan2"}


class Repo:
    """The parts of a repository checkout (the real one, or a test's broken copy) the tests read."""

    def __init__(self, root=REPO):
        self.root = pathlib.Path(root)
        self.dashboards_dir = self.root / "grafana/dashboards"
        self.export_dir = self.root / "grafana/export"
        self.datasources_dir = self.root / "grafana/provisioning/datasources"
        self.providers_dir = self.root / "grafana/provisioning/dashboards"
        self.runbooks_dir = self.root / "runbooks"
        self.rules_dir = self.root / "prometheus/rules"

    def dashboards(self):
        """{file stem: dashboard} of grafana/dashboards/*.json."""
        return {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in sorted(self.dashboards_dir.glob("*.json"))}

    def yaml_documents(self, directory):
        return {p: yaml.safe_load(p.read_text(encoding="utf-8")) for p in sorted(directory.glob("*.y*ml"))}

    def datasources(self):
        found = []
        for path, doc in self.yaml_documents(self.datasources_dir).items():
            for entry in (doc or {}).get("datasources") or []:
                found.append(dict(entry, _file=path.relative_to(self.root)))
        return found

    def providers(self):
        return [p for doc in self.yaml_documents(self.providers_dir).values() for p in (doc or {}).get("providers") or []]

    def contract(self):
        """Metric names in the first column of docs/metrics.md's tables."""
        text = (self.root / "docs/metrics.md").read_text(encoding="utf-8")
        return set(re.findall(r"^\|\s*`([a-zA-Z_:][a-zA-Z0-9_:]*)`\s*\|", text, re.MULTILINE))

    def recording_rules(self):
        names = set()
        for doc in self.yaml_documents(self.rules_dir).values():
            for group in (doc or {}).get("groups") or []:
                names |= {r["record"] for r in group.get("rules") or [] if "record" in r}
        return names

    def architecture_uids(self):
        """Dashboard uids in docs/architecture.md's table row about them."""
        path = self.root / "docs/architecture.md"
        for line in path.read_text(encoding="utf-8").splitlines() if path.exists() else []:
            if line.startswith("|") and "dashboard uids" in line.lower():
                return set(re.findall(r"`([A-Za-z0-9_-]+)`", re.sub(r"\([^)]*\)", "", line.split("|")[2])))
        return set()


def iter_panels(dashboard):
    """Every panel, those inside rows included."""
    for panel in dashboard.get("panels") or []:
        yield panel
        yield from panel.get("panels") or []


def panel_label(name, panel):
    return f"{name} #{panel.get('id')} {panel.get('title', '')}"


def variables(dashboard):
    return {v.get("name"): v for v in (dashboard.get("templating") or {}).get("list") or []}


def variable_default(variable):
    """The variable's default value(s) as a list of strings."""
    current = variable.get("current") or {}
    value = current.get("value", variable.get("query") if variable.get("type") in ("textbox", "constant") else None)
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def variable_reference(text):
    """'${datasource}' or '$datasource' -> 'datasource'; anything else -> None."""
    match = re.fullmatch(r"\$\{?([A-Za-z0-9_]+)(?::[A-Za-z]+)?\}?", text or "")
    return match.group(1) if match else None


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
        if not is_call and word not in PROMQL_KEYWORDS:
            names.add(word)
    return names


def label_values_metric(variable):
    query = variable.get("query")
    query = query.get("query") if isinstance(query, dict) else query
    match = re.match(r"^\s*label_values\(\s*([A-Za-z_:][A-Za-z0-9_:]*)", query or "")
    return match.group(1) if match else None


def label_values_label(variable):
    """The label a label_values(metric, label) variable lists, else None."""
    query = variable.get("query")
    query = query.get("query") if isinstance(query, dict) else query
    match = re.match(r"^\s*label_values\(\s*(?:[A-Za-z_:][A-Za-z0-9_:]*(?:\{[^}]*\})?\s*,\s*)?([A-Za-z_][A-Za-z0-9_]*)\s*\)\s*$",
                     query or "")
    return match.group(1) if match else None


def queries(dashboard):
    """(where, kind, target) for every panel target and annotation query: kind is 'prometheus',
    'sql' or another datasource type."""
    for panel in iter_panels(dashboard):
        for target in panel.get("targets") or []:
            kind = (target.get("datasource") or panel.get("datasource") or {}).get("type")
            yield panel, _kind(kind), target
    for annotation in (dashboard.get("annotations") or {}).get("list") or []:
        kind = (annotation.get("datasource") or {}).get("type")
        if annotation.get("target") and kind not in ("grafana", "dashboard"):
            yield annotation, _kind(kind), annotation["target"]


def _kind(datasource_type):
    return "sql" if datasource_type == "grafana-postgresql-datasource" else datasource_type


def markdown_anchors(path):
    """GitHub-style anchors of a Markdown file's headings and explicit <a id>/<a name> tags."""
    anchors, in_fence = set(), False
    for line in pathlib.Path(path).read_text(encoding="utf-8").splitlines():
        if line.lstrip().startswith("```"):
            in_fence = not in_fence
            continue
        if in_fence:
            continue
        anchors.update(re.findall(r"<a\s+(?:id|name)=\"([^\"]+)\"", line))
        match = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if match:
            slug = re.sub(r"[^\w\- ]", "", match.group(1).strip().lower()).replace(" ", "-")
            base, n = slug, 1
            while slug in anchors:
                slug, n = f"{base}-{n}", n + 1
            anchors.add(slug)
    return anchors
