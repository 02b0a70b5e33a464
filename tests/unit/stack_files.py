"""Read the shipped stack files independently of the code under test."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
STACKS = ("dev", "staging", "prod")


def stack_yaml(stack: str) -> dict[str, Any]:
    """The ``config:`` block of ``stacks/Pulumi.<stack>.yaml``."""
    config: dict[str, Any] = yaml.safe_load((ROOT / "stacks" / f"Pulumi.{stack}.yaml").read_text())["config"]
    return config


def platform_yaml(stack: str) -> dict[str, Any]:
    """The ``config:`` block of ``platform/stacks/Pulumi.<stack>.yaml`` (the environment's platform stack)."""
    config: dict[str, Any] = yaml.safe_load((ROOT / "platform" / "stacks" / f"Pulumi.{stack}.yaml").read_text())[
        "config"
    ]
    return config


def environment_namespace(stack: str) -> str:
    """The namespace of ``stack``'s environment, as its platform stack file names it."""
    return str(platform_yaml(stack)["threetier-platform:namespace"])


def tier_setting(stack: str, tier: str, key: str, default: Any = None) -> Any:
    """One tier setting as the stack file writes it (``default`` when the file leaves it out)."""
    return stack_yaml(stack).get(f"threetier:{tier}", {}).get(key, default)
