#!/usr/bin/python3
"""Writes bench/tests/fixture-run.json: a small, made-up run in the raw format of bench/bench.py
(two sizes, two rounds, the three exporters), in which one window is invalid the way issue #22's
postgres_exporter row was suspected to be: its cost statements timed out, so pg_stat_statements saw
only cheap ones and its scrapes lacked the cost values. Re-run after a change of the raw format:

    /usr/bin/python3 bench/tests/make_fixture.py
"""
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
import benchkit as bk  # noqa: E402

BLOCKS = bk.parse_peer_queries((HERE.parent / "peer-queries.sql").read_text())
MINUTE = "2026-11-28 18:10"
T0 = 1795889400.0  # 2026-11-28 18:10:00 UTC

ROWS = {
    "opswatch_cost_text_sessions": [{"model": "gpt-5-mini", "cost_eur": 120.5, "tokens_input": 1000, "tokens_output": 500,
                                     "rejected_null_value": 1, "rejected_negative_value": 0, "rejected_not_finite": 0,
                                     "rejected_absurd_value": 0}],
    "opswatch_cost_voice": [{"model": "gpt-realtime-mini", "cost_eur": 10.25, "tokens_input": 10, "tokens_output": 20,
                             "tokens_cached_input": 5, "rejected_null_value": 0, "rejected_negative_value": 0,
                             "rejected_not_finite": 0, "rejected_absurd_value": 0}],
    "opswatch_cost_video_frames": [{"model": "video-vision", "cost_eur": 6.7, "rejected_null_value": 0,
                                    "rejected_negative_value": 0}],
    "opswatch_quota_window_1m": [
        {"label": "azure_openai", "action": "chat_completion", "calls": 3, "units": 9000, "negative_values": 0, "not_finite_values": 0},
        {"label": "google_drive", "action": "files_list", "calls": 2, "units": 2, "negative_values": 0, "not_finite_values": 0}],
    "opswatch_quota_window_24h": [
        {"label": "google_drive", "action": "files_list", "calls": 700, "units": 700, "negative_values": 0, "not_finite_values": 0}],
    "opswatch_quota_window_month": [
        {"label": "brave_search", "action": "web_search", "calls": 1500, "units": 1500, "negative_values": 0, "not_finite_values": 0}],
    "opswatch_external_calls": [{"label": "azure_openai", "calls": 100, "failures": 3, "unusual": 0}],
    "opswatch_safety_events": [{"severity": "alert", "type": "input_blocked", "in_lookback": 2, "unresolved": 1, "seen": 3}],
    "opswatch_safety_event_newest": [{"severity": "alert", "newest": 1795889000.0}, {"severity": "info", "newest": None},
                                     {"severity": "warning", "newest": None}, {"severity": "critical", "newest": None}],
    "opswatch_telemetry_incidents": [{"category": "external_api", "incidents": 4}],
}


def served(exporter, drop=()):
    out = {}
    for b in BLOCKS:
        if b.metric not in drop:
            out.update(bk.reference_values(exporter, b, ROWS[b.metric]))
    return out


def statements(cost_ms, quota_ms, incident_ms, cycles, cost_calls=None):
    cost_calls = cycles if cost_calls is None else cost_calls
    return [
        {"query": 'SELECT $1 AS model, SUM("costEur") AS cost_eur FROM (SELECT 1 FROM session_metrics) AS rows',
         "calls": cost_calls, "exec_ms": cost_ms, "plan_ms": 0.0, "rows": cost_calls},
        {"query": 'SELECT label, COUNT(*) AS calls, COUNT(*) FILTER (WHERE success = $1) AS failures FROM "TelemetryEvent"',
         "calls": cycles, "exec_ms": quota_ms, "plan_ms": 0.0, "rows": cycles},
        {"query": 'SELECT s.severity, (SELECT MAX(e."timestamp") FROM "SafetyEvent" e) AS newest',
         "calls": cycles, "exec_ms": incident_ms, "plan_ms": 0.0, "rows": cycles},
        {"query": "SET application_name = $1", "calls": 2, "exec_ms": 0.5, "plan_ms": 0.0, "rows": 0},
    ]


def window(size, phase, exporter, rnd, scale, bad=False):
    scrapes = []
    for i in range(2):
        t0 = T0 + i * 15
        s = {"t0": t0, "t1": t0 + 0.01, "status": 200, "served": served(exporter), "self_errors": [],
             "candidates": bk.candidate_minutes(t0, t0 + 0.01, 60)}
        if bad:
            cost = [b.metric for b in BLOCKS if b.group == "cost"]
            s["served"] = served(exporter, drop=cost)
            s["self_errors"] = ["pg_exporter_last_scrape_error = 1"]
        scrapes.append(s)
    minutes = sorted({m for s in scrapes for m in s["candidates"]})
    refs = {b.metric: {m: ROWS[b.metric] for m in minutes} for b in BLOCKS}
    if bad:
        stmts = statements(8.0, 1200.0 * scale, 300.0 * scale, 8, cost_calls=8)
        errors = [{"level": "ERROR", "message": "canceling statement due to statement timeout",
                   "statement": 'SELECT \'gpt-5-mini\' AS model FROM session_metrics', "group": "cost"}] * 16
        log = ['level=error msg="Error running query on database" err="pq: canceling statement due to statement timeout"']
    else:
        stmts = statements(800.0 * scale, 1200.0 * scale, 300.0 * scale, 8)
        errors, log = [], []
    return {"kind": "window", "size": size, "phase": phase, "exporter": exporter, "round": rnd, "seconds": 120,
            "statements": stmts, "cpu_ms": 2500.0 * scale, "db_delta": {"xact_rollback": 0}, "active_after": [],
            "server_errors": errors, "exporter_log": log, "scrapes": scrapes, "refs": refs, "load": "1.50 1.20 1.00"}


def main():
    recs = [{"kind": "meta", "date": "2026-12-01 01:00 UTC", "cpu_model": "AMD EPYC", "cpus": 2, "memory": "23.5 GiB",
             "kernel": "Linux", "os": "Debian GNU/Linux 12 (bookworm)", "postgres": "15.18", "opswatch": "test",
             "sql_exporter": "0.4.5", "postgres_exporter": "0.11.1", "wrk": "4.1.0", "placement": "none",
             "clock": "libfaketime offset", "clock_offset_s": 0, "load_start": "1.0 1.0 1.0", "load_end": "2.0 1.5 1.2",
             "minutes": 12, "settings": {"mode": "quick", "sizes": [20000, 100000], "freshness": 15, "db_window": 120,
                                         "db_window_noidx": 45, "scrapes": 2000, "rounds": 2,
                                         "concurrency": [1, 8, 64], "recommended_flags": "-Xmx16m"}}]
    # opswatch is 10x cheaper than sql_exporter and 8x cheaper than postgres_exporter; p99s as below.
    cost = {"opswatch": 0.1, "sql_exporter": 1.0, "postgres_exporter": 0.8}
    p99 = {"opswatch": 0.5, "sql_exporter": 2.0, "postgres_exporter": 600.0}
    for size in (20000, 100000):
        grow = 1 if size == 20000 else 10
        recs.append({"kind": "data", "size": size, "gen_ms": 1000 * grow, "tables": "t", "mtd": 9000 * grow, "today": 300 * grow})
        recs.append({"kind": "index", "size": size, "index_ms": 100 * grow, "index_size": "1 MB"})
        recs.append({"kind": "idle_cpu", "size": size, "cpu_ms": 30, "seconds": 15})
        for e in bk.EXPORTERS:
            recs.append(window(size, "noidx", e, 1, 3 * grow * cost[e]))
            for rnd in (1, 2):
                bad = e == "postgres_exporter" and size == 100000 and rnd == 2
                recs.append({"kind": "start", "size": size, "phase": "idx", "exporter": e, "round": rnd,
                             "first_ms": 1000 * grow + 100 * rnd})
                recs.append(window(size, "idx", e, rnd, grow * cost[e], bad=bad))
                for c in ((1, 8, 64) if rnd == 1 else (1,)):
                    p = p99[e] * c * (1 + 0.1 * rnd) * (1 if e != "postgres_exporter" else grow)
                    recs.append({"kind": "wrk", "size": size, "phase": "idx", "exporter": e, "round": rnd, "clients": c,
                                 "seconds": 10, "p50_ms": p / 2, "p99_ms": p, "requests": 1000, "errors": 0,
                                 "error_text": [], "server_errors": [], "exporter_log": []})
            for point, kib in (("warm", 50000), ("after_scrapes", 60000 if e == "opswatch" else 20000),
                               ("after_stress", 70000), ("hwm", 71000)):
                recs.append({"kind": "rss", "size": size, "phase": "idx", "exporter": e, "round": 1, "point": point, "kib": kib})
            recs.append({"kind": "scrapes", "size": size, "phase": "idx", "exporter": e, "round": 1, "ok": 2000, "failed": 0})
            recs.append({"kind": "size_bytes", "size": size, "phase": "idx", "exporter": e, "round": 1, "bytes": 23000})
    doc = {"format": 1, "blocks": [b.__dict__ for b in BLOCKS], "records": recs}
    (HERE / "fixture-run.json").write_text(json.dumps(doc, separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()
