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
RUN_DIR="$TOOLCHAIN_DIR/run"
LOG_DIR="$TOOLCHAIN_DIR/logs"

# Everything listens on loopback only.
APISERVER_PORT=16443
DNS_ADDRESS=127.0.0.1
DNS_PORT=1053
METALLB_METRICS_PORT=17472
# Simulated nodes: InternalIPs in 127.0.10.0/24 and pod CIDRs that never leave kwok.
NODE_COUNT=2
NODE_IP_PREFIX=127.0.10
SERVICE_CIDR=10.96.0.0/12
# LoadBalancer addresses: a loopback pool.
LB_POOL=127.0.20.1-127.0.20.50
export PATH="$TOOLCHAIN_BIN:$PATH"
