"""The platform stack of one environment: namespace, quota, limits, scoped deployer (components.platform_program)."""

import sys
from pathlib import Path

# Run by the language host with this directory as the working directory: the repository's packages.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from components.platform_program import platform_program
from components.settle import settle_outputs_at_end

platform_program()
settle_outputs_at_end()  # wait for its outputs in linear time (components.settle)
