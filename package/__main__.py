"""The threetier component package's provider: components.package's components, schema inferred from them."""

import sys
from importlib.metadata import version

from pulumi.provider import main

from components.package import PackageProvider

main(PackageProvider(version("threetier")), sys.argv[1:])
