"""The platform stack's Pulumi program: one environment per stack, created with admin credentials.

``platform/__main__.py`` runs it under ``pulumi up``; ``python -m deploy.platform up STACK`` (``make
platform-up``) runs it inline. It exports what the environment's app stack reads by StackReference
(:meth:`components.environment.EnvironmentBase.stack_outputs`; the kubeconfig as a secret).
"""

import pulumi

from .environment import EnvironmentBase
from .platform_config import read_platform_settings
from .provider import kubernetes_provider


def platform_program(name: str = "threetier") -> EnvironmentBase:
    """Read and validate the platform stack's config, build the environment, export its outputs."""
    settings = read_platform_settings(pulumi.Config())
    provider = kubernetes_provider("admin", settings.kubeconfig, settings.kube_context)
    environment = EnvironmentBase(
        name, settings.environment, opts=pulumi.ResourceOptions(providers=[provider] if provider else None)
    )
    for output, value in environment.stack_outputs().items():
        pulumi.export(output, value)
    return environment
