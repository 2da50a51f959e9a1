"""A small YAML reader for Grafana provisioning files (Python's stdlib has none).

It reads block mappings, block sequences, plain and quoted scalars and comments:
the subset grafana/provisioning/ uses. Anything else (anchors, flow collections,
multi-line scalars) raises ValueError naming the line, so a provisioning file
that grows past this subset fails the check instead of being misread.
"""

import re

_KEY = re.compile(r"^([A-Za-z_][A-Za-z0-9_.-]*)\s*:(?:\s+(.*))?$")


def load(text, origin="<yaml>"):
    lines = []
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = _strip_comment(raw).rstrip()
        if not stripped.strip() or stripped.strip() == "---":
            continue
        if "\t" in raw[: len(raw) - len(raw.lstrip())]:
            raise ValueError(f"{origin}:{number}: tab in indentation")
        indent = len(stripped) - len(stripped.lstrip(" "))
        lines.append((number, indent, stripped.strip()))
    if not lines:
        return None
    value, position = _block(lines, 0, lines[0][1], origin)
    if position != len(lines):
        raise ValueError(f"{origin}:{lines[position][0]}: unexpected indentation")
    return value


def _strip_comment(line):
    quote = None
    for i, ch in enumerate(line):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or line[i - 1] in " \t"):
            return line[:i]
    return line


def _block(lines, i, indent, origin):
    if lines[i][2].startswith("- ") or lines[i][2] == "-":
        return _sequence(lines, i, indent, origin)
    return _mapping(lines, i, indent, origin)


def _sequence(lines, i, indent, origin):
    items = []
    while i < len(lines) and lines[i][1] == indent and (lines[i][2].startswith("- ") or lines[i][2] == "-"):
        number, _, content = lines[i]
        rest = content[1:].strip()
        if not rest:
            i += 1
            if i < len(lines) and lines[i][1] > indent:
                value, i = _block(lines, i, lines[i][1], origin)
            else:
                value = None
            items.append(value)
            continue
        # "- key: value" opens a mapping whose further keys sit at indent + 2.
        inner = indent + 2 + (len(content[1:]) - len(content[1:].lstrip(" ")) - 1)
        lines[i] = (number, inner, rest)
        if _KEY.match(rest):
            value, i = _mapping(lines, i, inner, origin)
        else:
            value, i = _scalar(rest, number, origin), i + 1
        items.append(value)
    return items, i


def _mapping(lines, i, indent, origin):
    result = {}
    while i < len(lines) and lines[i][1] == indent:
        number, _, content = lines[i]
        match = _KEY.match(content)
        if not match:
            raise ValueError(f"{origin}:{number}: expected 'key: value', got {content!r}")
        key, rest = match.group(1), match.group(2)
        if key in result:
            raise ValueError(f"{origin}:{number}: duplicate key {key!r}")
        i += 1
        if rest is None or rest == "":
            if i < len(lines) and lines[i][1] > indent:
                result[key], i = _block(lines, i, lines[i][1], origin)
            elif i < len(lines) and lines[i][1] == indent and lines[i][2].startswith("- "):
                result[key], i = _sequence(lines, i, indent, origin)
            else:
                result[key] = None
        else:
            result[key] = _scalar(rest, number, origin)
    if i < len(lines) and lines[i][1] > indent:
        raise ValueError(f"{origin}:{lines[i][0]}: unexpected indentation")
    return result, i


def _scalar(text, number, origin):
    if text[0] in "&*!|>[{":
        raise ValueError(f"{origin}:{number}: YAML feature outside the supported subset: {text!r}")
    if text[0] in "'\"":
        if len(text) < 2 or text[-1] != text[0]:
            raise ValueError(f"{origin}:{number}: unterminated string {text!r}")
        body = text[1:-1]
        return body.replace("''", "'") if text[0] == "'" else body.replace('\\"', '"')
    lowered = text.lower()
    if lowered in ("true", "yes", "on"):
        return True
    if lowered in ("false", "no", "off"):
        return False
    if lowered in ("null", "~"):
        return None
    if re.fullmatch(r"[-+]?\d+", text):
        return int(text)
    if re.fullmatch(r"[-+]?\d*\.\d+", text):
        return float(text)
    return text
