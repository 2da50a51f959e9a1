#!/bin/sh
# DEMO ONLY: the compose stack's preflight (service `preflight`, run once before the others). Every
# file the services mount from this repository is mounted under DIR, at its repository path; they
# must be readable by the containers' non-root users (postgres 70, the exporter's 10001, Grafana's
# 472, nobody 65534), so every file needs the "others may read" bit and every folder "others may read
# and enter". A clone made with umask 077 gives 600 and 700, and each service would then fail in its
# own way (the database password "does not match", Prometheus "cannot read its config"). Scripts and
# secrets must also have LF line ends: a CRLF secret keeps its \r inside the password.
#
#   check-modes.sh DIR      exit 0, or exit 1 naming the first paths at fault and the fix
set -u

root="${1:?usage: check-modes.sh DIR}"
root="${root%/}"
cr="$(printf '\r')"

relative() { printf '%s' "${1#"$root"/}"; }

# Unreadable folders make find itself complain: those lines count too.
problems="$(find "$root" \( -type f ! -perm -004 \) -o \( -type d ! -perm -005 \) 2>&1 | head -n 5)"
if [ -n "$problems" ]; then
  echo "preflight: files the containers' users (postgres, uid 10001, grafana, nobody) cannot read:" >&2
  printf '%s\n' "$problems" | while IFS= read -r line; do
    path="${line#find: }"
    path="${path%%: Permission denied*}"
    path="${path#\'}"
    path="${path%\'}"
    mode="$(stat -c '%a' "$path" 2>/dev/null || echo '?')"
    echo "  $(relative "$path") (mode $mode)" >&2
  done
  echo "preflight: a clone made with umask 077 does this. Fix it from the repository root with" >&2
  echo "  chmod -R a+rX demo exporter/sql prometheus alertmanager grafana" >&2
  echo "then run docker compose up again." >&2
  exit 1
fi

crlf="$(grep -rl "$cr" "$root" 2>/dev/null | head -n 5)"
if [ -n "$crlf" ]; then
  echo "preflight: files with Windows (CRLF) line ends, which the shells and the secrets do not accept:" >&2
  printf '%s\n' "$crlf" | while IFS= read -r path; do echo "  $(relative "$path")" >&2; done
  echo "preflight: the repository's .gitattributes checks them out with LF; after a checkout made" >&2
  echo "without it, run: git rm -r --cached -q . && git reset --hard   (this drops uncommitted changes)" >&2
  exit 1
fi

echo "preflight: $(find "$root" -type f | wc -l | tr -d ' ') mounted files, all readable by the containers' users, LF line ends"
