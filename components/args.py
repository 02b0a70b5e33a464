"""Typed, documented arguments of the components, with their defaults and validation.

Library users build these directly; stacks get them from Pulumi config through
:mod:`components.config`. Either way :meth:`TierArgs.validate` /
:meth:`ThreeTierAppArgs.validate` run before any resource is registered.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Optional, TypeAlias

from . import validation as v
from .errors import Problem
from .scheduling import Scheduling

ServiceType = Literal["ClusterIP", "NodePort", "LoadBalancer"]

#: A Kubernetes object fragment written as in YAML, with camelCase keys. pulumi-kubernetes
#: takes these as they are; its snake_case TypedDicts do not describe them, hence Any.
Manifest: TypeAlias = Any
ImagePullPolicy = Literal["Always", "IfNotPresent", "Never"]


@dataclass(frozen=True)
class ResourceSpec:
    """CPU and memory requests and limits of a tier's container."""

    cpu_request: str = "50m"
    memory_request: str = "64Mi"
    cpu_limit: str = "500m"
    memory_limit: str = "256Mi"

    def validate(self, key: str) -> list[Problem]:
        """Problems of these quantities, named ``<key>.requests.cpu`` etc."""
        return [
            *v.check_quantity(f"{key}.requests.cpu", self.cpu_request),
            *v.check_quantity(f"{key}.requests.memory", self.memory_request),
            *v.check_quantity(f"{key}.limits.cpu", self.cpu_limit),
            *v.check_quantity(f"{key}.limits.memory", self.memory_limit),
        ]

    def to_kubernetes(self) -> dict[str, dict[str, str]]:
        """The container's ``resources`` block."""
        return {
            "requests": {"cpu": self.cpu_request, "memory": self.memory_request},
            "limits": {"cpu": self.cpu_limit, "memory": self.memory_limit},
        }


@dataclass(frozen=True)
class SecretFile:
    """One key of a Kubernetes Secret, mounted read-only as a file in a tier's container.

    The value never travels in an env var (where ``kubectl describe``, process dumps and
    scanners see it): the container reads the file, and the env var ``path_env`` tells it
    where the file is (e.g. ``DB_PASSWORD_FILE=/etc/secrets/database-credentials/password``).
    """

    secret_name: str
    key: str
    #: Env var carrying the file's path (never its content).
    path_env: str

    @property
    def mount_dir(self) -> str:
        """Directory the Secret is mounted at (one directory per Secret)."""
        return f"{SECRETS_DIR}/{self.secret_name}"

    @property
    def path(self) -> str:
        """Path of the file holding the key's value."""
        return f"{self.mount_dir}/{self.key}"


#: Where Secrets are mounted in containers, one directory per Secret.
SECRETS_DIR = "/etc/secrets"


@dataclass(frozen=True)
class TierArgs:
    """Everything one tier (a Deployment and its Service) needs.

    Only ``image`` and ``port`` are required. ``name`` is both the Deployment's and the
    Service's fixed name, so the Service's DNS name is predictable.
    """

    #: Container image, with an explicit tag or digest.
    image: str
    #: The Service port clients use.
    port: int
    #: The container port the Service forwards to; defaults to ``port``.
    target_port: Optional[int] = None
    #: Desired pods; 0 is allowed (a scaled-down tier).
    replicas: int = 1
    #: ClusterIP (in-cluster only), NodePort (every node's ``node_port``) or LoadBalancer.
    service_type: ServiceType = "ClusterIP"
    #: Pinned node port (30000-32767) for NodePort/LoadBalancer; None lets the API server pick.
    node_port: Optional[int] = None
    #: Plain env vars of the container. Secrets go in ``secret_files``.
    env: Mapping[str, str] = field(default_factory=dict)
    #: Secret keys mounted read-only as files; each file's path is given in its ``path_env``.
    secret_files: tuple[SecretFile, ...] = ()
    resources: ResourceSpec = field(default_factory=ResourceSpec)
    #: HTTP path of the liveness probe (and of the readiness probe unless ``readiness_path`` is
    #: set); None probes the TCP port instead.
    health_path: Optional[str] = "/healthz"
    #: HTTP path of the readiness probe, when "ready" means more than "alive" (e.g. the backend's
    #: ``/readyz`` also asks its database); None uses ``health_path``.
    readiness_path: Optional[str] = None
    #: Non-root uid the container runs as (restricted Pod Security level).
    run_as_user: int = 10001
    image_pull_policy: ImagePullPolicy = "IfNotPresent"
    #: Spread across nodes, nodeSelector, tolerations and eviction timing of the pods.
    scheduling: Scheduling = field(default_factory=Scheduling)
    #: URL scheme of the tier's endpoints in outputs (``http``, ``postgres``, ``tcp``...).
    scheme: str = "http"

    def validate(self, key: str) -> list[Problem]:
        """Problems of these arguments, each named ``<key>.<configKey>``."""
        problems = [
            *v.check_image(f"{key}.image", self.image),
            *v.check_port(f"{key}.port", self.port),
            *v.check_replicas(f"{key}.replicas", self.replicas),
            *v.check_choice(f"{key}.serviceType", self.service_type, v.SERVICE_TYPES),
            *v.check_env(f"{key}.env", self.env),
            *self.resources.validate(f"{key}.resources"),
            *v.check_http_path(f"{key}.healthPath", self.health_path),
            *v.check_http_path(f"{key}.readinessPath", self.readiness_path),
            *v.check_non_root_uid(f"{key}.runAsUser", self.run_as_user),
            *v.check_choice(f"{key}.imagePullPolicy", self.image_pull_policy, v.IMAGE_PULL_POLICIES),
            *self.scheduling.validate(key),
        ]
        if self.target_port is not None:
            problems += v.check_port(f"{key}.targetPort", self.target_port)
        if self.node_port is not None:
            if self.service_type == "ClusterIP":
                problems.append(
                    Problem(
                        f"{key}.nodePort",
                        "is set but serviceType is ClusterIP; allowed values: unset, or set serviceType "
                        "to NodePort or LoadBalancer",
                    )
                )
            else:
                problems += v.check_node_port(f"{key}.nodePort", self.node_port)
        clash = sorted(set(self.env) & {secret.path_env for secret in self.secret_files})
        if clash:
            problems.append(
                Problem(
                    f"{key}.env",
                    f"{', '.join(clash)} also carries a Secret file's path; allowed: one source per variable",
                )
            )
        return problems

    @property
    def container_port(self) -> int:
        """The port the container listens on."""
        return self.target_port if self.target_port is not None else self.port

    @property
    def readiness_probe_path(self) -> Optional[str]:
        """HTTP path of the readiness probe (None: a TCP probe)."""
        return self.readiness_path if self.readiness_path is not None else self.health_path


#: Tier keys of the three-tier app, in the order data flows.
TIER_KEYS = ("frontend", "backend", "database")

#: Env var telling the backend and the database where the mounted password file is.
PASSWORD_FILE_ENV = "DB_PASSWORD_FILE"

#: Env vars :class:`components.ThreeTierApp` sets in each tier, and what they carry. A tier's own
#: ``env`` may not set them too (one source per variable).
APP_ENV: dict[str, dict[str, str]] = {
    "frontend": {"BACKEND_HOST": "the backend's DNS name", "BACKEND_URL": "the backend's URL"},
    "backend": {
        "DB_HOST": "the database's DNS name",
        "DB_PORT": "the database's port",
        "DB_NAME": "the database's name",
        "DB_USER": "the database's user",
        PASSWORD_FILE_ENV: "a Secret file's path",
    },
    "database": {
        "DB_NAME": "the database's name",
        "DB_USER": "the database's user",
        PASSWORD_FILE_ENV: "a Secret file's path",
    },
}


@dataclass(frozen=True)
class ThreeTierAppArgs:
    """Arguments of :class:`components.ThreeTierApp`."""

    #: Namespace the app lives in; created and labelled for the restricted Pod Security level.
    namespace: str
    frontend: TierArgs
    backend: TierArgs
    database: TierArgs
    #: Cluster DNS domain used in the exported fully qualified names.
    cluster_domain: str = "cluster.local"
    #: Value of ``app.kubernetes.io/part-of`` and prefix of ``instance``.
    app_name: str = "threetier"
    #: Add ``pulumi.com/skipAwait`` to Services and Deployments (clusters without an LB allocator).
    skip_await: bool = False
    #: Database name and user the backend connects with.
    database_name: str = "app"
    database_user: str = "app"
    #: Length of the generated database password.
    password_length: int = 32

    def tiers(self) -> dict[str, TierArgs]:
        """The tiers by key, in the order data flows (frontend -> backend -> database)."""
        return {"frontend": self.frontend, "backend": self.backend, "database": self.database}

    def validate(self, key_prefix: str = "") -> list[Problem]:
        """Problems of the whole app, including clashes between tiers (e.g. a shared nodePort)."""

        def key(name: str) -> str:
            return f"{key_prefix}{name}"

        problems = [
            *v.check_dns_1123_label(key("namespace"), self.namespace),
            *v.check_dns_subdomain(key("clusterDomain"), self.cluster_domain),
            *v.check_dns_1035_label(key("appName"), self.app_name),
            *v.check_int_range(key("passwordLength"), self.password_length, 16, 128),
        ]
        for tier_key, tier in self.tiers().items():
            problems += tier.validate(key(tier_key))
            for name in sorted(set(tier.env) & set(APP_ENV[tier_key])):
                problems.append(
                    Problem(
                        key(f"{tier_key}.env"),
                        f"{name} also carries {APP_ENV[tier_key][name]} (set by the app); "
                        "allowed: one source per variable, any other name",
                    )
                )
        problems += node_port_clashes({key(k): t for k, t in self.tiers().items()})
        return problems


def node_port_clashes(tiers: Mapping[str, TierArgs]) -> list[Problem]:
    """A problem for every tier that pins a nodePort an earlier tier already pinned."""
    owner: dict[int, str] = {}
    problems: list[Problem] = []
    for tier_key, tier in tiers.items():
        if tier.node_port is None or tier.service_type == "ClusterIP":
            continue
        if tier.node_port in owner:
            problems.append(
                Problem(
                    f"{tier_key}.nodePort",
                    f"{tier.node_port} is already used by {owner[tier.node_port]}.nodePort; "
                    "allowed values: a node port no other tier uses, or unset",
                )
            )
        else:
            owner[tier.node_port] = tier_key
    return problems
