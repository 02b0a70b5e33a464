"""What every check gets: the stack's outputs, the cluster and the options."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from .access import AccessReviewer
from .cluster import ClusterView, Obj, is_simulated
from .model import CheckResult, StackOutputs, Status, TierExport

NODE_PORT_RANGE = (30000, 32767)


@dataclass(frozen=True)
class CheckContext:
    """Inputs shared by the checks."""

    outputs: StackOutputs
    cluster: ClusterView
    #: ``host:port`` of a DNS server to ask directly (e.g. the local cluster's CoreDNS).
    dns_server: Optional[str] = None
    #: Seconds to wait for things that settle (endpoints, LB ingress).
    settle_timeout: float = 60.0
    probe_image: str = "busybox:1.36.1"
    #: Namespace of the probe pod that stands for "a pod outside the stack's namespace".
    outside_namespace: str = "default"
    #: The environment's deployer, asked what it may do (access checks); None: see deployer_unavailable.
    deployer: Optional[AccessReviewer] = None
    #: Why there is no deployer to ask as.
    deployer_unavailable: Optional[str] = None

    def data_plane_reason(self) -> Optional[str]:
        """Why no real traffic can flow, or None when at least one node runs real pods."""
        nodes = self.cluster.nodes()
        if not nodes:
            return "the cluster has no nodes"
        if all(is_simulated(node) for node in nodes):
            return "every node is simulated (kwok): no kubelet, no kube-proxy, pods run no process"
        return None

    def simulated_pods_reason(self, *tiers: TierExport) -> Optional[str]:
        """Why traffic to, from or inside pods of ``tiers`` cannot be observed: some run on simulated nodes.

        Beside real nodes, a cluster may have simulated (kwok) ones (``make cluster-up KWOK_NODES=K``):
        their pods are Running and Ready, hold endpoints and resolve by name, but run no process, so
        nothing answers a request routed to them and nothing can be run in them. None when every
        pod of ``tiers`` stands on a real node.
        """
        simulated = {str(node["metadata"]["name"]) for node in self.cluster.nodes() if is_simulated(node)}
        if not simulated:
            return None
        reasons = []
        for tier in tiers:
            pods = [pod for pod in self.cluster.pods(tier.namespace, tier.selector) if not terminating(pod)]
            on_simulated = sorted({_node_of(pod) for pod in pods} & simulated)
            if on_simulated:
                count = sum(_node_of(pod) in simulated for pod in pods)
                reasons.append(f"{count} of {len(pods)} {tier.key} pod(s) on {', '.join(on_simulated)}")
        if not reasons:
            return None
        return f"{'; '.join(reasons)}: simulated (kwok) node(s), their pods run no process"


def _node_of(pod: Obj) -> str:
    return str((pod.get("spec") or {}).get("nodeName") or "")


def terminating(pod: Obj) -> bool:
    """The pod is being deleted (a rollout's old pods draining): on its way out, not the tier's state."""
    return bool((pod.get("metadata") or {}).get("deletionTimestamp"))


def result(tier: TierExport, check: str, ok: bool, detail: str) -> CheckResult:
    """PASSED or FAILED."""
    return CheckResult(tier.key, check, Status.PASSED if ok else Status.FAILED, detail)


def skipped(tier: TierExport, check: str, reason: str) -> CheckResult:
    """SKIPPED, with the reason."""
    return CheckResult(tier.key, check, Status.SKIPPED, reason)


def running_pod(ctx: CheckContext, tier: TierExport) -> Optional[str]:
    """The name of one Running pod of ``tier`` that is not being deleted, or None."""
    for pod in ctx.cluster.pods(tier.namespace, tier.selector):
        if (pod.get("status") or {}).get("phase") == "Running" and not pod["metadata"].get("deletionTimestamp"):
            return str(pod["metadata"]["name"])
    return None


def first_port(service: Obj) -> Obj:
    """The Service's first port entry."""
    ports: list[Obj] = (service.get("spec") or {}).get("ports") or [{}]
    return ports[0]
