#!/usr/bin/env bash
# The real nodes' network, kept on this machine (sourced by node-up.sh / node-down.sh; node_vars K
# has set node K's names and addresses):
#
#   root namespace                               namespace threetier-node-K (node K)
#   ──────────────                               ───────────────────────────────────
#   threetier-hK 198.18.(K-1).1/24 <── veth ──>  eth0 198.18.(K-1).2/24 = the node's InternalIP
#   routes: 10.244.(K-1).0/24 via the node         cni0 bridge + pods 10.244.(K-1).0/24
#           service CIDR, LB pool: one next hop     kube-proxy's rules (ClusterIP, NodePort, LB)
#             per live node (multipath)             eth1 198.18.254.K/24 ── fabric ── other nodes:
#   nat THREETIER-NODE, per veth: API server          10.244.(J-1).0/24 and 198.18.(J-1).2 via
#     and CoreDNS on 127.0.0.1                        198.18.254.J
#
#   namespace threetier-fabric: bridge fabric0, one port threetier-fK per node (a switch, no address)
#
# No node namespace has a default route, so nothing from a pod can leave the machine; this machine
# reaches node ports, cluster IPs, pod IPs and LB addresses only through the veths, and forwards
# nothing itself (the nodes reach each other over the fabric, not through this machine).
# A node whose link is down (a lost node) drops out of the multipath routes by itself: every
# host veth has ignore_routes_with_linkdown=1.
# shellcheck disable=SC2034

NAT_CHAIN=THREETIER-NODE
SHARED_ROUTE_CIDRS=("$SERVICE_CIDR")
[ -n "${LB_ROUTE:-}" ] && SHARED_ROUTE_CIDRS+=("$LB_ROUTE")

netns_exists() { ip netns list 2>/dev/null | awk '{print $1}' | grep -qx "$1"; }

network_is_up() { # node K's namespace, veth and fabric link exist and are up
  netns_exists "$NODE_NETNS" && ip link show "$HOST_VETH" 2>/dev/null | grep -q 'state UP' \
    && ip -n "$NODE_NETNS" link show "$FABRIC_VETH" 2>/dev/null | grep -q 'state UP'
}

nat_rules() { # nat_rules ACTION: add (-A) or delete (-D) node K's forwarding rules in the root namespace
  local action="$1" proto
  iptables -t nat "$action" PREROUTING -i "$HOST_VETH" -j "$NAT_CHAIN"
  iptables -t nat "$action" "$NAT_CHAIN" -i "$HOST_VETH" -d "$HOST_VETH_IP" -p tcp --dport "$APISERVER_PORT" \
    -j DNAT --to-destination "127.0.0.1:$APISERVER_PORT"
  for proto in udp tcp; do
    iptables -t nat "$action" "$NAT_CHAIN" -i "$HOST_VETH" -d "$HOST_VETH_IP" -p "$proto" --dport 53 \
      -j DNAT --to-destination "$DNS_ADDRESS:$DNS_PORT"
  done
}

shared_routes_sync() { # the service CIDR and LB pool routes: one next hop per node that has a veth
  local k cidr
  local -a hops=()
  for k in $(present_nodes); do
    ip link show "threetier-h$k" >/dev/null 2>&1 && hops+=(nexthop via "198.18.$((k - 1)).2" dev "threetier-h$k")
  done
  for cidr in "${SHARED_ROUTE_CIDRS[@]}"; do
    if ((${#hops[@]})); then
      ip route replace "$cidr" "${hops[@]}"
    else
      ip route del "$cidr" 2>/dev/null || true
    fi
  done
}

fabric_up() { # the nodes' switch (once for all nodes)
  netns_exists "$FABRIC_NETNS" || ip netns add "$FABRIC_NETNS"
  if ! ip -n "$FABRIC_NETNS" link show "$FABRIC_BRIDGE" >/dev/null 2>&1; then
    ip -n "$FABRIC_NETNS" link add "$FABRIC_BRIDGE" type bridge
  fi
  ip -n "$FABRIC_NETNS" link set "$FABRIC_BRIDGE" up
}

fabric_down_if_unused() { # the switch goes with the last node
  [ -z "$(present_nodes)" ] && netns_exists "$FABRIC_NETNS" && ip netns del "$FABRIC_NETNS"
  return 0
}

peer_routes() { # node K's routes to every other node's pods and address, and theirs to node K's
  local j
  for ((j = 1; j <= MAX_REAL_NODES; j++)); do
    ((j == NODE_INDEX)) && continue
    ip -n "$NODE_NETNS" route replace "10.244.$((j - 1)).0/24" via "$FABRIC_PREFIX.$j" dev "$FABRIC_VETH"
    ip -n "$NODE_NETNS" route replace "198.18.$((j - 1)).2/32" via "$FABRIC_PREFIX.$j" dev "$FABRIC_VETH"
  done
}

network_up() { # create what is missing of node K's network and bring its links up (idempotent)
  if ! netns_exists "$NODE_NETNS" || ! ip link show "$HOST_VETH" >/dev/null 2>&1; then
    network_down_quietly # (the switch too, when no other node is there)
    fabric_up
    log "creating network namespace $NODE_NETNS (veth $HOST_VETH $HOST_VETH_IP <-> $NODE_VETH $NODE_IP, fabric $NODE_FABRIC_IP)"
    ip netns add "$NODE_NETNS"
    ip link add "$HOST_VETH" type veth peer name "$NODE_VETH" netns "$NODE_NETNS"
    ip addr add "$HOST_VETH_IP/$VETH_PREFIX_LEN" dev "$HOST_VETH"
    ip -n "$NODE_NETNS" addr add "$NODE_IP/$VETH_PREFIX_LEN" dev "$NODE_VETH"
    ip link add "$FABRIC_PORT" netns "$FABRIC_NETNS" type veth peer name "$FABRIC_VETH" netns "$NODE_NETNS"
    ip -n "$FABRIC_NETNS" link set "$FABRIC_PORT" master "$FABRIC_BRIDGE"
    ip -n "$NODE_NETNS" addr add "$NODE_FABRIC_IP/24" dev "$FABRIC_VETH"
    # A lost node's link is down: its next hop is skipped instead of blackholing half the flows.
    sysctl -qw "net.ipv4.conf.$HOST_VETH.ignore_routes_with_linkdown=1"
    # The node reaches the API server and CoreDNS (both on 127.0.0.1 here) at $HOST_VETH_IP:
    # DNAT to loopback is allowed for packets arriving on this one interface only.
    sysctl -qw "net.ipv4.conf.$HOST_VETH.route_localnet=1"
    # Inside the node: forward between its links and the pods' bridge, and let kube-proxy's
    # iptables rules see bridged traffic (pod -> Service -> pod on the same bridge).
    ip netns exec "$NODE_NETNS" sysctl -qw net.ipv4.ip_forward=1 net.bridge.bridge-nf-call-iptables=1
    iptables -t nat -N "$NAT_CHAIN" 2>/dev/null || true
    nat_rules -A
  fi
  fabric_up
  ip link set "$HOST_VETH" up
  ip -n "$FABRIC_NETNS" link set "$FABRIC_PORT" up
  ip -n "$NODE_NETNS" link set lo up
  ip -n "$NODE_NETNS" link set "$NODE_VETH" up
  ip -n "$NODE_NETNS" link set "$FABRIC_VETH" up
  ip route replace "$NODE_POD_CIDR" via "$NODE_IP" dev "$HOST_VETH"
  peer_routes
  shared_routes_sync
}

network_cut() { # a lost node: its links go down (its namespace, addresses and routes stay)
  ip -n "$NODE_NETNS" link set "$NODE_VETH" down 2>/dev/null || true
  ip -n "$NODE_NETNS" link set "$FABRIC_VETH" down 2>/dev/null || true
}

network_down_quietly() { network_down >/dev/null 2>&1 || true; }

network_down() { # remove everything network_up made for node K; each step tolerates its part being gone
  if iptables -t nat -S "$NAT_CHAIN" >/dev/null 2>&1; then
    while iptables -t nat -D PREROUTING -i "$HOST_VETH" -j "$NAT_CHAIN" 2>/dev/null; do :; done
    iptables -t nat -S "$NAT_CHAIN" | grep -- "-i $HOST_VETH " | sed 's/^-A /-D /' | while read -r rule; do
      eval "iptables -t nat $rule"
    done
    if [ "$(iptables -t nat -S "$NAT_CHAIN" | wc -l)" -le 1 ]; then iptables -t nat -X "$NAT_CHAIN"; fi
  fi
  if ip link show "$HOST_VETH" >/dev/null 2>&1; then
    ip link del "$HOST_VETH" # also removes its peer and the routes through it
  fi
  if netns_exists "$NODE_NETNS"; then
    ip netns del "$NODE_NETNS" # its fabric link goes with it
  fi
  shared_routes_sync
  fabric_down_if_unused
}
