"""The project's Pulumi program as a function: stack config -> the app, in its environment -> the stack's outputs.

``__main__.py`` runs it under ``pulumi up``; the Automation API runs it as an *inline* program
(``deploy.stack``), which spares the language host's start-up (a ``pip list`` and two more Python
processes) and a second import of the SDK. Another program can run it too, in its own stack.

The app deploys in **platform mode**: its environment (namespace, quota, limit range, deployer) is
the platform stack's (``platform/``, :func:`components.platform_program.platform_program`), read
by StackReference; every Kubernetes object goes through the deployer's provider, never with the
credentials of whoever runs ``pulumi up``.
"""

import pulumi

from .app import ExistingNamespace, ThreeTierApp
from .config import read_settings
from .platform_reference import default_platform_stack, read_environment
from .provider import deployer_provider


def three_tier_program(name: str = "threetier") -> ThreeTierApp:
    """Read and validate the stack's config and its environment, build the app, export its outputs; the app.

    Invalid config raises :class:`~components.errors.ConfigError` before any resource is
    registered; an app that does not fit its environment's quota raises it once the platform
    stack has been read, before any Kubernetes object or provider is registered.
    """
    config = pulumi.Config()
    settings = read_settings(config)
    platform_stack = settings.platform_stack or default_platform_stack(pulumi.get_stack())
    environment = read_environment(platform_stack, key=f"{config.name}:platformStack")
    args = settings.in_environment(environment)
    provider = deployer_provider("deployer", environment)
    app = ThreeTierApp(name, args, target=ExistingNamespace(environment.namespace, provider))
    for output, value in app.stack_outputs().items():
        pulumi.export(output, value)
    pulumi.export("platformStack", platform_stack)
    return app
