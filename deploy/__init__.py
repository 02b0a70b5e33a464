"""Deploy this project's stacks through the real Pulumi engine.

- :mod:`deploy.engine`: find the installed engine (CLI, language host, resource plugins) and name
  what is missing (``python -m deploy``).
- :mod:`deploy.stack`: select a stack in a local backend and run ``up`` (gated by the policy pack
  offline, as ``make up`` does, or by the engine's preview),
  ``preview``, ``destroy`` and ``stack rm --preserve-config`` through the Automation API.
- :mod:`deploy.gate`: the offline policy gate, in a process of its own.

Names are imported on first use: ``python -m deploy up`` starts the gate before the SDK is loaded.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "Backend": "stack",
    "Engine": "engine",
    "Piece": "engine",
    "PolicyRefusedError": "gate",
    "ProjectStack": "stack",
    "config_copy": "stack",
    "find_engine": "engine",
    "offline_gate": "gate",
    "open_stack": "stack",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'deploy' has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
