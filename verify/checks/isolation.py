"""6. Isolation: the NetworkPolicies the stack declares exist, and the network enforces them.

Driven by the stack's ``networkPolicies`` output (the policies' names and the edges they allow;
everything else is denied) and the live cluster. For every source (each tier, from one of its
running pods; and a probe pod in another namespace) and every target tier, a TCP connection to the
target's Service: an allowed edge must connect, a denied one must be refused or time out within
:data:`CONNECT_DEADLINE_SECONDS`. Each edge is retried until it behaves or the settle timeout
passes (policies are programmed moments after pods start), then reported by name, e.g.
``isolation[frontend->database]``. An edge from or to pods on simulated nodes is skipped with that
reason (they run no process: nothing would connect, nothing would answer).

A Service's connection lands on whichever pod kube-proxy picks, so when the tiers' pods stand on
several real nodes every tier-to-tier edge is also tried pod to pod across two nodes
(``isolation.acrossNodes[frontend->database]``: a source pod on one node, a Ready target pod's IP and
container port on another), so the policies are shown enforced on both sides of the link between
nodes, for allowed and denied edges alike.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Optional

from ..cluster import Obj, pod_is_ready
from ..context import CheckContext, running_pod
from ..model import CheckResult, NetworkIsolation, Status, TierExport
from ..retry import eventually

#: How long a denied connection may take to fail (busybox ``nc -w``).
CONNECT_DEADLINE_SECONDS = 2
#: The source name of the probe pod in another namespace.
OUTSIDE = "outside"


@dataclass(frozen=True)
class Edge:
    """A connection to try: from ``source`` (a tier key or :data:`OUTSIDE`) to tier ``target``."""

    source: str
    target: TierExport
    allowed: bool

    @property
    def name(self) -> str:
        """``isolation[frontend->database]``."""
        return f"isolation[{self.source}->{self.target.key}]"

    @property
    def address(self) -> str:
        """``database.ns.svc.cluster.local:5432``: the target's Service, as clients call it."""
        return f"{self.target.dns_names.get('fqdn') or self.target.service_name}:{self.target.port}"


def check_isolation(ctx: CheckContext) -> list[CheckResult]:
    """Declared policies exist; every allowed edge connects; every denied edge is refused."""
    isolation = ctx.outputs.isolation
    if isolation is None:
        return []
    results = [_policies_exist(ctx, isolation)]
    reason = ctx.data_plane_reason()
    targets = [tier for tier in ctx.outputs.tiers.values() if tier.namespace == isolation.namespace]
    sources = [*(tier.key for tier in targets), OUTSIDE]
    edges = [
        Edge(source, target, isolation.allows("" if source == OUTSIDE else source, target.key))
        for source in sources
        for target in targets
        if source != target.key
    ]
    if reason:
        return results + [_result(edge, Status.SKIPPED, f"no traffic can flow: {reason}") for edge in edges]
    simulated = {tier.key: ctx.simulated_pods_reason(tier) for tier in targets}

    def try_edge(edge: Edge) -> CheckResult:
        why = simulated.get(edge.source) or simulated[edge.target.key]
        if why:
            return _result(edge, Status.SKIPPED, f"no traffic can be observed: {why}")
        return _try_edge(ctx, edge)

    real = [e for e in edges if e.source != OUTSIDE and not simulated.get(e.source) and not simulated[e.target.key]]
    across = _across_nodes(ctx, real)
    with ThreadPoolExecutor(max_workers=len(edges) + len(across) or 1, thread_name_prefix="isolation") as pool:
        service_edges = pool.map(try_edge, edges)
        pod_edges = pool.map(lambda pair: _try_across(ctx, pair), across)
        results += [*service_edges, *pod_edges]
    return results


@dataclass(frozen=True)
class AcrossNodes:
    """An edge tried pod to pod: from ``source_pod`` on one node to ``target_ip`` on another."""

    edge: Edge
    source_pod: str
    source_node: str
    target_ip: str
    target_node: str

    @property
    def name(self) -> str:
        """``isolation.acrossNodes[frontend->database]``."""
        return f"isolation.acrossNodes[{self.edge.source}->{self.edge.target.key}]"

    @property
    def address(self) -> str:
        """The target pod's IP and container port."""
        return f"{self.target_ip}:{self.edge.target.target_port or self.edge.target.port}"


def _across_nodes(ctx: CheckContext, edges: list[Edge]) -> list[AcrossNodes]:
    """For each edge, a source pod and a Ready target pod on different nodes, when the pods allow one."""
    pods: dict[str, list[Obj]] = {}
    for edge in edges:
        for tier in (ctx.outputs.tiers[edge.source], edge.target):
            if tier.key not in pods:
                pods[tier.key] = [pod for pod in ctx.cluster.pods(tier.namespace, tier.selector) if _usable(pod)]
    pairs = []
    for edge in edges:
        pair = next(
            (
                AcrossNodes(
                    edge,
                    source["metadata"]["name"],
                    source["spec"]["nodeName"],
                    target["status"]["podIP"],
                    target["spec"]["nodeName"],
                )
                for source in pods[edge.source]
                for target in pods[edge.target.key]
                if source["spec"]["nodeName"] != target["spec"]["nodeName"]
            ),
            None,
        )
        if pair is not None:
            pairs.append(pair)
    return pairs


def _usable(pod: Obj) -> bool:
    """Ready, not being deleted, placed on a node, with an IP."""
    return (
        pod_is_ready(pod)
        and not pod["metadata"].get("deletionTimestamp")
        and bool((pod.get("spec") or {}).get("nodeName"))
        and bool((pod.get("status") or {}).get("podIP"))
    )


def _try_across(ctx: CheckContext, pair: AcrossNodes) -> CheckResult:
    host, port = pair.address.rsplit(":", 1)
    command = ["sh", "-c", f"nc -w {CONNECT_DEADLINE_SECONDS} {host} {port} </dev/null"]
    source = ctx.outputs.tiers[pair.edge.source]

    def attempt() -> tuple[bool, tuple[Optional[bool], str]]:
        connected, output = ctx.cluster.exec_in_pod(source.namespace, pair.source_pod, command)
        return connected is not None and connected == pair.edge.allowed, (connected, output)

    behaved, (connected, output) = eventually(attempt, timeout=ctx.settle_timeout, interval=0.5)
    route = (
        f"a {pair.edge.source} pod on {pair.source_node} -> {pair.edge.target.key} pod {pair.address} "
        f"on {pair.target_node}"
    )
    if behaved:
        what = "connected" if connected else f"refused within {CONNECT_DEADLINE_SECONDS} s"
        return CheckResult(pair.edge.target.key, pair.name, Status.PASSED, f"{route}: {what}, as the policies require")
    if connected:
        detail = f"{route}: connected, but the NetworkPolicies deny this edge"
    elif connected is None:
        detail = f"{route}: could not run the probe ({output.strip()[-120:]})"
    else:
        detail = (
            f"{route}: not connected ({output.strip()[-120:] or 'no answer'}), but the NetworkPolicies allow this edge"
        )
    return CheckResult(pair.edge.target.key, pair.name, Status.FAILED, detail)


def _policies_exist(ctx: CheckContext, isolation: NetworkIsolation) -> CheckResult:
    live = {policy["metadata"]["name"] for policy in ctx.cluster.network_policies(isolation.namespace)}
    missing = [name for name in isolation.policies if name not in live]
    detail = (
        f"missing NetworkPolicies: {', '.join(missing)}"
        if missing
        else f"{len(isolation.policies)} NetworkPolicies in {isolation.namespace}: {', '.join(isolation.policies)}"
    )
    return CheckResult("*", "isolation.policies", Status.FAILED if missing else Status.PASSED, detail)


def _try_edge(ctx: CheckContext, edge: Edge) -> CheckResult:
    host, port = edge.address.rsplit(":", 1)
    command = ["sh", "-c", f"nc -w {CONNECT_DEADLINE_SECONDS} {host} {port} </dev/null"]

    def attempt() -> tuple[bool, tuple[Optional[bool], str]]:
        connected, output = _connect_from(ctx, edge, command)
        behaved = connected is not None and connected == edge.allowed
        return behaved or connected is None, (connected, output)

    behaved, (connected, output) = eventually(attempt, timeout=ctx.settle_timeout, interval=0.5)
    origin = _origin(edge)
    if connected is None:
        return _result(edge, Status.SKIPPED, output)
    if behaved:
        what = "connected" if connected else f"refused within {CONNECT_DEADLINE_SECONDS} s"
        return _result(edge, Status.PASSED, f"{origin} -> {edge.address}: {what}, as the policies require")
    if connected:
        return _result(
            edge, Status.FAILED, f"{origin} -> {edge.address}: connected, but the NetworkPolicies deny this edge"
        )
    return _result(
        edge,
        Status.FAILED,
        f"{origin} -> {edge.address}: not connected ({output.strip()[-120:] or 'no answer'}), "
        "but the NetworkPolicies allow this edge",
    )


def _connect_from(ctx: CheckContext, edge: Edge, command: list[str]) -> tuple[Optional[bool], str]:
    """(connected, output); (None, reason) when there is no pod to connect from."""
    if edge.source == OUTSIDE:
        return ctx.cluster.run_probe(ctx.outside_namespace, command, ctx.probe_image, ctx.settle_timeout)
    source = ctx.outputs.tiers[edge.source]
    pod = running_pod(ctx, source)
    if pod is None:
        return None, f"no running {edge.source} pod to connect from"
    return ctx.cluster.exec_in_pod(source.namespace, pod, command)


def _origin(edge: Edge) -> str:
    return "a pod in another namespace" if edge.source == OUTSIDE else f"a {edge.source} pod"


def _result(edge: Edge, status: Status, detail: str) -> CheckResult:
    return CheckResult(edge.target.key, edge.name, status, detail)
