#!/usr/bin/env bash
# Start the local Kubernetes cluster on loopback (idempotent):
#   kwok "binary" runtime: real etcd, kube-apiserver (admission incl. Pod Security),
#   kube-controller-manager, kube-scheduler, plus kwok-controller simulating the nodes;
#   CoreDNS on $DNS_ADDRESS:$DNS_PORT serving cluster.local from the API server;
#   MetalLB's controller assigning LoadBalancer IPs from a loopback pool.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/cluster-env.sh"

kubectl_() { kubectl --kubeconfig "$CLUSTER_KUBECONFIG" "$@"; }

wait_for() { # wait_for SECONDS DESCRIPTION CMD...: poll CMD until it succeeds or the deadline passes
  local timeout="$1" what="$2"; shift 2
  local deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then die "timed out after ${timeout}s waiting for $what (logs: $LOG_DIR, $KWOK_WORKDIR/clusters/$CLUSTER_NAME/logs)"; fi
    sleep 0.5
  done
}

pid_alive() { [ -f "$RUN_DIR/$1.pid" ] && kill -0 "$(cat "$RUN_DIR/$1.pid")" 2>/dev/null; }

healthy() {
  [ -f "$CLUSTER_KUBECONFIG" ] && pid_alive coredns && pid_alive metallb-controller \
    && kubectl_ get --raw /readyz >/dev/null 2>&1
}

kwokctl_create() { # kwokctl_create [EXTRA FLAGS...]: the one create command (also shown by --dry-run)
  kwokctl create cluster --name "$CLUSTER_NAME" --runtime binary \
    --kube-apiserver-port "$APISERVER_PORT" \
    --etcd-binary "$TOOLCHAIN_BIN/etcd" \
    --kube-apiserver-binary "$TOOLCHAIN_BIN/kube-apiserver" \
    --kube-controller-manager-binary "$TOOLCHAIN_BIN/kube-controller-manager" \
    --kube-scheduler-binary "$TOOLCHAIN_BIN/kube-scheduler" \
    --kwok-controller-binary "$TOOLCHAIN_BIN/kwok" \
    --kubeconfig "$CLUSTER_KUBECONFIG" \
    "${LOOPBACK_ONLY[@]}" "$@"
}

print_info() {
  log "cluster '$CLUSTER_NAME' is ready (Kubernetes $KUBERNETES_VERSION, kwok $KWOK_VERSION)"
  echo "kubeconfig: $CLUSTER_KUBECONFIG"
  echo "dns-server: $DNS_ADDRESS:$DNS_PORT"
  echo "  export KUBECONFIG=$CLUSTER_KUBECONFIG"
}

start_background() { # start_background NAME CMD...: run detached, log and pid under .toolchain
  local name="$1"; shift
  nohup "$@" >"$LOG_DIR/$name.log" 2>&1 &
  echo $! >"$RUN_DIR/$name.pid"
}

# kwok binds components to 0.0.0.0; these later flags win and keep every port on loopback.
# Order matters: kwokctl v0.8.0 indexes a component's patches by the position of its first
# --extra-args in the list (cluster.go mutationComponentPatches), which is only right when
# each component's first flag comes before any second flag: one flag per component first.
LOOPBACK_ONLY=(
  --extra-args etcd=listen-client-urls=http://127.0.0.1:32765
  --extra-args kube-apiserver=bind-address=127.0.0.1
  --extra-args kube-controller-manager=bind-address=127.0.0.1
  --extra-args kube-scheduler=bind-address=127.0.0.1
  --extra-args kwok-controller=server-address=127.0.0.1:32764
  --extra-args etcd=advertise-client-urls=http://127.0.0.1:32765
  --extra-args etcd=listen-peer-urls=http://127.0.0.1:32766
  --extra-args etcd=initial-advertise-peer-urls=http://127.0.0.1:32766
  --extra-args etcd=initial-cluster=node0=http://127.0.0.1:32766
  # The usual service CIDR (kwok's default is 10.0.0.0/24).
  --extra-args "kube-apiserver=service-cluster-ip-range=$SERVICE_CIDR"
  --extra-args "kube-controller-manager=service-cluster-ip-range=$SERVICE_CIDR"
)

create_control_plane() {
  if kwokctl get clusters 2>/dev/null | grep -qx "$CLUSTER_NAME"; then
    log "restarting existing kwok cluster $CLUSTER_NAME"
    kwokctl start cluster --name "$CLUSTER_NAME" --timeout 2m
  else
    log "creating kwok cluster $CLUSTER_NAME (binary runtime, local binaries only)"
    kwokctl_create --timeout 3m --wait 2m
  fi
  kubectl_ config use-context "kwok-$CLUSTER_NAME" >/dev/null
  wait_for 120 "kube-apiserver /readyz" kubectl_ get --raw /readyz
}

create_nodes() {
  local index
  for index in $(seq 1 "$NODE_COUNT"); do
    kubectl_ apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Node
metadata:
  name: kwok-node-$index
  annotations:
    kwok.x-k8s.io/node: fake
    node.alpha.kubernetes.io/ttl: "0"
  labels:
    kubernetes.io/hostname: kwok-node-$index
    kubernetes.io/os: linux
    kubernetes.io/arch: amd64
    type: kwok
spec:
  podCIDR: 10.244.$index.0/24
status:
  addresses:
    - {type: InternalIP, address: $NODE_IP_PREFIX.$index}
  allocatable: {cpu: "16", memory: 32Gi, pods: "110"}
  capacity: {cpu: "16", memory: 32Gi, pods: "110"}
YAML
  done
  wait_for 60 "$NODE_COUNT Ready nodes" bash -c \
    "[ \"\$(kubectl --kubeconfig '$CLUSTER_KUBECONFIG' get nodes --no-headers 2>/dev/null | grep -c ' Ready ')\" -ge $NODE_COUNT ]"
}

start_coredns() {
  pid_alive coredns && return
  cat >"$TOOLCHAIN_DIR/Corefile" <<COREFILE
cluster.local:$DNS_PORT in-addr.arpa:$DNS_PORT ip6.arpa:$DNS_PORT {
    bind $DNS_ADDRESS
    errors
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        kubeconfig $CLUSTER_KUBECONFIG kwok-$CLUSTER_NAME
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
    }
    cache 5
}
COREFILE
  echo "$DNS_ADDRESS:$DNS_PORT" >"$TOOLCHAIN_DIR/dns-server"
  log "starting CoreDNS on $DNS_ADDRESS:$DNS_PORT"
  start_background coredns coredns -conf "$TOOLCHAIN_DIR/Corefile"
  wait_for 30 "CoreDNS to answer" bash -c "python3 - <<'PY'
import socket, struct
query = struct.pack('>HHHHHH', 1, 0x0100, 1, 0, 0, 0) + b''.join(bytes([len(p)]) + p.encode() for p in 'kubernetes.default.svc.cluster.local'.split('.')) + b'\\0' + struct.pack('>HH', 1, 1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(1)
s.sendto(query, ('$DNS_ADDRESS', $DNS_PORT)); data = s.recv(512)
raise SystemExit(0 if struct.unpack('>H', data[6:8])[0] > 0 else 1)
PY"
}

start_metallb() {
  pid_alive metallb-controller && return
  local crds; crds="$(tool_dir metallb "$METALLB_VERSION")/crds"
  kubectl_ apply --server-side -f "$crds" >/dev/null
  wait_for 60 "MetalLB CRDs" kubectl_ wait --for condition=established --timeout=1s crd/ipaddresspools.metallb.io
  kubectl_ apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Namespace
metadata: {name: metallb-system}
---
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: loopback, namespace: metallb-system}
spec:
  addresses: ["$LB_POOL"]
YAML
  log "starting MetalLB controller (pool $LB_POOL)"
  start_background metallb-controller metallb-controller --namespace metallb-system \
    --webhook-mode disabled --disable-cert-rotation --port "$METALLB_METRICS_PORT" \
    --kubeconfig "$CLUSTER_KUBECONFIG"
  wait_for 30 "MetalLB controller to start" bash -c "grep -q 'starting\\|Starting' '$LOG_DIR/metallb-controller.log'"
  pid_alive metallb-controller || die "MetalLB controller exited: see $LOG_DIR/metallb-controller.log"
}

main() {
  if [ "${1:-}" = "--dry-run" ]; then
    # Print what kwokctl would run for a new cluster: every binary is a local path, nothing
    # is downloaded. A scratch name and workdir keep the real cluster out of it.
    "$REPO_ROOT/hack/build-cluster-tools.sh" >&2
    local scratch; scratch=$(mktemp -d)
    CLUSTER_NAME=threetier-dry-run KWOK_WORKDIR="$scratch" kwokctl_create --dry-run --kubeconfig "$scratch/kubeconfig"
    rm -rf "$scratch"
    exit 0
  fi
  mkdir -p "$RUN_DIR" "$LOG_DIR"
  if healthy; then print_info; exit 0; fi
  "$REPO_ROOT/hack/build-cluster-tools.sh"
  local start=$SECONDS
  create_control_plane
  create_nodes
  start_coredns
  start_metallb
  log "cluster up in $((SECONDS - start)) s"
  print_info
}

main "$@"
