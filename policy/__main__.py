"""Entry point the Pulumi engine runs: serve the policy pack over gRPC."""

import sys
from pathlib import Path

from pulumi_policy import EnforcementLevel, PolicyPack

# Run as a script by the engine (cwd = this directory): make `threetier_policies` importable.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from threetier_policies import PACK_NAME, build_policies  # type: ignore[import-not-found]

PolicyPack(
    name=PACK_NAME,
    policies=build_policies(),
    enforcement_level=EnforcementLevel.MANDATORY,
)
