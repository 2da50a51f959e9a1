#!/usr/bin/env bash
# DEVELOPMENT AID ONLY - not a test of record.
#
# Runs the dashboards' live mode against a real Prometheus that scrapes the FAKE
# exporter in this folder (hand-written exposition, every family of docs/metrics.md)
# and evaluates the repository's prometheus/rules/, a real Alertmanager, and a
# scratch database with a few SafetyEvent rows. Useful while editing dashboards
# without the exporter; the proof of record is the end-to-end test, which runs live
# mode against the real exporter over the demo data.
#
#   grafana/test/dev/live-dev.sh postgresql://postgres@127.0.0.1:55432/postgres
#
# The URL is an admin connection to a throwaway cluster with trust authentication
# (scripts/pg-throwaway.sh): the script creates and drops its own database there and
# queries it as opswatch_reader (exporter/sql/role.sql). Needs prometheus,
# prometheus-alertmanager, psql and python3. Everything it starts, it stops.
set -euo pipefail

usage() { sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; }

free_port() {
  local port
  for port in $(seq "$1" $(("$1" + 200))); do
    if ! (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "$port"; return; fi
  done
  echo "no free port from $1" >&2; exit 2
}

wait_for() {  # wait_for URL SECONDS
  local i
  for ((i = 0; i < $2 * 2; i++)); do
    if python3 -c "import urllib.request,sys; urllib.request.urlopen(sys.argv[1], timeout=2)" "$1" 2>/dev/null; then return 0; fi
    sleep 0.5
  done
  echo "timed out waiting for $1" >&2; return 1
}

# Globals, so that the EXIT trap still sees them after main returns.
ADMIN_URL=""
WORK=""
DB="opswatch_grafana_dev_$$"
PIDS=()

cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [[ -n "$ADMIN_URL" ]]; then
    psql "$ADMIN_URL" -X -q -c "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1 || true
  fi
  if [[ -n "$WORK" ]]; then rm -rf "$WORK"; fi
}

main() {
  if [[ $# -ne 1 || "$1" == --help || "$1" == -h ]]; then usage; [[ $# -eq 1 ]] && exit 0; exit 2; fi
  local here repo work db admin_url
  trap cleanup EXIT
  trap 'exit 130' INT TERM
  ADMIN_URL="$1"
  admin_url="$ADMIN_URL"
  here="$(cd "$(dirname "$0")" && pwd)"
  repo="$(cd "$here/../../.." && pwd)"
  WORK="$(mktemp -d /tmp/opswatch-grafana-dev.XXXXXX)"
  work="$WORK"
  db="$DB"

  local exporter_port prometheus_port alertmanager_port cluster_port
  exporter_port="$(free_port 19824)"
  python3 "$here/fake_exporter.py" "$exporter_port" & PIDS+=($!)
  prometheus_port="$(free_port 19090)"
  alertmanager_port="$(free_port 19093)"
  cluster_port="$(free_port 19094)"

  cat >"$work/alertmanager.yml" <<YML
route: {receiver: sink}
receivers: [{name: sink}]
YML
  prometheus-alertmanager --config.file="$work/alertmanager.yml" --storage.path="$work/am" \
    --web.listen-address="127.0.0.1:$alertmanager_port" --cluster.listen-address="127.0.0.1:$cluster_port" \
    --log.level=warn & PIDS+=($!)

  cat >"$work/prometheus.yml" <<YML
global: {scrape_interval: 5s, evaluation_interval: 5s}
rule_files: ["$repo/prometheus/rules/*.yml"]
alerting: {alertmanagers: [{static_configs: [{targets: ["127.0.0.1:$alertmanager_port"]}]}]}
scrape_configs:
  - job_name: opswatch
    static_configs: [{targets: ["127.0.0.1:$exporter_port"]}]
YML
  prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/tsdb" \
    --web.listen-address="127.0.0.1:$prometheus_port" --log.level=warn & PIDS+=($!)

  psql "$admin_url" -X -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE $db" >/dev/null
  local db_url="${admin_url%/*}/$db"
  psql "$db_url" -X -q -v ON_ERROR_STOP=1 -f "$repo/demo/schema.sql" >/dev/null
  psql "$db_url" -X -q -v ON_ERROR_STOP=1 >/dev/null <<'SQL'
INSERT INTO "SafetyEvent" (id, type, severity, "timestamp", "resolvedAt", category, "contentSnippet") VALUES
  ('dev-1', 'input_blocked', 'warning',  now() AT TIME ZONE 'UTC' - interval '10 minutes', NULL, 'self_harm', 'never shown'),
  ('dev-2', 'crisis_detected', 'critical', now() AT TIME ZONE 'UTC' - interval '2 hours', NULL, 'crisis', 'never shown'),
  ('dev-3', 'input_warned', 'info', now() AT TIME ZONE 'UTC' - interval '5 hours',
   now() AT TIME ZONE 'UTC' - interval '4 hours', 'profanity', 'never shown'),
  ('dev-4', 'escalation', 'alert', now() AT TIME ZONE 'UTC' - interval '3 days', NULL, 'violence', 'too old for the table');
SQL
  # Query as the least-privilege role, as Grafana's datasource does: its column grants and
  # row-level-security policy must be enough for the SQL panels.
  psql "$db_url" -X -q -v ON_ERROR_STOP=1 -f "$repo/exporter/sql/role.sql" >/dev/null
  local host_port="${admin_url#*://}"
  host_port="${host_port#*@}"
  host_port="${host_port%%/*}"
  local reader_url="postgresql://opswatch_reader@$host_port/$db"

  wait_for "http://127.0.0.1:$prometheus_port/-/ready" 30
  wait_for "http://127.0.0.1:$alertmanager_port/-/ready" 30
  # Range panels over 24 h use a 2-minute step and Grafana rounds the range's end down to
  # it, so give Prometheus more than two steps of data before querying.
  echo "waiting ${OPSWATCH_DEV_WAIT:-200} s for scrapes and rule evaluations..." >&2
  sleep "${OPSWATCH_DEV_WAIT:-200}"
  python3 "$repo/grafana/test/check_dashboards.py" \
    --prometheus "http://127.0.0.1:$prometheus_port" \
    --alertmanager "http://127.0.0.1:$alertmanager_port" \
    --postgres-url "$reader_url"
}

main "$@"
