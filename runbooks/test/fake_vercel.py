#!/usr/bin/env python3
"""A fake Vercel REST API, app health endpoint, Prometheus alerts API and Grafana annotations API
for the runbook tests.

Standard library only. Binds 127.0.0.1 on a free port (port 0) and writes the port to --port-file.

Vercel endpoints, shapes as documented in the Vercel REST API reference (vercel.com/docs/rest-api,
the @vercel/sdk models) and as the official CLI (github.com/vercel/vercel, packages/cli) uses them:
- GET  /v6/deployments?projectId=&target=&limit=&state=
    -> {"deployments": [{uid, name, url, created, state, readyState, target, isRollbackCandidate,
        meta{githubCommitSha, githubCommitRef, ...}, ...}], "pagination": {count, next, prev}}
       (newest first). projectId must be the project's id here (the runbooks resolve a name once).
- GET  /v13/deployments/{idOrUrl}
    -> {id, name, url, readyState (QUEUED|BUILDING|INITIALIZING|READY|ERROR|CANCELED), target,
        createdAt, meta, aliasAssigned, aliasError, ...}
- POST /v13/deployments?forceNew=  body {name (required), deploymentId (redeploy), target, meta}
    -> the new deployment. create_delay answers only after that many seconds (the deployment
       exists at once, as when Vercel answers late); create_drop: the request is lost (nothing
       is created) and the answer comes after create_delay.
- PATCH /v12/deployments/{id}/cancel
    "cancel a deployment which is currently building" -> the deployment, readyState CANCELED;
    400 when it is not building.
- POST /v1/projects/{projectId}/rollback/{deploymentId}  (Instant Rollback; the CLI sends {})
    -> 201; 409 when the deployment is not a rollback candidate. Turns auto-assignment off.
- POST /v10/projects/{projectId}/promote/{deploymentId}  (the CLI sends {})
    -> 201, or 202 when promote_status is 202 ("queued"). Turns auto-assignment on again.
- GET  /v9/projects/{idOrName}[?rollbackInfo=true]
    -> {id, name, accountId, ..., targets: {production: {id, createdAt, ...}},
        lastAliasRequest: {type, jobStatus, fromDeploymentId, toDeploymentId, requestedAt}}
       (lastAliasRequest only with rollbackInfo=true, as the CLI asks). Each read advances the
       alias job by one step of alias_job (default pending, in-progress, succeeded; the last step
       repeats); production moves to the target when the job succeeds.
- GET  /v9/projects/{id}/rollback/aliases and /promote/aliases ?failedOnly=true (the CLI's)
    -> {"aliases": [{alias: {alias, deploymentId}, id, status}], "pagination": {...}}
- POST /v1/edge-cache/purge-all?projectIdOrName=, DELETE /v1/data-cache/purge-all?projectIdOrName=
    (the CLI's `vercel cache purge`) -> 200 {}
All take the optional teamId query parameter and a bearer token. Errors use Vercel's
{"error": {"code", "message"}} body.

Also served:
- GET /api/health: the app's health JSON (status healthy|degraded|unhealthy, checks database,
  ai_provider, memory with pass|warn|fail); HTTP 503 only when unhealthy.
- GET /api/v1/alerts: Prometheus' alerts API, {"status": "success", "data": {"alerts": [...]}}.
- POST /api/annotations: Grafana's HTTP API (bearer --grafana-token; body {time, tags, text})
  -> {"message": "Annotation added", "id": N}.
- POST /_control: test control (JSON merged into the behaviour; not recorded). Keys:
    reset              true: back to the default behaviour, and an empty request log
    deployments        list of deployments (uid, state, created, target, name, url, meta, sha,
                       never_served: true for a READY production build that never served)
    current            id of the deployment serving production (default: newest READY production)
    auto_assign        false: a production redeploy that becomes READY does not serve (as after
                       an instant rollback)
    alias_job          the jobStatus steps of the next rollback/promote job, one per project read
    alias_error        a READY redeploy gets this aliasError instead of the production domains
    promote_status     HTTP status of an accepted promote: 201 (default) or 202
    last_alias_request preset lastAliasRequest (e.g. a rollback done before the test)
    health             healthy|degraded|unhealthy|unhealthy-200|healthy-503|garbage|down
    health_by_deployment  {deployment id: health}, used for the deployment that serves
    health_sequence    list of healths, one per request, the last one repeats
    build              ready (QUEUED, BUILDING, READY on successive reads) | stay | error
    create_delay       seconds before the create answers; create_drop: true loses the request
    fail               {"list"|"get"|"create"|"promote"|"rollback"|"project"|"cancel"|"purge"|
                       "grafana": HTTP status}
    throttle           {route: {"skip": S, "count": N, "status": 429, "retry_after": "1"}}: after
                       S requests of the route, the next N get that status (with Retry-After
                       when given)
    alerts             [alertname, ...] firing; alerts_clear_after: requests before they clear
    team               require this teamId on every Vercel API call
- GET /_requests: the request log as a JSON array.

Every other request is appended to --log as one JSON line: method, path, query, body, auth
("ok", "missing" or "invalid"; never the token itself), the status answered and the time.
"""

import argparse
import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

LOCK = threading.Lock()


def now_ms():
    return int(time.time() * 1000)


def default_state():
    now = now_ms()
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
        "throttle": {},
        "alerts": [],
        "alerts_clear_after": 0,
        "progress": {},
        "alert_requests": 0,
        "created_count": 0,
        "annotation_count": 0,
        "team": "",
        "auto_assign": True,
        "alias_job": ["pending", "in-progress", "succeeded"],
        "alias_error": None,
        "promote_status": 201,
        "job": None,
        "last_alias_request": None,
        "create_delay": 0,
        "create_drop": False,
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

    def candidate(self, d):
        """isRollbackCandidate: READY production deployments that have served production."""
        return d["state"] == "READY" and d.get("target") == "production" and not d.get("never_served")

    def list_item(self, d):
        sha = d.get("sha", "")
        meta = {"githubCommitSha": sha + "0" * (40 - len(sha)), "githubCommitRef": "main"}
        meta.update(d.get("meta") or {})
        return {
            "uid": d["uid"], "name": d.get("name", self.args.project_name), "url": self.url_of(d),
            "created": d["created"], "createdAt": d["created"], "source": "git",
            "state": d["state"], "readyState": d["state"], "type": "LAMBDAS",
            "target": d.get("target"), "projectId": self.args.project,
            "creator": {"uid": "usr_fake", "username": "fake"},
            "inspectorUrl": "https://vercel.com/fake/%s" % d["uid"],
            "meta": meta, "isRollbackCandidate": self.candidate(d),
        }

    def detail(self, d):
        item = self.list_item(d)
        item["id"] = item.pop("uid")
        item["readyState"] = d["state"]
        item["aliasAssigned"] = d.get("aliasAssigned")
        item["aliasError"] = d.get("aliasError")
        return item

    def advance(self, d):
        """A created deployment moves QUEUED -> BUILDING -> READY (or ERROR) as it is read."""
        steps = self.state["progress"].get(d["uid"])
        if not steps:
            return
        d["state"] = steps.pop(0)
        if d["state"] == "READY" and d.get("target") == "production":
            if self.state["alias_error"]:
                d["aliasError"] = {"code": "alias_failed", "message": self.state["alias_error"]}
            elif self.state["auto_assign"]:
                self.state["current"] = d["uid"]
                d["aliasAssigned"] = now_ms()

    def current(self):
        if self.state["current"]:
            return self.state["current"]
        ready = [d for d in self.state["deployments"] if d["state"] == "READY" and d.get("target") == "production"]
        ready.sort(key=lambda d: -d["created"])
        return ready[0]["uid"] if ready else None

    def step_job(self):
        """One project read: the alias job moves one step; production moves when it succeeds."""
        job = self.state["job"]
        if not job:
            return
        status = job["steps"].pop(0) if len(job["steps"]) > 1 else job["steps"][0]
        self.state["last_alias_request"]["jobStatus"] = status
        if status == "succeeded":
            self.state["current"] = job["to"]
            self.state["auto_assign"] = job["type"] == "promote"
            self.state["job"] = None
        elif status in ("failed", "skipped"):
            self.state["job"] = None

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

    def send(self, code, body=None, raw=None, headers=None):
        data = raw if raw is not None else (b"" if body is None else json.dumps(body).encode())
        self.send_response(code)
        self.send_header("Content-Type", "application/json" if raw is None else "text/html")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        self.status = code

    def error(self, code, err, message, headers=None):
        self.send(code, {"error": {"code": err, "message": message}}, headers=headers)

    def auth(self, token):
        header = self.headers.get("Authorization")
        if not header:
            return "missing"
        return "ok" if header == "Bearer " + token else "invalid"

    def record(self, parsed, body, auth):
        entry = {"method": self.command, "path": parsed.path,
                 "query": {k: v[-1] for k, v in parse_qs(parsed.query).items()},
                 "body": body, "auth": auth, "status": getattr(self, "status", None), "at": time.time()}
        with LOCK, open(self.fake.args.log, "a", encoding="utf-8") as log:
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
            with LOCK, open(self.fake.args.log, encoding="utf-8") as log:
                lines = [json.loads(line) for line in log if line.strip()]
            return self.send(200, lines)
        token = self.fake.args.grafana_token if parsed.path == "/api/annotations" else self.fake.args.token
        auth = self.auth(token)
        with LOCK:
            try:
                delayed = self.route(parsed, body, auth)
            except Exception:
                self.error(500, "fake_error", "the fake failed")
                raise
        if delayed:  # an answer that comes late: logged at once, sent later without the lock
            self.status = delayed[1]
            self.record(parsed, body, auth)
            time.sleep(delayed[0])
            self.send(*delayed[1:])
        else:
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
        if path == "/api/annotations" and self.command == "POST":
            return self.annotate(body)
        team = self.fake.state["team"]
        if team and query.get("teamId") != team:
            return self.error(403, "forbidden", "teamId missing or wrong")
        parts = path.strip("/").split("/")
        name = self.route_name(parts)
        if name and self.throttled(name):
            return None
        if name == "list":
            return self.list_deployments(query)
        if name == "get":
            return self.get_deployment(parts[2])
        if name == "create":
            return self.create_deployment(body)
        if name == "cancel":
            return self.cancel(parts[2])
        if name in ("promote", "rollback"):
            return self.alias_request(name, parts[2], parts[4], body)
        if name == "aliases":
            return self.failed_aliases(parts[2], parts[3])
        if name == "project":
            return self.get_project(parts[2], query)
        if name == "purge":
            return self.purge(query)
        return self.error(404, "not_found", "No route for %s %s" % (self.command, path))

    def route_name(self, parts):
        c, n = self.command, len(parts)
        if c == "GET" and parts == ["v6", "deployments"]:
            return "list"
        if c == "GET" and n == 3 and parts[:2] == ["v13", "deployments"]:
            return "get"
        if c == "POST" and parts == ["v13", "deployments"]:
            return "create"
        if c == "PATCH" and n == 4 and parts[:2] == ["v12", "deployments"] and parts[3] == "cancel":
            return "cancel"
        if c == "POST" and n == 5 and parts[:2] == ["v10", "projects"] and parts[3] == "promote":
            return "promote"
        if c == "POST" and n == 5 and parts[:2] == ["v1", "projects"] and parts[3] == "rollback":
            return "rollback"
        if c == "GET" and n == 5 and parts[:2] == ["v9", "projects"] and parts[3] in ("rollback", "promote") \
                and parts[4] == "aliases":
            return "aliases"
        if c == "GET" and n == 3 and parts[:2] == ["v9", "projects"]:
            return "project"
        if (c, parts) in (("POST", ["v1", "edge-cache", "purge-all"]), ("DELETE", ["v1", "data-cache", "purge-all"])):
            return "purge"
        return None

    def throttled(self, name):
        rule = self.fake.state["throttle"].get(name)
        if rule and rule.get("skip", 0) > 0:
            rule["skip"] -= 1
        elif rule and rule.get("count", 0) > 0:
            rule["count"] -= 1
            headers = {"Retry-After": str(rule["retry_after"])} if rule.get("retry_after") is not None else None
            self.error(int(rule.get("status", 429)), "rate_limited", "Too many requests", headers=headers)
            return True
        return self.failing(name)

    def failing(self, name):
        code = self.fake.state["fail"].get(name)
        if code:
            self.error(int(code), "internal_server_error", "Injected failure of %s" % name)
            return True
        return False

    def list_deployments(self, query):
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
        d = self.fake.find(id_or_url)
        if not d:
            return self.error(404, "not_found", "Deployment not found")
        self.fake.advance(d)
        self.send(200, self.fake.detail(d))

    def create_deployment(self, body):
        state = self.fake.state
        delay = float(state["create_delay"] or 0)
        if state["create_drop"]:
            return (delay, 504, {"error": {"code": "timeout", "message": "lost"}})
        if not isinstance(body, dict) or not body.get("name"):
            return self.error(400, "bad_request", "Invalid request: missing required property `name`")
        source = self.fake.find(body.get("deploymentId", "")) if body.get("deploymentId") else None
        if body.get("deploymentId") and not source:
            return self.error(404, "not_found", "Deployment to redeploy not found")
        state["current"] = self.fake.current()  # the new one serves only once READY
        state["created_count"] += 1
        uid = "dpl_new%d" % state["created_count"]
        new = {"uid": uid, "state": "QUEUED", "created": now_ms(), "target": body.get("target"),
               "name": body["name"], "sha": (source or {}).get("sha", ""), "meta": body.get("meta") or {}}
        state["deployments"].append(new)
        state["progress"][uid] = {"ready": ["BUILDING", "READY"], "stay": ["BUILDING"] * 100000,
                                  "error": ["BUILDING", "ERROR"]}[state["build"]]
        if delay:
            return (delay, 200, self.fake.detail(new))
        self.send(200, self.fake.detail(new))

    def cancel(self, deployment_id):
        d = self.fake.find(deployment_id)
        if not d:
            return self.error(404, "not_found", "Deployment not found")
        if d["state"] not in ("QUEUED", "BUILDING", "INITIALIZING"):
            return self.error(400, "bad_request", "Deployment is not building (%s)" % d["state"])
        d["state"] = "CANCELED"
        self.fake.state["progress"].pop(d["uid"], None)
        self.send(200, self.fake.detail(d))

    def alias_request(self, kind, project, deployment_id, body):
        state = self.fake.state
        if project != self.fake.args.project:
            return self.error(404, "not_found", "Project not found (give the project id)")
        d = self.fake.find(deployment_id)
        if not d:
            return self.error(404, "not_found", "Deployment not found")
        if d["state"] != "READY":
            return self.error(409, "conflict", "Deployment is not READY")
        if kind == "rollback" and not self.fake.candidate(d):
            return self.error(409, "conflict", "Deployment is not a rollback candidate")
        state["current"] = self.fake.current()  # freeze the serving one
        state["last_alias_request"] = {"type": kind, "jobStatus": "pending", "requestedAt": now_ms(),
                                       "fromDeploymentId": state["current"], "toDeploymentId": d["uid"]}
        state["job"] = {"type": kind, "to": d["uid"], "steps": list(state["alias_job"])}
        self.send(int(state["promote_status"]) if kind == "promote" else 201)

    def failed_aliases(self, project, kind):
        last = self.fake.state["last_alias_request"] or {}
        aliases = []
        if last.get("type") == kind and last.get("jobStatus") == "failed":
            aliases = [{"alias": {"alias": "app.example.com", "deploymentId": last["fromDeploymentId"]},
                        "id": "alias_1", "status": "failed"}]
        self.send(200, {"aliases": aliases, "pagination": {"count": len(aliases), "next": None, "prev": None}})

    def get_project(self, id_or_name, query):
        if id_or_name not in (self.fake.args.project, self.fake.args.project_name):
            return self.error(404, "not_found", "Project not found")
        state = self.fake.state
        self.fake.step_job()
        targets = {}
        current = self.fake.find(self.fake.current() or "")
        if current:
            production = self.fake.detail(current)
            production["alias"] = ["app.example.com"]
            targets["production"] = production
        project = {"id": self.fake.args.project, "name": self.fake.args.project_name,
                   "accountId": "team_fake", "framework": "nextjs", "nodeVersion": "22.x",
                   "directoryListing": False, "targets": targets,
                   "latestDeployments": [self.fake.list_item(d) for d in state["deployments"][-3:]]}
        if query.get("rollbackInfo") == "true":
            project["lastAliasRequest"] = state["last_alias_request"]
        self.send(200, project)

    def purge(self, query):
        if query.get("projectIdOrName") != self.fake.args.project:
            return self.error(404, "not_found", "Project not found")
        self.send(200, {})

    def annotate(self, body):
        if self.failing("grafana"):
            return None
        if not isinstance(body, dict) or not isinstance(body.get("tags"), list) or not body.get("text"):
            return self.send(400, {"message": "bad annotation"})
        self.fake.state["annotation_count"] += 1
        self.send(200, {"message": "Annotation added", "id": self.fake.state["annotation_count"]})

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
    parser.add_argument("--token", required=True, help="the bearer token the Vercel API accepts")
    parser.add_argument("--grafana-token", default="", help="the bearer token the Grafana API accepts")
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
