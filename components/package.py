"""The component package's façade: :class:`ThreeTierApp` for Pulumi YAML, TypeScript and any other language.

``package/`` hosts this module's components with the Python SDK's component provider
(``pulumi.provider.experimental``), which infers the package's schema from the annotations below:
the inputs from the ``args`` TypedDicts (field names are the schema's, hence camelCase), the
outputs from the class-level ``pulumi.Output[...]`` annotations, the descriptions from the
docstrings. At run time the provider hands the component a plain dict of those inputs.

Nothing is implemented twice. The inputs are the stack configuration's keys (README,
"Configuration reference") and go through the same model, :func:`components.config.parse_settings`,
so a value left out takes the same default and a bad one fails with the same message naming the
key (``frontend.nodePort: 8080 is not valid; allowed values: an integer from 30000 to 32767``),
before any resource is registered; then :class:`components.ThreeTierApp` builds the app, as a
child of this component, and its outputs are this component's. The defaults written in the
docstrings are checked against the model by ``tests/unit/test_package_schema.py``.

The package's app is **standalone** by default (:class:`components.ThreeTierApp` without
``target``): it creates its namespace, ``namespace`` (default :data:`STANDALONE_NAMESPACE`), with
the kubernetes provider the consumer gives in the resource options (``providers``), the default one
otherwise. With ``createNamespace: false`` it runs in **platform mode** (``target=ExistingNamespace``):
the namespace exists (a platform stack's), no Namespace is created, and every object goes through
the kubernetes provider of the resource options, which is then required; the consumer builds it from
the platform stack's deployer kubeconfig (its own ``StackReference``). The stack program's
``platformStack`` key (the program reads the platform stack itself) is not an input: see
docs/component-package.md, "Standalone and platform mode".
"""

# No `from __future__ import annotations`: the schema is inferred from the annotations' runtime values.
from collections.abc import Mapping
from dataclasses import replace
from typing import Any, Optional, TypedDict

import pulumi
from pulumi.errors import InputPropertiesError
from pulumi.provider.experimental.component import ComponentProvider
from pulumi.provider.provider import ConstructResult

from .app import ExistingNamespace
from .app import ThreeTierApp as App
from .args import ThreeTierAppArgs as AppArgs
from .config import TOP_LEVEL_KEYS, parse_settings, unknown_key
from .errors import ConfigError, Problem, raise_if_any

#: The package's name: its resource tokens are ``threetier:index:<Component>``.
PACKAGE = "threetier"
APP_TOKEN = f"{PACKAGE}:index:ThreeTierApp"
#: Inputs of the app's arguments (:class:`components.ThreeTierAppArgs`) that stack config does not carry.
APP_ONLY_INPUTS = {
    "databaseName": "database_name",
    "databaseUser": "database_user",
    "passwordLength": "password_length",
}
#: Stack-config keys the package leaves out: ``platformStack`` names the platform stack whose
#: namespace and deployer the stack program reads itself; the package's app reads no stack, a
#: consumer picks the cluster and credentials (a platform's deployer with ``createNamespace:
#: false``) with a kubernetes provider in the component's resource options, as for any resource.
CONFIG_ONLY_KEYS = ("platformStack",)
#: The input choosing the mode (``target`` of :class:`components.ThreeTierApp`): no argument, no config key.
CREATE_NAMESPACE = "createNamespace"
#: The package's inputs: the stack config's keys but the config-only ones, the app-only arguments, the mode.
INPUTS = (*(key for key in TOP_LEVEL_KEYS if key not in CONFIG_ONLY_KEYS), *APP_ONLY_INPUTS, CREATE_NAMESPACE)
#: The namespace the package's app creates when the consumer names none. Stack config's default is
#: empty (the platform stack's namespace); a standalone app has no platform to ask.
STANDALONE_NAMESPACE = "threetier"


class Quantities(TypedDict, total=False):
    """CPU and memory quantities of a tier's container."""

    cpu: str
    """Kubernetes CPU quantity, e.g. '250m'. Default: requests 50m, limits 500m."""
    memory: str
    """Kubernetes memory quantity, e.g. '128Mi'. Default: requests 64Mi, limits 256Mi."""


class ResourceSettings(TypedDict, total=False):
    """Requests and limits of a tier's container; every quantity left out keeps its default."""

    requests: Quantities
    """What the scheduler reserves. Default: cpu 50m, memory 64Mi."""
    limits: Quantities
    """The most the container may use. Default: cpu 500m, memory 256Mi."""


class TolerationSettings(TypedDict, total=False):
    """One toleration of a tier's pods (Kubernetes' tolerations[])."""

    key: str
    """The taint's key; unset only with operator Exists (tolerates every taint). Default: unset."""
    operator: str
    """Allowed values: Equal, Exists. Default: Equal."""
    value: str
    """The taint's value, with operator Equal. Default: unset."""
    effect: str
    """Allowed values: NoSchedule, PreferNoSchedule, NoExecute; unset: every effect. Default: unset."""
    tolerationSeconds: int
    """With effect NoExecute: how long the pods stay once tainted. Default: unset (for ever)."""


class TierSettings(TypedDict, total=False):
    """One tier's settings (a Deployment and its Service); every key left out takes the tier's default."""

    image: str
    (
        "Container image with an explicit tag or digest. Default: threetier/frontend:1.0.0 / "
        "threetier/backend:1.1.0 / threetier/database:1.1.0 (frontend / backend / database)."
    )
    replicas: int
    """Desired pods, an integer >= 0. Default: 1."""
    serviceType: str
    """Service type; allowed values: ClusterIP, NodePort, LoadBalancer. Default: ClusterIP."""
    port: int
    """The Service port clients use, 1-65535. Default: 80 / 8080 / 5432 (frontend / backend / database)."""
    targetPort: int
    (
        "The container port the Service forwards to, 1-65535. Default: 8080 / 8080 / 5432 (frontend / backend "
        "/ database)."
    )
    nodePort: int
    (
        "Pinned node port, 30000-32767, only with serviceType NodePort or LoadBalancer, unique across tiers. "
        "Default: unset (the API server picks one)."
    )
    env: dict[str, str]
    (
        "Plain env vars of the container (NAME: value); not a name the app sets (BACKEND_HOST, BACKEND_URL, "
        "DB_HOST, DB_PORT, DB_NAME, DB_USER, DB_PASSWORD_FILE). Default: {}."
    )
    resources: ResourceSettings
    """CPU and memory requests and limits. Default: requests cpu 50m, memory 64Mi; limits cpu 500m, memory 256Mi."""
    healthPath: str
    (
        "HTTP path of the liveness probe (and of readiness unless readinessPath is set), starting with '/'. "
        "Default: /healthz / /healthz / unset (frontend / backend / database; unset: a TCP probe)."
    )
    readinessPath: str
    (
        "HTTP path of the readiness probe, when ready means more than alive. Default: unset / /readyz / unset "
        "(frontend / backend / database; unset: healthPath)."
    )
    runAsUser: int
    """Non-root uid the container runs as, an integer >= 1. Default: 10001."""
    imagePullPolicy: str
    """When the kubelet pulls the image; allowed values: Always, IfNotPresent, Never. Default: IfNotPresent."""
    spread: str
    (
        "How the pods spread across nodes (topologySpreadConstraints on kubernetes.io/hostname, maxSkew 1, "
        "cordoned and NotReady nodes not counted); allowed values: ScheduleAnyway, DoNotSchedule. "
        "Default: ScheduleAnyway."
    )
    nodeSelector: dict[str, str]
    """Node labels a node must carry to run the pods (label: value). Default: {}."""
    tolerations: list[TolerationSettings]
    (
        "Taints the pods tolerate; not node.kubernetes.io/not-ready or unreachable (evictionSeconds sets "
        "those). Default: []."
    )
    evictionSeconds: int
    """Seconds the pods stay on a NotReady or unreachable node before they are evicted, 0-3600. Default: 300."""


class ThreeTierAppArgs(TypedDict, total=False):
    """Inputs of the package's ThreeTierApp: the stack config's keys (same defaults but namespace), mode, extras."""

    namespace: str
    (
        "Namespace the app deploys into, a DNS-1123 label; created (restricted Pod Security level) unless "
        "createNamespace is false. Default: threetier."
    )
    createNamespace: bool
    (
        "true: the app creates its namespace (standalone); false: the namespace exists already (a platform "
        "stack's) and every object goes through the kubernetes provider of the resource options (providers: "
        "the namespace's deployer), which is then required. Default: true."
    )
    clusterDomain: str
    """Cluster DNS domain used in the exported fully qualified names. Default: cluster.local."""
    appName: str
    """Value of app.kubernetes.io/part-of, a DNS-1035 label. Default: threetier."""
    skipAwait: bool
    (
        "Add pulumi.com/skipAwait to Services and Deployments (clusters without a LoadBalancer allocator). "
        "Default: false."
    )
    frontend: TierSettings
    """Frontend tier settings. Default: {} (the frontend's defaults)."""
    backend: TierSettings
    """Backend API tier settings. Default: {} (the backend's defaults)."""
    database: TierSettings
    """Database tier settings. Default: {} (the database's defaults)."""
    databaseName: str
    """Name of the database the backend connects to. Default: app."""
    databaseUser: str
    """User the backend connects as. Default: app."""
    passwordLength: int
    """Length of the generated database password, 16-128. Default: 32."""


class DnsNames(TypedDict):
    """The four names cluster DNS answers for a Service."""

    short: str
    namespaced: str
    svc: str
    fqdn: str


class TierUrls(TypedDict):
    """A tier's URLs: in the cluster, on every node's node port, at the load balancer."""

    inCluster: str
    nodePort: Optional[str]
    """A template: <nodeIP> stands for any node's InternalIP. Unset for ClusterIP."""
    loadBalancer: Optional[str]


class DnsWiring(TypedDict):
    """The tier another tier's env var names, and the DNS name it carries."""

    service: str
    fqdn: str


class TierOutputs(TypedDict):
    """Everything a client or a verifier needs about one tier (read back from the live Service)."""

    serviceName: str
    deploymentName: str
    namespace: str
    serviceType: str
    clusterIP: Optional[str]
    port: int
    targetPort: int
    nodePort: Optional[int]
    loadBalancerIngress: Optional[str]
    replicas: int
    selector: dict[str, str]
    dnsNames: DnsNames
    urls: TierUrls
    wiring: dict[str, DnsWiring]
    """Env vars that carry another tier's DNS name, by name."""


#: An edge the NetworkPolicies allow (``from`` is a Python keyword, hence the functional form).
IngressEdge = TypedDict("IngressEdge", {"from": str, "to": str, "port": int})


class NetworkIsolation(TypedDict):
    """The NetworkPolicies of the app and the edges they allow; every other ingress is denied."""

    namespace: str
    policies: list[str]
    allowedIngress: list[IngressEdge]


class ThreeTierApp(pulumi.ComponentResource):
    """A frontend, a backend API and a database on Kubernetes, wired by cluster DNS names.

    Standalone: the app creates its namespace (restricted Pod Security level), with the kubernetes
    provider of the resource options (``providers``), the default one otherwise; with
    ``createNamespace: false``, the namespace exists and that provider is required. In it: a random
    database password kept in a Secret and mounted as a file, three tiers (Deployment + Service),
    NetworkPolicies that admit only frontend -> backend -> database, and PodDisruptionBudgets for
    tiers with more than one replica. Inputs are validated before any resource is registered.
    """

    namespace: pulumi.Output[str]
    """The app's namespace."""
    clusterDomain: pulumi.Output[str]
    """The cluster DNS domain of the fully qualified names."""
    frontend: pulumi.Output[TierOutputs]
    """The frontend tier: DNS names, cluster IP, ports, node port, load-balancer ingress, URLs."""
    backend: pulumi.Output[TierOutputs]
    """The backend tier."""
    database: pulumi.Output[TierOutputs]
    """The database tier."""
    networkPolicies: pulumi.Output[NetworkIsolation]
    """The declared network isolation: the NetworkPolicies and the edges they allow."""
    databasePasswordSecret: pulumi.Output[str]
    """Name of the Kubernetes Secret holding the database password."""
    databaseUrl: pulumi.Output[str]
    """postgres:// URL of the database, password included: a secret."""

    def __init__(self, name: str, args: ThreeTierAppArgs, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        app_args = app_arguments(args)
        target = app_target(args, app_args.namespace, opts)
        super().__init__(APP_TOKEN, name, None, opts)
        app = App(name, app_args, opts=pulumi.ResourceOptions(parent=self), target=target)
        outputs = app.stack_outputs()
        self.namespace = pulumi.Output.from_input(outputs["namespace"])
        self.clusterDomain = pulumi.Output.from_input(outputs["clusterDomain"])
        self.frontend = pulumi.Output.from_input(outputs["frontend"])
        self.backend = pulumi.Output.from_input(outputs["backend"])
        self.database = pulumi.Output.from_input(outputs["database"])
        self.networkPolicies = pulumi.Output.from_input(outputs["networkPolicies"])
        self.databasePasswordSecret = pulumi.Output.from_input(outputs["databasePasswordSecret"])
        self.databaseUrl = pulumi.Output.from_input(outputs["databaseUrl"])
        self.register_outputs(outputs)


def app_arguments(inputs: Mapping[str, Any]) -> AppArgs:
    """The package's inputs -> validated :class:`components.ThreeTierAppArgs` (the stack config's model).

    Raises :class:`components.ConfigError` naming every bad key (``frontend.nodePort``) and its
    allowed values. An input that is another resource's output, unknown until it is deployed,
    is refused too: the app is validated and laid out before anything is registered. So is a key
    that is no input (``platformStack``: the package's app reads no platform stack), and an empty
    namespace.
    """
    raise_if_any(
        [
            Problem(key, "is an output of another resource; allowed values: a value known before the deployment")
            for key in _outputs_in(inputs)
        ]
        + [unknown_key(key, dict.fromkeys(INPUTS, "")) for key in inputs if key not in INPUTS]
    )
    inputs = {"namespace": STANDALONE_NAMESPACE, **_whole_numbers_as_ints(inputs)}
    settings = parse_settings(
        {key: value for key, value in inputs.items() if key not in APP_ONLY_INPUTS and key != CREATE_NAMESPACE},
        prefix="",
    ).app
    extras = {field: inputs[key] for key, field in APP_ONLY_INPUTS.items() if key in inputs}
    app = replace(settings, **extras)
    raise_if_any(app.validate())
    return app


def app_target(
    inputs: Mapping[str, Any], namespace: str, opts: Optional[pulumi.ResourceOptions]
) -> Optional[ExistingNamespace]:
    """The app's mode: None (standalone, it creates its namespace) or the existing namespace and its provider.

    Raises :class:`components.ConfigError` naming ``createNamespace`` when it is no boolean, or
    false without a kubernetes provider in the resource options: the app would otherwise deploy
    with the default provider's credentials into a namespace it does not own.
    """
    create = inputs.get(CREATE_NAMESPACE, True)
    if not isinstance(create, bool):
        raise_if_any([Problem(CREATE_NAMESPACE, f"{create!r} is not valid; allowed values: true, false")])
    if create:
        return None
    provider = kubernetes_provider_of(opts)
    if provider is None:
        raise_if_any(
            [
                Problem(
                    CREATE_NAMESPACE,
                    "false needs the namespace's kubernetes provider (its deployer) in the component's resource "
                    "options (providers); allowed values: true, or false with that provider",
                )
            ]
        )
    return ExistingNamespace(namespace, provider) if provider is not None else None


def kubernetes_provider_of(opts: Optional[pulumi.ResourceOptions]) -> Optional[pulumi.ProviderResource]:
    """The kubernetes provider of resource options (``providers``, by package or as a list, or ``provider``)."""
    if opts is None:
        return None
    providers = opts.providers
    candidates = list(providers.values()) if isinstance(providers, Mapping) else list(providers or [])
    if opts.provider is not None:
        candidates.append(opts.provider)
    return next((provider for provider in candidates if provider.package == "kubernetes"), None)


def _whole_numbers_as_ints(value: Any) -> Any:
    """``value`` with every integral float an int: the wire carries every number as a float (8 -> 8.0)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, Mapping):
        return {key: _whole_numbers_as_ints(item) for key, item in value.items()}
    return value


def _outputs_in(value: Any, key: str = "") -> list[str]:
    """The keys of ``value`` whose values are Outputs, at any depth."""
    if isinstance(value, pulumi.Output):
        return [key]
    if isinstance(value, Mapping):
        return [found for name, item in value.items() for found in _outputs_in(item, f"{key}.{name}" if key else name)]
    return []


class PackageProvider(ComponentProvider):
    """The package's provider: the SDK's component provider, which reports bad input per property.

    The SDK wraps any error a component raises with its traceback (``Unexpected <class
    'Exception'>: ...``); the inputs are validated here first, so the engine shows the message
    and one line per bad key (``property frontend.nodePort with value '{8080}' has a problem:
    8080 is not valid; allowed values: an integer from 30000 to 32767``), with nothing registered.
    """

    def __init__(self, version: str) -> None:
        super().__init__([ThreeTierApp], PACKAGE, version=version)

    def construct(
        self, name: str, resource_type: str, inputs: Mapping[str, Any], options: Optional[pulumi.ResourceOptions] = None
    ) -> ConstructResult:
        """Validate the inputs (as the component will), then construct the component."""
        if resource_type == APP_TOKEN:
            try:
                app_target(inputs, app_arguments(inputs).namespace, options)
            except ConfigError as error:
                problems = [{"property_path": problem.key, "reason": problem.message} for problem in error.problems]
                raise InputPropertiesError(str(error), problems) from error  # type: ignore[arg-type]
        return super().construct(name, resource_type, dict(inputs), options)
