#!/bin/sh
# DEMO ONLY: starts Grafana in the compose stack with its read-only role's password in the
# environment, where grafana/provisioning/datasources/opswatch.yml expects it
# (${OPSWATCH_GRAFANA_PASSWORD}, role opswatch_grafana): Grafana expands environment variables in provisioning files,
# not files, and docker-compose.yml keeps every password in a file. Then the image's own
# entrypoint, which also reads GF_*__FILE variables (the admin password).
set -eu

password_file="${OPSWATCH_GRAFANA_PASSWORD_FILE:-/run/secrets/opswatch_grafana_password}"
if [ ! -s "$password_file" ]; then
  echo "grafana-start: $password_file is missing or empty" >&2
  exit 1
fi
OPSWATCH_GRAFANA_PASSWORD="$(cat "$password_file")"
export OPSWATCH_GRAFANA_PASSWORD

exec /run.sh "$@"
