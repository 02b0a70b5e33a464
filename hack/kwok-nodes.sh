#!/usr/bin/env bash
# Simulated kwok nodes BESIDE the cluster's other nodes (sourced by cluster-up.sh; KWOK_NODES=K of
# `make cluster-up`, env THREETIER_KWOK_NODES): K nodes kwok-sim-1..K that kwok-controller keeps
# Ready, for workloads measured at a scale the real node(s) cannot hold (the fleet, docs/fleet.md).
#
# Only pods that ask for them land there: each node is labelled $KWOK_SIM_LABEL and tainted
# $KWOK_SIM_TAINT, so a pod needs both a nodeSelector on the label and a toleration of the taint.
# The real node(s) are never touched; the shipped stacks neither select nor tolerate these nodes.
#
# Addresses: InternalIPs 127.0.11.1-50 (loopback: nothing is ever sent to them; the API server
# reaches kubelets by InternalIP and these have none), pod CIDRs 10.244.101-150.0/24 (inside the
# cluster's pod CIDR but routed nowhere: this machine routes only the real nodes' /24s into their
# namespaces, and the nodes' namespaces have no default route, so a packet to a simulated pod is
# dropped there and never leaves the machine; the verifier's route guard refuses such addresses).
#
# THREETIER_KWOK_NODES unset (or empty): the simulated nodes are left as they are (`make up` restarts
# nothing); set to K (0-50): exactly K of them afterwards (extra ones deleted, with their pods).
# They live in the cluster's etcd: `make cluster-down` removes them with everything else.
#
# Run (not sourced), it sets the running cluster's simulated nodes (make integration does, before
# the tests: THREETIER_KWOK_NODES=3 hack/kwok-nodes.sh), or fails when no cluster answers.
# shellcheck disable=SC2034
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  source "$(dirname "${BASH_SOURCE[0]}")/cluster-env.sh"
fi

KWOK_SIM_MAX=50
KWOK_SIM_PREFIX=kwok-sim
KWOK_SIM_IP_PREFIX=127.0.11
#: The label the fleet's nodeSelector names, and the taint its tolerations tolerate (examples/fleet).
KWOK_SIM_LABEL_KEY=threetier.dev/node
KWOK_SIM_LABEL_VALUE=kwok
KWOK_SIM_LABEL="$KWOK_SIM_LABEL_KEY=$KWOK_SIM_LABEL_VALUE"
KWOK_SIM_TAINT_KEY=threetier.dev/simulated
KWOK_SIM_TAINT="$KWOK_SIM_TAINT_KEY=true:NoSchedule"

# kwok_nodes_wanted: the validated count (empty when THREETIER_KWOK_NODES is unset); dies on bad input.
kwok_nodes_wanted() {
  local wanted="${THREETIER_KWOK_NODES-}"
  [ -z "$wanted" ] && return 0
  if ! [[ "$wanted" =~ ^[0-9]{1,3}$ ]] || ((10#$wanted > KWOK_SIM_MAX)); then
    die "KWOK_NODES=$wanted is not valid (THREETIER_KWOK_NODES); allowed values: an integer from 0 to $KWOK_SIM_MAX"
  fi
  echo $((10#$wanted))
}

kwok_sim_manifest() { # kwok_sim_manifest INDEX: one simulated node
  local index="$1"
  cat <<YAML
apiVersion: v1
kind: Node
metadata:
  name: $KWOK_SIM_PREFIX-$index
  annotations:
    kwok.x-k8s.io/node: fake
    node.alpha.kubernetes.io/ttl: "0"
  labels:
    kubernetes.io/hostname: $KWOK_SIM_PREFIX-$index
    kubernetes.io/os: linux
    kubernetes.io/arch: amd64
    type: kwok
    $KWOK_SIM_LABEL_KEY: $KWOK_SIM_LABEL_VALUE
spec:
  podCIDR: 10.244.$((100 + index)).0/24
  taints:
    - {key: $KWOK_SIM_TAINT_KEY, value: "true", effect: NoSchedule}
status:
  addresses:
    - {type: InternalIP, address: $KWOK_SIM_IP_PREFIX.$index}
    - {type: Hostname, address: $KWOK_SIM_PREFIX-$index}
  allocatable: {cpu: "32", memory: 64Gi, pods: "250"}
  capacity: {cpu: "32", memory: 64Gi, pods: "250"}
YAML
}

kwok_sim_ready() { # kwok_sim_ready K: K simulated nodes are Ready
  [ "$(kubectl_ get nodes -l "$KWOK_SIM_LABEL" --no-headers 2>/dev/null | awk '$2 == "Ready"' | wc -l)" -ge "$1" ]
}

# kwok_nodes_up: make the simulated nodes exactly THREETIER_KWOK_NODES (nothing when unset). Idempotent.
kwok_nodes_up() {
  local wanted index name
  wanted=$(kwok_nodes_wanted)
  [ -n "$wanted" ] || return 0
  for index in $(seq 1 "$wanted"); do kwok_sim_manifest "$index"; echo ---; done | kubectl_ apply -f - >/dev/null \
    || die "could not create the $wanted simulated nodes (KWOK_NODES)"
  for name in $(kubectl_ get nodes -l "$KWOK_SIM_LABEL" -o name); do
    index="${name##*-}"
    if ! [[ "$index" =~ ^[0-9]+$ ]] || ((index > wanted)); then
      kubectl_ delete "$name" --wait=false >/dev/null
      log "deleted simulated node ${name#node/} (KWOK_NODES=$wanted)"
    fi
  done
  if ((wanted > 0)); then
    wait_for 60 "$wanted simulated nodes ($KWOK_SIM_LABEL) Ready" kwok_sim_ready "$wanted"
    log "$wanted simulated node(s) $KWOK_SIM_PREFIX-1..$wanted: label $KWOK_SIM_LABEL, taint $KWOK_SIM_TAINT"
  fi
}

kwok_nodes_wanted >/dev/null # bad input stops the caller here, before anything starts
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  [ "$(kubectl_ get --raw /readyz 2>/dev/null)" = ok ] \
    || die "no cluster answers at $CLUSTER_KUBECONFIG: 'make cluster-up KWOK_NODES=K' starts one with its simulated nodes"
  kwok_nodes_up
fi
