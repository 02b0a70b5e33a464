"""Workloads and Services carry the recommended ``app.kubernetes.io/*`` labels."""

from __future__ import annotations

from pulumi_policy import EnforcementLevel, ReportViolation, ResourceValidationArgs, ResourceValidationPolicy

from .k8s import SERVICE, describe, dig, pod_spec

RECOMMENDED = ("name", "instance", "component", "part-of", "managed-by")


def _validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != SERVICE and pod_spec(args.resource_type, args.props) is None:
        return
    labels = dig(args.props, "metadata", "labels") or {}
    missing = [f"app.kubernetes.io/{key}" for key in RECOMMENDED if f"app.kubernetes.io/{key}" not in labels]
    if missing:
        report_violation(
            f"{describe(args.resource_type, args.props)} lacks labels {', '.join(missing)}. "
            "Fix: add the Kubernetes recommended labels so tools can group and select it.",
            args.urn,
        )


recommended_labels = ResourceValidationPolicy(
    name="recommended-labels",
    description="Workloads and Services should carry the recommended app.kubernetes.io/* labels.",
    enforcement_level=EnforcementLevel.ADVISORY,
    validate=_validate,
)
