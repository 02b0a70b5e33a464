#!/usr/bin/env bash
# Stop every process cluster-up.sh started (by pid) and delete the cluster's data (idempotent).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/cluster-env.sh"

stop_pid() { # stop_pid NAME: TERM, wait up to 10 s, then KILL
  local file="$RUN_DIR/$1.pid" pid
  [ -f "$file" ] || return 0
  pid=$(cat "$file")
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    local deadline=$((SECONDS + 10))
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.2; done
    kill -9 "$pid" 2>/dev/null || true
    log "stopped $1 (pid $pid)"
  fi
  rm -f "$file"
}

stop_pid metallb-controller
stop_pid coredns
if [ -x "$TOOLCHAIN_BIN/kwokctl" ] && kwokctl get clusters 2>/dev/null | grep -qx "$CLUSTER_NAME"; then
  kwokctl delete cluster --name "$CLUSTER_NAME"
fi
rm -rf "$KWOK_WORKDIR" "$RUN_DIR" "$LOG_DIR" "$CLUSTER_KUBECONFIG" "$TOOLCHAIN_DIR/Corefile" "$TOOLCHAIN_DIR/dns-server"
log "cluster '$CLUSTER_NAME' is down and its data deleted"
