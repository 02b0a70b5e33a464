"""The project's Pulumi program as a function: stack config -> the app -> the stack's outputs.

``__main__.py`` runs it under ``pulumi up``; the Automation API runs it as an *inline* program
(``deploy.stack``), which spares the language host's start-up (a ``pip list`` and two more Python
processes) and a second import of the SDK. Another program can run it too, in its own stack.
"""

import pulumi

from .app import ThreeTierApp
from .config import read_settings
from .provider import kubernetes_provider


def three_tier_program(name: str = "threetier") -> ThreeTierApp:
    """Read and validate the stack's config, build the app, export its outputs; the app.

    Invalid config raises :class:`~components.errors.ConfigError` before any resource is registered.
    """
    settings = read_settings(pulumi.Config())
    provider = kubernetes_provider("kubernetes", settings)
    app = ThreeTierApp(
        name,
        settings.app,
        opts=pulumi.ResourceOptions(providers=[provider] if provider else None),
    )
    for output, value in app.stack_outputs().items():
        pulumi.export(output, value)
    return app
