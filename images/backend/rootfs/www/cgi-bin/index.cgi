#!/bin/sh
# The backend API's dynamic routes.  busybox httpd runs cgi-bin/index.cgi for every directory
# URL that has no index.html, and answers /api/status with a redirect to /api/status/
# (a directory in /www), so both routes land here:
#   /             a one-line description of the API
#   /api/status/  SELECT version() on the database with psql: 200 when it answers, else 503
# DB_PASSWORD (from a Kubernetes Secret) only ever reaches psql through PGPASSWORD; it is
# never printed, and it is scrubbed from psql's error text in case a message echoed it.
set -u
# shellcheck source=images/httpd/rootfs/usr/lib/threetier/cgi.sh
. /usr/lib/threetier/cgi.sh

# redact TEXT: TEXT with every occurrence of $DB_PASSWORD replaced by ***
redact() {
  text="$1" awk 'BEGIN {
    s = ENVIRON["text"]; p = ENVIRON["DB_PASSWORD"]; out = ""
    if (p != "") while ((i = index(s, p)) > 0) { out = out substr(s, 1, i - 1) "***"; s = substr(s, i + length(p)) }
    printf "%s", out s
  }'
}

api_status() {
  pod="$(json_string "$(pod_name)")"
  host="${DB_HOST:-}"
  missing=""
  [ -n "$host" ] || missing="$missing DB_HOST"
  [ -n "${DB_NAME:-}" ] || missing="$missing DB_NAME"
  [ -n "${DB_USER:-}" ] || missing="$missing DB_USER"
  [ -n "${DB_PASSWORD:-}" ] || missing="$missing DB_PASSWORD"
  if [ -n "$missing" ]; then
    respond "503 Service Unavailable" application/json \
      "{\"tier\":\"backend\",\"pod\":$pod,\"database\":\"unconfigured\",\"error\":$(json_string "missing env:$missing")}"
    return
  fi
  # connect_timeout bounds the TCP connect, timeout(1) the whole call (DNS included);
  # no GSSAPI/Kerberos probing, no ~/.psqlrc (-X), never prompt for a password (-w)
  if out="$(PGPASSWORD="$DB_PASSWORD" PGCONNECT_TIMEOUT=3 PGGSSENCMODE=disable PGAPPNAME=threetier-backend \
      timeout 10 psql -X -w -q -A -t -v ON_ERROR_STOP=1 \
      -h "$host" -p "${DB_PORT:-5432}" -U "$DB_USER" -d "$DB_NAME" -c 'SELECT version()' 2>&1)"; then
    respond "200 OK" application/json \
      "{\"tier\":\"backend\",\"pod\":$pod,\"database\":\"ok\",\"db\":$(json_string "$out"),\"dbHost\":$(json_string "$host"),\"dbName\":$(json_string "$DB_NAME")}"
  else
    respond "503 Service Unavailable" application/json \
      "{\"tier\":\"backend\",\"pod\":$pod,\"database\":\"unreachable\",\"dbHost\":$(json_string "$host"),\"dbName\":$(json_string "$DB_NAME"),\"error\":$(json_string "$(redact "$out")")}"
  fi
}

case "$(request_path)" in
  /) respond "200 OK" application/json \
       "{\"tier\":\"backend\",\"pod\":$(json_string "$(pod_name)"),\"endpoints\":[\"/healthz\",\"/api/status\"]}" ;;
  /api/status/) api_status ;;
  *) respond "404 Not Found" text/plain "not found" ;;
esac
