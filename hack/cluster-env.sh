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

# The node that runs the app's pods (hack/node-up.sh):
#   real (default): a real kubelet + containerd + CNI bridge + kube-proxy inside the network
#                   namespace $NODE_NETNS, so pods run real processes and traffic really flows;
#   kwok:           $NODE_COUNT simulated kwok nodes only (pods have no processes).
# Choose with THREETIER_NODE=real|kwok (make cluster-up NODE=kwok).
NODE_MODE="${THREETIER_NODE:-real}"
case "$NODE_MODE" in
  real | kwok) ;;
  *) die "THREETIER_NODE=$NODE_MODE is not valid; allowed values: real, kwok" ;;
esac
NODE_NETNS=threetier-node
NODE_NAME=threetier-node
# The only link between this machine and the node's namespace: a veth pair. Its addresses come
# from 198.18.0.0/15 (RFC 2544, reserved for benchmarking, never routed on the internet); every
# route below points into the namespace, so nothing sent to them leaves the machine.
HOST_VETH=threetier-host
NODE_VETH=eth0
HOST_VETH_IP=198.18.0.1
NODE_IP=198.18.0.2
VETH_PREFIX_LEN=24
# Pods of the real node (CNI bridge + host-local IPAM inside the namespace).
CLUSTER_POD_CIDR=10.244.0.0/16
NODE_POD_CIDR=10.244.0.0/24
# kube-dns Service address given to pods as their nameserver (kubelet clusterDNS); its endpoint
# is $HOST_VETH_IP:53, forwarded to CoreDNS on $DNS_ADDRESS:$DNS_PORT.
CLUSTER_DNS_IP=10.96.0.10
NODE_STATE_DIR="$TOOLCHAIN_DIR/node"
# kube-router (NetworkPolicy enforcer) health endpoint, inside the node namespace.
KUBE_ROUTER_HEALTH_PORT=20244
if [ "$NODE_MODE" = real ]; then
  # LoadBalancer addresses must be reachable through the veth (loopback ones never leave lo).
  LB_POOL=198.18.20.1-198.18.20.50
  LB_ROUTE=198.18.20.0/24
fi

kubectl_() { kubectl --kubeconfig "$CLUSTER_KUBECONFIG" --context "$CONTEXT" "$@"; }

# node_ready NAME: the node's Ready condition is True
node_ready() {
  [ "$(kubectl_ get node "$1" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" = True ]
}
