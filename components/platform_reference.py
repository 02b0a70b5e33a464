"""An app stack's view of its environment, read from the platform stack by ``pulumi.StackReference``.

The platform stack (``platform/``, :func:`components.platform_program.platform_program`) exports
per environment its namespace, its ResourceQuota and LimitRange, and the deployer's kubeconfig (a
secret). :func:`read_environment` reads them before the app registers anything, so the app's
config can be checked against the quota first; the kubeconfig stays a secret Output that only the
deployer's provider receives.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi.runtime.sync_await import _sync_await  # the SDK's own way to wait inside a program (sync invokes)

from .errors import ConfigError, Problem
from .quota import ContainerLimits, EnvironmentQuota

#: The platform program's project name (platform/Pulumi.yaml).
PLATFORM_PROJECT = "threetier-platform"
#: The organization of stacks in a DIY (file, PostgreSQL, S3...) backend.
DIY_ORGANIZATION = "organization"
#: Outputs an app reads from its platform stack (``kubeconfig`` is read as a secret Output).
REQUIRED_OUTPUTS = ("namespace", "quota", "limits", "kubeconfig")


def default_platform_stack(stack: str, project: str = PLATFORM_PROJECT, organization: str = DIY_ORGANIZATION) -> str:
    """The platform stack of app stack ``stack``: ``organization/threetier-platform/<stack>``.

    The fully qualified name a DIY backend gives a stack of another project; the app's
    ``threetier:platformStack`` overrides it (e.g. ``acme/threetier-platform/dev`` on Pulumi Cloud).
    """
    return f"{organization}/{project}/{stack}"


@dataclass(frozen=True)
class Environment:
    """One environment as its platform stack exports it."""

    #: The platform stack's name (as the StackReference reads it).
    stack: str
    namespace: str
    quota: EnvironmentQuota
    limits: ContainerLimits
    #: The deployer's kubeconfig: a secret Output, for the deployer's provider only.
    kubeconfig: pulumi.Output[str]

    @classmethod
    def from_outputs(cls, stack: str, outputs: Mapping[str, Any], kubeconfig: pulumi.Output[str]) -> Environment:
        """Build from the platform stack's plain outputs (``namespace``, ``quota``, ``limits``) and its kubeconfig."""
        return cls(
            stack=stack,
            namespace=str(outputs["namespace"]),
            quota=EnvironmentQuota(dict(outputs["quota"])),
            limits=ContainerLimits.from_kubernetes(outputs["limits"]),
            kubeconfig=kubeconfig,
        )


def read_environment(stack: str, *, key: str, resource_name: str = "platform") -> Environment:
    """Read platform stack ``stack`` (a StackReference named ``resource_name``) and wait for its outputs.

    ``key`` is the config key that chose the stack: a stack that cannot be read, or that lacks
    an output (not deployed yet, or destroyed), raises :class:`ConfigError` naming it.
    """
    reference = pulumi.StackReference(resource_name, stack_name=stack)
    try:
        details = {name: _sync_await(reference.get_output_details(name)) for name in REQUIRED_OUTPUTS}
    except Exception as error:  # the engine's own words, e.g. "unknown stack"
        raise _unreadable(key, stack, str(error)) from None
    values = {
        name: detail.value if detail.value is not None else detail.secret_value for name, detail in details.items()
    }
    missing = [name for name, value in values.items() if value is None]
    if missing:
        raise _unreadable(key, stack, f"it exports no {', '.join(missing)} (not deployed, or destroyed)")
    try:
        return Environment.from_outputs(stack, values, pulumi.Output.secret(reference.require_output("kubeconfig")))
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise _unreadable(key, stack, f"its outputs are not an environment's ({error!r})") from None


def _unreadable(key: str, stack: str, why: str) -> ConfigError:
    return ConfigError(
        [
            Problem(
                key,
                f"cannot read the environment from platform stack {stack}: {why}; allowed values: a deployed platform "
                f"stack (make platform-up STACK=<stack>; default {default_platform_stack('<stack>')})",
            )
        ]
    )
