"""Replicas spread across nodes: a workload of several replicas says how, or one node's loss takes them all."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, ReportViolation, ResourceValidationArgs, ResourceValidationPolicy

from .k8s import describe, dig, pod_labels, pod_spec

#: The failure domain the spread must cover: the node.
HOSTNAME = "kubernetes.io/hostname"
#: Workloads with a ``spec.replicas``.
REPLICATED = (
    "kubernetes:apps/v1:Deployment",
    "kubernetes:apps/v1:StatefulSet",
    "kubernetes:apps/v1:ReplicaSet",
)


def selects(selector: Any, labels: Mapping[str, Any]) -> bool:
    """True when a label selector (``matchLabels`` and ``matchExpressions``) selects ``labels``."""
    if not isinstance(selector, Mapping) or not (selector.get("matchLabels") or selector.get("matchExpressions")):
        return False  # an empty or missing selector spreads nothing of the workload's own
    match_labels = selector.get("matchLabels") or {}
    if any(labels.get(key) != value for key, value in match_labels.items()):
        return False
    for expression in selector.get("matchExpressions") or []:
        key, operator, values = expression.get("key"), expression.get("operator"), expression.get("values") or []
        present = key in labels
        if not {
            "In": present and labels.get(key) in values,
            "NotIn": not present or labels.get(key) not in values,
            "Exists": present,
            "DoesNotExist": not present,
        }.get(operator, False):
            return False
    return True


def _spread_terms(spec: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """(kind of rule, its label selector) of every rule over nodes: hostname spreads and anti-affinity terms."""
    anti_affinity = dig(spec, "affinity", "podAntiAffinity") or {}
    anti_affinity_terms = [
        *(anti_affinity.get("requiredDuringSchedulingIgnoredDuringExecution") or []),
        *(
            item.get("podAffinityTerm") or {}
            for item in anti_affinity.get("preferredDuringSchedulingIgnoredDuringExecution") or []
        ),
    ]
    rules = [
        *(("topologySpreadConstraint", item) for item in spec.get("topologySpreadConstraints") or []),
        *(("podAntiAffinity", item) for item in anti_affinity_terms),
    ]
    return [(kind, item.get("labelSelector")) for kind, item in rules if item.get("topologyKey") == HOSTNAME]


def _validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type not in REPLICATED:
        return
    replicas = dig(args.props, "spec", "replicas")
    replicas = 1 if replicas is None else int(replicas)
    spec = pod_spec(args.resource_type, args.props)
    if replicas <= 1 or spec is None:
        return
    labels = pod_labels(args.resource_type, args.props)
    terms = _spread_terms(spec)
    if any(selects(selector, labels) for _, selector in terms):
        return
    if terms:
        found = ", ".join(f"a {kind} selecting {selector}" for kind, selector in terms)
        problem = f"has {replicas} replicas, and {found} on {HOSTNAME}, not its own pods {dict(labels)}"
    else:
        problem = f"has {replicas} replicas and no topologySpreadConstraint or podAntiAffinity on {HOSTNAME}"
    report_violation(
        f"{describe(args.resource_type, args.props)} {problem}: the scheduler may put every replica on one node, "
        f"whose loss or drain takes them all. Fix: a topologySpreadConstraint on {HOSTNAME} (maxSkew 1) whose "
        "labelSelector matches the pod template's labels (components.Tier adds one), or a podAntiAffinity term on "
        "that key.",
        args.urn,
    )


replicas_spread_across_nodes = ResourceValidationPolicy(
    name="replicas-spread-across-nodes",
    description=(
        "A workload with more than one replica spreads them across nodes (a topologySpreadConstraint or "
        "podAntiAffinity on kubernetes.io/hostname selecting its own pods)."
    ),
    enforcement_level=EnforcementLevel.ADVISORY,
    validate=_validate,
)
