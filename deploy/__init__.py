"""Deploy this project's stacks through the real Pulumi engine.

- :mod:`deploy.engine`: find the installed engine (CLI, language host, resource plugins) and name
  what is missing (``python -m deploy.engine``).
- :mod:`deploy.stack`: select a stack in a local backend and run ``up`` (policy-gated),
  ``preview``, ``destroy`` and ``stack rm --preserve-config`` through the Automation API.
"""

from .engine import Engine, Piece, find_engine
from .stack import Backend, ProjectStack, config_copy, open_stack

__all__ = ["Backend", "Engine", "Piece", "ProjectStack", "config_copy", "find_engine", "open_stack"]
