#!/usr/bin/env bash
# Start real node K of the local cluster (called by hack/cluster-up.sh for K = 1..NODES when
# THREETIER_NODE=real; also brings a lost node back):
#
#   hack/node-up.sh K
#
#   network namespace + veth + fabric link (hack/node-network.sh), Debian's containerd + runc + CNI plugins,
#   the app's images (hack/build-images.sh, imported into containerd), kubelet and kube-proxy from
#   the control plane's own Kubernetes build, kube-router's firewall enforcing NetworkPolicies,
#   and the kube-dns Service pods use as nameserver.
# Every process runs inside the node's network namespace (nsenter --net: same filesystem, so
# kubelet's volume mounts are the ones containerd sees). Idempotent; needs root.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/cluster-env.sh"
source "$REPO_ROOT/hack/versions-node.env"
source "$REPO_ROOT/hack/node-network.sh"
node_vars "${1:?usage: $0 NODE_INDEX (1-$MAX_REAL_NODES)}"
# This node's pid and log files: .toolchain/run/NODE/NAME.pid, .toolchain/logs/NODE/NAME.log
RUN_DIR="$NODE_RUN_DIR"
LOG_DIR="$NODE_LOG_DIR"

CONTAINERD_DIR="$NODE_STATE_DIR/containerd"
CONTAINERD_SOCKET="$CONTAINERD_DIR/containerd.sock"
KUBELET_DIR="$NODE_STATE_DIR/kubelet"
CNI_CONF_DIR="$NODE_STATE_DIR/cni/net.d"
NODE_KUBECONFIG="$NODE_STATE_DIR/node.kubeconfig"
CNI_BIN_DIR=/usr/lib/cni
SANDBOX_IMAGE=threetier.local/pause:3.10

IN_NODE=(nsenter --net="/run/netns/$NODE_NETNS")
in_node() { "${IN_NODE[@]}" "$@"; }

require_root_and_packages() {
  [ "$(id -u)" = 0 ] || die "the real node needs root (network namespaces, iptables, containerd); run as root or use THREETIER_NODE=kwok"
  local missing=() spec name
  for spec in "${NODE_DEBIAN_PACKAGES[@]}"; do
    name="${spec%%=*}"
    dpkg-query -W -f '${Status}' "$name" 2>/dev/null | grep -q "install ok installed" || missing+=("$spec")
  done
  if ((${#missing[@]})); then
    log "installing Debian packages for the node: ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null \
      || { apt-get update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null; } \
      || die "could not install ${missing[*]} with apt-get (versions pinned in hack/versions-node.env)"
  fi
  for name in kubelet kube-proxy kube-router; do
    [ -x "$TOOLCHAIN_BIN/$name" ] || die "$name missing in $TOOLCHAIN_BIN: run hack/build-cluster-tools.sh"
  done
  [ -x "$CNI_BIN_DIR/bridge" ] || die "CNI plugins missing in $CNI_BIN_DIR (package containernetworking-plugins)"
}

write_containerd_config() {
  mkdir -p "$CONTAINERD_DIR" "$CNI_CONF_DIR" "$NODE_STATE_DIR/cni/ipam"
  cat >"$CONTAINERD_DIR/config.toml" <<TOML
# containerd for the threetier node: private root, state and socket; CRI with the CNI bridge.
version = 2
root = "$CONTAINERD_DIR/root"
state = "$CONTAINERD_DIR/state"
[grpc]
  address = "$CONTAINERD_SOCKET"
[ttrpc]
  address = "$CONTAINERD_SOCKET.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
[plugins."io.containerd.grpc.v1.cri"]
  # Built here (images/pause); no registry is reachable, so nothing is ever pulled.
  sandbox_image = "$SANDBOX_IMAGE"
  # Pods' network namespaces under our state dir (cluster-down finds and removes them there).
  netns_mounts_under_state_dir = true
  enable_unprivileged_ports = false
  # Root here lacks CAP_SYS_RESOURCE (a sandboxed VM), so lowering oom_score_adj below our own
  # fails in runc ("failed to update /proc/self/oom_score_adj: Permission denied"): clamp it.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "$CNI_BIN_DIR"
    conf_dir = "$CNI_CONF_DIR"
TOML
  # One bridge for the node's pods. No masquerade: pods have no route off the node's namespace,
  # and the host reaches them (and they it) through the veth's routes.
  cat >"$CNI_CONF_DIR/10-threetier.conflist" <<JSON
{
  "cniVersion": "1.0.0",
  "name": "threetier",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "cni0",
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "ranges": [[{"subnet": "$NODE_POD_CIDR"}]],
        "routes": [{"dst": "0.0.0.0/0"}],
        "dataDir": "$NODE_STATE_DIR/cni/ipam"
      }
    },
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
JSON
}

start_containerd() {
  pid_alive containerd && return
  write_containerd_config
  log "starting containerd $(containerd --version | awk '{print $3}') in $NODE_NETNS (socket $CONTAINERD_SOCKET)"
  start_background containerd "${IN_NODE[@]}" containerd --config "$CONTAINERD_DIR/config.toml"
  wait_for 30 "containerd to answer on $CONTAINERD_SOCKET (log: $LOG_DIR/containerd.log)" \
    ctr --address "$CONTAINERD_SOCKET" version
}

import_images() {
  "$REPO_ROOT/hack/build-images.sh" || die "building the app's images failed (see above)"
  "$REPO_ROOT/hack/import-images.sh" "$CONTAINERD_SOCKET" || die "importing the images into containerd failed"
  # The image the verifier's probe pods run (no registry to pull busybox from).
  (source "$REPO_ROOT/images/busybox/image.conf" && echo "$REF") >"$TOOLCHAIN_DIR/probe-image"
}

write_node_kubeconfig() {
  # The control plane's admin credentials, reached at the veth's host address (DNAT to loopback).
  # The API server's certificate names 127.0.0.1, so that is the name TLS verifies.
  kubectl_ config view --raw --flatten --minify >"$NODE_KUBECONFIG"
  local cluster; cluster=$(kubectl --kubeconfig "$NODE_KUBECONFIG" config view -o jsonpath='{.clusters[0].name}')
  kubectl --kubeconfig "$NODE_KUBECONFIG" config set-cluster "$cluster" \
    --server "https://$HOST_VETH_IP:$APISERVER_PORT" --tls-server-name 127.0.0.1 >/dev/null
  chmod 600 "$NODE_KUBECONFIG"
}

write_kubelet_config() {
  local ca; ca="$NODE_STATE_DIR/ca.crt"
  kubectl --kubeconfig "$NODE_KUBECONFIG" config view --raw -o jsonpath='{.clusters[0].cluster.certificate-authority-data}' | base64 -d >"$ca"
  # An empty resolv.conf: pods get the cluster DNS only, never this machine's resolvers.
  : >"$NODE_STATE_DIR/resolv.conf"
  cat >"$NODE_STATE_DIR/kubelet.yaml" <<YAML
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
containerRuntimeEndpoint: unix://$CONTAINERD_SOCKET
address: $NODE_IP
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
clusterDNS: [$CLUSTER_DNS_IP]
clusterDomain: cluster.local
resolvConf: $NODE_STATE_DIR/resolv.conf
podLogsDir: $NODE_STATE_DIR/pod-logs
# This machine runs cgroup v1 (kubelet 1.36 refuses it unless told), with no systemd.
failCgroupV1: false
cgroupDriver: cgroupfs
# Two kubelets share this machine's one cgroup hierarchy (cgroup v1, no cgroup namespaces): each
# puts its pods under its own root, $NODE_CGROUP_ROOT/kubepods/<qos>/pod<uid>/<container>
# (node-down.sh removes only its node's). The QoS level cgroups are what makes the kubelet pass
# a cgroup parent to containerd at all (without them every pod lands in containerd's /k8s.io).
cgroupsPerQOS: true
cgroupRoot: $NODE_CGROUP_ROOT
enforceNodeAllocatable: []
failSwapOn: false
# Only the API server (with the cluster CA's client certificates) calls the kubelet API.
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: false}
  x509: {clientCAFile: $ca}
authorization: {mode: AlwaysAllow}
# Images are built here and cannot be pulled again: never garbage-collect them, never evict for disk.
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: {memory.available: 100Mi, nodefs.available: "1%", imagefs.available: "1%", nodefs.inodesFree: "1%"}
serializeImagePulls: false
maxPods: 110
registerNode: true
YAML
}

make_cgroup_root() { # the kubelet checks its cgroup root exists in every v1 hierarchy it uses
  local hierarchy
  for hierarchy in /sys/fs/cgroup/*/; do
    case "$hierarchy" in */unified/) continue ;; esac
    mkdir -p "$hierarchy${NODE_CGROUP_ROOT#/}"
  done
}

start_kubelet() {
  pid_alive kubelet && return
  write_node_kubeconfig
  write_kubelet_config
  make_cgroup_root
  mkdir -p "$KUBELET_DIR" "$NODE_STATE_DIR/pod-logs"
  log "starting kubelet $KUBERNETES_VERSION as node $NODE_NAME ($NODE_IP)"
  start_background kubelet "${IN_NODE[@]}" kubelet --config "$NODE_STATE_DIR/kubelet.yaml" \
    --kubeconfig "$NODE_KUBECONFIG" --root-dir "$KUBELET_DIR" \
    --hostname-override "$NODE_NAME" --node-ip "$NODE_IP" --node-labels "threetier.dev/node=real"
}

start_kube_proxy() {
  pid_alive kube-proxy && return
  cat >"$NODE_STATE_DIR/kube-proxy.yaml" <<YAML
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: $NODE_KUBECONFIG}
hostnameOverride: $NODE_NAME
mode: iptables
clusterCIDR: $CLUSTER_POD_CIDR
bindAddress: $NODE_IP
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
# Node ports on the node's own address only (not on its loopback).
nodePortAddresses: ["$NODE_IP/32"]
iptables: {localhostNodePorts: false}
# Leave the machine-wide conntrack table size alone.
conntrack: {maxPerCore: 0}
YAML
  log "starting kube-proxy $KUBERNETES_VERSION (iptables mode) in $NODE_NETNS"
  start_background kube-proxy "${IN_NODE[@]}" kube-proxy --config "$NODE_STATE_DIR/kube-proxy.yaml"
}

apply_cluster_dns() {
  # Pods ask $CLUSTER_DNS_IP:53; kube-proxy sends that to their own node's endpoint (the Service's
  # internalTrafficPolicy is Local), that node's host-side veth address, port 53, which the root
  # namespace forwards to CoreDNS (the same server the host asks on $DNS_ADDRESS:$DNS_PORT).
  # So no node's pods depend on another node for names.
  local k endpoints=""
  for k in $(present_nodes); do
    endpoints+="
  - addresses: [\"198.18.$((k - 1)).1\"]
    nodeName: $NODE_PREFIX-$k
    conditions: {ready: true}"
  done
  kubectl_ apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Service
metadata:
  name: kube-dns
  namespace: kube-system
  labels: {k8s-app: kube-dns, kubernetes.io/name: CoreDNS}
spec:
  clusterIP: $CLUSTER_DNS_IP
  internalTrafficPolicy: Local
  ports:
    - {name: dns, port: 53, protocol: UDP, targetPort: 53}
    - {name: dns-tcp, port: 53, protocol: TCP, targetPort: 53}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: kube-dns-coredns
  namespace: kube-system
  labels: {kubernetes.io/service-name: kube-dns, endpointslice.kubernetes.io/managed-by: threetier-cluster-up}
addressType: IPv4
endpoints:$endpoints
ports:
  - {name: dns, port: 53, protocol: UDP}
  - {name: dns-tcp, port: 53, protocol: TCP}
YAML
}

start_network_policy_enforcer() {
  pid_alive kube-router && return
  # Bridged pod-to-pod frames must traverse iptables for the policies to see them.
  in_node sysctl -qw net.bridge.bridge-nf-call-iptables=1
  log "starting kube-router $KUBE_ROUTER_VERSION (NetworkPolicy firewall only) in $NODE_NETNS"
  start_background kube-router "${IN_NODE[@]}" kube-router --kubeconfig "$NODE_KUBECONFIG" \
    --hostname-override "$NODE_NAME" --run-firewall=true --run-router=false --run-service-proxy=false \
    --enable-cni=false --health-port "$KUBE_ROUTER_HEALTH_PORT" \
    --service-cluster-ip-range "$SERVICE_CIDR" --service-node-port-range 30000-32767 \
    --iptables-sync-period 5m -v=1
}

enforcer_synced() { # kube-router answers healthz once its controllers have synced
  in_node python3 -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:$KUBE_ROUTER_HEALTH_PORT/healthz', timeout=2).status != 200)"
}

kube_proxy_synced() { # kube-proxy's healthz answers 200 once it has programmed the rules
  in_node python3 -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:10256/healthz', timeout=2).status != 200)"
}

main() {
  close_inherited_fds # the node's daemons outlive this script: they must not hold its caller's lock
  require_root_and_packages
  mkdir -p "$NODE_STATE_DIR" "$RUN_DIR" "$LOG_DIR"
  local start=$SECONDS
  network_up
  start_containerd
  import_images
  apply_cluster_dns
  start_kubelet
  start_kube_proxy
  wait_for 120 "node $NODE_NAME Ready (log: $LOG_DIR/kubelet.log)" node_ready "$NODE_NAME"
  # kube-router finds its node by name: only once the kubelet has registered it.
  start_network_policy_enforcer
  wait_for 60 "kube-proxy to sync its rules (log: $LOG_DIR/kube-proxy.log)" kube_proxy_synced
  wait_for 60 "kube-router to enforce NetworkPolicies (log: $LOG_DIR/kube-router.log)" enforcer_synced
  log "real node $NODE_NAME ready in $((SECONDS - start)) s (InternalIP $NODE_IP, pods $NODE_POD_CIDR)"
}

main "$@"
