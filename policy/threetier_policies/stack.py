"""Stack policies: relations between objects (Services and their pods, HA, node ports)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    PolicyResource,
    ReportViolation,
    StackValidationArgs,
    StackValidationPolicy,
)

from .k8s import DEPLOYMENT, PDB, SERVICE, describe, dig, pod_labels, pod_spec, tier_of


def _namespace(props: Mapping[str, Any]) -> str:
    return str(dig(props, "metadata", "namespace") or "default")


def _selects(selector: Mapping[str, Any], labels: Mapping[str, Any]) -> bool:
    return bool(selector) and all(labels.get(key) == value for key, value in selector.items())


def _by_namespace(resources: list[PolicyResource]) -> dict[str, list[PolicyResource]]:
    """``resources`` grouped by namespace.

    A Service or a Deployment is compared with its namespace's objects only, so a stack of N apps
    costs N times one app, not N² (a fleet of 100 apps: 300 x 300 comparisons before).
    """
    grouped: dict[str, list[PolicyResource]] = {}
    for resource in resources:
        grouped.setdefault(_namespace(resource.props), []).append(resource)
    return grouped


def _workloads(resources: list[PolicyResource]) -> dict[str, list[PolicyResource]]:
    return _by_namespace([r for r in resources if pod_spec(r.resource_type, r.props) is not None])


def _port_value(value: Any) -> Any:
    """Ports arrive as floats over gRPC (protobuf Struct): 8080.0 -> 8080; names stay names."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _declares_port(workload: PolicyResource, target: Any) -> bool:
    spec = pod_spec(workload.resource_type, workload.props) or {}
    for container in spec.get("containers") or []:
        for port in container.get("ports") or []:
            if isinstance(target, str) and not target.isdigit():
                if port.get("name") == target:
                    return True
            elif port.get("containerPort") is not None and int(port["containerPort"]) == int(target):
                return True
    return False


def _dead_services(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    workloads = _workloads(list(args.resources))
    for service in args.resources:
        if service.resource_type != SERVICE:
            continue
        selector = dig(service.props, "spec", "selector") or {}
        if not selector:
            continue  # selector-less Services have manually managed endpoints
        namespace = _namespace(service.props)
        matching = [w for w in workloads.get(namespace, []) if _selects(selector, pod_labels(w.resource_type, w.props))]
        name = describe(service.resource_type, service.props)
        if not matching:
            report_violation(
                f"{name}: selector {dict(selector)} matches the pods of no workload in namespace {namespace}. "
                "Fix: make the selector a subset of the pod template labels.",
                service.urn,
            )
            continue
        for port in dig(service.props, "spec", "ports") or []:
            target = _port_value(port.get("targetPort", port.get("port")))
            if target is not None and not any(_declares_port(w, target) for w in matching):
                workload = describe(matching[0].resource_type, matching[0].props)
                report_violation(
                    f"{name}: targetPort {target} is not a port that {workload} declares. "
                    "Fix: point targetPort at a declared containerPort (number or name).",
                    service.urn,
                )


def _ha(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    config = args.get_config()
    minimum = int(config.get("minReplicas", 2))
    tiers = set(config.get("tiers", []))
    budgets = _by_namespace([r for r in args.resources if r.resource_type == PDB])
    for deployment in args.resources:
        if deployment.resource_type != DEPLOYMENT:
            continue
        labels = pod_labels(deployment.resource_type, deployment.props)
        tier = tier_of(labels)
        if tier not in tiers:
            continue
        name = describe(deployment.resource_type, deployment.props)
        replicas = dig(deployment.props, "spec", "replicas")
        replicas = 1 if replicas is None else int(replicas)
        if replicas < minimum:
            report_violation(
                f"{name} ({tier} tier) has {replicas} replica(s); at least {minimum} are required. "
                "Fix: raise replicas.",
                deployment.urn,
            )
        covered = any(
            _selects(dig(b.props, "spec", "selector", "matchLabels") or {}, labels)
            for b in budgets.get(_namespace(deployment.props), [])
        )
        if not covered:
            report_violation(
                f"{name} ({tier} tier) has no PodDisruptionBudget selecting its pods. "
                "Fix: add one (e.g. maxUnavailable: 1).",
                deployment.urn,
            )


def _unique_node_ports(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    users: dict[int, list[PolicyResource]] = {}
    for service in args.resources:
        if service.resource_type != SERVICE:
            continue
        for port in dig(service.props, "spec", "ports") or []:
            if port.get("nodePort") is not None:
                users.setdefault(int(port["nodePort"]), []).append(service)
    for node_port, services in sorted(users.items()):
        if len(services) < 2:
            continue
        names = [describe(s.resource_type, s.props) for s in services]
        for service, name in zip(services, names, strict=True):
            others = ", ".join(other for other in names if other != name)
            report_violation(
                f"{name}: nodePort {node_port} is also requested by {others}; the API server would reject all but "
                "the first. Fix: give each Service its own nodePort.",
                service.urn,
            )


no_dead_services = StackValidationPolicy(
    name="no-dead-services",
    description="Every Service's selector matches a workload's pods and its targetPort is a port they declare.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=_dead_services,
)

ha_stateless_tiers = StackValidationPolicy(
    name="ha-stateless-tiers",
    description="Stateless tiers run enough replicas and have a PodDisruptionBudget.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=_ha,
    config_schema=PolicyConfigSchema(
        properties={
            "minReplicas": {"type": "integer", "minimum": 1, "default": 2, "description": "Minimum replicas."},
            "tiers": {
                "type": "array",
                "items": {"type": "string"},
                "default": ["frontend", "backend"],
                "description": "Values of app.kubernetes.io/component that must be highly available.",
            },
        }
    ),
)

unique_node_ports = StackValidationPolicy(
    name="unique-node-ports",
    description="No two Services may ask for the same nodePort.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=_unique_node_ports,
)
