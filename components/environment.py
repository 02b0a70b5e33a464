"""The platform's part of one environment: its namespace, budget and a deployer that can touch nothing else.

:class:`EnvironmentBase` is what a platform stack creates per environment, with cluster-admin
rights; the environment's app stack then deploys with the deployer's identity only (see
:mod:`components.platform_reference`).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any, Optional

import pulumi
import pulumi_kubernetes as k8s
import yaml

from . import naming
from . import validation as v
from .args import Manifest
from .errors import Problem, raise_if_any
from .quota import ContainerLimits, EnvironmentQuota

COMPONENT_TYPE = "threetier:components:EnvironmentBase"
POD_SECURITY_LEVEL = "restricted"
QUOTA_NAME = "environment-quota"
LIMIT_RANGE_NAME = "container-limits"
TOKEN_SECRET_TYPE = "kubernetes.io/service-account-token"
SERVICE_ACCOUNT_ANNOTATION = "kubernetes.io/service-account.name"

#: Everything the deployer may do to an object it deploys.
WRITE_VERBS = ("get", "list", "watch", "create", "update", "patch", "delete")
#: What it may do to what it only watches.
READ_VERBS = ("get", "list", "watch")
#: The deployer's Role, in its namespace only: the kinds :class:`components.ThreeTierApp` creates,
#: and read access to what pulumi-kubernetes' awaiters watch while a Deployment rolls out. Nothing
#: cluster-scoped, no RBAC objects (so nothing to escalate with), no pods/exec.
DEPLOYER_RULES: tuple[dict[str, list[str]], ...] = (
    {"apiGroups": [""], "resources": ["services", "secrets"], "verbs": list(WRITE_VERBS)},
    {"apiGroups": ["apps"], "resources": ["deployments"], "verbs": list(WRITE_VERBS)},
    {"apiGroups": ["networking.k8s.io"], "resources": ["networkpolicies"], "verbs": list(WRITE_VERBS)},
    {"apiGroups": ["policy"], "resources": ["poddisruptionbudgets"], "verbs": list(WRITE_VERBS)},
    {
        "apiGroups": [""],
        "resources": ["pods", "events", "endpoints", "persistentvolumeclaims"],
        "verbs": list(READ_VERBS),
    },
    {"apiGroups": ["apps"], "resources": ["replicasets"], "verbs": list(READ_VERBS)},
    {"apiGroups": ["discovery.k8s.io"], "resources": ["endpointslices"], "verbs": list(READ_VERBS)},
    {"apiGroups": ["events.k8s.io"], "resources": ["events"], "verbs": list(READ_VERBS)},
)


@dataclass(frozen=True)
class EnvironmentArgs:
    """Arguments of :class:`EnvironmentBase`."""

    #: The environment's namespace (created, restricted Pod Security level).
    namespace: str
    #: The API server's URL as the deployer reaches it, written into its kubeconfig.
    api_server: str
    #: The namespace's ResourceQuota.
    quota: EnvironmentQuota = field(default_factory=EnvironmentQuota)
    #: The namespace's LimitRange (per-container defaults and maxima).
    limits: ContainerLimits = field(default_factory=ContainerLimits)
    #: Value of ``app.kubernetes.io/part-of``.
    app_name: str = "threetier"
    #: Name of the deployer's ServiceAccount, Role and RoleBinding.
    deployer: str = "deployer"

    def validate(self, key_prefix: str = "") -> list[Problem]:
        """Problems of these arguments, each named ``<key_prefix><configKey>``."""
        return [
            *v.check_dns_1123_label(f"{key_prefix}namespace", self.namespace),
            *v.check_https_url(f"{key_prefix}apiServer", self.api_server),
            *self.quota.validate(f"{key_prefix}quota"),
            *self.limits.validate(f"{key_prefix}limits"),
            *v.check_dns_1035_label(f"{key_prefix}appName", self.app_name),
            *v.check_dns_1123_label(f"{key_prefix}deployer", self.deployer),
        ]


class EnvironmentBase(pulumi.ComponentResource):
    """One environment as the platform team owns it, created with cluster-admin rights.

    - The Namespace, enforcing the ``restricted`` Pod Security Standard.
    - A ResourceQuota and a LimitRange sized by :class:`EnvironmentArgs`.
    - A deployer: a ServiceAccount with a Role and RoleBinding in that namespace only
      (:data:`DEPLOYER_RULES`), a token for it (a ``kubernetes.io/service-account-token`` Secret,
      filled by the token controller; pulumi-kubernetes waits for it), and :attr:`kubeconfig`, a
      kubeconfig for that identity as a Pulumi **secret**.
    """

    def __init__(self, name: str, args: EnvironmentArgs, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        raise_if_any(args.validate())
        super().__init__(COMPONENT_TYPE, name, None, opts)
        self.args = args
        ns = args.namespace
        labels = {"app.kubernetes.io/part-of": args.app_name, "app.kubernetes.io/managed-by": naming.MANAGED_BY}
        child = pulumi.ResourceOptions(parent=self)

        self.namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata={
                "name": ns,
                "labels": {
                    **labels,
                    **{
                        f"pod-security.kubernetes.io/{mode}": POD_SECURITY_LEVEL
                        for mode in ("enforce", "audit", "warn")
                    },
                    "pod-security.kubernetes.io/enforce-version": "latest",
                },
            },
            opts=child,
        )
        in_namespace = pulumi.ResourceOptions(parent=self, depends_on=[self.namespace])

        def metadata(object_name: str, **extra: Any) -> Manifest:
            return {"name": object_name, "namespace": ns, "labels": labels, **extra}

        self.quota = k8s.core.v1.ResourceQuota(
            f"{name}-quota", metadata=metadata(QUOTA_NAME), spec={"hard": args.quota.to_kubernetes()}, opts=in_namespace
        )
        limit_range_spec: Manifest = {"limits": [args.limits.to_kubernetes()]}
        self.limit_range = k8s.core.v1.LimitRange(
            f"{name}-limits", metadata=metadata(LIMIT_RANGE_NAME), spec=limit_range_spec, opts=in_namespace
        )
        self.service_account = k8s.core.v1.ServiceAccount(
            f"{name}-{args.deployer}",
            metadata=metadata(args.deployer),
            automount_service_account_token=False,
            opts=in_namespace,
        )
        rules: Manifest = [dict(rule) for rule in DEPLOYER_RULES]
        self.role = k8s.rbac.v1.Role(
            f"{name}-{args.deployer}", metadata=metadata(args.deployer), rules=rules, opts=in_namespace
        )
        role_ref: Manifest = {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": args.deployer}
        subjects: Manifest = [{"kind": "ServiceAccount", "name": args.deployer, "namespace": ns}]
        self.role_binding = k8s.rbac.v1.RoleBinding(
            f"{name}-{args.deployer}",
            metadata=metadata(args.deployer),
            role_ref=role_ref,
            subjects=subjects,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.role, self.service_account]),
        )
        self.token = k8s.core.v1.Secret(
            f"{name}-{args.deployer}-token",
            metadata=metadata(f"{args.deployer}-token", annotations={SERVICE_ACCOUNT_ANNOTATION: args.deployer}),
            type=TOKEN_SECRET_TYPE,
            # The token controller fills data (token, ca.crt, namespace) once the ServiceAccount exists.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.service_account]),
        )
        #: A kubeconfig for the deployer (server, the cluster CA, its token, its namespace): a secret.
        self.kubeconfig: pulumi.Output[str] = pulumi.Output.secret(
            pulumi.Output.all(self.token.data, self.role_binding.metadata).apply(
                lambda values: deployer_kubeconfig(
                    server=args.api_server, namespace=ns, user=args.deployer, token_data=values[0] or {}
                )
            )
        )
        self.register_outputs({"namespace": ns, "deployer": args.deployer, "kubeconfig": self.kubeconfig})

    def stack_outputs(self) -> dict[str, Any]:
        """The platform stack's exports for this environment (what an app stack reads by StackReference).

        ``kubeconfig`` is a secret; the rest is plain: ``namespace``, ``quota`` (the ResourceQuota's
        ``hard``), ``limits`` (the LimitRange's Container item), ``deployer`` (its ServiceAccount and
        Role) and ``apiServer``.
        """
        return {
            "namespace": self.args.namespace,
            "quota": self.args.quota.to_kubernetes(),
            "limits": self.args.limits.to_kubernetes(),
            "deployer": {"serviceAccount": self.args.deployer, "role": self.args.deployer},
            "apiServer": self.args.api_server,
            "kubeconfig": self.kubeconfig,
        }


def deployer_kubeconfig(*, server: str, namespace: str, user: str, token_data: dict[str, str]) -> str:
    """A kubeconfig for ``user`` in ``namespace`` from a service-account-token Secret's ``data`` (base64 values).

    Raises ValueError when the Secret carries no token (the token controller did not fill it).
    """
    token = token_data.get("token")
    ca_data = token_data.get("ca.crt")
    if not token or not ca_data:
        raise ValueError(
            f"the token Secret of {namespace}/{user} has no token and ca.crt (is the token controller on?)"
        )
    identity = f"{namespace}-{user}"
    document = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": namespace, "cluster": {"server": server, "certificate-authority-data": ca_data}}],
        "users": [{"name": identity, "user": {"token": base64.b64decode(token).decode()}}],
        "contexts": [{"name": identity, "context": {"cluster": namespace, "user": identity, "namespace": namespace}}],
        "current-context": identity,
    }
    return yaml.safe_dump(document, sort_keys=False)
