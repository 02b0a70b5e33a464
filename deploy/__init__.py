"""Deploy this project's stacks through the real Pulumi engine.

- :mod:`deploy.engine`: find the installed engine (CLI, language host, resource plugins) and name
  what is missing (``python -m deploy.engine``).
- :mod:`deploy.stack`: select a stack in a local backend and run ``up`` (gated by the policy pack
  offline, as ``make up`` does, or by the engine's preview),
  ``preview``, ``destroy`` and ``stack rm --preserve-config`` through the Automation API.
"""

from .engine import Engine, Piece, find_engine
from .stack import Backend, PolicyRefusedError, ProjectStack, config_copy, offline_gate, open_stack

__all__ = [
    "Backend",
    "Engine",
    "Piece",
    "PolicyRefusedError",
    "ProjectStack",
    "config_copy",
    "find_engine",
    "offline_gate",
    "open_stack",
]
