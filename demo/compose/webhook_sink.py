#!/usr/bin/env python3
"""DEMO ONLY: the compose stack's stand-in for the pager, the chat and the dead man's switch,
and for the app's health endpoint. Python standard library only.

  POST /pager      PagerDuty Events API v2 JSON (Alertmanager's `pager` receiver)
  POST /chat       Slack incoming-webhook JSON (Alertmanager's `chat` receiver)
  POST /heartbeat  Alertmanager webhook JSON (the `deadmans-switch` receiver)
  POST /<other>    logged too, with the raw body, so a misrouted notification is visible
  GET  /           the last notifications, newest first (text; ?format=json for JSON)
  GET  /api/health the app's health answer the exporter probes: {status, checks}
  GET  /-/healthy  liveness, for the compose healthcheck

Every notification is printed to stdout (`docker compose logs -f webhook-sink`) as a header
line (receiver, what happened, severity) followed by the text the on-call person would read,
runbook link included. Nothing is forwarded anywhere.

  python3 webhook_sink.py [--port 8080] [--bind 0.0.0.0]
"""
import argparse
import collections
import datetime
import http.server
import json
import signal
import sys
import threading

MAX_BODY = 1 << 20
KEEP = 200

RECEIVERS = {"/pager": "pager", "/chat": "chat", "/heartbeat": "heartbeat"}

_lock = threading.Lock()
_received = collections.deque(maxlen=KEEP)


def now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def summarize(receiver, body):
    """A header line and the human-readable text of one notification, whatever its format."""
    if not isinstance(body, dict):
        return f"{receiver}: unparsed body", str(body)[:2000]
    if "event_action" in body:  # PagerDuty Events API v2
        payload = body.get("payload") or {}
        links = " ".join(f"{link.get('text', 'link')}={link.get('href', '')}" for link in body.get("links") or [])
        details = payload.get("custom_details") or {}
        if isinstance(details, dict):  # short fields on one line, then the long texts (firing, ...)
            short = [f"{k}={v}" for k, v in details.items() if str(v).strip() and "\n" not in str(v)]
            blocks = [str(v).strip() for v in details.values() if "\n" in str(v)]
            text = "\n".join(([" ".join(short)] if short else []) + blocks)
        else:
            text = str(details)
        header = (f"{receiver}: PAGE {body.get('event_action')} severity={payload.get('severity')} "
                  f"dedup_key={body.get('dedup_key')} | {payload.get('summary')}")
        return header + (f" | {links}" if links else ""), text
    if "attachments" in body or ("text" in body and "alerts" not in body):  # Slack webhook
        parts = []
        for attachment in body.get("attachments") or []:
            parts.append(str(attachment.get("title", "")))
            parts.append(str(attachment.get("text", "")))
            for action in attachment.get("actions") or []:
                parts.append(f"[{action.get('text')}] {action.get('url')}")
        if body.get("text"):
            parts.insert(0, str(body["text"]))
        title = next((p for p in parts if p), "(empty)")
        return f"{receiver}: CHAT {title}", "\n".join(p for p in parts[1:] if p)
    if "alerts" in body:  # Alertmanager webhook
        lines = []
        for alert in body.get("alerts") or []:
            labels = alert.get("labels") or {}
            annotations = alert.get("annotations") or {}
            label_text = " ".join(f"{k}={v}" for k, v in sorted(labels.items()) if k != "alertname")
            lines.append(f"{alert.get('status', '?').upper()} {labels.get('alertname')} {label_text}"
                         + (f" runbook={annotations['runbook_url']}" if annotations.get("runbook_url") else ""))
        header = (f"{receiver}: WEBHOOK {body.get('status')} receiver={body.get('receiver')} "
                  f"alerts={len(body.get('alerts') or [])}")
        return header, "\n".join(lines)
    return f"{receiver}: JSON", json.dumps(body)[:2000]


def app_health():
    """The shape of the app's GET /api/health; always healthy in the demo."""
    return {
        "status": "healthy",
        "version": "demo",
        "timestamp": now(),
        "checks": {
            "database": {"status": "pass", "message": "Connected (demo stand-in)", "latency_ms": 3},
            "ai_provider": {"status": "pass", "message": "Azure OpenAI configured (demo stand-in)"},
            "memory": {"status": "pass", "message": "ok"},
        },
    }


class Handler(http.server.BaseHTTPRequestHandler):
    server_version = "opswatch-webhook-sink"
    # HTTP/1.1 keep-alive, as real receivers and the app answer (every response has a
    # Content-Length); idle connections are dropped after `timeout` seconds.
    protocol_version = "HTTP/1.1"
    timeout = 120

    def _send(self, code, body, content_type="application/json"):
        data = body if isinstance(body, bytes) else body.encode()
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self._send(413, '{"status":"too large"}')
            return
        raw = self.rfile.read(length).decode("utf-8", errors="replace")
        try:
            body = json.loads(raw)
        except ValueError:
            body = raw
        path = self.path.split("?", 1)[0]
        receiver = RECEIVERS.get(path, f"unknown path {path}")
        header, text = summarize(receiver, body)
        entry = {"received_at": now(), "path": path, "receiver": receiver, "summary": header, "body": body}
        with _lock:
            _received.appendleft(entry)
        out = f"{entry['received_at']} {header}"
        if text:
            out += "\n" + "\n".join("    " + line for line in text.splitlines())
        print(out, flush=True)
        if path == "/pager":  # what PagerDuty answers, so the notifier counts it as delivered
            self._send(202, json.dumps({"status": "success", "message": "Event processed",
                                        "dedup_key": body.get("dedup_key") if isinstance(body, dict) else None}))
        elif path == "/chat":  # what a Slack incoming webhook answers
            self._send(200, "ok", "text/plain")
        else:
            self._send(200, '{"status":"success"}')

    def do_GET(self):
        path, _, query = self.path.partition("?")
        if path == "/-/healthy":
            self._send(200, "OK\n", "text/plain")
        elif path == "/api/health":
            self._send(200, json.dumps(app_health()))
        elif path in ("/", "/notifications"):
            with _lock:
                entries = list(_received)
            if "format=json" in query:
                self._send(200, json.dumps(entries, indent=2))
            else:
                lines = [f"{len(entries)} notification(s), newest first (kept: {KEEP})", ""]
                lines += [f"{e['received_at']} {e['summary']}" for e in entries]
                self._send(200, "\n".join(lines) + "\n", "text/plain; charset=utf-8")
        else:
            self._send(404, '{"status":"not found"}')

    def log_message(self, fmt, *args):  # notifications are printed in do_POST; no access log
        pass


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--bind", default="0.0.0.0")
    args = parser.parse_args(argv)
    # PID 1 in its container: without a handler, SIGTERM would be ignored until the kill.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    server = http.server.ThreadingHTTPServer((args.bind, args.port), Handler)
    print(f"{now()} webhook sink listening on {args.bind}:{args.port}: POST /pager /chat /heartbeat, "
          f"GET / /api/health /-/healthy", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
