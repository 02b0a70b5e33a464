"""The platform stack's configuration: Pulumi config (project ``threetier-platform``) -> validated settings.

Every key is declared here and in ``platform/Pulumi.yaml`` (same defaults; a unit test keeps them
in step). Bad values raise :class:`components.ConfigError` naming the key
(``threetier-platform:quota.pods``) and the allowed values, before any resource is registered.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Optional

import pulumi

from . import validation as v
from .args import ResourceSpec
from .config import read_declared, unknown_key
from .environment import EnvironmentArgs
from .errors import Problem, raise_if_any
from .platform_reference import PLATFORM_PROJECT
from .quota import ContainerLimits, EnvironmentQuota

PLATFORM_KEYS: dict[str, str] = {
    "namespace": "string",
    "appName": "string",
    "apiServer": "string",
    "kubeconfig": "string",
    "kubeContext": "string",
    "quota": "object",
    "limits": "object",
}
#: The quota of an environment whose stack sets none of its keys.
QUOTA_DEFAULTS: dict[str, Any] = {
    "requests.cpu": "1",
    "requests.memory": "1Gi",
    "limits.cpu": "4",
    "limits.memory": "4Gi",
    "pods": 20,
}
LIMIT_PARTS = ("defaultRequest", "default", "max")
PLATFORM_DEFAULTS: dict[str, Any] = {
    # Empty: threetier-<stack>.
    "namespace": "",
    "appName": "threetier",
    # The local cluster's (hack/cluster-up.sh); set it for another cluster.
    "apiServer": "https://127.0.0.1:16443",
    "kubeconfig": "",
    "kubeContext": "",
    "quota": {},
    "limits": {},
}


@dataclass(frozen=True)
class PlatformSettings:
    """Validated platform settings: the environment, and the admin credentials it is created with."""

    environment: EnvironmentArgs
    #: Admin kubeconfig path; empty: the default provider's ($KUBECONFIG, ~/.kube/config).
    kubeconfig: str = ""
    #: Its context; empty: the current one.
    kube_context: str = ""


def parse_platform_settings(
    raw: Mapping[str, Any], *, stack: str, prefix: str = f"{PLATFORM_PROJECT}:"
) -> PlatformSettings:
    """Turn raw config values into validated settings; :class:`ConfigError` lists every problem."""
    problems = [unknown_key(f"{prefix}{name}", PLATFORM_KEYS) for name in raw if name not in PLATFORM_KEYS]
    values = {**PLATFORM_DEFAULTS, **{k: raw[k] for k in raw if k in PLATFORM_KEYS}}
    for key in ("namespace", "appName", "apiServer", "kubeconfig", "kubeContext"):
        if not isinstance(values[key], str):
            problems.append(Problem(f"{prefix}{key}", f"{values[key]!r} is not valid; allowed values: a string"))
    quota, limits = values["quota"], values["limits"]
    for key, value in (("quota", quota), ("limits", limits)):
        if not isinstance(value, Mapping):
            problems.append(Problem(f"{prefix}{key}", f"{value!r} is not valid; allowed values: a JSON object"))
    raise_if_any(problems)
    problems += v.check_known_keys(f"{prefix}limits", limits, LIMIT_PARTS)
    parts: dict[str, Mapping[str, Any]] = {}
    for part in LIMIT_PARTS:
        block = limits.get(part, {})
        if not isinstance(block, Mapping):
            problems.append(
                Problem(
                    f"{prefix}limits.{part}", f"{block!r} is not valid; allowed values: an object with keys cpu, memory"
                )
            )
            block = {}
        problems += v.check_known_keys(f"{prefix}limits.{part}", block, ("cpu", "memory"))
        parts[part] = block
    raise_if_any(problems)
    base = ContainerLimits()
    environment = EnvironmentArgs(
        namespace=values["namespace"] or f"{values['appName']}-{stack}",
        api_server=values["apiServer"],
        quota=EnvironmentQuota({**QUOTA_DEFAULTS, **quota}),
        limits=ContainerLimits(
            default_request=ResourceSpec(
                cpu_request=parts["defaultRequest"].get("cpu", base.default_request.cpu_request),
                memory_request=parts["defaultRequest"].get("memory", base.default_request.memory_request),
                cpu_limit=parts["default"].get("cpu", base.default_request.cpu_limit),
                memory_limit=parts["default"].get("memory", base.default_request.memory_limit),
            ),
            max_cpu=parts["max"].get("cpu", base.max_cpu),
            max_memory=parts["max"].get("memory", base.max_memory),
        ),
        app_name=values["appName"],
    )
    raise_if_any(environment.validate(key_prefix=prefix))
    return PlatformSettings(environment, kubeconfig=values["kubeconfig"], kube_context=values["kubeContext"])


def read_platform_settings(config: Optional[pulumi.Config] = None) -> PlatformSettings:
    """Read every declared key of the platform stack from Pulumi config and parse it."""
    config = config or pulumi.Config(PLATFORM_PROJECT)
    raw = read_declared(config, PLATFORM_KEYS)
    return parse_platform_settings(raw, stack=pulumi.get_stack(), prefix=f"{config.name}:")
