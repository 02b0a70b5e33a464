"""The three-tier app stack: read config -> build the app -> export its outputs."""

import pulumi

from components import ThreeTierApp, kubernetes_provider, read_settings

settings = read_settings(pulumi.Config())
provider = kubernetes_provider("kubernetes", settings)
app = ThreeTierApp(
    "threetier",
    settings.app,
    opts=pulumi.ResourceOptions(providers=[provider] if provider else None),
)
for name, value in app.stack_outputs().items():
    pulumi.export(name, value)
