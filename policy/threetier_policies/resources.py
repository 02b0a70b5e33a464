"""Every container sets CPU and memory requests and limits."""

from __future__ import annotations

from pulumi_policy import EnforcementLevel, ReportViolation, ResourceValidationArgs, ResourceValidationPolicy

from .k8s import containers, describe, dig, pod_spec


def _validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    spec = pod_spec(args.resource_type, args.props)
    if spec is None:
        return
    for container in containers(spec):
        missing = [
            f"{part}.{resource}"
            for part in ("requests", "limits")
            for resource in ("cpu", "memory")
            if not dig(container, "resources", part, resource)
        ]
        if missing:
            report_violation(
                f"{describe(args.resource_type, args.props)}, container {container.get('name')}: missing "
                f"resources {', '.join(missing)}. Fix: set resources.requests and resources.limits for cpu and memory.",
                args.urn,
            )


container_resources = ResourceValidationPolicy(
    name="container-resources",
    description="Every container must set CPU and memory requests and limits.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=_validate,
)
