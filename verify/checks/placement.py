"""7. Placement: a tier of several replicas has its Ready pods on as many nodes as it can use.

A tier with N > 1 desired replicas passes when its Ready pods stand on at least min(N, U) distinct
nodes, U being the Ready nodes its pods may run on: schedulable (not cordoned), every NoSchedule or
NoExecute taint tolerated by the Deployment's pod template, every label of its nodeSelector carried
(what the spread's ``nodeTaintsPolicy``/``nodeAffinityPolicy: Honor`` count as domains). With fewer
than two such nodes there is nothing to spread over: skipped, naming the nodes and why the others
do not count. Tiers of one replica get no placement check.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any, Optional

from ..cluster import Obj, node_is_ready, pod_is_ready
from ..context import CheckContext, result, skipped
from ..model import CheckResult, TierExport
from ..retry import eventually

CHECK = "placement.spread"
#: The words of a skip on a cluster with one usable node (tests of one-node clusters look for them).
ONE_NODE = "fewer than two Ready nodes"
#: Taint effects that keep pods off a node (PreferNoSchedule only discourages).
BLOCKING_EFFECTS = ("NoSchedule", "NoExecute")


def check_placement(ctx: CheckContext, tier: TierExport) -> list[CheckResult]:
    """Ready pods on at least min(desired replicas, usable Ready nodes) nodes; skipped below two usable nodes."""
    deployment = ctx.cluster.deployment(tier.namespace, tier.deployment_name or tier.service_name) or {}
    spec = deployment.get("spec") or {}
    desired = int(spec["replicas"]) if spec.get("replicas") is not None else tier.replicas
    if desired is None or desired <= 1:
        return []
    pod_spec = ((spec.get("template") or {}).get("spec")) or {}
    usable, excluded = usable_nodes(ctx.cluster.nodes(), pod_spec)
    if len(usable) < 2:
        found = f"{len(usable)} ({', '.join(usable)})" if usable else "none"
        reasons = f"; not counted: {', '.join(f'{name} ({why})' for name, why in excluded.items())}" if excluded else ""
        return [
            skipped(tier, CHECK, f"{ONE_NODE} the tier's pods may run on, nothing to spread over: {found}{reasons}")
        ]
    required = min(desired, len(usable))

    def probe() -> tuple[bool, Counter[str]]:
        per_node = Counter(
            str((pod.get("spec") or {}).get("nodeName"))
            for pod in ctx.cluster.pods(tier.namespace, tier.selector)
            if pod_is_ready(pod) and not pod["metadata"].get("deletionTimestamp")
        )
        return len(per_node) >= required, per_node

    ok, per_node = eventually(probe, timeout=ctx.settle_timeout)
    spread = ", ".join(f"{node}: {count}" for node, count in sorted(per_node.items())) or "none"
    detail = (
        f"{sum(per_node.values())} Ready pod(s) of {desired} on {len(per_node)} node(s) ({spread}); "
        f"{len(usable)} usable Ready node(s), at least {required} required"
    )
    if not ok:
        detail += f" (after {ctx.settle_timeout:.0f}s)"
    return [result(tier, CHECK, ok, detail)]


def usable_nodes(nodes: list[Obj], pod_spec: Mapping[str, Any]) -> tuple[list[str], dict[str, str]]:
    """(names of the Ready nodes pods of ``pod_spec`` may run on, {other node: why not}), sorted by name."""
    usable: list[str] = []
    excluded: dict[str, str] = {}
    for node in sorted(nodes, key=lambda item: str(item["metadata"]["name"])):
        name = str(node["metadata"]["name"])
        why = _why_unusable(node, pod_spec)
        if why is None:
            usable.append(name)
        else:
            excluded[name] = why
    return usable, excluded


def _why_unusable(node: Obj, pod_spec: Mapping[str, Any]) -> Optional[str]:
    if not node_is_ready(node):
        return "not Ready"
    node_spec = node.get("spec") or {}
    if node_spec.get("unschedulable"):
        return "cordoned"
    tolerations = pod_spec.get("tolerations") or []
    for taint in node_spec.get("taints") or []:
        if taint.get("effect") in BLOCKING_EFFECTS and not any(tolerates(t, taint) for t in tolerations):
            value = f"={taint['value']}" if taint.get("value") else ""
            return f"taint {taint.get('key')}{value}:{taint.get('effect')} not tolerated"
    labels = (node.get("metadata") or {}).get("labels") or {}
    missing = {key: value for key, value in (pod_spec.get("nodeSelector") or {}).items() if labels.get(key) != value}
    if missing:
        return f"nodeSelector {missing} not matched"
    return None


def tolerates(toleration: Mapping[str, Any], taint: Mapping[str, Any]) -> bool:
    """Kubernetes' ToleratesTaint: effect (empty = any), key (empty = any), then Exists or an equal value."""
    if toleration.get("effect") and toleration["effect"] != taint.get("effect"):
        return False
    if toleration.get("key") and toleration["key"] != taint.get("key"):
        return False
    if toleration.get("operator") == "Exists":
        return True
    return (toleration.get("value") or "") == (taint.get("value") or "")
