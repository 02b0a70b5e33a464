"""The threetier component package's provider: hosts components.package's components, schema inferred from them."""

from importlib.metadata import version

from pulumi.provider.experimental import component_provider_host

from components.package import PACKAGE, ThreeTierApp

component_provider_host([ThreeTierApp], PACKAGE, version=version("threetier"))
