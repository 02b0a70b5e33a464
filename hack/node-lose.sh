#!/usr/bin/env bash
# Lose real node K abruptly, as a machine that dies: every process of the node killed at once
# (kubelet, containerd, kube-proxy, kube-router, the containers' shims and the containers
# themselves, SIGKILL, no clean-up) and its links down. Its namespace, state and Node object stay,
# as a dead machine's disk and registration would: the control plane sees the node go NotReady.
# `hack/node-up.sh K` brings it back (containerd and the kubelet restart on the kept state).
#
#   hack/node-lose.sh K
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/cluster-env.sh"
source "$REPO_ROOT/hack/node-network.sh"
node_vars "${1:?usage: $0 NODE_INDEX (1-$MAX_REAL_NODES)}"
[ "$(id -u)" = 0 ] || die "losing a real node needs root"
netns_exists "$NODE_NETNS" || die "node $NODE_NAME is not running (no namespace $NODE_NETNS)"

socket="$NODE_STATE_DIR/containerd/containerd.sock"
pids=()
for name in kubelet containerd kube-proxy kube-router; do
  pid=$(cat "$NODE_RUN_DIR/$name.pid" 2>/dev/null) && pids+=("$pid")
done
mapfile -t -O "${#pids[@]}" pids < <(pgrep -f "containerd-shim-runc-v2 .*-address $socket" || true)
mapfile -t -O "${#pids[@]}" pids < <(find "/sys/fs/cgroup/pids$NODE_CGROUP_ROOT" -name tasks -exec cat {} + 2>/dev/null || true)
((${#pids[@]})) && kill -9 "${pids[@]}" 2>/dev/null || true
network_cut
log "node $NODE_NAME lost: ${#pids[@]} processes killed (SIGKILL), its links down; hack/node-up.sh $NODE_INDEX brings it back"
