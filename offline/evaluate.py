"""Evaluate a project's stacks under :class:`ApiServerMocks`: what ``make render``, ``make policy`` and tests use.

The project is the one :func:`offline.project.find_project` finds (the working directory's
``Pulumi.yaml``, or this repository when run from it) unless ``project_dir`` names another.
The generic machinery lives in :mod:`offline.recording`; its names are re-exported here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Optional, Union

from .project import PulumiProject, find_project
from .recording import Evaluation, RecordingMonitor, RegisteredResource, evaluate_program

__all__ = [
    "Evaluation",
    "RecordingMonitor",
    "RegisteredResource",
    "evaluate_program",
    "evaluate_stack",
    "run_main_program",
    "stack_config",
]

ProjectDir = Optional[Union[str, Path]]


def _project(project_dir: ProjectDir) -> PulumiProject:
    return PulumiProject.load(project_dir) if project_dir is not None else find_project()


def stack_config(
    stack: str, overrides: Optional[Mapping[str, Any]] = None, *, project_dir: ProjectDir = None
) -> dict[str, str]:
    """The flat config the engine would give the project's program for ``stack`` (see :meth:`PulumiProject.config`)."""
    return _project(project_dir).config(stack, overrides)


def run_main_program(project_dir: ProjectDir = None) -> None:
    """Execute the project's main program (``__main__.py``) as the Pulumi language host would."""
    _project(project_dir).run_program()


def evaluate_stack(
    stack: str,
    overrides: Optional[Mapping[str, Any]] = None,
    *,
    preview: bool = False,
    project_dir: ProjectDir = None,
    on_registered: Optional[Callable[[RegisteredResource], None]] = None,
) -> Evaluation:
    """Evaluate the project's program for ``stack`` (its real stack file); ``preview`` as a dry run.

    ``on_registered`` is called with each resource as it is registered (the streaming gate's feed).
    """
    return _project(project_dir).evaluate(stack, overrides, preview=preview, on_registered=on_registered)


def __getattr__(name: str) -> Path:
    """``MAIN_PROGRAM``: the default project's main program, looked up when asked."""
    if name == "MAIN_PROGRAM":
        return find_project().main_program
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
