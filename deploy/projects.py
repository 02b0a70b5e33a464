"""The repository's two Pulumi projects: the app (``Pulumi.yaml``) and the platform (``platform/Pulumi.yaml``).

Each has its program (run inline by ``make up`` / ``make platform-up``, or as ``__main__.py`` by
the language host), its directory (the workspace the CLI runs in) and its policy config. Light:
the program is imported only when it runs.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from .engine import ROOT

POLICY_CONFIG_DIR = ROOT / "policy" / "config"


@dataclass(frozen=True)
class Project:
    """One Pulumi project of the repository."""

    name: str
    directory: Path
    #: ``module:function`` of the program (``__main__.py`` calls the same function).
    program: str
    #: One policy config for every stack; None: ``policy/config/<stack>.json``.
    policy_file: Optional[Path] = None
    #: The stack files' directory, relative to ``directory`` (the project's ``stackConfigDir``).
    stack_config_dir: str = "stacks"

    def stack_file(self, stack: str) -> Path:
        """``Pulumi.<stack>.yaml`` of this project."""
        return self.directory / self.stack_config_dir / f"Pulumi.{stack}.yaml"

    def policy_config(self, stack: str) -> Path:
        """The policy pack's configuration for ``stack`` of this project."""
        return self.policy_file or POLICY_CONFIG_DIR / f"{stack}.json"

    def gate_args(self, stack: str) -> list[str]:
        """Extra arguments of ``python -m offline.policy_check`` for this project (none for the app)."""
        if self.directory == ROOT and self.policy_file is None:
            return []
        return ["--project-dir", str(self.directory), "--config", str(self.policy_config(stack))]

    def load_program(self) -> Callable[[], object]:
        """The program function, imported now."""
        module, _, function = self.program.partition(":")
        loaded: Callable[[], object] = getattr(importlib.import_module(module), function)
        return loaded


#: The three-tier app: one stack per environment, deployed by the environment's deployer.
APP = Project("threetier", ROOT, "components.program:three_tier_program")
#: The platform: one stack per environment (namespace, quota, limits, deployer), deployed as admin.
PLATFORM = Project(
    "threetier-platform",
    ROOT / "platform",
    "components.platform_program:platform_program",
    POLICY_CONFIG_DIR / "platform.json",
)
#: The fleet (examples/fleet: N apps, each in a namespace it creates, on the simulated nodes), deployed
#: as admin like the component package's consumers: judged with the standalone programs' config.
FLEET = Project(
    "fleet",
    ROOT / "examples" / "fleet",
    "examples.fleet.fleet:fleet_program",
    POLICY_CONFIG_DIR / "standalone.json",
    stack_config_dir="",
)
#: The projects ``python -m deploy up --project`` deploys (the platform: ``python -m deploy.platform``).
PROJECTS = {"threetier": APP, "fleet": FLEET}
