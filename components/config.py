"""The stack configuration model: Pulumi config -> typed, validated :class:`ThreeTierAppArgs`.

Every key the program reads is declared here and in ``Pulumi.yaml`` (with the same
defaults; a unit test keeps them in step). Unknown keys, wrong types and invalid values
raise :class:`components.ConfigError` naming the key (e.g. ``threetier:frontend.nodePort``)
and the allowed values, before any resource is registered.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Optional

import pulumi
from pulumi.runtime.config import CONFIG

from . import validation as v
from .args import TIER_KEYS, ResourceSpec, ThreeTierAppArgs, TierArgs
from .errors import Problem, raise_if_any
from .quota import fit_problems
from .scheduling import parse_scheduling

if TYPE_CHECKING:
    from .platform_reference import Environment

#: Project name = config namespace of the keys below.
PROJECT = "threetier"

#: Top-level keys and their Pulumi config types (as declared in Pulumi.yaml).
#: Defaults live in DEFAULTS; descriptions in Pulumi.yaml.
TOP_LEVEL_KEYS: dict[str, str] = {
    "namespace": "string",
    "clusterDomain": "string",
    "appName": "string",
    "skipAwait": "boolean",
    "platformStack": "string",
    "frontend": "object",
    "backend": "object",
    "database": "object",
}

#: Keys of each tier object, in the order the README documents them.
TIER_SETTING_KEYS = (
    "image",
    "replicas",
    "serviceType",
    "port",
    "targetPort",
    "nodePort",
    "env",
    "resources",
    "healthPath",
    "readinessPath",
    "runAsUser",
    "imagePullPolicy",
    # Scheduling (components.scheduling): spread across nodes, node selection, eviction timing.
    "spread",
    "nodeSelector",
    "tolerations",
    "evictionSeconds",
)
RESOURCE_KEYS = ("requests", "limits")
QUANTITY_KEYS = ("cpu", "memory")

#: Defaults of each tier when a stack leaves a setting out.
TIER_DEFAULTS: dict[str, dict[str, Any]] = {
    "frontend": {
        "image": "threetier/frontend:1.0.0",
        "replicas": 1,
        "serviceType": "ClusterIP",
        "port": 80,
        "targetPort": 8080,
        "healthPath": "/healthz",
    },
    "backend": {
        "image": "threetier/backend:1.1.0",
        "replicas": 1,
        "serviceType": "ClusterIP",
        "port": 8080,
        "targetPort": 8080,
        "healthPath": "/healthz",
        # Ready only when it can serve: /readyz also asks the database (README, "Readiness").
        "readinessPath": "/readyz",
    },
    "database": {
        "image": "threetier/database:1.1.0",
        "replicas": 1,
        "serviceType": "ClusterIP",
        "port": 5432,
        "targetPort": 5432,
        "healthPath": None,
    },
}
TIER_SCHEMES = {"frontend": "http", "backend": "http", "database": "postgres"}

DEFAULTS: dict[str, Any] = {
    # Empty: the namespace of the environment, as its platform stack exports it.
    "namespace": "",
    "clusterDomain": "cluster.local",
    "appName": "threetier",
    "skipAwait": False,
    # Empty: organization/threetier-platform/<this stack> (components.platform_reference).
    "platformStack": "",
    **{key: {} for key in TIER_KEYS},
}


@dataclass(frozen=True)
class StackSettings:
    """Validated stack settings: the app's arguments plus the platform stack it deploys into.

    ``app.namespace`` is empty when the stack leaves it to the platform; :meth:`in_environment`
    fills it in and checks the app against the environment's budget.
    """

    app: ThreeTierAppArgs
    #: The platform stack to read (StackReference name); empty means the default for this stack.
    platform_stack: str = ""
    #: The config keys' prefix (``threetier:``), for errors found once the environment is known.
    prefix: str = f"{PROJECT}:"

    def in_environment(self, environment: Environment) -> ThreeTierAppArgs:
        """The app's arguments in ``environment``: its namespace, and checked against its quota and limits.

        Raises :class:`ConfigError` naming the key when the stack's namespace is not the
        environment's, or when the tiers need more than the quota or the limit range allows
        (:func:`components.quota.fit_problems`); nothing has been registered then.
        """
        key = f"{self.prefix}namespace"
        if self.app.namespace and self.app.namespace != environment.namespace:
            raise_if_any(
                [
                    Problem(
                        key,
                        f"{self.app.namespace!r} is not the namespace of platform stack {environment.stack} "
                        f"({environment.namespace!r}); allowed values: unset, or {environment.namespace!r}",
                    )
                ]
            )
        app = replace(self.app, namespace=environment.namespace)
        raise_if_any(
            fit_problems(
                app,
                environment.quota,
                environment.limits,
                key_prefix=self.prefix,
                environment=f"namespace {environment.namespace} (platform stack {environment.stack})",
            )
        )
        return app


def parse_settings(raw: Mapping[str, Any], *, prefix: str = f"{PROJECT}:") -> StackSettings:
    """Turn raw config values (objects already decoded) into validated settings.

    ``raw`` maps key names without the project prefix to values, e.g.
    ``{"namespace": "threetier-dev", "frontend": {"serviceType": "NodePort", ...}}``.
    Raises :class:`ConfigError` listing every problem; nothing is registered before that.
    """
    problems = [unknown_key(f"{prefix}{name}") for name in raw if name not in TOP_LEVEL_KEYS]
    values = {**DEFAULTS, **{k: raw[k] for k in raw if k in TOP_LEVEL_KEYS}}

    for key in ("namespace", "clusterDomain", "appName", "platformStack"):
        if not isinstance(values[key], str):
            problems.append(Problem(f"{prefix}{key}", f"{values[key]!r} is not valid; allowed values: a string"))
    if not isinstance(values["skipAwait"], bool):
        problems.append(
            Problem(f"{prefix}skipAwait", f"{values['skipAwait']!r} is not valid; allowed values: true, false")
        )

    tiers: dict[str, TierArgs] = {}
    for tier_key in TIER_KEYS:
        tier, tier_problems = _parse_tier(f"{prefix}{tier_key}", tier_key, values[tier_key])
        problems += tier_problems
        if tier is not None:
            tiers[tier_key] = tier
    raise_if_any(problems)

    app = ThreeTierAppArgs(
        namespace=values["namespace"],
        cluster_domain=values["clusterDomain"],
        app_name=values["appName"],
        skip_await=values["skipAwait"],
        frontend=tiers["frontend"],
        backend=tiers["backend"],
        database=tiers["database"],
    )
    problems = app.validate(key_prefix=prefix)
    if not values["namespace"]:  # unset: the platform's, checked once it is read (in_environment)
        problems = [problem for problem in problems if problem.key != f"{prefix}namespace"]
    raise_if_any(problems)
    return StackSettings(app, platform_stack=values["platformStack"], prefix=prefix)


def read_settings(config: Optional[pulumi.Config] = None) -> StackSettings:
    """Read every declared key from Pulumi config (the project's namespace) and parse it.

    A value of the wrong type (e.g. a string where an object belongs) is reported like any
    other problem, naming the key; no resource has been registered when this raises.
    """
    config = config or pulumi.Config(PROJECT)
    return parse_settings(read_declared(config, TOP_LEVEL_KEYS), prefix=f"{config.name}:")


def read_declared(config: pulumi.Config, declared: Mapping[str, str]) -> dict[str, Any]:
    """The values set for the ``declared`` keys (name -> Pulumi config type), objects decoded.

    Raises :class:`ConfigError` for a value of the wrong type and for a key of the project's
    namespace that is set but not declared (a typo is an error, not silently ignored).
    """
    prefix = f"{config.name}:"
    getters: dict[str, Callable[[str], Optional[Any]]] = {
        "string": config.get,
        "boolean": config.get_bool,
        "object": config.get_object,
    }
    raw: dict[str, Any] = {}
    problems: list[Problem] = []
    for key, kind in declared.items():
        try:
            value = getters[kind](key)
        except pulumi.ConfigTypeError:
            problems.append(
                Problem(f"{prefix}{key}", f"{config.get(key)!r} is not valid; allowed values: {_KIND_VALUES[kind]}")
            )
            continue
        if value is not None:
            raw[key] = value
    problems += [
        unknown_key(name, declared)
        for name in sorted(CONFIG.get())
        if name.startswith(prefix) and name[len(prefix) :] not in declared
    ]
    raise_if_any(problems)
    return raw


_KIND_VALUES = {"string": "a string", "boolean": "true, false", "object": "a JSON object"}


def unknown_key(key: str, declared: Mapping[str, str] = TOP_LEVEL_KEYS) -> Problem:
    """The problem of a key that is set but not declared, listing the declared ones."""
    return Problem(key, f"unknown key; allowed keys: {', '.join(declared)}")


def _parse_tier(key: str, tier_key: str, value: Any) -> tuple[Optional[TierArgs], list[Problem]]:
    if not isinstance(value, Mapping):
        return None, [
            Problem(
                key, f"{value!r} is not valid; allowed values: a JSON object with keys {', '.join(TIER_SETTING_KEYS)}"
            )
        ]
    problems = v.check_known_keys(key, value, TIER_SETTING_KEYS)
    settings = {**TIER_DEFAULTS[tier_key], **value}
    resources, resource_problems = _parse_resources(f"{key}.resources", settings.get("resources", {}))
    problems += resource_problems
    env = settings.get("env", {})
    problems += v.check_env(f"{key}.env", env)
    scheduling, scheduling_problems = parse_scheduling(key, settings)
    problems += scheduling_problems
    if problems:
        return None, problems
    return (
        TierArgs(
            image=settings["image"],
            port=_as_int(settings["port"]),
            target_port=_as_int(settings.get("targetPort")),
            replicas=_as_int(settings["replicas"]),
            service_type=settings["serviceType"],
            node_port=_as_int(settings.get("nodePort")),
            env=dict(env),
            resources=resources,
            health_path=settings.get("healthPath"),
            readiness_path=settings.get("readinessPath"),
            run_as_user=_as_int(settings.get("runAsUser", 10001)),
            image_pull_policy=settings.get("imagePullPolicy", "IfNotPresent"),
            scheduling=scheduling,
            scheme=TIER_SCHEMES[tier_key],
        ),
        [],
    )


def _parse_resources(key: str, value: Any) -> tuple[ResourceSpec, list[Problem]]:
    default = ResourceSpec()
    if not isinstance(value, Mapping):
        return default, [Problem(key, f"{value!r} is not valid; allowed values: an object with keys requests, limits")]
    problems = v.check_known_keys(key, value, RESOURCE_KEYS)
    parts: dict[str, Mapping[str, Any]] = {}
    for part in RESOURCE_KEYS:
        block = value.get(part, {})
        if not isinstance(block, Mapping):
            problems.append(
                Problem(f"{key}.{part}", f"{block!r} is not valid; allowed values: an object with keys cpu, memory")
            )
            block = {}
        problems += v.check_known_keys(f"{key}.{part}", block, QUANTITY_KEYS)
        parts[part] = block
    spec = ResourceSpec(
        cpu_request=parts["requests"].get("cpu", default.cpu_request),
        memory_request=parts["requests"].get("memory", default.memory_request),
        cpu_limit=parts["limits"].get("cpu", default.cpu_limit),
        memory_limit=parts["limits"].get("memory", default.memory_limit),
    )
    return spec, problems


_as_int = v.as_int
