#!/usr/bin/env bash
# Starts a throwaway PostgreSQL server for the store tests and prints the shell lines that point
# the tests at it. Everything lives in a fresh temporary folder; nothing touches a system cluster.
#
#   eval "$(scripts/start-test-postgres.sh)"        # exports TEST_DATABASE_URL and TEST_PG_DIR
#   scripts/start-test-postgres.sh stop "$TEST_PG_DIR"   # stops it and removes the folder
#
# Port: TEST_PG_PORT (default 54329). Listens on 127.0.0.1 and on a unix socket in the folder,
# trust authentication, runs as the `postgres` user when started by root. Installs the Debian
# `postgresql` package first when no server binaries are found (needs root).
# Only `export ...` lines go to stdout; progress goes to stderr.
set -euo pipefail

cd /
PORT="${TEST_PG_PORT:-54329}"
DB_NAME="${TEST_PG_DATABASE:-cds_test}"

log() { printf 'start-test-postgres: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

find_bin_dir() {
  local candidate
  for candidate in /usr/lib/postgresql/15/bin $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -rV); do
    if [[ -x "$candidate/initdb" && -x "$candidate/pg_ctl" ]]; then
      printf '%s\n' "$candidate"
      return 0
    fi
  done
  return 1
}

as_server_user() {
  if [[ "$(id -u)" == "0" ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

if [[ "${1:-}" == "stop" ]]; then
  dir="${2:-${TEST_PG_DIR:-}}"
  [[ -n "$dir" && -d "$dir/data" ]] || die "usage: $0 stop <TEST_PG_DIR>"
  BIN_DIR="$(find_bin_dir)" || die "PostgreSQL binaries not found"
  as_server_user "$BIN_DIR/pg_ctl" -D "$dir/data" -m fast -w stop >&2 || true
  rm -rf -- "$dir"
  log "stopped and removed $dir"
  exit 0
fi

if ! BIN_DIR="$(find_bin_dir)"; then
  [[ "$(id -u)" == "0" ]] || die "PostgreSQL server binaries are missing; install them as root: apt-get install -y postgresql"
  log "installing PostgreSQL (apt-get install -y postgresql)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update >&2
  apt-get install -y --no-install-recommends postgresql >&2
  BIN_DIR="$(find_bin_dir)" || die "PostgreSQL binaries still missing after installation"
fi
log "using $BIN_DIR"

if [[ "$(id -u)" == "0" ]] && ! id postgres >/dev/null 2>&1; then
  useradd --system --no-create-home --shell /usr/sbin/nologin postgres
fi

if "$BIN_DIR/pg_isready" -q -h 127.0.0.1 -p "$PORT"; then
  die "something already answers on 127.0.0.1:$PORT; stop it or set TEST_PG_PORT"
fi

PG_DIR="$(mktemp -d "${TMPDIR:-/tmp}/cds-test-postgres.XXXXXX")"
chmod 700 "$PG_DIR"
if [[ "$(id -u)" == "0" ]]; then chown postgres: "$PG_DIR"; fi

as_server_user "$BIN_DIR/initdb" -D "$PG_DIR/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 --no-sync >&2 \
  || as_server_user "$BIN_DIR/initdb" -D "$PG_DIR/data" -U postgres -A trust -E UTF8 --locale=C --no-sync >&2

# fsync is off: a test server that loses data on a host crash is fine, and it keeps tests fast.
as_server_user "$BIN_DIR/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 \
  -o "-p $PORT -k $PG_DIR -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" start >&2 \
  || { cat "$PG_DIR/server.log" >&2 || true; die "server did not start (log above)"; }

as_server_user "$BIN_DIR/createdb" -h "$PG_DIR" -p "$PORT" -U postgres "$DB_NAME" >&2

URL="postgresql://postgres@127.0.0.1:$PORT/$DB_NAME"
log "ready: $URL (data in $PG_DIR)"
printf 'export TEST_DATABASE_URL=%q\n' "$URL"
printf 'export TEST_PG_DIR=%q\n' "$PG_DIR"
