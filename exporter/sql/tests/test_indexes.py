"""exporter/sql/indexes.sql on a real PostgreSQL 15: it makes the quota and incident reads of
"TelemetryEvent" index-only, replaces the index an earlier version of the file made (same name,
without the INCLUDE columns) in place, and is safe to run again."""
import json
import subprocess

import pytest

import testkit

INDEX = "TelemetryEvent_category_timestamp_idx"
# The shape of quota/WindowUsageQuery.java's month read (the widest window also reads rows without a label).
MONTH_QUOTA = """
SELECT label, action, COUNT(*) AS calls,
       COALESCE(SUM(CASE WHEN value IS NULL OR value = 0 THEN 1 ELSE value END)
                  FILTER (WHERE value IS NULL OR (value >= 0 AND value < 'Infinity')), 0) AS units
FROM "TelemetryEvent"
WHERE category = 'external_api' AND "timestamp" >= now() - interval '20 days' AND "timestamp" < now()
  AND NOT "isTestData" AND (label IS NULL OR label = ANY('{brave_search}'))
GROUP BY label, action
"""


def run_file(db, repo):
    subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", db.url, "-f", str(repo / "exporter/sql/indexes.sql")],
                   check=True, capture_output=True, text=True)


def index_definitions(db):
    return testkit.psql(db.url, "-c", """SELECT indexname || ': ' || indexdef FROM pg_indexes
        WHERE tablename = 'TelemetryEvent' AND indexdef LIKE '%(category, "timestamp")%' ORDER BY 1""", capture=True)


@pytest.fixture
def telemetry(fresh_database, repo):
    """The demo schema with 60 days of TelemetryEvent rows shaped like bench/generate.sql's: half of them external calls."""
    fresh_database.load(repo / "demo/schema.sql")
    testkit.psql(fresh_database.url, "-c", """
        INSERT INTO "TelemetryEvent" (id, "eventId", "timestamp", category, action, label, value, "sessionId")
        SELECT 't' || g, 'e' || g, (now() AT TIME ZONE 'UTC') - (g * interval '1 minute'),
               CASE WHEN g % 2 = 0 THEN 'external_api' ELSE 'navigation' END, 'search',
               (ARRAY['azure_openai', 'azure_openai', 'google_drive', 'brave_search'])[g % 4 + 1], g % 7, 'system'
        FROM generate_series(1, 86400) AS g""")
    return fresh_database


def test_the_month_quota_read_is_an_index_only_scan(telemetry, repo):
    run_file(telemetry, repo)
    testkit.psql(telemetry.url, "-c", 'VACUUM ANALYZE "TelemetryEvent"')
    plan = json.loads(testkit.psql(telemetry.url, "-c", "EXPLAIN (FORMAT JSON) " + MONTH_QUOTA, capture=True))
    scans = []

    def walk(node):
        if "Scan" in node["Node Type"]:
            scans.append((node["Node Type"], node.get("Index Name")))
        for child in node.get("Plans", []):
            walk(child)

    walk(plan[0]["Plan"])
    assert scans == [("Index Only Scan", INDEX)], scans


def test_an_index_of_the_same_name_without_the_included_columns_is_replaced_in_place(telemetry, repo):
    testkit.psql(telemetry.url, "-c", f'CREATE INDEX "{INDEX}" ON "TelemetryEvent" (category, "timestamp")')
    run_file(telemetry, repo)
    expected = (f'{INDEX}: CREATE INDEX "{INDEX}" ON public."TelemetryEvent" USING btree (category, "timestamp") '
                'INCLUDE (label, action, value, "isTestData")')
    assert index_definitions(telemetry) == expected
    run_file(telemetry, repo)
    assert index_definitions(telemetry) == expected, "a second run changes nothing"
