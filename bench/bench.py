#!/usr/bin/python3
"""bench/run.sh's measuring and reporting half (run.sh only starts and stops processes).

  bench.py report RAW.json [--out FILE] [--notes FILE]   re-render the Markdown from a run's raw JSON
  bench.py peer-configs --dsn DSN --out-dir DIR          the peers' configs from bench/peer-queries.sql
  bench.py first-scrape | window | wrk | scrapes | idle-cpu | record | finish   (called by run.sh)

Measurements append one JSON object per line to the run's raw.jsonl; `finish` turns it into one JSON
document (bench/results/*.json) and renders it.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchkit as bk  # noqa: E402

PEER_QUERIES = bk.BENCH / "peer-queries.sql"


def blocks() -> list[bk.Block]:
    return bk.parse_peer_queries(PEER_QUERIES.read_text())


def append(raw: str, record: dict) -> None:
    with open(raw, "a") as f:
        f.write(json.dumps(record) + "\n")


def psql(url: str, sql: str, timeout: float = 600) -> str:
    p = subprocess.run(["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", url], input=sql, text=True,
                       capture_output=True, timeout=timeout)
    if p.returncode != 0:
        raise RuntimeError(f"psql: {p.stderr.strip()}")
    return p.stdout.strip()


def psql_json(url: str, sql: str):
    out = psql(url, sql)
    return json.loads(out) if out else None


def log_size(path: str | None) -> int:
    try:
        return os.path.getsize(path) if path else 0
    except OSError:
        return 0


def log_tail(path: str | None, offset: int) -> str:
    if not path:
        return ""
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            return f.read().decode("utf-8", "replace")
    except OSError:
        return ""


def exporter_log_lines(text: str) -> list[str]:
    """The exporter's own error and warning lines of a time span (its last 20, each at most 500 characters)."""
    lines = [line.strip()[:500] for line in text.splitlines()
             if re.search(r"(?i)\b(err|error|warn|warning|fatal|fail\w*)\b", line)]
    return lines[-20:]


def cluster_cpu_ms(postmaster_pid: int) -> float:
    """CPU time (ms) of the whole PostgreSQL cluster so far: the postmaster with its reaped children
    (exited backends, parallel workers) plus every live child, from /proc/PID/stat."""
    hz = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue  # gone while reading: not counted
        fields = stat[stat.rindex(")") + 2:].split()
        ppid, ut, st, cut, cst = int(fields[1]), int(fields[11]), int(fields[12]), int(fields[13]), int(fields[14])
        if int(entry) == postmaster_pid:
            total += ut + st + cut + cst
        elif ppid == postmaster_pid:
            total += ut + st
    return total * 1000 / hz


def scrape(url: str, timeout: float) -> dict:
    t0 = time.time()
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            body = r.read().decode("utf-8", "replace")
            return {"t0": t0, "t1": time.time(), "status": r.status, "body": body}
    except urllib.error.HTTPError as e:
        return {"t0": t0, "t1": time.time(), "status": e.code, "error": f"HTTP {e.code}: {e.read()[:300]!r}"}
    except Exception as e:  # noqa: BLE001 - every failure of a scrape is a result
        return {"t0": t0, "t1": time.time(), "status": 0, "error": f"{type(e).__name__}: {e}"}


def self_errors(exporter: str, body: str) -> list[str]:
    """Errors an exporter reports about itself in its exposition."""
    out = []
    for name, labels, value in bk.parse_exposition(body):
        if exporter == "opswatch" and name == "opswatch_source_up" and value != 1 and labels.get("source") != "probes":
            out.append(f"opswatch_source_up{{source={labels.get('source')}}} = {value:g}")
        elif exporter == "sql_exporter" and name == "sql_exporter_last_scrape_failed" and value != 0:
            out.append(f"sql_exporter_last_scrape_failed{{query={labels.get('query')}}} = {value:g}")
        elif exporter == "postgres_exporter" and name in ("pg_exporter_last_scrape_error",
                                                           "pg_exporter_user_queries_load_error") and value != 0:
            out.append(f"{name} = {value:g}")
    return out


def good_scrape(exporter: str, s: dict, bl: list[bk.Block]) -> bool:
    """HTTP 200 with data from the database for every bench query (opswatch: every source up)."""
    if s.get("status") != 200:
        return False
    served = bk.served_values(exporter, s["body"], bl)
    if exporter == "opswatch":
        ups = [v for n, lab, v in bk.parse_exposition(s["body"]) if n == "opswatch_source_up" and lab.get("source") != "probes"]
        return bool(ups) and all(v == 1 for v in ups) and any(k.startswith("opswatch_cost_query_month_to_date_eur") for k in served)
    # Queries that always return rows (others may legitimately return none at small sizes).
    have = {bk.block_of_key(exporter, k, bl) for k in served}
    return {"opswatch_cost_text_sessions", "opswatch_safety_event_newest"} <= have


def ident(a) -> dict:
    return {"size": a.size, "phase": a.phase, "exporter": a.exporter, "round": a.round}


# ------------------------------------------------------------------------------------------------ commands
def cmd_peer_configs(a):
    bk.write_peer_configs(PEER_QUERIES, Path(a.out_dir), a.dsn, a.interval)


def cmd_record(a):
    rec = json.loads(a.json)
    append(a.raw, rec)


def cmd_first_scrape(a):
    """Milliseconds from the exporter's start (--started-ms, epoch) to its first good scrape, polled every 50 ms."""
    bl = blocks()
    deadline = a.started_ms / 1000 + a.bound
    last = None
    while time.time() < deadline:
        if a.pid and not os.path.exists(f"/proc/{a.pid}"):
            break
        s = scrape(a.url, 30)
        if good_scrape(a.exporter, s, bl):
            ms = round(time.time() * 1000 - a.started_ms)
            append(a.raw, {"kind": "start", **ident(a), "first_ms": ms})
            print(ms)
            return 0
        last = s
        time.sleep(0.05)
    why = (last or {}).get("error") or ("; ".join(self_errors(a.exporter, last["body"])) if last and last.get("body") else "no answer")
    print(f"{a.exporter}: no good scrape within {a.bound} s ({why})", file=sys.stderr)
    return 1


def reference_rows(a, bl, minutes_needed: dict[str, set[str]]) -> dict:
    """The bench's own result of each query at each needed minute, as the superuser."""
    refs: dict[str, dict[str, list]] = {}
    cache: dict[tuple[str, str], list] = {}
    for b in bl:
        for minute in sorted(minutes_needed.get(b.metric, ())):
            tk = (b.metric, bk.reference_time_key(b, minute))
            if tk not in cache:
                cache[tk] = psql_json(a.pg_url, "SET statement_timeout = 0;\n" + bk.reference_sql(b, minute) + ";")
            refs.setdefault(b.metric, {})[minute] = cache[tk]
    return refs


def cmd_window(a):
    """One DB-time window: reset the role's statements, scrape every FRESHNESS s for SECONDS s, then
    record the statements, cluster CPU, failed statements from the server log, the exporter's log, and
    every scrape's values with the reference rows to check them against."""
    bl = blocks()
    role = bk.ROLES[a.exporter]
    pm = int(Path(a.postmaster_pid_file).read_text().split()[0])
    pglog0, explog0 = log_size(a.pg_log), log_size(a.exporter_log)
    stat_sql = ("SELECT row_to_json(d) FROM (SELECT xact_commit, xact_rollback, conflicts, deadlocks FROM pg_stat_database "
                "WHERE datname = current_database()) d;")
    db0 = psql_json(a.pg_url, stat_sql)
    psql(a.pg_url, f"SELECT pg_stat_statements_reset((SELECT oid FROM pg_roles WHERE rolname = '{role}'));")
    cpu0 = cluster_cpu_ms(pm)
    started = time.time()
    scrapes = []
    for slot in range(a.seconds // a.freshness):
        s = scrape(a.url, a.scrape_timeout)
        scrapes.append(s)
        wait = started + (slot + 1) * a.freshness - time.time()
        if wait > 0:
            time.sleep(wait)
    stmts = statements(a.pg_url, role)
    cpu = cluster_cpu_ms(pm) - cpu0
    ended = time.time()
    db1 = psql_json(a.pg_url, stat_sql)
    active = psql_json(a.pg_url, "SELECT COALESCE(json_agg(json_build_object('state', state, 'seconds', "
                                 "extract(epoch FROM now() - query_start), 'query', left(query, 80))), '[]') "
                                 f"FROM pg_stat_activity WHERE usename = '{role}' AND state = 'active';")
    errors = bk.parse_server_log(log_tail(a.pg_log, pglog0), role)
    exp_log = exporter_log_lines(log_tail(a.exporter_log, explog0))
    # What each scrape served and the minutes it may have been queried in (bench clock = DB clock).
    needed: dict[str, set[str]] = {}
    for s in scrapes:
        body = s.pop("body", None)
        if body is None:
            continue
        s["served"] = bk.served_values(a.exporter, body, bl)
        s["self_errors"] = self_errors(a.exporter, body)
        s["candidates"] = bk.candidate_minutes(s["t0"] + a.clock_offset, s["t1"] + a.clock_offset, a.staleness)
        for b in bl:
            needed.setdefault(b.metric, set()).update(s["candidates"])
    refs = reference_rows(a, bl, needed)
    rec = {"kind": "window", **ident(a), "seconds": a.seconds, "started": started, "ended": ended,
           "statements": stmts, "cpu_ms": cpu,
           "db_delta": {k: db1[k] - db0[k] for k in db0}, "active_after": active, "server_errors": errors,
           "exporter_log": exp_log, "scrapes": scrapes, "refs": refs,
           "load": " ".join(open("/proc/loadavg").read().split()[:3])}
    append(a.raw, rec)
    res = bk.Results({"records": [rec], "blocks": [b.__dict__ for b in bl]})
    v = res.window_validity(rec)
    h = bk.per_hour(rec, a.freshness)
    state = "valid" if v["ok"] else "INVALID: " + " | ".join(v["problems"][:4])
    print(f"{a.exporter}: DB {h['hour_ms']['total'] / 1000:.1f} s/hour, {state}", file=sys.stderr)
    return 0


def statements(pg_url: str, role: str) -> list[dict]:
    return psql_json(pg_url, "SELECT COALESCE(json_agg(json_build_object('query', query, 'calls', calls, 'exec_ms', "
                             "total_exec_time, 'plan_ms', total_plan_time, 'rows', rows)), '[]') FROM pg_stat_statements "
                             f"WHERE userid = (SELECT oid FROM pg_roles WHERE rolname = '{role}');") or []


def cmd_first_cycle(a):
    """The role's statements since its exporter started (reset before the start): its first refresh cycle."""
    append(a.raw, {"kind": "first_cycle", **ident(a), "statements": statements(a.pg_url, bk.ROLES[a.exporter])})


def cmd_second_cycle(a):
    """opswatch reads the closed previous billing period from the costs source's second refresh on (not
    in the first, which readiness waits for) and then once a day. Reset the role's statements, wait
    until that refresh has served the previous period, and record the statements in between, so that
    the daily read is counted once (benchkit.per_hour) and not inside the steady DB-time window."""
    role = bk.ROLES[a.exporter]
    psql(a.pg_url, f"SELECT pg_stat_statements_reset((SELECT oid FROM pg_roles WHERE rolname = '{role}'));")
    t0 = time.time()
    served_at_start = None
    while time.time() < t0 + a.bound:
        s = scrape(a.url, 30)
        served = s.get("status") == 200 and any(
            n == "opswatch_cost_previous_period_eur" and lab.get("provider") == a.metered_provider
            for n, lab, _ in bk.parse_exposition(s["body"]))
        if served_at_start is None:
            served_at_start = served
        if served:
            append(a.raw, {"kind": "second_cycle", **ident(a), "seconds": round(time.time() - t0, 2),
                           "previous_served_at_start": served_at_start,
                           "statements": statements(a.pg_url, role)})
            return 0
        time.sleep(0.1)
    print(f"{a.exporter}: no previous period served within {a.bound} s", file=sys.stderr)
    return 1


def cmd_wrk(a):
    """wrk --latency with C connections for D seconds; the parsed result, with the failed statements
    of the exporter's role and the exporter's log lines of the same time."""
    role = bk.ROLES.get(a.exporter)
    pglog0, explog0 = log_size(a.pg_log), log_size(a.exporter_log)
    threads = min(a.clients, 2)
    p = subprocess.run(["wrk", "-t", str(threads), "-c", str(a.clients), "-d", f"{a.seconds}s", "--timeout", "120s",
                        "--latency", a.url], capture_output=True, text=True, timeout=a.seconds + 180)
    r = bk.parse_wrk(p.stdout)
    if p.returncode != 0:
        r["errors"] += 1
        r["error_text"].append(f"wrk exit {p.returncode}: {p.stderr.strip()[:200]}")
    r["server_errors"] = bk.parse_server_log(log_tail(a.pg_log, pglog0), role) if role else []
    r["exporter_log"] = exporter_log_lines(log_tail(a.exporter_log, explog0))
    rec = {"kind": "wrk", **ident(a), "clients": a.clients, "seconds": a.seconds, **r}
    if a.raw:
        append(a.raw, rec)
    print(json.dumps({k: rec[k] for k in ("p50_ms", "p99_ms", "requests", "errors")}))
    return 0


def cmd_scrapes(a):
    """N scrapes by 8 keep-alive clients (curl --parallel), cut off after BOUND seconds."""
    cfg = Path(a.work) / "scrapes.curl"
    cfg.write_text("".join(f'url = "{a.url}"\noutput = "/dev/null"\n' for _ in range(a.count)))
    try:
        p = subprocess.run(["stdbuf", "-oL", "curl", "-s", "--parallel", "--parallel-max", "8", "-K", str(cfg), "-w", "%{http_code}\n"],
                           capture_output=True, text=True, timeout=a.bound)
        out = p.stdout
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b"").decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
    codes = out.split()
    ok = sum(1 for c in codes if c == "200")
    append(a.raw, {"kind": "scrapes", **ident(a), "ok": ok, "failed": len(codes) - ok, "bound_s": a.bound})
    return 0


def cmd_free_port(a):
    """A free loopback port chosen by the OS."""
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        print(s.getsockname()[1])


def cmd_idle_cpu(a):
    pm = int(Path(a.postmaster_pid_file).read_text().split()[0])
    c0 = cluster_cpu_ms(pm)
    time.sleep(a.seconds)
    append(a.raw, {"kind": "idle_cpu", "size": a.size, "cpu_ms": cluster_cpu_ms(pm) - c0, "seconds": a.seconds})


def cmd_finish(a):
    records = [json.loads(line) for line in Path(a.raw).read_text().splitlines() if line.strip()]
    meta = next(r for r in records if r["kind"] == "meta")
    meta["raw_name"] = str(Path(a.json_out).relative_to(bk.BENCH.parent)) if Path(a.json_out).resolve().is_relative_to(bk.BENCH.parent) else a.json_out
    meta.update(json.loads(a.meta_end or "{}"))
    doc = {"format": 1, "blocks": [b.__dict__ for b in blocks()], "records": records}
    Path(a.json_out).write_text(json.dumps(doc, indent=None, separators=(",", ":")) + "\n")
    return cmd_report(argparse.Namespace(raw=a.json_out, out=a.out, notes=a.notes))


def cmd_windows(a):
    """One line per DB-time window: time per refresh cycle by query group, DB time per hour, the
    billing month its cost values belong to, and whether it passed the validity checks."""
    res = bk.Results.load(Path(a.raw))
    print("| exporter | phase | cost ms/cycle | quota ms/cycle | incident ms/cycle | DB s/hour | cost month | validity |")
    print("|---|---|---|---|---|---|---|---|")
    for w in res.find("window"):
        h = bk.per_hour(w, res.freshness)
        g = h["groups"]
        cells = [f"{g[k]['ms'] / g[k]['cycles']:.0f}" if g[k]["cycles"] else f"- ({g[k]['calls']} calls)"
                 for k in ("cost", "quota", "incident")]
        v = res.window_validity(w)
        state = "valid" if v["ok"] else "INVALID: " + "; ".join(v["problems"][:3]) + \
            ("; log: " + v["log"][-1][:200] if v["log"] else "")
        print(f"| {w['exporter']} | {w['phase']} | " + " | ".join(cells) +
              f" | {h['hour_ms']['total'] / 1000:.1f} | {res.cost_month(w) or '-'} | {state} |")
    return 0


def cmd_report(a):
    res = bk.Results.load(Path(a.raw))
    notes = Path(a.notes).read_text() if a.notes and Path(a.notes).exists() else None
    text = bk.render(res, notes)
    if a.out:
        Path(a.out).write_text(text)
        print(f"wrote {a.out}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)

    def common(p, exporter=True):
        p.add_argument("--raw", required=exporter)
        if exporter:
            p.add_argument("--exporter", required=True, choices=bk.EXPORTERS)
            p.add_argument("--size", type=int, required=True)
            p.add_argument("--phase", default="idx")
            p.add_argument("--round", type=int, default=1)
            p.add_argument("--url", required=True)

    p = sub.add_parser("report")
    p.add_argument("raw")
    p.add_argument("--out")
    p.add_argument("--notes")
    p.set_defaults(fn=cmd_report)
    p = sub.add_parser("windows")
    p.add_argument("raw")
    p.set_defaults(fn=cmd_windows)
    p = sub.add_parser("peer-configs")
    p.add_argument("--dsn", required=True)
    p.add_argument("--out-dir", required=True)
    p.add_argument("--interval", type=int, default=15)
    p.set_defaults(fn=cmd_peer_configs)
    p = sub.add_parser("record")
    p.add_argument("--raw", required=True)
    p.add_argument("json")
    p.set_defaults(fn=cmd_record)
    p = sub.add_parser("first-scrape")
    common(p)
    p.add_argument("--started-ms", type=int, required=True)
    p.add_argument("--bound", type=float, default=180)
    p.add_argument("--pid", type=int)
    p.set_defaults(fn=cmd_first_scrape)
    p = sub.add_parser("window")
    common(p)
    p.add_argument("--seconds", type=int, required=True)
    p.add_argument("--freshness", type=int, default=15)
    p.add_argument("--staleness", type=float, default=60, help="how old a served value may be, seconds")
    p.add_argument("--scrape-timeout", type=float, default=60)
    p.add_argument("--pg-url", required=True)
    p.add_argument("--pg-log")
    p.add_argument("--exporter-log")
    p.add_argument("--postmaster-pid-file", required=True)
    p.add_argument("--clock-offset", type=float, default=0.0, help="database clock minus real clock, seconds")
    p.set_defaults(fn=cmd_window)
    p = sub.add_parser("first-cycle")
    common(p)
    p.add_argument("--pg-url", required=True)
    p.set_defaults(fn=cmd_first_cycle)
    p = sub.add_parser("second-cycle")
    common(p)
    p.add_argument("--pg-url", required=True)
    p.add_argument("--bound", type=float, default=120)
    p.add_argument("--metered-provider", default="azure_openai")
    p.set_defaults(fn=cmd_second_cycle)
    p = sub.add_parser("wrk")
    common(p)
    p.add_argument("--clients", type=int, required=True)
    p.add_argument("--seconds", type=int, required=True)
    p.add_argument("--pg-log")
    p.add_argument("--exporter-log")
    p.set_defaults(fn=cmd_wrk)
    p = sub.add_parser("scrapes")
    common(p)
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--bound", type=float, required=True)
    p.add_argument("--work", required=True)
    p.set_defaults(fn=cmd_scrapes)
    p = sub.add_parser("free-port")
    p.set_defaults(fn=cmd_free_port)
    p = sub.add_parser("idle-cpu")
    p.add_argument("--raw", required=True)
    p.add_argument("--size", type=int, required=True)
    p.add_argument("--seconds", type=int, default=15)
    p.add_argument("--postmaster-pid-file", required=True)
    p.set_defaults(fn=cmd_idle_cpu)
    p = sub.add_parser("finish")
    p.add_argument("--raw", required=True)
    p.add_argument("--json-out", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--notes")
    p.add_argument("--meta-end")
    p.set_defaults(fn=cmd_finish)
    a = ap.parse_args(argv)
    return a.fn(a) or 0


if __name__ == "__main__":
    sys.exit(main())
