#!/usr/bin/env bash
# Start the local Kubernetes cluster on loopback (idempotent: returns at once when it is up):
#   kwokctl "binary" runtime: real etcd, kube-apiserver (default admission plugins, Pod Security
#   included), kube-controller-manager, kube-scheduler, and kwok-controller simulating the nodes;
#   CoreDNS on $DNS_ADDRESS:$DNS_PORT serving cluster.local from the API server;
#   MetalLB's controller assigning LoadBalancer IPs from a loopback pool.
# Every address is on 127.0.0.0/8; nothing here sends a packet anywhere else.
#
#   hack/cluster-up.sh            build what is missing, start, wait, print kubeconfig + DNS server
#   hack/cluster-up.sh --dry-run  print kwokctl's plan for a fresh cluster (no process, no download)
#
# Ports can be moved with THREETIER_{APISERVER,ETCD,ETCD_PEER,KWOK,KCM,SCHEDULER,DNS,METALLB_METRICS}_PORT.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/cluster-env.sh"
source "$REPO_ROOT/hack/kwok-nodes.sh" # KWOK_NODES: simulated nodes beside the real one(s); validated here
# Versions come from the one cluster pin file (it wins over anything set before).
source "$REPO_ROOT/hack/versions-cluster.env"
export KWOK_KUBE_VERSION="$KUBERNETES_VERSION"

APISERVER_PORT="${THREETIER_APISERVER_PORT:-${APISERVER_PORT:-16443}}"
ETCD_PORT="${THREETIER_ETCD_PORT:-32765}"
ETCD_PEER_PORT="${THREETIER_ETCD_PEER_PORT:-32766}"
KWOK_PORT="${THREETIER_KWOK_PORT:-32764}"
KCM_PORT="${THREETIER_KCM_PORT:-32763}"
SCHEDULER_PORT="${THREETIER_SCHEDULER_PORT:-32762}"
DNS_PORT="${THREETIER_DNS_PORT:-${DNS_PORT:-1053}}"
METALLB_METRICS_PORT="${THREETIER_METALLB_METRICS_PORT:-${METALLB_METRICS_PORT:-17472}}"
CLUSTER_DIR="$KWOK_WORKDIR/clusters/$CLUSTER_NAME"
NODE_MONITOR_GRACE=40s

ready_nodes() { kubectl_ get nodes --no-headers 2>/dev/null | awk '$2 == "Ready"' | wc -l; }

real_node_ready() { # real_node_ready K: node K's processes run and the node is Ready
  local name
  for name in containerd kubelet kube-proxy kube-router; do node_pid_alive "$1" "$name" || return 1; done
  node_ready "$NODE_PREFIX-$1"
}

real_nodes_ready() { # exactly nodes 1..NODES run and are Ready
  local k
  [ "$(present_nodes | tr '\n' ' ')" = "$(seq -s ' ' 1 "$REAL_NODES") " ] || return 1
  for k in $(seq 1 "$REAL_NODES"); do real_node_ready "$k" || return 1; done
}

nodes_ready() {
  if [ "$NODE_MODE" = real ]; then real_nodes_ready; else [ "$(ready_nodes)" -ge "$NODE_COUNT" ]; fi
}

healthy() {
  [ -f "$CLUSTER_KUBECONFIG" ] && [ -x "$TOOLCHAIN_BIN/kubectl" ] && pid_alive coredns && pid_alive metallb-controller \
    && [ "$(kubectl_ get --raw /readyz 2>/dev/null)" = ok ] && nodes_ready
}

# kwok binds every component to 0.0.0.0; these later flags win (last flag of a name counts) and keep
# every listener on loopback.  Order matters: kwokctl v0.8.0 indexes a component's patch list by the
# position of its FIRST --extra-args in the whole list (create/cluster/cluster.go
# mutationComponentPatches: componentNames[name] = i), which only works (instead of panicking with
# "index out of range" or patching the wrong component) when every component's first flag comes
# before any component's second flag: one flag per component first, then the rest.
loopback_args() {
  LOOPBACK_ONLY=(
    --extra-args "etcd=listen-client-urls=http://127.0.0.1:$ETCD_PORT"
    --extra-args kube-apiserver=bind-address=127.0.0.1
    --extra-args kube-controller-manager=bind-address=127.0.0.1
    --extra-args kube-scheduler=bind-address=127.0.0.1
    --extra-args "kwok-controller=server-address=127.0.0.1:$KWOK_PORT"
    --extra-args "etcd=advertise-client-urls=http://127.0.0.1:$ETCD_PORT"
    --extra-args "etcd=listen-peer-urls=http://127.0.0.1:$ETCD_PEER_PORT"
    --extra-args "etcd=initial-advertise-peer-urls=http://127.0.0.1:$ETCD_PEER_PORT"
    --extra-args "etcd=initial-cluster=node0=http://127.0.0.1:$ETCD_PEER_PORT"
    # kwokctl runs kwok-controller with --manage-all-nodes=true, which would also fake the status
    # (pod IPs, phase) of pods on the real node: only the nodes annotated as fake are kwok's.
    --extra-args kwok-controller=manage-all-nodes=false
    --extra-args "kwok-controller=manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake"
    # The API server reaches kubelets (logs, exec) at their InternalIP, never by resolving a name.
    --extra-args kube-apiserver=kubelet-preferred-address-types=InternalIP
    # ... with a client certificate the real node's kubelet trusts (signed by the cluster CA).
    --extra-args "kube-apiserver=kubelet-client-certificate=$CLUSTER_DIR/pki/admin.crt"
    --extra-args "kube-apiserver=kubelet-client-key=$CLUSTER_DIR/pki/admin.key"
    # The usual service CIDR (kwok's default is 10.0.0.0/24); node ports keep the default 30000-32767.
    --extra-args "kube-apiserver=service-cluster-ip-range=$SERVICE_CIDR"
    --extra-args "kube-controller-manager=service-cluster-ip-range=$SERVICE_CIDR"
    # kwokctl sets --node-monitor-grace-period=3m20s and kwok's node leases to 200 s (renewed every
    # 50 s): a real node that dies would count as Ready for 200 s and keep its endpoints.
    # Kubernetes' own timing instead: NotReady 40 s after the last heartbeat, checked every 5 s;
    # kubelets renew their leases every 10 s, and so does kwok with 40 s leases.
    --extra-args "kube-controller-manager=node-monitor-grace-period=$NODE_MONITOR_GRACE"
    --extra-args kube-controller-manager=node-monitor-period=5s
    --extra-args kwok-controller=node-lease-duration-seconds=40
  )
}

# --secure-port --kube-authorization: kube-apiserver with --authorization-mode=Node,RBAC (kwokctl's
# default for Kubernetes >= 1.13, said here so no default or KWOK_* variable can turn it off): each
# environment's deployer (docs/platform.md) is held to its Role by the API server itself. Every
# component of this cluster authenticates with the admin certificate (O=system:masters).
kwokctl_create() { # kwokctl_create [EXTRA FLAGS...]: the one create command (also shown by --dry-run)
  loopback_args
  kwokctl create cluster --name "$CLUSTER_NAME" --runtime binary \
    --kube-apiserver-port "$APISERVER_PORT" --etcd-port "$ETCD_PORT" --controller-port "$KWOK_PORT" \
    --kube-controller-manager-port "$KCM_PORT" --kube-scheduler-port "$SCHEDULER_PORT" \
    --secure-port=true --kube-authorization=true \
    --etcd-binary "$TOOLCHAIN_BIN/etcd" \
    --kube-apiserver-binary "$TOOLCHAIN_BIN/kube-apiserver" \
    --kube-controller-manager-binary "$TOOLCHAIN_BIN/kube-controller-manager" \
    --kube-scheduler-binary "$TOOLCHAIN_BIN/kube-scheduler" \
    --kwok-controller-binary "$TOOLCHAIN_BIN/kwok" \
    --kubeconfig "$CLUSTER_KUBECONFIG" \
    "${LOOPBACK_ONLY[@]}" "$@"
}

print_info() {
  local nodes="$NODE_MODE"
  [ "$NODE_MODE" = real ] && nodes="$REAL_NODES real ($(kubectl_ get nodes -l threetier.dev/node=real -o name | sed 's#node/##' | tr '\n' ' ' | sed 's/ $//'))"
  log "cluster '$CLUSTER_NAME' is ready (Kubernetes $KUBERNETES_VERSION, etcd $ETCD_VERSION, kwok $KWOK_VERSION; nodes: $nodes)"
  echo "kubeconfig: $CLUSTER_KUBECONFIG"
  echo "dns-server: $(cat "$TOOLCHAIN_DIR/dns-server")"
  echo "  export KUBECONFIG=$CLUSTER_KUBECONFIG"
}

port_in_use() { # port_in_use PORT [udp]: something listens on 127.0.0.1:PORT (or on all addresses)
  local proto="${2:-tcp}" flag=-ltn
  [ "$proto" = udp ] && flag=-lun
  ss -H "$flag" 2>/dev/null | awk '{print $4}' | grep -Eq "^(127\.0\.0\.1|0\.0\.0\.0|\*|\[::\]):$1\$"
}

check_ports() { # a new cluster needs its ports free: say which one is taken and by what
  local p
  for p in "$APISERVER_PORT" "$ETCD_PORT" "$ETCD_PEER_PORT" "$KWOK_PORT" "$KCM_PORT" "$SCHEDULER_PORT" "$METALLB_METRICS_PORT"; do
    port_in_use "$p" && die "port $p is already in use ($(ss -Hltnp "sport = :$p" 2>/dev/null | grep -o 'users:.*' | head -1)); stop that process, or move this cluster's port (THREETIER_*_PORT, see $0)"
  done
  port_in_use "$DNS_PORT" udp && die "udp port $DNS_PORT is already in use; stop that process or set THREETIER_DNS_PORT"
  return 0
}

require_tools() {
  local bin missing=()
  for bin in etcd kube-apiserver kube-controller-manager kube-scheduler kubectl kwok kwokctl coredns metallb-controller; do
    [ -x "$TOOLCHAIN_BIN/$bin" ] || missing+=("$bin")
  done
  ((${#missing[@]} == 0)) || die "missing in $TOOLCHAIN_BIN: ${missing[*]} (hack/build-cluster-tools.sh builds them; see its output above)"
}

api_client_pidfiles() { # every process of ours that talks to the API server, one pid file a line
  # Stopped before the API server comes back and started afresh after it: their informers would
  # otherwise wait out a watch backoff (10-20 s seen) before they see new objects: kube-proxy would
  # not forward to a new Service, kube-router would not enforce a new NetworkPolicy, the kubelet
  # would start a pod without the env vars of a Service created meanwhile (seen: a frontend pod
  # without BACKEND_SERVICE_HOST, its Deployment created by an interrupted up resuming while the
  # kubelet's watch was still down), CoreDNS would not resolve a new Service. Running containers
  # are kept; the kubelet adopts them again.
  if [ "$NODE_MODE" = real ]; then
    local k
    for k in $(present_nodes); do printf '%s\n' "$RUN_DIR/$NODE_PREFIX-$k"/{kubelet,kube-proxy,kube-router}.pid; done
  fi
  printf '%s\n' "$RUN_DIR/coredns.pid" "$RUN_DIR/metallb-controller.pid"
}

create_control_plane() {
  if kwokctl get clusters 2>/dev/null | grep -qx "$CLUSTER_NAME"; then
    if [ "$(kubectl_ get --raw /readyz 2>/dev/null)" != ok ]; then
      # e.g. after a reboot, or one component died. `kwokctl start` skips components whose pid is
      # alive and `kwokctl stop` does not wait for them (a half-stopped kube-apiserver then keeps
      # the cluster down): stop every component by pid first, then start them all on the kept data.
      log "restarting existing kwok cluster $CLUSTER_NAME (data kept in $CLUSTER_DIR/etcd)"
      # Every component by pid, and every API client of ours (api_client_pidfiles), all at once.
      local -a stopping
      mapfile -t stopping < <(api_client_pidfiles)
      stop_pids "$CLUSTER_DIR"/pids/*.pid "${stopping[@]}"
      kwokctl start cluster --name "$CLUSTER_NAME" --timeout 2m \
        || die "kwokctl could not restart '$CLUSTER_NAME' (logs: $CLUSTER_DIR/logs/); 'make cluster-down && make cluster-up' recreates it"
    fi
  else
    check_ports
    log "creating kwok cluster $CLUSTER_NAME (binary runtime, local binaries only; data in $CLUSTER_DIR)"
    kwokctl_create --timeout 3m --wait 2m \
      || die "kwokctl could not create '$CLUSTER_NAME' (logs: $CLUSTER_DIR/logs/); 'make cluster-down' cleans up"
  fi
  # The processes kwokctl started, recorded next to ours (cluster-down stops them by pid too).
  local f
  for f in "$CLUSTER_DIR"/pids/*.pid; do [ -f "$f" ] && cp "$f" "$RUN_DIR/kwok-$(basename "$f")"; done
  kubectl config --kubeconfig "$CLUSTER_KUBECONFIG" use-context "$CONTEXT" >/dev/null
  wait_for 120 "kube-apiserver /readyz" bash -c "[ \"\$(kubectl --kubeconfig '$CLUSTER_KUBECONFIG' --context '$CONTEXT' get --raw /readyz)\" = ok ]"
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
    - {type: Hostname, address: kwok-node-$index}
  allocatable: {cpu: "16", memory: 32Gi, pods: "110"}
  capacity: {cpu: "16", memory: 32Gi, pods: "110"}
YAML
  done
  wait_for 60 "$NODE_COUNT Ready nodes" bash -c \
    "[ \"\$(kubectl --kubeconfig '$CLUSTER_KUBECONFIG' --context '$CONTEXT' get nodes --no-headers | awk '\$2 == \"Ready\"' | wc -l)\" -ge $NODE_COUNT ]"
}

dns_a() { # dns_a NAME: the A records CoreDNS (on the loopback port) returns for NAME, one per line
  python3 - "$1" "$DNS_ADDRESS" "$DNS_PORT" <<'PY'
import socket, struct, sys
name, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
query = struct.pack(">HHHHHH", 1, 0x0100, 1, 0, 0, 0)
query += b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0" + struct.pack(">HH", 1, 1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(1)
s.sendto(query, (host, port))
data = s.recv(512)
answers, offset = struct.unpack(">H", data[6:8])[0], 12
while data[offset]:
    offset += data[offset] + 1
offset += 5
for _ in range(answers):
    offset += 2 if data[offset] & 0xC0 == 0xC0 else data.index(0, offset) + 1 - offset
    rtype, _, _, length = struct.unpack(">HHIH", data[offset : offset + 10])
    offset += 10
    if rtype == 1:
        print(socket.inet_ntoa(data[offset : offset + length]))
    offset += length
PY
}

dns_answers() { # dns_answers NAME: CoreDNS returns at least one A record for NAME
  [ -n "$(dns_a "$1" 2>/dev/null)" ]
}

corefile() { # the local CoreDNS's configuration
  cat <<COREFILE
cluster.local:$DNS_PORT in-addr.arpa:$DNS_PORT ip6.arpa:$DNS_PORT {
    bind $DNS_ADDRESS
    errors
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        kubeconfig $CLUSTER_KUBECONFIG $CONTEXT
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
    }
    # Answers cached 5 s; "no such name" never: a name asked for a moment before its Service was
    # created would otherwise stay unknown for 5 s after CoreDNS learns of it.
    cache 5 {
        disable denial
    }
}
COREFILE
}

start_coredns() {
  echo "$DNS_ADDRESS:$DNS_PORT" >"$TOOLCHAIN_DIR/dns-server"
  # Started afresh when its configuration changed (and after a control-plane restart, which stops it).
  if pid_alive coredns && [ "$(corefile)" != "$(cat "$TOOLCHAIN_DIR/Corefile" 2>/dev/null)" ]; then
    stop_pid "$RUN_DIR/coredns.pid"
  fi
  pid_alive coredns && return
  port_in_use "$DNS_PORT" udp && die "udp port $DNS_PORT is already in use by a process this script did not start; stop it or set THREETIER_DNS_PORT"
  corefile >"$TOOLCHAIN_DIR/Corefile"
  log "starting CoreDNS $COREDNS_VERSION on $DNS_ADDRESS:$DNS_PORT (cluster.local only; no forwarding)"
  start_background coredns coredns -conf "$TOOLCHAIN_DIR/Corefile"
  wait_for 30 "CoreDNS to answer kubernetes.default.svc.cluster.local on $DNS_ADDRESS:$DNS_PORT (log: $LOG_DIR/coredns.log)" \
    dns_answers kubernetes.default.svc.cluster.local
}

start_metallb() {
  pid_alive metallb-controller && return  # (a control-plane restart stops it: api_client_pidfiles)
  local crds; crds="$(tool_dir metallb "$METALLB_VERSION")/crds"
  [ -f "$crds/metallb.io_ipaddresspools.yaml" ] || die "MetalLB CRDs missing in $crds: run hack/build-cluster-tools.sh"
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
  echo "$LB_POOL" >"$TOOLCHAIN_DIR/lb-pool"
  log "starting MetalLB controller $METALLB_VERSION (pool $LB_POOL)"
  start_background metallb-controller metallb-controller --namespace metallb-system \
    --webhook-mode disabled --disable-cert-rotation --port "$METALLB_METRICS_PORT" \
    --kubeconfig "$CLUSTER_KUBECONFIG"
  # Ready when its metrics endpoint answers (it serves it once the manager runs).
  wait_for 60 "MetalLB controller metrics on 127.0.0.1:$METALLB_METRICS_PORT (log: $LOG_DIR/metallb-controller.log)" \
    bash -c "kill -0 \$(cat '$RUN_DIR/metallb-controller.pid') && exec 3<>/dev/tcp/127.0.0.1/$METALLB_METRICS_PORT"
}

# --- ready means serving -----------------------------------------------------------------------
# A new Service must get a cluster IP that CoreDNS answers, a load-balancer address from MetalLB and,
# on the real node, kube-proxy's rules: proof that every component started here talks to the
# current API server (after a restart they may still hold a broken watch).
CANARY_NAMESPACE=kube-system

canary_dns_ok() { [ "$(dns_a "$1.$CANARY_NAMESPACE.svc.cluster.local" 2>/dev/null)" = "$2" ]; }
canary_lb_ok() { [ -n "$(kubectl_ get service "$1" -n "$CANARY_NAMESPACE" -o jsonpath='{.status.loadBalancer.ingress[0].ip}' 2>/dev/null)" ]; }
# kube-proxy's nat rules for the canary (it has an endpoint, so they exist): kube-router rewrites the
# whole filter table on each of its syncs, so only nat rules are kube-proxy's alone.
# Every real node's kube-proxy must have them.
canary_proxy_ok() {
  local k
  for k in $(present_nodes); do
    nsenter --net="/run/netns/$NODE_PREFIX-$k" iptables-save -t nat 2>/dev/null \
      | grep -q -- "-d $1/32 .*$CANARY_NAMESPACE/$2:.* -j KUBE-SVC-" || return 1
  done
}

# wait_or_restart SECONDS WHAT PROCESS RESTART_FUNCTION CHECK...: wait for CHECK; if it never holds,
# restart PROCESS (by pid) with RESTART_FUNCTION once and wait again.
wait_or_restart() {
  local timeout="$1" what="$2" process="$3" restart="$4"; shift 4
  local deadline=$((SECONDS + timeout))
  until "$@"; do
    if ((SECONDS >= deadline)); then
      log "$what not seen after ${timeout}s: restarting $process"
      stop_pid "$RUN_DIR/$process.pid"
      "$restart"
      wait_for "$timeout" "$what (after restarting $process; log: $LOG_DIR/$process.log)" "$@"
      return
    fi
    sleep 0.2
  done
}

restart_kube_proxy() { # every node's kube-proxy whose pid file is gone (wait_or_restart stopped it)
  local k
  for k in $(present_nodes); do "$REPO_ROOT/hack/node-up.sh" "$k" >/dev/null; done
}

confirm_serving() {
  local name="cluster-up-canary-$RANDOM$RANDOM" start=$SECONDS ip
  # A LoadBalancer Service without selector, with one endpoint (node 1's veth host address: nothing
  # is ever sent to it), so kube-proxy programs real forwarding rules for it.
  kubectl_ apply -f - >/dev/null <<YAML || die "cannot create the readiness canary Service $CANARY_NAMESPACE/$name"
apiVersion: v1
kind: Service
metadata: {name: $name, namespace: $CANARY_NAMESPACE, labels: {app.kubernetes.io/name: cluster-up-canary}}
spec:
  type: LoadBalancer
  ports: [{name: probe, port: 80, targetPort: 8080, protocol: TCP}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: $name
  namespace: $CANARY_NAMESPACE
  labels: {kubernetes.io/service-name: $name, endpointslice.kubernetes.io/managed-by: threetier-cluster-up}
addressType: IPv4
endpoints: [{addresses: ["198.18.0.1"], conditions: {ready: true}}]
ports: [{name: probe, port: 8080, protocol: TCP}]
YAML
  # shellcheck disable=SC2064
  trap "kubectl --kubeconfig '$CLUSTER_KUBECONFIG' --context '$CONTEXT' delete service,endpointslice '$name' -n '$CANARY_NAMESPACE' --wait=false >/dev/null 2>&1 || true" EXIT
  ip=$(kubectl_ get service "$name" -n "$CANARY_NAMESPACE" -o jsonpath='{.spec.clusterIP}')
  wait_or_restart 20 "CoreDNS answering $name with $ip" coredns start_coredns canary_dns_ok "$name" "$ip"
  wait_or_restart 20 "MetalLB assigning $name an address" metallb-controller start_metallb canary_lb_ok "$name"
  if [ "$NODE_MODE" = real ]; then
    wait_or_restart 20 "kube-proxy programming $name ($ip)" kube-proxy restart_kube_proxy canary_proxy_ok "$ip" "$name"
  fi
  log "serving: a new Service resolves, gets a load-balancer address$([ "$NODE_MODE" = real ] && echo " and kube-proxy rules") ($((SECONDS - start)) s)"
}

start_real_nodes() { # nodes 1..NODES up (each idempotent), any node beyond NODES stopped
  local k
  for k in $(present_nodes); do
    if ((k > REAL_NODES)); then "$REPO_ROOT/hack/node-down.sh" "$k"; fi
  done
  for k in $(seq 1 "$REAL_NODES"); do
    "$REPO_ROOT/hack/node-up.sh" "$k" \
      || die "real node $k did not come up (logs: $LOG_DIR/$NODE_PREFIX-$k/); THREETIER_NODE=kwok runs simulated nodes instead"
  done
}

main() {
  close_inherited_fds # the daemons below outlive this script: they must not hold its caller's lock
  if [ "${1:-}" = "--dry-run" ]; then
    # What kwokctl would run for a new cluster: every binary is a local path, nothing is fetched.
    # A scratch name and workdir keep the real cluster out of it; no process is started.
    "$REPO_ROOT/hack/build-cluster-tools.sh" >&2
    local scratch; scratch=$(mktemp -d)
    CLUSTER_NAME=threetier-dry-run KWOK_WORKDIR="$scratch" kwokctl_create --dry-run --kubeconfig "$scratch/kubeconfig"
    rm -rf "$scratch"
    exit 0
  fi
  mkdir -p "$RUN_DIR" "$LOG_DIR"
  echo "$NODE_MODE" >"$TOOLCHAIN_DIR/node-mode"
  REAL_NODES=$(requested_nodes)
  echo "$REAL_NODES" >"$NODES_RECORD"
  if healthy; then start_coredns; kwok_nodes_up; confirm_serving; print_info; exit 0; fi
  "$REPO_ROOT/hack/build-cluster-tools.sh" || die "building the cluster toolchain failed (see above); fix it and rerun 'make cluster-up'"
  require_tools
  local start=$SECONDS
  create_control_plane
  [ "$NODE_MODE" = kwok ] && create_nodes
  start_coredns
  start_metallb
  if [ "$NODE_MODE" = real ]; then start_real_nodes; fi
  kwok_nodes_up
  confirm_serving
  log "cluster up in $((SECONDS - start)) s"
  print_info
}

main "$@"
