#!/usr/bin/env bash
# Stop every process hack/cluster-up.sh started (by the pids under .toolchain/run, plus
# `kwokctl delete cluster` for the control plane) and delete the cluster's data. Idempotent.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/cluster-env.sh"

# The real nodes first (their kubelets and kube-proxies talk to the API server), every one found
# (a namespace or a state directory), then our own processes.
for index in $( (present_nodes; ls "$NODES_STATE_DIR" 2>/dev/null | sed -n "s/^$NODE_PREFIX-\([0-9]*\)$/\1/p") | sort -un); do
  "$REPO_ROOT/hack/node-down.sh" "$index"
done
stop_pids "$RUN_DIR/metallb-controller.pid" "$RUN_DIR/coredns.pid"
# The control plane: kwokctl stops its components and removes the cluster's workdir.
if [ -x "$TOOLCHAIN_BIN/kwokctl" ] && kwokctl get clusters 2>/dev/null | grep -qx "$CLUSTER_NAME"; then
  kwokctl delete cluster --name "$CLUSTER_NAME" --kubeconfig "$CLUSTER_KUBECONFIG" \
    || log "kwokctl delete cluster failed; stopping its components by pid"
fi
# Anything kwokctl left running (or a cluster whose kwokctl is gone): by the recorded pids.
shopt -s nullglob
stop_pids "$RUN_DIR"/kwok-*.pid "$KWOK_WORKDIR/clusters/$CLUSTER_NAME"/pids/*.pid
rm -rf "$KWOK_WORKDIR" "$RUN_DIR" "$LOG_DIR" "$CLUSTER_KUBECONFIG" \
  "$TOOLCHAIN_DIR/Corefile" "$TOOLCHAIN_DIR/dns-server" "$TOOLCHAIN_DIR/lb-pool" "$TOOLCHAIN_DIR/probe-image" \
  "$TOOLCHAIN_DIR/node-mode" "$NODES_RECORD"
log "cluster '$CLUSTER_NAME' is down and its data deleted"
