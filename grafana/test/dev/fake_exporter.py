#!/usr/bin/env python3
"""DEVELOPMENT AID ONLY - not a test of record.

Serves a hand-written exposition with every family of docs/metrics.md, so that the
dashboards' live mode can be exercised before (or without) the real exporter.
The end-to-end test runs live mode against the real exporter over the demo data;
nothing here proves the exporter right.

    python3 grafana/test/dev/fake_exporter.py PORT
"""

import calendar
import http.server
import sys
import time

START = time.time()

COST = {  # provider: (kind, display name, month-to-date, forecast, budget)
    "azure_openai": ("metered", "Azure OpenAI", 41.2, 95.0, 79.0),
    "vercel": ("fixed", "Vercel", 20.0, 20.0, 25.0),
    "supabase": ("fixed", "Supabase", 25.0, 25.0, 26.0),
    "sentry": ("fixed", "Sentry", 26.0, 26.0, 26.0),
}
QUOTAS = {  # (provider, quota): (usage, limit, warning, critical, window seconds, calendar?)
    ("azure_openai", "chat_tokens_per_minute"): (61000, 120000, 0.8, 0.95, 60, False),
    ("azure_openai", "chat_requests_per_minute"): (610, 720, 0.8, 0.95, 60, False),
    ("azure_openai", "embedding_tokens_per_minute"): (1200, 350000, 0.8, 0.95, 60, False),
    ("azure_openai", "tts_requests_per_minute"): (3, 150, 0.8, 0.95, 60, False),
    ("google_drive", "queries_per_minute"): (40, 12000, 0.7, 0.9, 60, False),
    ("google_drive", "queries_per_day"): (9000, 1e9, 0.7, 0.9, 86400, False),
    ("brave_search", "queries_per_month"): (1300, 2000, 0.5, 0.9, None, True),
}
LEVELS = ("ok", "warning", "critical", "exceeded")


def level(ratio, warning, critical):
    return "exceeded" if ratio >= 1 else "critical" if ratio >= critical else "warning" if ratio >= warning else "ok"


def exposition():
    now = time.time()
    t = time.gmtime(now)
    start = calendar.timegm((t.tm_year, t.tm_mon, 1, 0, 0, 0))
    end = start + calendar.monthrange(t.tm_year, t.tm_mon)[1] * 86400
    out = []

    def family(name, kind, samples):
        out.append(f"# TYPE {name} {kind}")
        for labels, value in samples:
            text = ",".join(f'{k}="{v}"' for k, v in labels.items())
            out.append(f"{name}{{{text}}} {value}" if text else f"{name} {value}")

    def stateset(name, labels, states, current):
        return [(dict(labels, **{name: s}), 1 if s == current else 0) for s in states]

    growth = (now - START) * 0.002  # azure_openai spends a little between scrapes
    mtd = {p: v[2] + (growth if p == "azure_openai" else 0) for p, v in COST.items()}
    fc = {p: v[3] + (growth * 2 if p == "azure_openai" else 0) for p, v in COST.items()}
    family("opswatch_cost_month_to_date_eur", "gauge", [({"provider": p}, v) for p, v in mtd.items()])
    family("opswatch_cost_forecast_eur", "gauge", [({"provider": p}, v) for p, v in fc.items()])
    family("opswatch_cost_query_month_to_date_eur", "gauge", [
        ({"provider": "azure_openai", "query": q}, v) for q, v in
        (("text_sessions", mtd["azure_openai"] * 0.6), ("voice", mtd["azure_openai"] * 0.3), ("video_frames", mtd["azure_openai"] * 0.1))])
    family("opswatch_cost_total_month_to_date_eur", "gauge", [({}, sum(mtd.values()))])
    family("opswatch_cost_total_forecast_eur", "gauge", [({}, sum(fc.values()))])
    family("opswatch_budget_eur", "gauge", [({"provider": p}, v[4]) for p, v in COST.items()])
    family("opswatch_budget_total_eur", "gauge", [({}, 150)])
    family("opswatch_budget_usage_ratio", "gauge", [({"provider": p}, mtd[p] / v[4]) for p, v in COST.items()])
    family("opswatch_budget_forecast_ratio", "gauge", [({"provider": p}, fc[p] / v[4]) for p, v in COST.items()])
    family("opswatch_budget_total_usage_ratio", "gauge", [({}, sum(mtd.values()) / 150)])
    family("opswatch_budget_total_forecast_ratio", "gauge", [({}, sum(fc.values()) / 150)])
    family("opswatch_budget_warning_ratio", "gauge", [({"provider": p}, 0.8) for p in COST])
    family("opswatch_budget_critical_ratio", "gauge", [({"provider": p}, 0.95) for p in COST])
    family("opswatch_budget_total_warning_ratio", "gauge", [({}, 0.8)])
    family("opswatch_budget_total_critical_ratio", "gauge", [({}, 0.95)])
    family("opswatch_budget_status", "gauge", [s for p, v in COST.items() for basis, amount in (("spend", mtd[p]), ("forecast", fc[p]))
                                                for s in stateset("opswatch_budget_status", {"provider": p, "basis": basis}, LEVELS,
                                                                  level(amount / v[4], 0.8, 0.95))])
    family("opswatch_budget_total_status", "gauge", [s for basis, amount in (("spend", sum(mtd.values())), ("forecast", sum(fc.values())))
                                                      for s in stateset("opswatch_budget_total_status", {"basis": basis}, LEVELS,
                                                                        level(amount / 150, 0.8, 0.95))])
    family("opswatch_provider_info", "gauge", [({"provider": p, "kind": v[0], "display_name": v[1]}, 1) for p, v in COST.items()])
    family("opswatch_llm_tokens_month_to_date", "gauge", [
        ({"provider": "azure_openai", "model": m, "direction": d}, n) for m, d, n in
        (("gpt-5-mini", "input", 8.1e6), ("gpt-5-mini", "output", 2.2e6), ("gpt-5-mini", "cached_input", 1.1e6),
         ("gpt-realtime-mini", "input", 3.0e5), ("gpt-realtime-mini", "output", 2.5e5), ("gpt-realtime-mini", "cached_input", 0))])
    family("opswatch_llm_cost_month_to_date_eur", "gauge", [
        ({"provider": "azure_openai", "model": "gpt-5-mini"}, mtd["azure_openai"] * 0.7),
        ({"provider": "azure_openai", "model": "gpt-realtime-mini"}, mtd["azure_openai"] * 0.3)])
    family("opswatch_billing_period_start_timestamp_seconds", "gauge", [({}, start)])
    family("opswatch_billing_period_end_timestamp_seconds", "gauge", [({}, end)])

    q = lambda p, k: {"provider": p, "quota": k}  # noqa: E731
    family("opswatch_quota_usage", "gauge", [(q(*k), v[0]) for k, v in QUOTAS.items()])
    family("opswatch_quota_limit", "gauge", [(q(*k), v[1]) for k, v in QUOTAS.items()])
    family("opswatch_quota_usage_ratio", "gauge", [(q(*k), v[0] / v[1]) for k, v in QUOTAS.items()])
    family("opswatch_quota_warning_ratio", "gauge", [(q(*k), v[2]) for k, v in QUOTAS.items()])
    family("opswatch_quota_critical_ratio", "gauge", [(q(*k), v[3]) for k, v in QUOTAS.items()])
    family("opswatch_quota_status", "gauge", [s for k, v in QUOTAS.items()
                                               for s in stateset("opswatch_quota_status", q(*k), LEVELS, level(v[0] / v[1], v[2], v[3]))])
    family("opswatch_quota_window_seconds", "gauge", [(q(*k), v[4] or end - start) for k, v in QUOTAS.items()])
    family("opswatch_quota_reset_timestamp_seconds", "gauge", [(q(*k), end) for k, v in QUOTAS.items() if v[5]])
    family("opswatch_external_calls", "gauge", [({"provider": p, "outcome": o}, n) for p, o, n in
                                                (("azure_openai", "success", 410), ("azure_openai", "failure", 9),
                                                 ("google_drive", "success", 40), ("google_drive", "failure", 0),
                                                 ("brave_search", "success", 12), ("brave_search", "failure", 1))])
    family("opswatch_external_call_error_ratio", "gauge", [({"provider": p}, r) for p, r in
                                                           (("azure_openai", 9 / 419), ("google_drive", 0), ("brave_search", 1 / 13))])

    family("opswatch_incidents", "gauge", [({"severity": s, "type": ty}, n) for s, ty, n in
                                           (("S0", "input_warned", 7), ("S1", "input_blocked", 4), ("S2", "escalation", 1), ("S3", "crisis_detected", 0))])
    family("opswatch_incidents_unresolved", "gauge", [({"severity": s}, n) for s, n in (("S0", 2), ("S1", 1), ("S2", 1), ("S3", 0))])
    family("opswatch_incident_last_timestamp_seconds", "gauge", [({"severity": s}, now - a) for s, a in (("S0", 600), ("S1", 4000), ("S2", 30000))])
    family("opswatch_telemetry_incidents", "gauge", [({"category": "circuit_breaker", "severity": "S1"}, 2)])
    family("opswatch_incidents_lookback_seconds", "gauge", [({}, 86400)])

    target = {"target": "app"}
    family("opswatch_probe_success", "gauge", [(target, 1)])
    family("opswatch_probe_duration_seconds", "gauge", [(target, 0.12 + (now % 7) / 100)])
    family("opswatch_probe_http_status_code", "gauge", [(target, 200)])
    family("opswatch_probe_health_status", "gauge", stateset("opswatch_probe_health_status", target, ("healthy", "degraded", "unhealthy"), "degraded"))
    family("opswatch_probe_check_status", "gauge", [s for c, st in (("database", "pass"), ("ai_provider", "warn"), ("memory", "pass"))
                                                     for s in stateset("opswatch_probe_check_status", dict(target, check=c), ("pass", "warn", "fail"), st)])
    family("opswatch_probe_failure_reason", "gauge", stateset("opswatch_probe_failure_reason", target,
                                                              ("none", "timeout", "dns", "tls", "connect", "http_status", "bad_body"), "none"))

    sources = {"costs": 60, "quotas_fast": 15, "quotas": 60, "incidents": 60, "probes": 30}
    family("opswatch_source_up", "gauge", [({"source": s}, 0 if s == "quotas" else 1) for s in sources])
    family("opswatch_source_last_success_timestamp_seconds", "gauge", [({"source": s}, now - (150 if s == "quotas" else 5)) for s in sources])
    family("opswatch_source_refresh_duration_seconds", "gauge", [({"source": s}, 0.05) for s in sources])
    family("opswatch_source_refresh_interval_seconds", "gauge", [({"source": s}, i) for s, i in sources.items()])
    family("opswatch_source_errors_total", "counter", [({"source": "quotas"}, int((now - START) / 30))])
    family("opswatch_rows_rejected_total", "counter", [({"source": "incidents", "reason": "unknown_severity"}, 3)])
    family("opswatch_build_info", "gauge", [({"version": "0.1.0-dev", "revision": "fake"}, 1)])
    return "\n".join(out) + "\n"


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802
        body = exposition().encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
