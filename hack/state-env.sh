#!/usr/bin/env bash
# Where the shared state backend lives (a PostgreSQL server on loopback for Pulumi's DIY postgres
# backend); sourced by state-up.sh, state-down.sh and stack.sh.
#
# Everything is outside the clone, beside the toolchain cache, so every clone and CI's fresh one on
# this machine share one server:
#   $STATE_DIR (default ~/.cache/threetier/state, mode 0700): the role's password (0600, generated
#     once, never printed), the pgpass file clients read it from (0600), the server's certificate
#     (clients verify it: sslmode=verify-full), the server's log.
#   $STATE_SERVER_DIR: the cluster's data directory, owned by the user the server runs as. PostgreSQL
#     never runs as root: as root it runs as Debian's `postgres` user, which cannot enter /root, so
#     its data lives in /var/lib/threetier/state-postgresql-$POSTGRES_MAJOR; as any other user it runs
#     as that user, under $STATE_DIR.
# shellcheck disable=SC2034
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$REPO_ROOT/hack/versions-state.env"

STATE_DIR="${THREETIER_STATE_DIR:-$THREETIER_CACHE/state}"
STATE_PORT="${THREETIER_STATE_PORT:-15432}"
STATE_HOST=127.0.0.1
STATE_DATABASE=pulumi_state
STATE_ROLE=threetier_state
# The table Pulumi keeps its files in (one row per file); the integration tests use one of their own.
STATE_TABLE="${THREETIER_STATE_TABLE:-pulumi_state}"
PG_BIN="/usr/lib/postgresql/$POSTGRES_MAJOR/bin"

if [ "$(id -u)" = 0 ]; then
  STATE_SERVER_USER=postgres
  STATE_SERVER_DIR="${THREETIER_STATE_SERVER_DIR:-/var/lib/threetier/state-postgresql-$POSTGRES_MAJOR}"
else
  STATE_SERVER_USER="$(id -un)"
  STATE_SERVER_DIR="${THREETIER_STATE_SERVER_DIR:-$STATE_DIR/server}"
fi
STATE_DATA="$STATE_SERVER_DIR/data"
STATE_SOCKET_DIR="$STATE_SERVER_DIR/run"   # the superuser's way in (peer authentication, no password)
STATE_LOG="$STATE_SERVER_DIR/server.log"
STATE_PASSWORD_FILE="$STATE_DIR/password"
STATE_PGPASS="$STATE_DIR/pgpass"
STATE_CA="$STATE_DIR/server.crt"

# The backend URL Pulumi logs in with. It holds no password: lib/pq reads it from the pgpass file
# (passfile=), so the URL can appear in logs, process lists and error messages.
state_url() {
  printf 'postgres://%s@%s:%s/%s?sslmode=verify-full&sslrootcert=%s&passfile=%s&table=%s' \
    "$STATE_ROLE" "$STATE_HOST" "$STATE_PORT" "$STATE_DATABASE" "$STATE_CA" "$STATE_PGPASS" "$STATE_TABLE"
}

# as_server_user CMD...: run CMD as the user the server runs as
as_server_user() {
  if [ "$(id -un)" = "$STATE_SERVER_USER" ]; then "$@"; else runuser -u "$STATE_SERVER_USER" -- "$@"; fi
}

# state_server_running: the server of $STATE_DATA runs and accepts connections on loopback
state_server_running() {
  [ -x "$PG_BIN/pg_ctl" ] && [ -f "$STATE_DATA/postmaster.pid" ] \
    && as_server_user "$PG_BIN/pg_ctl" status -D "$STATE_DATA" >/dev/null 2>&1 \
    && "$PG_BIN/pg_isready" -q -h "$STATE_HOST" -p "$STATE_PORT" -t 2
}
