#!/usr/bin/env bash
# Stop the shared state backend's server (hack/state-up.sh). Its data, the team's Pulumi state,
# stays: `make state-up` serves it again.
#   STATE_STOP_MODE=fast (default: clients disconnected, a clean shutdown) | immediate (a crash, as a
#   killed server: the tests use it to cut the backend away in the middle of an up)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/state-env.sh"

if [ ! -f "$STATE_DATA/postmaster.pid" ] || ! as_server_user "$PG_BIN/pg_ctl" status -D "$STATE_DATA" >/dev/null 2>&1; then
  log "state server not running (data: $STATE_DATA)"
  exit 0
fi
mode="${STATE_STOP_MODE:-fast}"
case "$mode" in fast | immediate | smart) ;; *) die "STATE_STOP_MODE=$mode is not valid; allowed values: fast, immediate, smart" ;; esac
as_server_user "$PG_BIN/pg_ctl" stop -D "$STATE_DATA" -m "$mode" -w -t 60 >/dev/null
log "stopped the state server ($mode); its data stays in $STATE_DATA"
