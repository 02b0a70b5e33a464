"""The stack configuration model: Pulumi config -> typed, validated :class:`ThreeTierAppArgs`.

Every key the program reads is declared here and in ``Pulumi.yaml`` (with the same
defaults; a unit test keeps them in step). Unknown keys, wrong types and invalid values
raise :class:`components.ConfigError` naming the key (e.g. ``threetier:frontend.nodePort``)
and the allowed values, before any resource is registered.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Optional

import pulumi
from pulumi.runtime.config import CONFIG

from . import validation as v
from .args import TIER_KEYS, ResourceSpec, ThreeTierAppArgs, TierArgs
from .errors import Problem, raise_if_any
from .scheduling import parse_scheduling

#: Project name = config namespace of the keys below.
PROJECT = "threetier"

#: Top-level keys and their Pulumi config types (as declared in Pulumi.yaml).
#: Defaults live in DEFAULTS; descriptions in Pulumi.yaml.
TOP_LEVEL_KEYS: dict[str, str] = {
    "namespace": "string",
    "clusterDomain": "string",
    "appName": "string",
    "skipAwait": "boolean",
    "kubeconfig": "string",
    "kubeContext": "string",
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
    "namespace": "threetier",
    "clusterDomain": "cluster.local",
    "appName": "threetier",
    "skipAwait": False,
    "kubeconfig": "",
    "kubeContext": "",
    **{key: {} for key in TIER_KEYS},
}


@dataclass(frozen=True)
class StackSettings:
    """Validated stack settings: the app's arguments plus where to deploy them."""

    app: ThreeTierAppArgs
    #: Kubeconfig path; empty means the provider's default ($KUBECONFIG, ~/.kube/config).
    kubeconfig: str
    #: Kubeconfig context; empty means the current context.
    kube_context: str


def parse_settings(raw: Mapping[str, Any], *, prefix: str = f"{PROJECT}:") -> StackSettings:
    """Turn raw config values (objects already decoded) into validated settings.

    ``raw`` maps key names without the project prefix to values, e.g.
    ``{"namespace": "threetier-dev", "frontend": {"serviceType": "NodePort", ...}}``.
    Raises :class:`ConfigError` listing every problem; nothing is registered before that.
    """
    problems = [_unknown_key(f"{prefix}{name}") for name in raw if name not in TOP_LEVEL_KEYS]
    values = {**DEFAULTS, **{k: raw[k] for k in raw if k in TOP_LEVEL_KEYS}}

    for key in ("namespace", "clusterDomain", "appName", "kubeconfig", "kubeContext"):
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
    raise_if_any(app.validate(key_prefix=prefix))
    return StackSettings(app, kubeconfig=values["kubeconfig"], kube_context=values["kubeContext"])


def read_settings(config: Optional[pulumi.Config] = None) -> StackSettings:
    """Read every declared key from Pulumi config (the project's namespace) and parse it.

    A value of the wrong type (e.g. a string where an object belongs) is reported like any
    other problem, naming the key; no resource has been registered when this raises.
    """
    config = config or pulumi.Config(PROJECT)
    prefix = f"{config.name}:"
    getters: dict[str, Callable[[str], Optional[Any]]] = {
        "string": config.get,
        "boolean": config.get_bool,
        "object": config.get_object,
    }
    raw: dict[str, Any] = {}
    problems: list[Problem] = []
    for key, kind in TOP_LEVEL_KEYS.items():
        try:
            value = getters[kind](key)
        except pulumi.ConfigTypeError:
            problems.append(
                Problem(f"{prefix}{key}", f"{config.get(key)!r} is not valid; allowed values: {_KIND_VALUES[kind]}")
            )
            continue
        if value is not None:
            raw[key] = value
    # Keys set in the stack but not declared (typos) are errors, not silently ignored.
    problems += [
        _unknown_key(name)
        for name in sorted(CONFIG.get())
        if name.startswith(prefix) and name[len(prefix) :] not in TOP_LEVEL_KEYS
    ]
    raise_if_any(problems)
    return parse_settings(raw, prefix=prefix)


_KIND_VALUES = {"string": "a string", "boolean": "true, false", "object": "a JSON object"}


def _unknown_key(key: str) -> Problem:
    return Problem(key, f"unknown key; allowed keys: {', '.join(TOP_LEVEL_KEYS)}")


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
