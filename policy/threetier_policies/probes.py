"""Stateless tiers (by default frontend and backend) have readiness and liveness probes."""

from __future__ import annotations

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)

from .k8s import describe, pod_labels, pod_spec, tier_of


def _validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    spec = pod_spec(args.resource_type, args.props)
    if spec is None:
        return
    tiers = set(args.get_config().get("tiers", []))
    if tier_of(pod_labels(args.resource_type, args.props)) not in tiers:
        return
    # Init containers are exempt: they run to completion before probes matter.
    for container in spec.get("containers") or []:
        missing = [probe for probe in ("readinessProbe", "livenessProbe") if not container.get(probe)]
        if missing:
            report_violation(
                f"{describe(args.resource_type, args.props)}, container {container.get('name')}: no "
                f"{' or '.join(missing)}. Fix: add an httpGet or tcpSocket probe on the serving port.",
                args.urn,
            )


probes_on_stateless_tiers = ResourceValidationPolicy(
    name="probes-on-stateless-tiers",
    description="Containers of stateless tiers must have readiness and liveness probes.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=_validate,
    config_schema=PolicyConfigSchema(
        properties={
            "tiers": {
                "type": "array",
                "items": {"type": "string"},
                "default": ["frontend", "backend"],
                "description": "Values of app.kubernetes.io/component whose containers need probes.",
            }
        }
    ),
)
