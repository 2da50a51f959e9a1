#!/usr/bin/env python3
"""A fake Vercel REST API, app health endpoint and Prometheus alerts API for the runbook tests.

Standard library only. Binds 127.0.0.1 on a free port (port 0) and writes the port to --port-file.

Vercel endpoints, shapes as documented in the Vercel REST API reference:
- GET  /v6/deployments?projectId=&target=&limit=&state=
    https://vercel.com/docs/rest-api/deployments/list-deployments
    -> {"deployments": [{uid, name, url, created, state, readyState, target, meta{githubCommitSha,
        githubCommitRef}, ...}], "pagination": {count, next, prev}}  (newest first; the field list as
        in the SDK's GetDeploymentsResponseBody example)
- GET  /v13/deployments/{idOrUrl}
    https://vercel.com/docs/rest-api/deployments/get-a-deployment-by-id-or-url
    -> {id, name, url, readyState (QUEUED|BUILDING|INITIALIZING|READY|ERROR|CANCELED), target,
        createdAt, meta, ...}
- POST /v13/deployments?forceNew=  body {name (required), deploymentId (redeploy), target}
    https://vercel.com/docs/rest-api/deployments/create-a-new-deployment
    ("a deployment id can be specified to redeploy a previous deployment") -> the new deployment
- POST /v10/projects/{projectId}/promote/{deploymentId}
    https://vercel.com/docs/rest-api/projects/point-production-traffic-to-a-given-deployment
    ("does NOT rebuild the deployment") -> 201 (or 202), 409 on conflict
- GET  /v9/projects/{idOrName}
    https://vercel.com/docs/rest-api/projects/find-a-project-by-id-or-name
    -> {id, name, accountId, ..., targets: {production: {id, url, alias, readyState, ...}}}; the
       deployment that serves production is targets.production.id
All take the optional teamId query parameter and a bearer token. Errors use Vercel's
{"error": {"code", "message"}} body.

Also served:
- GET /api/health: the app's health JSON (status healthy|degraded|unhealthy, checks database,
  ai_provider, memory with pass|warn|fail); HTTP 503 only when unhealthy.
- GET /api/v1/alerts: Prometheus' alerts API, {"status": "success", "data": {"alerts": [...]}}.
- POST /_control: test control (JSON merged into the behaviour; not recorded). Keys:
    reset              true: back to the default behaviour, and an empty request log
    deployments        list of deployments (uid, state, created, target, name, url, meta)
    current            id of the deployment serving production (default: newest READY production)
    promote_delay      project reads before a promotion shows in targets.production (default 1;
                       -1: never)
    auto_assign        false: a production redeploy that becomes READY does not serve (as after
                       an instant rollback)
    health             healthy|degraded|unhealthy|unhealthy-200|healthy-503|garbage|down
    health_by_deployment  {deployment id: health}, used for the deployment that serves
    health_sequence    list of healths, one per request, the last one repeats
    build              ready (QUEUED, BUILDING, READY on successive reads) | stay | error
    fail               {"list"|"get"|"create"|"promote"|"project": HTTP status}
    alerts             [alertname, ...] firing; alerts_clear_after: requests before they clear
    team               require this teamId on every Vercel API call
- GET /_requests: the request log as a JSON array.

Every other request is appended to --log as one JSON line: method, path, query, body, auth
("ok", "missing" or "invalid"; never the token itself) and the status answered.
"""

import argparse
import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

LOCK = threading.Lock()


def default_state():
    now = int(time.time() * 1000)
    hour = 3600 * 1000
    return {
        "deployments": [
            {"uid": "dpl_current", "state": "READY", "created": now - 1 * hour, "target": "production",
             "sha": "c0ffee1"},
            {"uid": "dpl_failed", "state": "ERROR", "created": now - 2 * hour, "target": "production",
             "sha": "badbad2"},
            {"uid": "dpl_previous", "state": "READY", "created": now - 3 * hour, "target": "production",
             "sha": "beef003"},
            {"uid": "dpl_older", "state": "READY", "created": now - 4 * hour, "target": "production",
             "sha": "0dd0004"},
            {"uid": "dpl_preview", "state": "READY", "created": now - 30 * 60 * 1000, "target": None,
             "sha": "9e9e005"},
        ],
        "current": None,
        "health": "healthy",
        "health_by_deployment": {},
        "health_sequence": [],
        "build": "ready",
        "fail": {},
        "alerts": [],
        "alerts_clear_after": 0,
        "progress": {},
        "alert_requests": 0,
        "created_count": 0,
        "team": "",
        "promote_delay": 1,
        "pending_promotion": None,
        "auto_assign": True,
    }


class Fake:
    def __init__(self, args):
        self.args = args
        self.state = default_state()

    # -- deployments ---------------------------------------------------------------------------
    def find(self, id_or_url):
        for d in self.state["deployments"]:
            if d["uid"] == id_or_url or self.url_of(d) == id_or_url:
                return d
        return None

    def url_of(self, d):
        return d.get("url") or "%s-%s.vercel.app" % (self.args.project_name, d["uid"][4:].replace("_", "-"))

    def list_item(self, d):
        sha = d.get("sha", "")
        return {
            "uid": d["uid"], "name": d.get("name", self.args.project_name), "url": self.url_of(d),
            "created": d["created"], "createdAt": d["created"], "source": "git",
            "state": d["state"], "readyState": d["state"], "type": "LAMBDAS",
            "target": d.get("target"), "projectId": self.args.project,
            "creator": {"uid": "usr_fake", "username": "fake"},
            "inspectorUrl": "https://vercel.com/fake/%s" % d["uid"],
            "meta": d.get("meta") or {"githubCommitSha": sha + "0" * (40 - len(sha)),
                                      "githubCommitRef": "main"},
            "isRollbackCandidate": d["state"] == "READY" and d.get("target") == "production",
        }

    def detail(self, d):
        item = self.list_item(d)
        item["id"] = item.pop("uid")
        item["readyState"] = d["state"]
        return item

    def advance(self, d):
        """A created deployment moves QUEUED -> BUILDING -> READY (or ERROR) as it is read."""
        steps = self.state["progress"].get(d["uid"])
        if not steps:
            return
        d["state"] = steps.pop(0)
        if d["state"] == "READY" and d.get("target") == "production" and self.state["auto_assign"]:
            self.state["current"] = d["uid"]

    def current(self):
        if self.state["current"]:
            return self.state["current"]
        ready = [d for d in self.state["deployments"] if d["state"] == "READY" and d.get("target") == "production"]
        ready.sort(key=lambda d: -d["created"])
        return ready[0]["uid"] if ready else None

    # -- health ---------------------------------------------------------------------------------
    def health_mode(self):
        seq = self.state["health_sequence"]
        if seq:
            return seq.pop(0) if len(seq) > 1 else seq[0]
        return self.state["health_by_deployment"].get(self.current() or "", self.state["health"])


def health_body(mode):
    status = {"healthy-503": "healthy", "unhealthy-200": "unhealthy"}.get(mode, mode)
    checks = {
        "database": {"status": "pass", "message": "Connected", "latency_ms": 3},
        "ai_provider": {"status": "pass", "message": "Azure OpenAI configured"},
        "memory": {"status": "pass", "message": "Heap 41%"},
    }
    if status == "degraded":
        checks["ai_provider"] = {"status": "warn", "message": "Not configured"}
    if status == "unhealthy":
        checks["database"] = {"status": "fail", "message": "Connection refused"}
    code = 503 if mode in ("unhealthy", "healthy-503") else 200
    return code, {"status": status, "version": "0.24.8", "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ"),
                  "uptime": 42, "checks": checks}


class Handler(BaseHTTPRequestHandler):
    fake = None  # set in main
    protocol_version = "HTTP/1.1"

    def log_message(self, *_):  # quiet
        pass

    # -- plumbing ---------------------------------------------------------------------------------
    def read_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if not raw:
            return None, None
        text = raw.decode("utf-8", "replace")
        try:
            return text, json.loads(text)
        except ValueError:
            return text, text

    def send(self, code, body=None, raw=None):
        data = raw if raw is not None else (b"" if body is None else json.dumps(body).encode())
        self.send_response(code)
        self.send_header("Content-Type", "application/json" if raw is None else "text/html")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        self.status = code

    def error(self, code, err, message):
        self.send(code, {"error": {"code": err, "message": message}})

    def auth(self):
        header = self.headers.get("Authorization")
        if not header:
            return "missing"
        return "ok" if header == "Bearer " + self.fake.args.token else "invalid"

    def record(self, parsed, body, auth):
        entry = {"method": self.command, "path": parsed.path,
                 "query": {k: v[-1] for k, v in parse_qs(parsed.query).items()},
                 "body": body, "auth": auth, "status": getattr(self, "status", None)}
        with open(self.fake.args.log, "a", encoding="utf-8") as log:
            log.write(json.dumps(entry) + "\n")

    def handle_any(self):
        parsed = urlsplit(self.path)
        _, body = self.read_body()
        if parsed.path == "/_control":
            with LOCK:
                body = dict(body or {})
                if body.pop("reset", False):
                    self.fake.state = default_state()
                    open(self.fake.args.log, "w").close()
                self.fake.state.update(body)
            return self.send(200, {"ok": True})
        if parsed.path == "/_requests":
            with open(self.fake.args.log, encoding="utf-8") as log:
                return self.send(200, [json.loads(line) for line in log if line.strip()])
        auth = self.auth()
        try:
            with LOCK:
                self.route(parsed, body, auth)
        finally:
            self.record(parsed, body, auth)

    do_GET = do_POST = do_PATCH = do_DELETE = do_HEAD = handle_any

    # -- routes -----------------------------------------------------------------------------------
    def route(self, parsed, body, auth):
        path, query = parsed.path, {k: v[-1] for k, v in parse_qs(parsed.query).items()}
        if path == "/api/health":
            return self.health()
        if path == "/api/v1/alerts":
            return self.alerts()
        if auth != "ok":
            return self.error(401 if auth == "missing" else 403, "forbidden", "Not authorized")
        team = self.fake.state["team"]
        if team and query.get("teamId") != team:
            return self.error(403, "forbidden", "teamId missing or wrong")
        parts = path.strip("/").split("/")
        if self.command == "GET" and path == "/v6/deployments":
            return self.list_deployments(query)
        if self.command == "GET" and len(parts) == 3 and parts[:2] == ["v13", "deployments"]:
            return self.get_deployment(parts[2])
        if self.command == "POST" and path == "/v13/deployments":
            return self.create_deployment(body)
        if self.command == "POST" and len(parts) == 5 and parts[0:2] == ["v10", "projects"] and parts[3] == "promote":
            return self.promote(parts[2], parts[4])
        if self.command == "GET" and len(parts) == 3 and parts[0:2] == ["v9", "projects"]:
            return self.get_project(parts[2])
        return self.error(404, "not_found", "No route for %s %s" % (self.command, path))

    def failing(self, name):
        code = self.fake.state["fail"].get(name)
        if code:
            self.error(int(code), "internal_server_error", "Injected failure of %s" % name)
            return True
        return False

    def list_deployments(self, query):
        if self.failing("list"):
            return
        if query.get("projectId") != self.fake.args.project:
            return self.send(200, {"deployments": [], "pagination": {"count": 0, "next": None, "prev": None}})
        items = list(self.fake.state["deployments"])
        if "target" in query:
            items = [d for d in items if d.get("target") == query["target"]]
        if "state" in query:
            states = query["state"].split(",")
            items = [d for d in items if d["state"] in states]
        items.sort(key=lambda d: -d["created"])
        limit = int(query.get("limit", 20))
        page = items[:limit]
        nxt = page[-1]["created"] if len(items) > limit else None
        self.send(200, {"deployments": [self.fake.list_item(d) for d in page],
                        "pagination": {"count": len(page), "next": nxt, "prev": None}})

    def get_deployment(self, id_or_url):
        if self.failing("get"):
            return
        d = self.fake.find(id_or_url)
        if not d:
            return self.error(404, "not_found", "Deployment not found")
        self.fake.advance(d)
        self.send(200, self.fake.detail(d))

    def create_deployment(self, body):
        if self.failing("create"):
            return
        if not isinstance(body, dict) or not body.get("name"):
            return self.error(400, "bad_request", "Invalid request: missing required property `name`")
        source = self.fake.find(body.get("deploymentId", "")) if body.get("deploymentId") else None
        if body.get("deploymentId") and not source:
            return self.error(404, "not_found", "Deployment to redeploy not found")
        state = self.fake.state
        state["current"] = self.fake.current()  # the new one serves only once READY
        state["created_count"] += 1
        uid = "dpl_new%d" % state["created_count"]
        new = {"uid": uid, "state": "QUEUED", "created": int(time.time() * 1000),
               "target": body.get("target"), "name": body["name"], "sha": (source or {}).get("sha", "")}
        state["deployments"].append(new)
        state["progress"][uid] = {"ready": ["BUILDING", "READY"], "stay": ["BUILDING"] * 100000,
                                  "error": ["BUILDING", "ERROR"]}[state["build"]]
        self.send(200, self.fake.detail(new))

    def promote(self, project, deployment_id):
        if self.failing("promote"):
            return
        if project != self.fake.args.project:
            return self.error(404, "not_found", "Project not found")
        d = self.fake.find(deployment_id)
        if not d:
            return self.error(404, "not_found", "Deployment not found")
        if d["state"] != "READY":
            return self.error(409, "conflict", "Deployment is not READY")
        self.fake.state["current"] = self.fake.current()  # freeze the serving one
        self.fake.state["pending_promotion"] = {"id": d["uid"], "reads": self.fake.state["promote_delay"]}
        self.send(201)

    def get_project(self, id_or_name):
        if self.failing("project"):
            return
        if id_or_name not in (self.fake.args.project, self.fake.args.project_name):
            return self.error(404, "not_found", "Project not found")
        state = self.fake.state
        pending = state["pending_promotion"]
        if pending and pending["reads"] >= 0:
            if pending["reads"] == 0:
                state["current"] = pending["id"]
                state["pending_promotion"] = None
            else:
                pending["reads"] -= 1
        targets = {}
        current = self.fake.find(self.fake.current() or "")
        if current:
            production = self.fake.detail(current)
            production["alias"] = ["app.example.com"]
            targets["production"] = production
        self.send(200, {"id": self.fake.args.project, "name": self.fake.args.project_name,
                        "accountId": "team_fake", "framework": "nextjs", "nodeVersion": "22.x",
                        "directoryListing": False, "targets": targets,
                        "latestDeployments": [self.fake.list_item(d) for d in state["deployments"][-3:]]})

    def health(self):
        mode = self.fake.health_mode()
        if mode == "down":
            return self.send(502, raw=b"<html>Bad gateway</html>")
        if mode == "garbage":
            return self.send(200, raw=b"<html>OK</html>")
        code, body = health_body(mode)
        self.send(code, body)

    def alerts(self):
        state = self.fake.state
        state["alert_requests"] += 1
        firing = state["alerts"]
        if state["alerts_clear_after"] and state["alert_requests"] > state["alerts_clear_after"]:
            firing = []
        alerts = [{"labels": {"alertname": name, "severity": "critical", "env": "test"},
                   "annotations": {"summary": name}, "state": "firing",
                   "activeAt": "2026-01-01T00:00:00Z", "value": "0e+00"} for name in firing]
        alerts.append({"labels": {"alertname": "SomethingElse"}, "annotations": {}, "state": "firing",
                       "activeAt": "2026-01-01T00:00:00Z", "value": "1e+00"})
        self.send(200, {"status": "success", "data": {"alerts": alerts}})


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port-file", required=True)
    parser.add_argument("--log", required=True)
    parser.add_argument("--token", required=True, help="the bearer token the API accepts")
    parser.add_argument("--project", default="prj_opswatch")
    parser.add_argument("--project-name", default="opswatch-app")
    args = parser.parse_args()
    open(args.log, "w").close()
    Handler.fake = Fake(args)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(server.server_address[1]))
    os.replace(tmp, args.port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
