#!/usr/bin/env bash
# Start the shared state backend (idempotent: returns in well under a second when it is up):
# a PostgreSQL server from Debian's packages, listening on 127.0.0.1:$STATE_PORT only, TLS on, one
# role ($STATE_ROLE, password authentication with scram-sha-256, no other right) owning one
# database ($STATE_DATABASE) where Pulumi keeps its state. The role's password is generated once
# into $STATE_DIR/password (0600) and reaches clients only through the pgpass file: it is never
# printed, never on a command line, never in a URL (hack/state-env.sh).
#
#   hack/state-up.sh         start (install, initialize, configure what is missing), print the URL
#   hack/state-up.sh --url   print the backend URL only (no secret in it)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/state-env.sh"
LOG_DIR="$STATE_SERVER_DIR"

if [ "${1:-}" = --url ]; then state_url; echo; exit 0; fi

psql_role() { # psql_role ARGS...: psql as the state role, over TCP + TLS, password from the pgpass file
  PGCONNECT_TIMEOUT=3 "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 \
    "host=$STATE_HOST port=$STATE_PORT dbname=$STATE_DATABASE user=$STATE_ROLE sslmode=verify-full sslrootcert=$STATE_CA passfile=$STATE_PGPASS" "$@"
}

role_can_log_in() { [ -f "$STATE_PGPASS" ] && [ -f "$STATE_CA" ] && psql_role -tAc 'SELECT 1' 2>/dev/null | grep -qx 1; }

print_info() {
  log "state backend ready: PostgreSQL $POSTGRES_MAJOR on $STATE_HOST:$STATE_PORT, database $STATE_DATABASE, role $STATE_ROLE (data: $STATE_DATA)"
  echo "backend-url: $(state_url)"
}

if state_server_running && role_can_log_in; then
  print_info
  exit 0
fi

install_server() {
  local missing=() spec name
  for spec in "${STATE_DEBIAN_PACKAGES[@]}"; do
    name="${spec%%=*}"
    dpkg-query -W -f '${Status}' "$name" 2>/dev/null | grep -q "install ok installed" || missing+=("$spec")
  done
  ((${#missing[@]})) || return 0
  [ "$(id -u)" = 0 ] || die "missing Debian packages ${missing[*]}: install them (sudo apt-get install ${missing[*]%%=*}) or run as root"
  log "installing Debian packages for the state backend: ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null \
    || { apt-get update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null; } \
    || die "could not install ${missing[*]} with apt-get (pinned in hack/versions-state.env)"
}

ensure_password() { # generated once; 0600 files owned by the user who runs make
  (umask 077 && mkdir -p "$STATE_DIR")
  chmod 700 "$STATE_DIR"
  if [ ! -s "$STATE_PASSWORD_FILE" ]; then
    (umask 077 && python3 -c 'import secrets; print(secrets.token_urlsafe(32))' >"$STATE_PASSWORD_FILE")
    log "generated the state role's password into $STATE_PASSWORD_FILE (mode 0600)"
  fi
  chmod 600 "$STATE_PASSWORD_FILE"
  # pgpass: host:port:database:user:password (lib/pq and psql read it; ':' and '\' escaped)
  local escaped
  escaped=$(sed -e 's/\\/\\\\/g' -e 's/:/\\:/g' "$STATE_PASSWORD_FILE")
  (umask 077 && printf '%s:%s:%s:%s:%s\n' "$STATE_HOST" "$STATE_PORT" "$STATE_DATABASE" "$STATE_ROLE" "$escaped" >"$STATE_PGPASS.new")
  mv -f "$STATE_PGPASS.new" "$STATE_PGPASS"
}

init_cluster() {
  [ -f "$STATE_DATA/PG_VERSION" ] && return 0
  log "initializing the state server's data directory $STATE_DATA"
  mkdir -p "$STATE_SERVER_DIR"
  chown "$STATE_SERVER_USER" "$STATE_SERVER_DIR"
  chmod 700 "$STATE_SERVER_DIR"
  # No password for anybody at first: the superuser comes in by peer authentication on the socket.
  as_server_user "$PG_BIN/initdb" -D "$STATE_DATA" -U "$STATE_SERVER_USER" -E UTF8 --locale=C.UTF-8 \
    --auth-local=peer --auth-host=reject >"$STATE_SERVER_DIR/initdb.log" 2>&1 \
    || die "initdb failed (see $STATE_SERVER_DIR/initdb.log)"
  # A self-signed certificate for 127.0.0.1: clients verify it (sslmode=verify-full).
  as_server_user openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
    -subj "/CN=threetier-state" -addext "subjectAltName=IP:$STATE_HOST" \
    -keyout "$STATE_DATA/server.key" -out "$STATE_DATA/server.crt" >/dev/null 2>&1 \
    || die "could not create the server's TLS certificate"
  as_server_user chmod 600 "$STATE_DATA/server.key"
}

configure() { # written on every start: the settings below are the truth, whatever was there before
  as_server_user mkdir -p "$STATE_SOCKET_DIR"
  as_server_user tee "$STATE_DATA/postgresql.auto.conf" >/dev/null <<CONF
# Written by hack/state-up.sh on every start.
listen_addresses = '$STATE_HOST'
port = $STATE_PORT
unix_socket_directories = '$STATE_SOCKET_DIR'
ssl = on
ssl_cert_file = 'server.crt'
ssl_key_file = 'server.key'
ssl_min_protocol_version = 'TLSv1.2'
password_encryption = 'scram-sha-256'
log_connections = off
log_statement = 'none'
CONF
  as_server_user tee "$STATE_DATA/pg_hba.conf" >/dev/null <<HBA
# Written by hack/state-up.sh. Everything not listed is rejected.
# TYPE  DATABASE         USER                  ADDRESS       METHOD
local   all              $STATE_SERVER_USER    peer
hostssl $STATE_DATABASE  $STATE_ROLE           $STATE_HOST/32  scram-sha-256
HBA
  cp "$STATE_DATA/server.crt" "$STATE_CA.new" && chmod 644 "$STATE_CA.new" && mv -f "$STATE_CA.new" "$STATE_CA"
}

start_server() {
  if as_server_user "$PG_BIN/pg_ctl" status -D "$STATE_DATA" >/dev/null 2>&1; then
    as_server_user "$PG_BIN/pg_ctl" reload -D "$STATE_DATA" >/dev/null
    return 0
  fi
  if ss -Hltn "sport = :$STATE_PORT" 2>/dev/null | grep -q .; then
    die "port $STATE_PORT is already in use ($(ss -Hltnp "sport = :$STATE_PORT" | grep -o 'users:.*' | head -1)); stop that process or set THREETIER_STATE_PORT"
  fi
  as_server_user touch "$STATE_LOG"
  as_server_user "$PG_BIN/pg_ctl" start -D "$STATE_DATA" -l "$STATE_LOG" -w -t 60 >/dev/null \
    || die "the state server did not start (log: $STATE_LOG)"
}

bootstrap_role() { # the role and its database; the password set as a SCRAM verifier computed here
  local verifier
  verifier=$(python3 "$REPO_ROOT/hack/scram_verifier.py" <"$STATE_PASSWORD_FILE")
  as_server_user "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$STATE_SOCKET_DIR" -p "$STATE_PORT" -d postgres >/dev/null <<SQL
\\set verifier '$verifier'
SELECT 'CREATE ROLE $STATE_ROLE' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$STATE_ROLE') \\gexec
ALTER ROLE $STATE_ROLE WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD :'verifier';
SELECT 'CREATE DATABASE $STATE_DATABASE OWNER $STATE_ROLE' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$STATE_DATABASE') \\gexec
REVOKE ALL ON DATABASE $STATE_DATABASE FROM PUBLIC;
REVOKE CONNECT ON DATABASE postgres FROM PUBLIC;
SQL
}

install_server
ensure_password
init_cluster
configure
start_server
bootstrap_role
wait_for 10 "the state role to log in over TLS" role_can_log_in
print_info
