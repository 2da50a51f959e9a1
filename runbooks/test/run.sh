#!/usr/bin/env bash
# Runs every runbook check: shellcheck on the runbooks, their libraries and their tests,
# then the bats suite against the fake Vercel API (runbooks/test/fake_vercel.py) and a
# real PostgreSQL. Non-interactive; run it from anywhere. Ends with the line
#   runbooks: N passed, M failed
# and exits non-zero when anything failed.
#
#   runbooks/test/run.sh [BATS_FILE...]
#
# PostgreSQL: uses OPSWATCH_TEST_DATABASE_URL when set, otherwise starts a throwaway
# cluster with scripts/pg-throwaway.sh and stops it at the end. Needs bash, bats,
# ShellCheck, jq, curl, psql, pgbouncer (db-failover.bats runs a real one in transaction
# mode) and python3; when CI is set and we are root, missing Debian packages are installed
# with apt-get.
set -euo pipefail

ROOT="$(cd -- "${BASH_SOURCE[0]%/*}/../.." && pwd)"
PASSED=0
FAILED=0
SKIPPED=0
PG_DIR=""

log() { printf '%s\n' "$*"; }

# Installs what is missing in CI (as root, Debian); elsewhere says what to install.
ensure_tools() {
  local tool missing=() packages=()
  for tool in bats shellcheck jq curl psql python3 pgbouncer; do
    command -v "$tool" >/dev/null 2>&1 || [[ -x /usr/sbin/$tool ]] || missing+=("$tool")
  done
  ((${#missing[@]} == 0)) && return 0
  for tool in "${missing[@]}"; do
    case $tool in
      psql) packages+=(postgresql-client) ;;
      *) packages+=("$tool") ;;
    esac
  done
  if [[ -n ${CI:-} && $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
    log "installing ${packages[*]}"
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}" >/dev/null
    return 0
  fi
  log "missing tools: ${missing[*]} (Debian: apt-get install -y ${packages[*]})" >&2
  exit 2
}

start_database() {
  if [[ -n ${OPSWATCH_TEST_DATABASE_URL:-} ]]; then
    log "PostgreSQL: using OPSWATCH_TEST_DATABASE_URL"
    return 0
  fi
  PG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/opswatch-runbooks-pg.XXXXXX")
  local exports
  exports=$("$ROOT/scripts/pg-throwaway.sh" start "$PG_DIR")
  eval "$exports"
  export OPSWATCH_TEST_DATABASE_URL
  log "PostgreSQL: started a throwaway cluster in $PG_DIR"
}

cleanup() {
  if [[ -n $PG_DIR ]]; then
    "$ROOT/scripts/pg-throwaway.sh" stop "$PG_DIR" || true
    rm -rf -- "$PG_DIR"
  fi
}

run_shellcheck() {
  local file
  for file in "$ROOT"/runbooks/*.sh "$ROOT"/runbooks/lib/*.sh "$ROOT"/runbooks/test/*.bash \
    "$ROOT"/runbooks/test/*.bats "$ROOT"/runbooks/test/run.sh; do
    if (cd "${file%/*}" && shellcheck --external-sources "${file##*/}"); then
      PASSED=$((PASSED + 1))
      log "ok shellcheck ${file#"$ROOT"/}"
    else
      FAILED=$((FAILED + 1))
      log "not ok shellcheck ${file#"$ROOT"/}"
    fi
  done
}

run_bats() {
  local tap="$1" rc=0 line
  # The files run side by side when GNU parallel is there; the tests of one file share a
  # fake server, so they stay in order.
  BATS_JOBS=()
  if command -v parallel >/dev/null 2>&1; then
    BATS_JOBS=(--jobs "${RUNBOOKS_TEST_JOBS:-2}" --no-parallelize-within-files)
  fi
  bats --tap --timing "${BATS_JOBS[@]}" "${@:2}" >"$tap" 2>&1 || rc=$?
  cat "$tap"
  while IFS= read -r line; do
    case $line in
      "not ok "*) FAILED=$((FAILED + 1)) ;;
      "ok "*"# skip"*) SKIPPED=$((SKIPPED + 1)) ;;
      "ok "*) PASSED=$((PASSED + 1)) ;;
    esac
  done <"$tap"
  # bats failing without a failed test (a syntax error, a crash) still counts as a failure.
  if ((rc != 0)) && ! grep -q '^not ok ' "$tap"; then
    FAILED=$((FAILED + 1))
    log "not ok bats exited $rc"
  fi
}

main() {
  local files=("$@") tap
  ((${#files[@]} > 0)) || files=("$ROOT"/runbooks/test/*.bats)
  ensure_tools
  trap cleanup EXIT
  start_database
  # The interpreter itself: a version-manager shim would cost a few hundred ms per start.
  FAKE_PYTHON=$(python3 -c 'import sys; print(sys.executable)')
  export FAKE_PYTHON

  run_shellcheck
  tap=$(mktemp "${TMPDIR:-/tmp}/opswatch-runbooks-tap.XXXXXX")
  run_bats "$tap" "${files[@]}"
  rm -f -- "$tap"

  if ((SKIPPED > 0)); then
    log "runbooks: $PASSED passed, $FAILED failed, $SKIPPED skipped"
  else
    log "runbooks: $PASSED passed, $FAILED failed"
  fi
  ((FAILED == 0))
}

main "$@"
