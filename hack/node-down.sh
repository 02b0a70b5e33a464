#!/usr/bin/env bash
# Stop real node K (called by hack/cluster-down.sh for every node, and by cluster-up.sh for nodes
# beyond NODES) and remove everything hack/node-up.sh made for it: kube-router, kubelet and
# kube-proxy (by pid), every container and its shim, containerd (by pid), the pods' network
# namespaces and mounts under its state directory, its cgroups (its own cgroup root only), its
# namespace, veth, fabric link, routes and iptables rules, and its Node object when the API server
# still answers. Idempotent: each step tolerates its part being gone already.
#
#   hack/node-down.sh K
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/cluster-env.sh"
source "$REPO_ROOT/hack/node-network.sh"
node_vars "${1:?usage: $0 NODE_INDEX (1-$MAX_REAL_NODES)}"
RUN_DIR="$NODE_RUN_DIR"
LOG_DIR="$NODE_LOG_DIR"

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

stop_leftover_shims() { # shims serving this node's containerd (their -address names its socket)
  local pid
  for pid in $(pgrep -f "containerd-shim-runc-v2 .*-address $CONTAINERD_SOCKET" || true); do
    kill -9 "$pid" 2>/dev/null || true
  done
}

kill_node_cgroup_tasks() { # whatever still runs in this node's cgroups (a lost node's containers)
  [ -d "/sys/fs/cgroup/pids$NODE_CGROUP_ROOT" ] || return 0
  find "/sys/fs/cgroup/pids$NODE_CGROUP_ROOT" -name tasks -exec cat {} + | xargs -r kill -9 2>/dev/null || true
}

unmount_node_state() { # kubelet's volumes, containerd's rootfs and shm mounts, pods' netns files
  [ -d "$NODE_STATE_DIR" ] || return 0
  local target
  # Deepest first; lazy, so a busy mount cannot block the cleanup.
  while read -r target; do
    umount -l "$target" 2>/dev/null || true
  done < <(findmnt -rn -o TARGET | grep -F "$NODE_STATE_DIR/" | sort -r)
}

remove_cgroups() { # this node's cgroup root and everything below it (QoS, pods, containers), every hierarchy
  local dir
  for dir in /sys/fs/cgroup/*"$NODE_CGROUP_ROOT"; do
    [ -d "$dir" ] && find "$dir" -depth -type d -exec rmdir {} + 2>/dev/null || true
  done
}

forget_node() { # the Node object, when the cluster still answers (cluster-down deletes it all anyway)
  [ -f "$CLUSTER_KUBECONFIG" ] && kubectl_ delete node "$NODE_NAME" --ignore-not-found --wait=false \
    --request-timeout=5s >/dev/null 2>&1 || true
}

main() {
  [ "$(id -u)" = 0 ] || { [ ! -d "$NODE_STATE_DIR" ] && ! netns_exists "$NODE_NETNS" && exit 0; die "stopping a real node needs root"; }
  # kube-router's chains and ipsets live in the node namespace: they go with it (network_down).
  stop_pids "$RUN_DIR/kube-router.pid" "$RUN_DIR/kube-proxy.pid" "$RUN_DIR/kubelet.pid"
  remove_containers
  stop_pid "$RUN_DIR/containerd.pid"
  stop_leftover_shims
  kill_node_cgroup_tasks
  unmount_node_state
  remove_cgroups
  network_down
  rm -rf "$NODE_STATE_DIR" "$RUN_DIR"
  forget_node
  log "real node $NODE_NAME stopped; its namespace, veth, fabric link, routes, iptables rules and cgroups removed"
}

main "$@"
