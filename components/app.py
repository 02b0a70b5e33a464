"""The whole three-tier application: namespace, database secret, tiers, network policies, PDBs."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from typing import Any, Optional

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from . import naming
from .args import PASSWORD_FILE_ENV, Manifest, SecretFile, ThreeTierAppArgs, TierArgs
from .errors import Problem, raise_if_any
from .tier import Tier

COMPONENT_TYPE = "threetier:components:ThreeTierApp"
PASSWORD_SECRET_NAME = "database-credentials"
PASSWORD_SECRET_KEY = "password"
#: Pod-template annotation of the tiers that mount the password: a new password rolls their pods.
PASSWORD_CHECKSUM_ANNOTATION = "threetier.dev/database-credentials-checksum"
POD_SECURITY_LEVEL = "restricted"


@dataclass(frozen=True)
class ExistingNamespace:
    """Platform mode of :class:`ThreeTierApp`: a namespace someone else owns, and the provider to deploy with.

    The platform stack creates the namespace (with its quota, limits and a deployer allowed to
    touch nothing else); the app creates no Namespace and registers every Kubernetes object
    through ``provider`` (e.g. :func:`components.provider.deployer_provider`).
    """

    name: str
    #: A kubernetes provider (``k8s.Provider``, or a reference to one a component package is given).
    provider: pulumi.ProviderResource


class ThreeTierApp(pulumi.ComponentResource):
    """Frontend -> backend -> database, each a :class:`Tier`, in a namespace of their own.

    Two modes:

    - **standalone** (``target`` unset): the app creates its namespace, enforcing the ``restricted``
      Pod Security Standard, with whatever provider ``opts`` gives (the default one otherwise);
    - **platform** (``target=ExistingNamespace(name, provider)``): the namespace exists already
      (``args.namespace`` must name it) and every Kubernetes object goes through ``provider``.

    In both:

    - The database password comes from ``pulumi_random.RandomPassword``, is stored in a
      Kubernetes Secret and reaches the backend and database only as a read-only mounted file
      (``DB_PASSWORD_FILE`` names it; no env var carries the password). A new password (e.g.
      ``pulumi up --replace`` of the RandomPassword) rolls both tiers' pods.
    - The frontend reaches the backend and the backend the database by cluster DNS name;
      env vars carry those names (``BACKEND_HOST``/``BACKEND_URL``, ``DB_HOST``/``DB_PORT``).
    - NetworkPolicies: nothing reaches a pod unless allowed; the frontend accepts any
      client, the backend only the frontend, the database only the backend.
    - A PodDisruptionBudget for every tier with more than one replica.
    """

    def __init__(
        self,
        name: str,
        args: ThreeTierAppArgs,
        opts: Optional[pulumi.ResourceOptions] = None,
        *,
        target: Optional[ExistingNamespace] = None,
    ) -> None:
        problems = args.validate()
        if target is not None and target.name != args.namespace:
            problems.append(
                Problem(
                    "namespace",
                    f"{args.namespace!r} is not the target namespace {target.name!r}; allowed values: {target.name!r}",
                )
            )
        raise_if_any(problems)
        if target is not None:
            opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(providers=[target.provider]))
        super().__init__(COMPONENT_TYPE, name, None, opts)
        self.args = args
        self.name_prefix = name
        #: The provider every Kubernetes object goes through in platform mode (None: standalone).
        self.provider: Optional[pulumi.ProviderResource] = target.provider if target is not None else None
        ns = args.namespace
        instance = ns
        child = pulumi.ResourceOptions(parent=self)

        #: The namespace this app created (standalone mode), or None (platform mode: the platform's).
        self.namespace: Optional[k8s.core.v1.Namespace] = None
        if target is None:
            self.namespace = k8s.core.v1.Namespace(
                f"{name}-namespace",
                metadata={
                    "name": ns,
                    "labels": {
                        "app.kubernetes.io/part-of": args.app_name,
                        "app.kubernetes.io/managed-by": naming.MANAGED_BY,
                        **{
                            f"pod-security.kubernetes.io/{mode}": POD_SECURITY_LEVEL
                            for mode in ("enforce", "audit", "warn")
                        },
                        "pod-security.kubernetes.io/enforce-version": "latest",
                    },
                },
                opts=child,
            )
        namespace_first: list[pulumi.Resource] = [self.namespace] if self.namespace is not None else []
        in_namespace = pulumi.ResourceOptions(parent=self, depends_on=namespace_first)

        self.password = random.RandomPassword(
            f"{name}-database-password",
            length=args.password_length,
            special=False,
            opts=child,
        )
        self.password_secret = k8s.core.v1.Secret(
            f"{name}-{PASSWORD_SECRET_NAME}",
            metadata={
                "name": PASSWORD_SECRET_NAME,
                "namespace": ns,
                "labels": naming.recommended_labels(
                    name="database", instance=instance, component="database", part_of=args.app_name
                ),
            },
            type="Opaque",
            string_data={PASSWORD_SECRET_KEY: self.password.result},
            opts=in_namespace,
        )
        password_file = SecretFile(PASSWORD_SECRET_NAME, PASSWORD_SECRET_KEY, PASSWORD_FILE_ENV)
        # A digest of the password (never the password) in the pod template of the tiers that
        # mount it: mounted files change in place, so without it their pods would keep the old one.
        # A truncated SHA-256 of a random password reveals nothing usable: it is not kept secret,
        # so diffs and renders stay readable.
        password_checksum = {
            PASSWORD_CHECKSUM_ANNOTATION: pulumi.Output.unsecret(self.password.result.apply(_checksum))
        }
        tier_options: dict[str, Any] = {
            "namespace": ns,
            "instance": instance,
            "part_of": args.app_name,
            "cluster_domain": args.cluster_domain,
            "skip_await": args.skip_await,
        }

        database_args = _with_secret_files(args.database, password_file)
        self.database = Tier(
            f"{name}-database",
            database_args,
            service_name="database",
            extra_env={"DB_NAME": args.database_name, "DB_USER": args.database_user},
            pod_annotations=password_checksum,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[*namespace_first, self.password_secret]),
            **tier_options,
        )
        backend_args = _with_secret_files(args.backend, password_file)
        self.backend = Tier(
            f"{name}-backend",
            backend_args,
            service_name="backend",
            dns_env={"DB_HOST": self.database},
            extra_env={
                "DB_PORT": str(args.database.port),
                "DB_NAME": args.database_name,
                "DB_USER": args.database_user,
            },
            pod_annotations=password_checksum,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[*namespace_first, self.password_secret]),
            **tier_options,
        )
        self.frontend = Tier(
            f"{name}-frontend",
            args.frontend,
            service_name="frontend",
            dns_env={"BACKEND_HOST": self.backend},
            extra_env={
                "BACKEND_URL": f"{args.backend.scheme}://{self.backend.dns_names.fqdn}:{args.backend.port}",
            },
            opts=in_namespace,
            **tier_options,
        )
        self.tiers = {"frontend": self.frontend, "backend": self.backend, "database": self.database}

        #: The edges the NetworkPolicies allow; every other ingress is denied.
        self.allowed_ingress = self._allowed_ingress()
        self.network_policy_names = ["default-deny-ingress", *(self._allow_policy_name(key) for key in self.tiers)]
        self.network_policies = self._network_policies(in_namespace)
        self.disruption_budgets = {
            key: self._disruption_budget(tier, namespace_first)
            for key, tier in self.tiers.items()
            if tier.args.replicas > 1
        }
        self.register_outputs(
            {
                "namespace": ns,
                "passwordSecretName": PASSWORD_SECRET_NAME,
                **{key: tier.outputs() for key, tier in self.tiers.items()},
            }
        )

    def stack_outputs(self) -> dict[str, Any]:
        """The stack's exports: namespace, one map per tier, the Secret's name and a secret DB URL.

        The password itself is never exported in plaintext: ``databaseUrl`` carries it and is
        a Pulumi secret (encrypted in state, shown as ``[secret]``).
        """
        db = self.database
        # RandomPassword.result is already secret; marking the URL secret says so explicitly.
        database_url: pulumi.Output[str] = pulumi.Output.secret(  # type: ignore[arg-type]
            pulumi.Output.concat(
                "postgres://",
                self.args.database_user,
                ":",
                self.password.result,
                "@",
                db.dns_names.fqdn,
                ":",
                str(self.args.database.port),
                "/",
                self.args.database_name,
            )
        )
        return {
            "namespace": self.args.namespace,
            "clusterDomain": self.args.cluster_domain,
            **{key: tier.outputs() for key, tier in self.tiers.items()},
            "networkPolicies": self.network_isolation(),
            "databasePasswordSecret": PASSWORD_SECRET_NAME,
            "databaseUrl": database_url,
        }

    def _network_policies(self, opts: pulumi.ResourceOptions) -> list[k8s.networking.v1.NetworkPolicy]:
        """Deny every ingress by default, then allow exactly :attr:`allowed_ingress`, one policy per tier."""
        ns = self.args.namespace

        def policy(name: str, pod_selector: dict[str, str], ingress: list[Manifest]) -> k8s.networking.v1.NetworkPolicy:
            metadata: Manifest = {
                "name": name,
                "namespace": ns,
                "labels": {"app.kubernetes.io/part-of": self.args.app_name},
            }
            spec: Manifest = {
                "podSelector": {"matchLabels": pod_selector},
                "policyTypes": ["Ingress"],
                "ingress": ingress,
            }
            return k8s.networking.v1.NetworkPolicy(
                f"{self.name_prefix}-{name}", metadata=metadata, spec=spec, opts=opts
            )

        def ingress_rule(rule: IngressRule) -> Manifest:
            allowed: Manifest = {"ports": [{"protocol": "TCP", "port": rule.port}]}
            if rule.source != ANY_SOURCE:
                allowed["from"] = [{"podSelector": {"matchLabels": self.tiers[rule.source].selector}}]
            return allowed

        policies = [policy("default-deny-ingress", {}, [])]
        for key, tier in self.tiers.items():
            rules = [ingress_rule(rule) for rule in self.allowed_ingress if rule.target == key]
            policies.append(policy(self._allow_policy_name(key), tier.selector, rules))
        return policies

    def _allow_policy_name(self, target: str) -> str:
        """``backend-allow-frontend``: the policy that admits ``target``'s clients (``clients``: anyone)."""
        sources = [rule.source for rule in self.allowed_ingress if rule.target == target]
        return f"{target}-allow-" + "-".join("clients" if source == ANY_SOURCE else source for source in sources)

    def _allowed_ingress(self) -> tuple[IngressRule, ...]:
        """Who may open which tier: anyone the frontend, the frontend the backend, the backend the database."""
        return (
            IngressRule(ANY_SOURCE, "frontend", self.frontend.args.container_port),
            IngressRule("frontend", "backend", self.backend.args.container_port),
            IngressRule("backend", "database", self.database.args.container_port),
        )

    def network_isolation(self) -> dict[str, Any]:
        """The ``networkPolicies`` output: the policies' names and the edges they allow (all else is denied)."""
        return {
            "namespace": self.args.namespace,
            "policies": list(self.network_policy_names),
            "allowedIngress": [
                {"from": rule.source, "to": rule.target, "port": rule.port} for rule in self.allowed_ingress
            ],
        }

    def _disruption_budget(
        self, tier: Tier, namespace_first: list[pulumi.Resource]
    ) -> k8s.policy.v1.PodDisruptionBudget:
        metadata: Manifest = {"name": tier.service_name, "namespace": self.args.namespace, "labels": tier.labels}
        spec: Manifest = {"maxUnavailable": 1, "selector": {"matchLabels": tier.selector}}
        return k8s.policy.v1.PodDisruptionBudget(
            f"{self.name_prefix}-{tier.service_name}",
            metadata=metadata,
            spec=spec,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[*namespace_first, tier.deployment]),
        )


#: In an allowed-ingress rule, the source that stands for any pod, in any namespace.
ANY_SOURCE = "*"


@dataclass(frozen=True)
class IngressRule:
    """An edge the NetworkPolicies allow: pods of tier ``source`` (``*``: any pod) may open ``port`` of ``target``."""

    source: str
    target: str
    port: int


def _with_secret_files(tier_args: TierArgs, *files: SecretFile) -> TierArgs:
    return replace(tier_args, secret_files=(*tier_args.secret_files, *files))


def _checksum(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:16]
