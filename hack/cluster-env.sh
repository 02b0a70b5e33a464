#!/usr/bin/env bash
# Where the local cluster lives; sourced by cluster-up.sh, cluster-down.sh and the Makefile's users.
# shellcheck disable=SC2034
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$REPO_ROOT/hack/versions-cluster.env"

CLUSTER_NAME=threetier
# kwok keeps the cluster's data (etcd, certs, logs, pids of its components) here.
export KWOK_WORKDIR="$TOOLCHAIN_DIR/kwok"
export KWOK_KUBE_VERSION="$KUBERNETES_VERSION"
export KWOK_KUBECTL_BINARY="$TOOLCHAIN_BIN/kubectl"
CLUSTER_KUBECONFIG="$TOOLCHAIN_DIR/kubeconfig"
CONTEXT="kwok-$CLUSTER_NAME"
RUN_DIR="$TOOLCHAIN_DIR/run"
LOG_DIR="$TOOLCHAIN_DIR/logs"

# Everything listens on loopback only.
APISERVER_PORT="${THREETIER_APISERVER_PORT:-16443}"
DNS_ADDRESS=127.0.0.1
DNS_PORT="${THREETIER_DNS_PORT:-1053}"
METALLB_METRICS_PORT="${THREETIER_METALLB_METRICS_PORT:-17472}"
# Simulated nodes: InternalIPs in 127.0.10.0/24 and pod CIDRs that never leave kwok.
NODE_COUNT=2
NODE_IP_PREFIX=127.0.10
SERVICE_CIDR=10.96.0.0/12
# LoadBalancer addresses: a loopback pool.
LB_POOL=127.0.20.1-127.0.20.50
export PATH="$TOOLCHAIN_BIN:$PATH"

# The nodes that run the app's pods (hack/node-up.sh):
#   real (default): real nodes, each a kubelet + containerd + CNI bridge + kube-proxy +
#                   kube-router inside a network namespace of its own, so pods run real processes
#                   and traffic really flows;
#   kwok:           $NODE_COUNT simulated kwok nodes only (pods have no processes).
# Choose with THREETIER_NODE=real|kwok (make cluster-up NODE=kwok).
NODE_MODE="${THREETIER_NODE:-real}"
case "$NODE_MODE" in
  real | kwok) ;;
  *) die "THREETIER_NODE=$NODE_MODE is not valid; allowed values: real, kwok" ;;
esac
# Real nodes: THREETIER_NODES of them (make cluster-up NODES=n), numbered 1..n, each in a network
# namespace of its own (node_vars K sets the variables below for node K). Their count as asked for
# last is kept in $TOOLCHAIN_DIR/nodes.
MAX_REAL_NODES=8
DEFAULT_REAL_NODES=2
NODES_RECORD="$TOOLCHAIN_DIR/nodes"
# Every real node's namespace and state are named from this prefix (cluster-down finds them by it).
NODE_PREFIX=threetier-node
# The nodes talk to each other (pod to pod, pod to another node's address) over a bridge in a
# namespace of its own: each node's eth1 $FABRIC_PREFIX.K/24, nothing else on it, no route out.
FABRIC_NETNS=threetier-fabric
FABRIC_BRIDGE=fabric0
FABRIC_PREFIX=198.18.254
NODE_VETH=eth0
FABRIC_VETH=eth1
VETH_PREFIX_LEN=24
# Pods of every real node (each node's CNI bridge + host-local IPAM: 10.244.(K-1).0/24).
CLUSTER_POD_CIDR=10.244.0.0/16
# kube-dns Service address given to pods as their nameserver (kubelet clusterDNS); each node's
# endpoint is its own $HOST_VETH_IP:53 (internalTrafficPolicy Local), forwarded to CoreDNS on
# $DNS_ADDRESS:$DNS_PORT.
CLUSTER_DNS_IP=10.96.0.10
NODES_STATE_DIR="$TOOLCHAIN_DIR/node"
# kube-router (NetworkPolicy enforcer) health endpoint, inside each node's namespace.
KUBE_ROUTER_HEALTH_PORT=20244
# The shared routes from this machine into the nodes (service CIDR, LoadBalancer pool): one next hop
# per live node (hack/node-network.sh).
if [ "$NODE_MODE" = real ]; then
  # LoadBalancer addresses must be reachable through the veths (loopback ones never leave lo).
  LB_POOL=198.18.20.1-198.18.20.50
  LB_ROUTE=198.18.20.0/24
fi

# requested_nodes: the number of real nodes asked for (THREETIER_NODES, else the last cluster-up's
# record, else the default), validated.
requested_nodes() {
  local count="${THREETIER_NODES:-}"
  [ -n "$count" ] || count="$(cat "$NODES_RECORD" 2>/dev/null || echo "$DEFAULT_REAL_NODES")"
  [[ "$count" =~ ^[1-9][0-9]*$ ]] && ((count <= MAX_REAL_NODES)) \
    || die "NODES=$count is not valid; allowed values: 1-$MAX_REAL_NODES (real nodes of the local cluster)"
  echo "$count"
}

# node_vars K: the names and addresses of real node K (1-based).
# The link between this machine and node K: a veth pair in 198.18.(K-1).0/24 (198.18.0.0/15 is
# RFC 2544's benchmarking range, never routed on the internet); every route below points into the
# node namespaces, so nothing sent to these addresses leaves the machine.
node_vars() {
  local k="$1"
  [[ "$k" =~ ^[1-9][0-9]*$ ]] && ((k <= MAX_REAL_NODES)) || die "node $k is not valid; allowed values: 1-$MAX_REAL_NODES"
  NODE_INDEX="$k"
  NODE_NAME="$NODE_PREFIX-$k"
  NODE_NETNS="$NODE_NAME"
  HOST_VETH="threetier-h$k"
  FABRIC_PORT="threetier-f$k"
  HOST_VETH_IP="198.18.$((k - 1)).1"
  NODE_IP="198.18.$((k - 1)).2"
  NODE_FABRIC_IP="$FABRIC_PREFIX.$k"
  NODE_POD_CIDR="10.244.$((k - 1)).0/24"
  NODE_STATE_DIR="$NODES_STATE_DIR/$NODE_NAME"
  NODE_RUN_DIR="$RUN_DIR/$NODE_NAME"
  NODE_LOG_DIR="$LOG_DIR/$NODE_NAME"
  # Each kubelet's own cgroup root (cgroup v1 without cgroup namespaces: one hierarchy for all).
  NODE_CGROUP_ROOT="/$NODE_NAME"
}

# present_nodes: the indexes of the real nodes whose namespace exists, one per line.
present_nodes() {
  local name
  ip netns list 2>/dev/null | awk '{print $1}' | while read -r name; do
    [[ "$name" =~ ^$NODE_PREFIX-([0-9]+)$ ]] && echo "${BASH_REMATCH[1]}"
  done | sort -n
}

# node_pid_alive K NAME: node K's process NAME (kubelet, containerd, ...) runs
node_pid_alive() { RUN_DIR="$RUN_DIR/$NODE_PREFIX-$1" pid_alive "$2"; }

kubectl_() { kubectl --kubeconfig "$CLUSTER_KUBECONFIG" --context "$CONTEXT" "$@"; }

# node_ready NAME: the node's Ready condition is True
node_ready() {
  [ "$(kubectl_ get node "$1" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" = True ]
}
