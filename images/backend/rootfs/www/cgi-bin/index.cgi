#!/bin/sh
# The backend API's dynamic routes.  busybox httpd runs cgi-bin/index.cgi for every directory
# URL that has no index.html, and answers /api/status with a redirect to /api/status/
# (a directory in /www), so both routes land here:
#   /             a one-line description of the API
#   /api/status/  SELECT version() on the database with psql: 200 when it answers, else 503
#   /readyz/      the readiness probe: 200 only when the database answers (SELECT 1), else 503
# The password reaches psql only through the private pgpass file $PGPASSFILE (written at start
# from the mounted Secret file $DB_PASSWORD_FILE); it is never printed, and it is scrubbed from
# psql's error text in case a message echoed it.
set -u
# shellcheck source=images/httpd/rootfs/usr/lib/threetier/cgi.sh
. /usr/lib/threetier/cgi.sh

# redact TEXT: TEXT with every occurrence of the password (first line of $DB_PASSWORD_FILE) replaced by ***
redact() {
  text="$1" awk -v file="${DB_PASSWORD_FILE:-}" 'BEGIN {
    s = ENVIRON["text"]; p = ""; out = ""
    if (file != "") { getline p < file; close(file) }
    if (p != "") while ((i = index(s, p)) > 0) { out = out substr(s, 1, i - 1) "***"; s = substr(s, i + length(p)) }
    printf "%s", out s
  }'
}

# db_query SQL: run SQL on the database with psql; its output (stdout + stderr); exit status of psql.
# connect_timeout bounds the TCP connect, timeout(1) the whole call (DNS included); no
# GSSAPI/Kerberos probing, no ~/.psqlrc (-X), never prompt for a password (-w).
db_query() {
  PGCONNECT_TIMEOUT=3 PGGSSENCMODE=disable PGAPPNAME=threetier-backend \
    timeout 10 psql -X -w -q -A -t -v ON_ERROR_STOP=1 \
    -h "$DB_HOST" -p "${DB_PORT:-5432}" -U "$DB_USER" -d "$DB_NAME" -c "$1" 2>&1
}

# missing_config: the names of the unset settings the database connection needs
missing_config() {
  missing=""
  [ -n "${DB_HOST:-}" ] || missing="$missing DB_HOST"
  [ -n "${DB_NAME:-}" ] || missing="$missing DB_NAME"
  [ -n "${DB_USER:-}" ] || missing="$missing DB_USER"
  [ -n "${PGPASSFILE:-}" ] && [ -r "${PGPASSFILE:-}" ] || missing="$missing DB_PASSWORD_FILE"
  printf '%s' "$missing"
}

readyz() {
  missing="$(missing_config)"
  if [ -n "$missing" ]; then
    respond "503 Service Unavailable" text/plain "not ready: missing$missing"
  elif out="$(db_query 'SELECT 1')"; then
    respond "200 OK" text/plain "ready"
  else
    respond "503 Service Unavailable" text/plain "not ready: database $DB_HOST: $(redact "$out")"
  fi
}

api_status() {
  pod="$(json_string "$(pod_name)")"
  host="${DB_HOST:-}"
  missing="$(missing_config)"
  if [ -n "$missing" ]; then
    respond "503 Service Unavailable" application/json \
      "{\"tier\":\"backend\",\"pod\":$pod,\"database\":\"unconfigured\",\"error\":$(json_string "missing env:$missing")}"
    return
  fi
  if out="$(db_query 'SELECT version()')"; then
    respond "200 OK" application/json \
      "{\"tier\":\"backend\",\"pod\":$pod,\"database\":\"ok\",\"db\":$(json_string "$out"),\"dbHost\":$(json_string "$host"),\"dbName\":$(json_string "$DB_NAME")}"
  else
    respond "503 Service Unavailable" application/json \
      "{\"tier\":\"backend\",\"pod\":$pod,\"database\":\"unreachable\",\"dbHost\":$(json_string "$host"),\"dbName\":$(json_string "$DB_NAME"),\"error\":$(json_string "$(redact "$out")")}"
  fi
}

case "$(request_path)" in
  /) respond "200 OK" application/json \
       "{\"tier\":\"backend\",\"pod\":$(json_string "$(pod_name)"),\"endpoints\":[\"/healthz\",\"/readyz\",\"/api/status\"]}" ;;
  /api/status/) api_status ;;
  /readyz/) readyz ;;
  *) respond "404 Not Found" text/plain "not found" ;;
esac
