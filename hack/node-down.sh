#!/usr/bin/env bash
# Stop the real node (called by hack/cluster-down.sh) and remove everything hack/node-up.sh made:
# kube-router, kubelet and kube-proxy (by pid), every container and its shim, containerd (by pid), the pods'
# network namespaces and mounts under .toolchain/node, the node's namespace, veth, routes and
# iptables chain. Idempotent: each step tolerates its part being gone already.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/cluster-env.sh"
source "$REPO_ROOT/hack/node-network.sh"

CONTAINERD_SOCKET="$NODE_STATE_DIR/containerd/containerd.sock"

ctr_() { ctr --address "$CONTAINERD_SOCKET" -n k8s.io "$@"; }

remove_containers() { # every task killed, every container deleted: their shims exit with them
  [ -S "$CONTAINERD_SOCKET" ] && ctr_ version >/dev/null 2>&1 || return 0
  local id
  for id in $(ctr_ tasks ls -q 2>/dev/null); do
    ctr_ tasks kill -s SIGKILL "$id" >/dev/null 2>&1 || true
  done
  for id in $(ctr_ tasks ls -q 2>/dev/null); do
    ctr_ tasks rm -f "$id" >/dev/null 2>&1 || true
  done
  for id in $(ctr_ containers ls -q 2>/dev/null); do
    ctr_ containers rm "$id" >/dev/null 2>&1 || true
  done
}

stop_leftover_shims() { # shims serving our containerd (their -address names our socket)
  local pid
  for pid in $(pgrep -f "containerd-shim-runc-v2 .*-address $CONTAINERD_SOCKET" || true); do
    kill -9 "$pid" 2>/dev/null || true
  done
}

unmount_node_state() { # kubelet's volumes, containerd's rootfs and shm mounts, pods' netns files
  [ -d "$NODE_STATE_DIR" ] || return 0
  local target
  # Deepest first; lazy, so a busy mount cannot block the cleanup.
  while read -r target; do
    umount -l "$target" 2>/dev/null || true
  done < <(findmnt -rn -o TARGET | grep -F "$NODE_STATE_DIR/" | sort -r)
}

remove_cgroups() { # runc's per-container cgroups (cgroup v1, cgroupfs driver): empty once stopped
  local dir
  for dir in /sys/fs/cgroup/*/kubepods /sys/fs/cgroup/*/kubepods.slice; do
    [ -d "$dir" ] && find "$dir" -depth -type d -exec rmdir {} + 2>/dev/null || true
  done
}

main() {
  [ "$(id -u)" = 0 ] || { [ ! -d "$NODE_STATE_DIR" ] && ! network_is_up && exit 0; die "stopping the real node needs root"; }
  # kube-router's chains and ipsets live in the node namespace: they go with it (network_down).
  stop_pids "$RUN_DIR/kube-router.pid" "$RUN_DIR/kube-proxy.pid" "$RUN_DIR/kubelet.pid"
  remove_containers
  stop_pid "$RUN_DIR/containerd.pid"
  stop_leftover_shims
  unmount_node_state
  remove_cgroups
  network_down
  rm -rf "$NODE_STATE_DIR"
  log "real node $NODE_NAME stopped; its namespace, veth, routes and iptables rules removed"
}

main "$@"
