#!/usr/bin/env python3
"""Runs the real Alertmanager on a loopback port with alertmanager.yml (receivers pointed at a local HTTP
sink by sink-config.sh), posts alerts through API v2 and checks:

- inhibition: which alerts Alertmanager reports as suppressed, and by which rule's source;
- delivery: what reaches the pager, chat and heartbeat endpoints, with the value, runbook and dashboard
  links in the text, and that inhibited and info alerts reach nobody.

amtool cannot evaluate inhibit_rules, hence a real process. Prints one "ok ..." or "FAIL ..." line per
check; alertmanager/test.sh counts them. Python 3 standard library only.
"""
import argparse
import datetime
import http.server
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RUNBOOKS = "https://github.com/opswatch/opswatch/blob/main/runbooks/"
DASHBOARDS = "http://localhost:3000/d/"

results = []


def check(name, ok, detail=""):
    results.append(ok)
    print(("ok   " if ok else "FAIL ") + name + ("" if ok or not detail else "\n     " + detail), flush=True)


def kebab(name):
    out = ""
    for i, c in enumerate(name):
        if c.isupper() and i > 0 and (name[i - 1].islower() or (i + 1 < len(name) and name[i + 1].islower())):
            out += "-"
        out += c.lower()
    return out


def alert(env, name, severity, **labels):
    dashboard = {"Budget": "opswatch-cost", "LLM": "opswatch-cost", "Incident": "opswatch-incidents"}
    uid = next((v for k, v in dashboard.items() if name.startswith(k)), "opswatch-health")
    now = datetime.datetime.now(datetime.timezone.utc)
    return {
        "labels": {"alertname": name, "severity": severity, "env": env, **labels},
        "annotations": {
            "summary": f"{name} summary",
            "description": f"{name} description for {labels.get('provider', 'all')}",
            "value": "81% of budget",
            "runbook_url": RUNBOOKS + kebab(name) + ".md",
            "dashboard_url": DASHBOARDS + uid,
        },
        "startsAt": now.isoformat(),
        "endsAt": (now + datetime.timedelta(hours=1)).isoformat(),
    }


# (alert, expected state, the alert names that may inhibit it). Alertmanager reports one source, the first
# rule that matches; an inhibited alert still inhibits others (BudgetSpendCritical vercel below).
SOURCES = [
    alert("t-budget", "BudgetExceeded", "critical", provider="vercel"),
    alert("t-budget", "BudgetSpendCritical", "critical", provider="total"),
    alert("t-quota", "QuotaExhausted", "critical", provider="azure_openai", quota="chat_tokens_per_minute"),
    alert("t-exporter", "OpswatchExporterDown", "critical", job="opswatch", instance="exporter:9824"),
    alert("t-source", "OpswatchSourceDown", "warning", source="costs"),
]
CASES = [
    (SOURCES[0], "active", None),
    (alert("t-budget", "BudgetSpendCritical", "critical", provider="vercel"), "suppressed", "BudgetExceeded"),
    (alert("t-budget", "BudgetSpendWarning", "warning", provider="vercel"), "suppressed",
     "BudgetExceeded|BudgetSpendCritical"),
    (alert("t-budget", "BudgetForecastOverBudget", "warning", provider="vercel"), "suppressed",
     "BudgetExceeded|BudgetSpendCritical"),
    (alert("t-budget", "BudgetSpendWarning", "warning", provider="supabase"), "active", None),
    (SOURCES[1], "active", None),
    (alert("t-budget", "BudgetSpendWarning", "warning", provider="total"), "suppressed", "BudgetSpendCritical"),
    (alert("t-budget", "BudgetForecastOverBudget", "warning", provider="azure_openai"), "active", None),
    (SOURCES[2], "active", None),
    (alert("t-quota", "QuotaCritical", "critical", provider="azure_openai", quota="chat_tokens_per_minute"),
     "suppressed", "QuotaExhausted"),
    # Both inhibit it (alertmanager.yml); Alertmanager names whichever matched first.
    (alert("t-quota", "QuotaWarning", "warning", provider="azure_openai", quota="chat_tokens_per_minute"),
     "suppressed", "QuotaExhausted|QuotaCritical"),
    (alert("t-quota", "QuotaWarning", "warning", provider="azure_openai", quota="chat_requests_per_minute"),
     "active", None),
    (SOURCES[3], "active", None),
    (alert("t-exporter", "BudgetSpendWarning", "warning", provider="vercel"), "suppressed", "OpswatchExporterDown"),
    (alert("t-exporter", "LLMSpendSpike", "warning", provider="azure_openai"), "suppressed", "OpswatchExporterDown"),
    (alert("t-exporter", "QuotaWarning", "warning", provider="brave_search", quota="queries_per_month"),
     "suppressed", "OpswatchExporterDown"),
    (alert("t-exporter", "IncidentCriticalSafety", "critical"), "suppressed", "OpswatchExporterDown"),
    (alert("t-exporter", "AppHealthDegraded", "warning", target="app"), "suppressed", "OpswatchExporterDown"),
    (alert("t-exporter", "OpswatchSourceStale", "warning", source="incidents"), "suppressed", "OpswatchExporterDown"),
    (alert("t-exporter", "OpswatchHeartbeat", "info"), "active", None),
    (alert("t-other", "IncidentSpike", "warning"), "active", None),
    (SOURCES[4], "active", None),
    (alert("t-source", "OpswatchSourceStale", "warning", source="costs"), "suppressed", "OpswatchSourceDown"),
    (alert("t-source", "OpswatchSourceStale", "warning", source="quotas"), "active", None),
    (alert("t-info", "OpswatchTestRecord", "info"), "active", None),
]


class Sink(http.server.BaseHTTPRequestHandler):
    received = []
    lock = threading.Lock()

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with Sink.lock:
            Sink.received.append((self.path, json.loads(body or b"{}")))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"ok":true,"status":"success"}')

    def log_message(self, *args):
        pass


def posts(path):
    with Sink.lock:
        return [body for p, body in Sink.received if p == path]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(method, url, data=None):
    req = urllib.request.Request(url, method=method, data=None if data is None else json.dumps(data).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=5) as resp:
        raw = resp.read()
        is_json = resp.headers.get_content_type() == "application/json"
        return resp.status, (json.loads(raw) if is_json and raw.strip() else raw)


def wait_for(predicate, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return True
        except OSError:
            pass
        time.sleep(0.2)
    return False


def key(labels):
    return tuple(sorted(labels.items()))


def run(am_bin, work):
    sink = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Sink)
    threading.Thread(target=sink.serve_forever, daemon=True).start()
    sink_url = f"http://127.0.0.1:{sink.server_address[1]}"

    config = subprocess.run([os.path.join(REPO, "alertmanager", "sink-config.sh"), "--sink", sink_url,
                             "--out", os.path.join(work, "am"), "--group-wait", "1s"],
                            check=True, capture_output=True, text=True).stdout.strip()
    with open(os.path.join(work, "am", "secrets", "pager_routing_key")) as f:
        routing_key = f.read().strip()

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = open(os.path.join(work, "alertmanager.log"), "w")
    proc = subprocess.Popen([am_bin, f"--config.file={config}", f"--storage.path={work}/data",
                             f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address=",
                             "--log.level=warn"], stdout=log, stderr=subprocess.STDOUT)
    try:
        ready = wait_for(lambda: call("GET", base + "/-/ready")[0] == 200, 20)
        check("alertmanager starts with the sink config", ready)
        if not ready:
            return

        # Sources first, so that the inhibitor knows them before the targets reach the dispatcher.
        call("POST", base + "/api/v2/alerts", SOURCES)
        wait_for(lambda: len(call("GET", base + "/api/v2/alerts")[1]) >= len(SOURCES), 10)
        call("POST", base + "/api/v2/alerts", [a for a, _, _ in CASES if a not in SOURCES])

        names_by_fp = {}

        def states():
            got = {}
            for a in call("GET", base + "/api/v2/alerts")[1]:
                names_by_fp[a["fingerprint"]] = a["labels"]["alertname"]
                got[key(a["labels"])] = (a["status"]["state"], a["status"]["inhibitedBy"])
            return got

        def settled():
            got = states()
            return all(got.get(key(a["labels"]), ("", []))[0] == want for a, want, _ in CASES)

        wait_for(settled, 15)
        got = states()
        for a, want, by in CASES:
            lbl = a["labels"]
            what = f"{lbl['alertname']}{{{','.join(f'{k}={v}' for k, v in sorted(lbl.items()) if k != 'alertname')}}}"
            state, inhibited_by = got.get(key(lbl), ("missing", []))
            sources = sorted(names_by_fp.get(fp, fp) for fp in inhibited_by)
            if want == "suppressed":
                check(f"inhibit: {what} is suppressed by {by}",
                      state == "suppressed" and len(sources) == 1 and sources[0] in by.split("|"),
                      f"state={state} inhibitedBy={sources}")
            else:
                check(f"inhibit: {what} stays active", state == "active" and not inhibited_by,
                      f"state={state} inhibitedBy={sources}")

        # Delivery. Wait for the notifications that must arrive, then a little longer for any that must not.
        def pager_has(text):
            return any(text in json.dumps(b) for b in posts("/pager"))

        def chat_has(text):
            return any(text in json.dumps(b) for b in posts("/chat"))

        wait_for(lambda: pager_has("BudgetExceeded vercel") and chat_has("BudgetSpendWarning supabase")
                 and posts("/heartbeat"), 20)
        time.sleep(3)

        page = next((b for b in posts("/pager") if "BudgetExceeded vercel" in json.dumps(b)), None)
        check("deliver: critical BudgetExceeded pages through the pager receiver", page is not None,
              f"pager posts: {[b.get('payload', {}).get('summary') for b in posts('/pager')]}")
        if page:
            details = page["payload"]["custom_details"]["firing"]
            check("deliver: the page uses the routing key from the secret file",
                  page.get("routing_key") == routing_key, f"routing_key={page.get('routing_key')}")
            check("deliver: the page title names the alert, provider and env",
                  page["payload"]["summary"] == "[FIRING:1] BudgetExceeded vercel (t-budget)",
                  page["payload"]["summary"])
            check("deliver: the page carries value, runbook and dashboard",
                  "Value: 81% of budget" in details
                  and f"Runbook: {RUNBOOKS}budget-exceeded.md" in details
                  and f"Dashboard: {DASHBOARDS}opswatch-cost" in details, details)
            fields = {k: page["payload"]["custom_details"].get(k) for k in
                      ("alertname", "provider", "env", "value", "runbook_url", "dashboard_url")}
            check("deliver: the page has the alert's fields as details", fields == {
                "alertname": "BudgetExceeded", "provider": "vercel", "env": "t-budget", "value": "81% of budget",
                "runbook_url": RUNBOOKS + "budget-exceeded.md", "dashboard_url": DASHBOARDS + "opswatch-cost"},
                json.dumps(fields))
            check("deliver: the page has severity critical", page["payload"].get("severity") == "critical",
                  str(page["payload"].get("severity")))
            check("deliver: the page links the runbook and the dashboard",
                  {(link["text"], link["href"]) for link in page.get("links", [])}
                  == {("Runbook", RUNBOOKS + "budget-exceeded.md"), ("Dashboard", DASHBOARDS + "opswatch-cost")},
                  json.dumps(page.get("links")))

        msg = next((b for b in posts("/chat") if "BudgetSpendWarning supabase" in json.dumps(b)), None)
        check("deliver: warning BudgetSpendWarning reaches the chat receiver", msg is not None,
              f"chat titles: {[b['attachments'][0].get('title') for b in posts('/chat')]}")
        if msg:
            att = msg["attachments"][0]
            check("deliver: the chat message carries value, runbook and dashboard",
                  "Value: 81% of budget" in att["text"]
                  and f"Runbook: {RUNBOOKS}budget-spend-warning.md" in att["text"]
                  and f"Dashboard: {DASHBOARDS}opswatch-cost" in att["text"], att["text"])
            check("deliver: the chat message has runbook and dashboard buttons",
                  {(a["text"], a["url"]) for a in att.get("actions", [])}
                  == {("Runbook", RUNBOOKS + "budget-spend-warning.md"), ("Dashboard", DASHBOARDS + "opswatch-cost")},
                  json.dumps(att.get("actions")))

        beats = posts("/heartbeat")
        check("deliver: the heartbeat reaches the dead man's switch",
              any(a["labels"]["alertname"] == "OpswatchHeartbeat" for b in beats for a in b.get("alerts", [])),
              json.dumps(beats)[:300])
        check("deliver: only the heartbeat goes to the dead man's switch",
              all(a["labels"]["alertname"] == "OpswatchHeartbeat" for b in beats for a in b.get("alerts", [])))

        everything = json.dumps(Sink.received)
        for text, why in [("BudgetSpendWarning vercel", "an inhibited warning"),
                          ("BudgetSpendCritical vercel", "an inhibited critical"),
                          ("QuotaCritical azure_openai", "an inhibited quota alert"),
                          ("AppHealthDegraded", "an alert inhibited by exporter-down"),
                          ("OpswatchTestRecord", "an info alert")]:
            check(f"deliver: {why} ({text}) is sent to nobody", text not in everything)
        check("deliver: criticals do not go to chat", not any(
            "BudgetExceeded" in json.dumps(b) or "OpswatchExporterDown" in json.dumps(b) for b in posts("/chat")))
        check("deliver: warnings do not page", not any(
            "BudgetSpendWarning" in json.dumps(b) or "IncidentSpike" in json.dumps(b) for b in posts("/pager")))
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        sink.shutdown()
        with open(os.path.join(work, "alertmanager.log")) as f:
            tail = f.readlines()[-20:]
        if tail and not all(results):
            print("     alertmanager log:\n" + "".join("     " + line for line in tail))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--alertmanager", required=True, help="the alertmanager binary")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="opswatch-am-") as work:
        run(args.alertmanager, work)
    return 0 if results and all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
