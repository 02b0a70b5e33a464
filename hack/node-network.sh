#!/usr/bin/env bash
# The real node's network, kept on this machine (sourced by node-up.sh / node-down.sh):
#
#   root namespace                                   namespace $NODE_NETNS (the node)
#   ───────────────                                  ─────────────────────────────────
#   $HOST_VETH $HOST_VETH_IP/24  <── veth pair ──>   $NODE_VETH $NODE_IP/24   (no default route)
#   routes: pod CIDR, service CIDR, LB pool           cni0 bridge + pods ($NODE_POD_CIDR)
#           via $NODE_IP dev $HOST_VETH               kube-proxy's iptables rules (ClusterIP,
#   nat THREETIER-NODE: $HOST_VETH_IP:$APISERVER_PORT   NodePort, LoadBalancer addresses)
#        -> 127.0.0.1 (API server), :53 -> CoreDNS
#
# The node namespace has no default route, so nothing from a pod can leave the machine; the
# host reaches node ports, cluster IPs, pod IPs and LB addresses only through the veth.
# shellcheck disable=SC2034

NAT_CHAIN=THREETIER-NODE

netns_exec() { ip netns exec "$NODE_NETNS" "$@"; }

network_is_up() {
  ip netns list 2>/dev/null | grep -qw "^$NODE_NETNS" && ip link show "$HOST_VETH" >/dev/null 2>&1
}

nat_rules() { # nat_rules ACTION: add (-A) or delete (-D) the root namespace's forwarding rules
  local action="$1" proto
  iptables -t nat "$action" PREROUTING -i "$HOST_VETH" -j "$NAT_CHAIN"
  iptables -t nat "$action" "$NAT_CHAIN" -d "$HOST_VETH_IP" -p tcp --dport "$APISERVER_PORT" \
    -j DNAT --to-destination "127.0.0.1:$APISERVER_PORT"
  for proto in udp tcp; do
    iptables -t nat "$action" "$NAT_CHAIN" -d "$HOST_VETH_IP" -p "$proto" --dport 53 \
      -j DNAT --to-destination "$DNS_ADDRESS:$DNS_PORT"
  done
}

host_routes() { # host_routes add|del: the root namespace's routes into the node namespace
  local action="$1" cidr
  for cidr in "$CLUSTER_POD_CIDR" "$SERVICE_CIDR" "$LB_ROUTE"; do
    ip route "$action" "$cidr" via "$NODE_IP" dev "$HOST_VETH"
  done
}

network_up() {
  network_is_up && return 0
  network_down_quietly
  log "creating network namespace $NODE_NETNS (veth $HOST_VETH $HOST_VETH_IP <-> $NODE_VETH $NODE_IP)"
  ip netns add "$NODE_NETNS"
  ip link add "$HOST_VETH" type veth peer name "$NODE_VETH" netns "$NODE_NETNS"
  ip addr add "$HOST_VETH_IP/$VETH_PREFIX_LEN" dev "$HOST_VETH"
  ip link set "$HOST_VETH" up
  ip -n "$NODE_NETNS" addr add "$NODE_IP/$VETH_PREFIX_LEN" dev "$NODE_VETH"
  ip -n "$NODE_NETNS" link set "$NODE_VETH" up
  ip -n "$NODE_NETNS" link set lo up
  # Inside the node: forward between the veth and the pods' bridge, and let kube-proxy's iptables
  # rules see bridged traffic (pod -> Service -> pod on the same bridge).
  netns_exec sysctl -qw net.ipv4.ip_forward=1 net.bridge.bridge-nf-call-iptables=1
  host_routes add
  # The node reaches the API server and CoreDNS (both on 127.0.0.1 here) at $HOST_VETH_IP:
  # DNAT to loopback is allowed for packets arriving on this one interface only.
  sysctl -qw "net.ipv4.conf.$HOST_VETH.route_localnet=1"
  iptables -t nat -N "$NAT_CHAIN"
  nat_rules -A
}

network_down_quietly() { network_down >/dev/null 2>&1 || true; }

network_down() { # remove everything network_up made; each step tolerates its part being gone
  if iptables -t nat -S "$NAT_CHAIN" >/dev/null 2>&1; then
    while iptables -t nat -D PREROUTING -i "$HOST_VETH" -j "$NAT_CHAIN" 2>/dev/null; do :; done
    iptables -t nat -F "$NAT_CHAIN"
    iptables -t nat -X "$NAT_CHAIN"
  fi
  if ip link show "$HOST_VETH" >/dev/null 2>&1; then
    ip link del "$HOST_VETH" # also removes its peer and the routes through it
  fi
  if ip netns list 2>/dev/null | grep -qw "^$NODE_NETNS"; then
    ip netns del "$NODE_NETNS"
  fi
}
