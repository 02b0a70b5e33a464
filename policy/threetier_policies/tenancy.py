"""Who owns what: app stacks stay inside their namespace; the platform sizes every namespace it creates.

App stacks deploy with a deployer whose Role reaches one namespace. These policies say so before
anything is sent to the API server (which would refuse it anyway): no cluster-scoped object, no
Namespace, nothing through a default provider (the credentials of whoever runs ``pulumi up``).
The platform stack, which creates namespaces with admin rights, gives each a ResourceQuota and a
LimitRange. Mandatory per stack kind in ``policy/config/`` (app stacks: dev/staging/prod.json;
platform stacks: platform.json); advisory by default.
"""

from __future__ import annotations

from pulumi_policy import (
    EnforcementLevel,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from .k8s import describe, dig, kind_of

NAMESPACE = "kubernetes:core/v1:Namespace"
RESOURCE_QUOTA = "kubernetes:core/v1:ResourceQuota"
LIMIT_RANGE = "kubernetes:core/v1:LimitRange"
#: Kinds the API server keeps outside any namespace (Namespace itself has a policy of its own).
CLUSTER_SCOPED_KINDS = frozenset(
    {
        "APIService",
        "CertificateSigningRequest",
        "ClusterRole",
        "ClusterRoleBinding",
        "ClusterTrustBundle",
        "ComponentStatus",
        "CSIDriver",
        "CSINode",
        "CustomResourceDefinition",
        "DeviceClass",
        "FlowSchema",
        "IngressClass",
        "IPAddress",
        "MutatingAdmissionPolicy",
        "MutatingAdmissionPolicyBinding",
        "MutatingWebhookConfiguration",
        "Node",
        "PersistentVolume",
        "PriorityClass",
        "PriorityLevelConfiguration",
        "ResourceSlice",
        "RuntimeClass",
        "ServiceCIDR",
        "StorageClass",
        "StorageVersionMigration",
        "ValidatingAdmissionPolicy",
        "ValidatingAdmissionPolicyBinding",
        "ValidatingWebhookConfiguration",
        "VolumeAttachment",
        "VolumeAttributesClass",
    }
)


def _is_kubernetes_object(resource_type: str) -> bool:
    return resource_type.startswith("kubernetes:")


def _kind(resource_type: str) -> str:
    kind = kind_of(resource_type)
    return kind.removesuffix("List")


def _no_cluster_scoped(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if not _is_kubernetes_object(args.resource_type) or _kind(args.resource_type) not in CLUSTER_SCOPED_KINDS:
        return
    report_violation(
        f"{describe(args.resource_type, args.props)} is cluster-scoped; an app stack owns objects in its namespace "
        "only. Fix: ask the platform team (platform stack) for it, or use a namespaced kind (Role, RoleBinding).",
        args.urn,
    )


def _no_namespaces(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if _kind(args.resource_type) != "Namespace" or not _is_kubernetes_object(args.resource_type):
        return
    report_violation(
        f"{describe(args.resource_type, args.props)}: an app stack does not create namespaces; the platform stack "
        "owns them with their quota, limits and deployer. Fix: deploy into the environment's namespace "
        "(ThreeTierApp(target=ExistingNamespace(...)), read from the platform stack).",
        args.urn,
    )


def _explicit_provider(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if not _is_kubernetes_object(args.resource_type):
        return
    provider = args.provider
    if provider is not None and not provider.name.startswith("default"):
        return
    used = provider.name if provider is not None else "none"
    report_violation(
        f"{describe(args.resource_type, args.props)} is registered with the default provider ({used}), i.e. with "
        "the credentials of whoever runs pulumi up. Fix: create it through the environment's deployer provider "
        "(components.deployer_provider; ResourceOptions(provider=...) or ThreeTierApp(target=...)).",
        args.urn,
    )


def _namespaces_sized(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    def namespaces_of(resource_type: str) -> set[str]:
        return {
            str(dig(r.props, "metadata", "namespace") or "default")
            for r in args.resources
            if r.resource_type == resource_type
        }

    quotas, limit_ranges = namespaces_of(RESOURCE_QUOTA), namespaces_of(LIMIT_RANGE)
    for namespace in args.resources:
        if namespace.resource_type != NAMESPACE:
            continue
        name = str(dig(namespace.props, "metadata", "name") or "<unnamed>")
        missing = [
            kind for kind, found in (("ResourceQuota", quotas), ("LimitRange", limit_ranges)) if name not in found
        ]
        if missing:
            report_violation(
                f"Namespace {name} has no {' and no '.join(missing)}: whoever deploys into it could take the whole "
                "cluster. Fix: create them with it (components.EnvironmentBase does).",
                namespace.urn,
            )


no_cluster_scoped_resources = ResourceValidationPolicy(
    name="no-cluster-scoped-resources",
    description="App stacks create no cluster-scoped objects (ClusterRole, ClusterRoleBinding, CRD, ...).",
    enforcement_level=EnforcementLevel.ADVISORY,
    validate=_no_cluster_scoped,
)

no_namespaces = ResourceValidationPolicy(
    name="no-namespaces",
    description="App stacks create no Namespace: the platform stack owns namespaces.",
    enforcement_level=EnforcementLevel.ADVISORY,
    validate=_no_namespaces,
)

explicit_provider = ResourceValidationPolicy(
    name="explicit-provider",
    description="Every Kubernetes object of an app stack goes through an explicit provider (the deployer's).",
    enforcement_level=EnforcementLevel.ADVISORY,
    validate=_explicit_provider,
)

namespaces_have_quota_and_limits = StackValidationPolicy(
    name="namespaces-have-quota-and-limits",
    description="Every Namespace a stack creates has a ResourceQuota and a LimitRange in it.",
    enforcement_level=EnforcementLevel.ADVISORY,
    validate=_namespaces_sized,
)
