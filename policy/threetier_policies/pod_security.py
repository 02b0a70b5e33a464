"""The ``restricted`` Pod Security Standard, checked before the API server rejects the pods."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, ReportViolation, ResourceValidationArgs, ResourceValidationPolicy

from .k8s import containers, describe, dig, pod_spec


def pod_security_problems(spec: Mapping[str, Any]) -> list[str]:
    """Every way ``spec`` breaks the restricted level, one fix-oriented phrase each."""
    problems = [
        f"spec.{field}: true is not allowed" for field in ("hostNetwork", "hostPID", "hostIPC") if spec.get(field)
    ]
    problems += [
        f"volume {volume.get('name')}: hostPath is not allowed"
        for volume in spec.get("volumes") or []
        if isinstance(volume, Mapping) and volume.get("hostPath")
    ]
    pod_context = spec.get("securityContext") or {}
    for container in containers(spec):
        name = container.get("name")
        context = container.get("securityContext") or {}

        def effective(field: str, context: Mapping[str, Any] = context) -> Any:
            value = context.get(field)
            return pod_context.get(field) if value is None else value

        if context.get("privileged"):
            problems.append(f"container {name}: privileged must be false")
        if effective("runAsNonRoot") is not True:
            problems.append(f"container {name}: set runAsNonRoot: true")
        if effective("runAsUser") == 0:
            problems.append(f"container {name}: runAsUser 0 (root) is not allowed")
        if context.get("allowPrivilegeEscalation") is not False:
            problems.append(f"container {name}: set allowPrivilegeEscalation: false")
        if "ALL" not in (dig(context, "capabilities", "drop") or []):
            problems.append(f"container {name}: set capabilities.drop: [ALL]")
        seccomp = dig(context, "seccompProfile", "type") or dig(pod_context, "seccompProfile", "type")
        if seccomp not in ("RuntimeDefault", "Localhost"):
            problems.append(f"container {name}: set seccompProfile.type: RuntimeDefault")
    return problems


def _validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    spec = pod_spec(args.resource_type, args.props)
    if spec is None:
        return
    problems = pod_security_problems(spec)
    if problems:
        report_violation(
            f"{describe(args.resource_type, args.props)} breaks the restricted Pod Security level. "
            f"Fix: {'; '.join(problems)}.",
            args.urn,
        )


restricted_pod_security = ResourceValidationPolicy(
    name="restricted-pod-security",
    description=(
        "Pods must meet the restricted Pod Security Standard "
        "(non-root, no escalation, drop ALL, seccomp, no host access)."
    ),
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=_validate,
)
