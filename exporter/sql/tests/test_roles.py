"""The read-only roles on a real PostgreSQL 15: exporter/sql/role.sql (opswatch_reader, the
exporter's) and exporter/sql/grafana-role.sql (opswatch_grafana, Grafana's datasource), both
hardened by exporter/sql/harden-role.sql.

Each test logs in as the role and tries one write or escape (issue #19: large objects, temporary
tables and pg_temp functions after lifting the read-only default, other databases), expecting the
server to refuse it; the positive controls show that what each role is for still works."""
import os
import re
import subprocess
import uuid

import pytest

import testkit

ROLES = {
    "opswatch_reader": ("exporter/sql/role.sql", "reader_password"),
    "opswatch_grafana": ("exporter/sql/grafana-role.sql", "grafana_password"),
}


class Cluster:
    """The app database (demo schema and data, both roles created) and one more database of the
    same cluster that the roles are told to stay out of."""

    def __init__(self, repo):
        self.app = testkit.Database("opswatch_roles_")
        self.other = testkit.Database("opswatch_roles_other_")
        self.app.load(repo / "demo/schema.sql", repo / "demo/seed.sql")
        for script, password in ROLES.values():
            testkit.psql(self.app.url, "-v", f"{password}=test-only", "-v", f"other_databases={self.other.name}",
                         "-f", str(repo / script))
        # A large object of the owner's, for the functions that change an existing one.
        self.large_object = testkit.psql(self.app.url, "-c", "SELECT lo_from_bytea(0, 'owner''s'::bytea)",
                                         capture=True)

    def url(self, role, database=None):
        return testkit.database_url(self.app.server, database or self.app.name).replace(
            "postgresql://postgres@", f"postgresql://{role}:test-only@", 1)

    def drop(self):
        self.app.drop()
        self.other.drop()


@pytest.fixture(scope="module")
def cluster(pg_server_url, repo):
    c = Cluster(repo)
    yield c
    c.drop()


def run_as(cluster, role, *statements, database=None):
    """Runs each statement as `role`, in its own transaction, in one session; stops at the first
    error. Returns (exit status, output, error text)."""
    args = ["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", cluster.url(role, database)]
    for statement in statements:
        args += ["-c", statement]
    done = subprocess.run(args, capture_output=True, text=True, timeout=60)
    return done.returncode, done.stdout.strip(), done.stderr.strip()


def assert_refused(result, reason):
    status, out, err = result
    assert status != 0, f"the server accepted it (output {out!r})"
    assert re.search(reason, err), f"refused for another reason: {err}"


lift_read_only = "SET default_transaction_read_only = off"

# (id, statements, what the server says). Each runs after lifting the read-only default, or in
# an explicit READ WRITE transaction as in the issue, so that only privileges stand in the way.
WRITES = [
    ("lo_from_bytea in a READ WRITE transaction",
     ["BEGIN READ WRITE", "SELECT lo_from_bytea(0, 'x'::bytea)", "COMMIT"],
     "permission denied for function lo_from_bytea"),
    ("lo_creat", [lift_read_only, "SELECT lo_creat(-1)"], "permission denied for function lo_creat"),
    ("lo_create", [lift_read_only, "SELECT lo_create(0)"], "permission denied for function lo_create"),
    ("lo_import", [lift_read_only, "SELECT lo_import('/etc/hostname')"], "permission denied for function lo_import"),
    ("lo_put into the owner's large object", [lift_read_only, "SELECT lo_put({lo}, 0, 'x'::bytea)"],
     "permission denied for function lo_put"),
    ("lo_unlink of the owner's large object", [lift_read_only, "SELECT lo_unlink({lo})"],
     "permission denied for function lo_unlink"),
    ("CREATE TEMP TABLE", [lift_read_only, "CREATE TEMP TABLE t (x int)"],
     "permission denied to create temporary tables"),
    ("CREATE FUNCTION pg_temp.f()", [lift_read_only, "CREATE FUNCTION pg_temp.f() RETURNS int LANGUAGE sql AS 'SELECT 1'"],
     "permission denied to create temporary tables"),
    ("CREATE TABLE in public", [lift_read_only, "CREATE TABLE public.t (x int)"], "permission denied for schema public"),
    ("CREATE SCHEMA", [lift_read_only, "CREATE SCHEMA s"], "permission denied for database"),
    ("INSERT into SafetyEvent",
     [lift_read_only, "INSERT INTO \"SafetyEvent\" (id, type, severity) VALUES ('x', 'input_blocked', 'info')"],
     "permission denied for table SafetyEvent"),
    ("UPDATE SafetyEvent", [lift_read_only, "UPDATE \"SafetyEvent\" SET \"resolvedAt\" = now()"],
     "permission denied for table SafetyEvent"),
    ("DELETE from TelemetryEvent", [lift_read_only, "DELETE FROM \"TelemetryEvent\""],
     "permission denied for table TelemetryEvent"),
    ("raise temp_file_limit", ["SET temp_file_limit = -1"], "permission denied to set parameter \"temp_file_limit\""),
    ("SET ROLE to the owner", ["SET ROLE postgres"], "permission denied to set role"),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("statements, reason", [pytest.param(s, r, id=i) for i, s, r in WRITES])
def test_write_is_refused(cluster, role, statements, reason):
    statements = [s.format(lo=cluster.large_object) for s in statements]
    assert_refused(run_as(cluster, role, *statements), reason)


@pytest.mark.parametrize("role", ROLES)
def test_no_large_object_was_left_behind(cluster, role):
    # Runs after the write attempts: only the owner's large object exists.
    count = testkit.psql(cluster.app.url, "-c", "SELECT count(*) FROM pg_largeobject_metadata", capture=True)
    assert count == "1"


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("database", ["template1", "the other database"])
def test_other_databases_refuse_the_connection(cluster, role, database):
    name = cluster.other.name if database == "the other database" else database
    assert_refused(run_as(cluster, role, "SELECT 1", database=name), "permission denied for database")


@pytest.mark.parametrize("role", ROLES)
def test_role_holds_no_membership_and_no_attribute(cluster, role):
    status, out, err = run_as(cluster, role, """
        SELECT r.rolsuper, r.rolcreatedb, r.rolcreaterole, r.rolreplication, r.rolbypassrls, r.rolinherit,
               (SELECT count(*) FROM pg_auth_members m WHERE m.member = r.oid),
               pg_has_role(current_user, 'pg_read_all_data', 'USAGE'),
               pg_has_role(current_user, 'pg_write_all_data', 'USAGE')
        FROM pg_roles r WHERE r.rolname = current_user""")
    assert status == 0, err
    assert out == "f|f|f|f|f|f|0|f|f"


@pytest.mark.parametrize("role", ROLES)
def test_new_session_starts_read_only_with_timeouts(cluster, role):
    status, out, err = run_as(cluster, role, "SELECT current_setting('default_transaction_read_only'), "
                              "current_setting('statement_timeout'), current_setting('temp_file_limit'), "
                              "current_setting('idle_in_transaction_session_timeout')")
    assert status == 0, err
    assert out == "on|15s|64MB|1min"


@pytest.mark.parametrize("role", ROLES)
def test_statement_timeout_is_only_a_default_the_role_can_lift(cluster, role):
    # PostgreSQL lets any role SET a user-context parameter, and GRANT SET ON PARAMETER does not
    # change that: the README says so, and that the exporter sets its own timeout per statement.
    status, out, err = run_as(cluster, role, "SET statement_timeout = 0", "SHOW statement_timeout")
    assert (status, out) == (0, "0"), err


@pytest.mark.parametrize("role, column", [
    ("opswatch_reader", '"contentSnippet"'), ("opswatch_reader", '"userId"'), ("opswatch_reader", "metadata"),
    ("opswatch_grafana", '"contentSnippet"'), ("opswatch_grafana", "resolution"), ("opswatch_grafana", '"sessionId"'),
])
def test_safety_event_free_text_and_user_ids_are_out_of_reach(cluster, role, column):
    assert_refused(run_as(cluster, role, f'SELECT {column} FROM "SafetyEvent" LIMIT 1'),
                   "permission denied for table SafetyEvent")


@pytest.mark.parametrize("column", ["metadata", "value", '"userId"', '"sessionId"', '"eventId"'])
def test_grafana_cannot_read_telemetry_payloads(cluster, column):
    assert_refused(run_as(cluster, "opswatch_grafana", f'SELECT {column} FROM "TelemetryEvent" LIMIT 1'),
                   "permission denied for table TelemetryEvent")


@pytest.mark.parametrize("table", ["session_metrics", "voice_usage_events", '"VideoVisionUsage"', '"User"'])
def test_grafana_reads_no_other_table(cluster, table):
    assert_refused(run_as(cluster, "opswatch_grafana", f"SELECT count(*) FROM {table}"), "permission denied for table")


def test_grafana_sees_only_incident_rows_of_telemetry_event(cluster):
    as_owner = testkit.psql(cluster.app.url, "-c", """
        SELECT count(*) FROM "TelemetryEvent"
        WHERE category IN ('safety_incident', 'circuit_breaker')
           OR (category = 'external_api' AND lower(action) ~ '(error|fail)')""", capture=True)
    everything = testkit.psql(cluster.app.url, "-c", 'SELECT count(*) FROM "TelemetryEvent"', capture=True)
    status, out, err = run_as(cluster, "opswatch_grafana", 'SELECT count(*) FROM "TelemetryEvent"')
    assert status == 0, err
    assert out == as_owner and int(out) >= 3, (out, as_owner)
    assert int(everything) > int(out), "the demo data should hold non-incident rows the role must not see"


def test_grafana_incident_queries_work_as_the_role(cluster, repo):
    """Positive control: the incidents table and the S3 annotation, run through the dashboard
    checker's live mode as opswatch_grafana (PostgreSQL only), return rows."""
    done = subprocess.run(["python3", str(repo / "grafana/test/check_dashboards.py"),
                           "--postgres-url", cluster.url("opswatch_grafana")],
                          capture_output=True, text=True, timeout=300, cwd=repo)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert re.search(r"\b[1-9]\d* passed", done.stdout), done.stdout[-2000:]


def test_exporter_reads_every_source_as_the_reader(cluster, processes, free_port):
    """Positive control: the real exporter, connected as opswatch_reader, refreshes every database
    source without an error."""
    port = free_port()
    jar = testkit.exporter_jar()
    env = dict(os.environ, OPSWATCH_DATABASE_URL=cluster.url("opswatch_reader"),
               OPSWATCH_HTTP_PORT=str(port), OPSWATCH_JAR=str(jar),
               CONFIG_FORCE_opswatch_database_connect__timeout="2s")
    exporter = processes.start("exporter", [str(testkit.REPO / "exporter/bin/opswatch-exporter")], env)

    def sources():
        _, body = testkit.http_get(f"http://127.0.0.1:{port}/metrics")
        found = dict(re.findall(r'^opswatch_source_up\{source="([a-z_-]+)"\} (\S+)$', body, re.MULTILINE))
        return found if found and all(v == "1.0" for s, v in found.items() if s != "probes") else None

    try:
        up = testkit.wait_for("every database source up", sources, 120)
    except AssertionError:
        raise AssertionError(exporter.tail())
    assert {"costs", "quotas", "incidents"} <= set(up), up
    assert "permission denied" not in exporter.tail(200)
