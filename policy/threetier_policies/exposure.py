"""How Services expose tiers: allowed types per environment, private tiers, node-port range."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)

from .k8s import SERVICE, describe, dig, tier_of

NODE_PORT_RANGE_SCHEMA = {
    "min": {"type": "integer", "default": 30000, "description": "Lowest allowed nodePort."},
    "max": {"type": "integer", "default": 32767, "description": "Highest allowed nodePort."},
}


def service_type(props: Mapping[str, Any]) -> str:
    """A Service's type (the API server's default is ClusterIP)."""
    return str(dig(props, "spec", "type") or "ClusterIP")


def _allowed_types(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != SERVICE:
        return
    allowed = list(args.get_config().get("allowedTypes", []))
    kind = service_type(args.props)
    if kind not in allowed:
        report_violation(
            f"{describe(args.resource_type, args.props)} has type {kind}; this environment allows "
            f"{', '.join(allowed)}. Fix: use one of those types.",
            args.urn,
        )


def _private_tiers(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != SERVICE:
        return
    private = set(args.get_config().get("tiers", []))
    tier = tier_of(dig(args.props, "spec", "selector") or {})
    kind = service_type(args.props)
    if tier in private and kind != "ClusterIP":
        report_violation(
            f"{describe(args.resource_type, args.props)} selects the {tier} tier and has type {kind}. "
            "Fix: the database tier is reachable inside the cluster only; use type ClusterIP.",
            args.urn,
        )


def _node_port_range(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != SERVICE:
        return
    config = args.get_config()
    low, high = int(config.get("min", 30000)), int(config.get("max", 32767))
    for port in dig(args.props, "spec", "ports") or []:
        node_port = port.get("nodePort")
        if node_port is not None and not low <= int(node_port) <= high:
            report_violation(
                f"{describe(args.resource_type, args.props)}: nodePort {int(node_port)} is outside {low}-{high}. "
                "Fix: pick a port in that range, or leave nodePort unset.",
                args.urn,
            )


allowed_service_types = ResourceValidationPolicy(
    name="allowed-service-types",
    description="Services may only use the types this environment allows (pack config).",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=_allowed_types,
    config_schema=PolicyConfigSchema(
        properties={
            "allowedTypes": {
                "type": "array",
                "items": {"type": "string", "enum": ["ClusterIP", "NodePort", "LoadBalancer", "ExternalName"]},
                "default": ["ClusterIP"],
                "description": "Service types allowed in this environment.",
            }
        }
    ),
)

database_not_exposed = ResourceValidationPolicy(
    name="database-not-exposed",
    description="A Service selecting a private tier (the database) must be ClusterIP, never exposed outside.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=_private_tiers,
    config_schema=PolicyConfigSchema(
        properties={
            "tiers": {
                "type": "array",
                "items": {"type": "string"},
                "default": ["database"],
                "description": "Values of app.kubernetes.io/component that must stay in-cluster.",
            }
        }
    ),
)

node_port_range = ResourceValidationPolicy(
    name="node-port-range",
    description="NodePorts must lie inside the configured range.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=_node_port_range,
    config_schema=PolicyConfigSchema(properties=NODE_PORT_RANGE_SCHEMA),
)
