"""A Pulumi project on disk (``Pulumi.yaml``, stack files, main program), evaluated under the mocks.

Works for any Python Pulumi project: this repo's stacks, ``examples/cache_app`` or another
program that depends on the components. A program that reads another project's stack
(``pulumi.StackReference``) gets the outputs of that project's program when the project lies in a
subdirectory (this repo's ``platform/``). :func:`find_project` picks the project a bare command
means: the nearest ``Pulumi.yaml`` from the working directory up, else the checkout this
package runs from.
"""

from __future__ import annotations

import contextlib
import json
import runpy
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional, Union

import pulumi
import yaml

from .apiserver_mocks import ApiServerMocks
from .recording import Evaluation, RegisteredResource, evaluate_program
from .stack_references import ReferencedStack, diy_stack_name

PROJECT_FILE_NAME = "Pulumi.yaml"


@dataclass(frozen=True)
class PulumiProject:
    """What the engine reads of a project: its name, declared config, stack files and program."""

    directory: Path
    name: str
    #: Project-level config values and declared defaults, by full key (``<project>:<key>``).
    defaults: Mapping[str, Any]
    #: Where ``Pulumi.<stack>.yaml`` files live (``stackConfigDir``, default the project directory).
    stack_config_dir: Path
    #: The file the language host runs (``main``, default ``__main__.py``).
    main_program: Path

    @classmethod
    def load(cls, directory: Union[str, Path]) -> PulumiProject:
        """The project whose ``Pulumi.yaml`` is in ``directory``."""
        root = Path(directory).resolve()
        document = yaml.safe_load((root / PROJECT_FILE_NAME).read_text()) or {}
        name = str(document["name"])
        main = root / str(document.get("main") or ".")
        return cls(
            directory=root,
            name=name,
            defaults=_project_defaults(name, document.get("config") or {}),
            stack_config_dir=root / str(document.get("stackConfigDir") or "."),
            main_program=main / "__main__.py" if main.is_dir() else main,
        )

    def stacks(self) -> list[str]:
        """Names of the stacks that have a config file, sorted."""
        prefix, suffix = "Pulumi.", ".yaml"
        return sorted(
            path.name[len(prefix) : -len(suffix)]
            for path in self.stack_config_dir.glob(f"{prefix}*{suffix}")
            if path.name != PROJECT_FILE_NAME
        )

    def stack_file(self, stack: str) -> Path:
        """``Pulumi.<stack>.yaml`` of ``stack``; FileNotFoundError naming the known stacks when missing."""
        path = self.stack_config_dir / f"Pulumi.{stack}.yaml"
        if not path.exists():
            raise FileNotFoundError(f"no stack config {path}; known stacks: {', '.join(self.stacks())}")
        return path

    def config(self, stack: Optional[str] = None, overrides: Optional[Mapping[str, Any]] = None) -> dict[str, str]:
        """The flat config the engine would give the program for ``stack``.

        Project defaults from ``Pulumi.yaml``, then the stack file (when ``stack`` is given),
        then ``overrides``; keys without a namespace get the project's. Objects are
        JSON-encoded, as the engine passes them. Encrypted (``secure:``) values cannot be read
        offline: pass them in ``overrides``.
        """
        values: dict[str, Any] = dict(self.defaults)
        if stack is not None:
            document = yaml.safe_load(self.stack_file(stack).read_text()) or {}
            values.update(self._full_keys(document.get("config") or {}))
        values.update(self._full_keys(overrides or {}))
        encrypted = sorted(key for key, value in values.items() if isinstance(value, dict) and "secure" in value)
        if encrypted:
            raise ValueError(f"encrypted config cannot be read offline, pass it in overrides: {', '.join(encrypted)}")
        return {key: value if isinstance(value, str) else json.dumps(value) for key, value in values.items()}

    def run_program(self) -> None:
        """Execute the main program as the Python language host would (its directory on sys.path and as cwd)."""
        with _program_context(self.main_program.parent):
            runpy.run_path(str(self.main_program), run_name="__main__")

    def evaluate(
        self,
        stack: str,
        overrides: Optional[Mapping[str, Any]] = None,
        *,
        preview: bool = False,
        mocks: Optional[pulumi.runtime.Mocks] = None,
        on_registered: Optional[Callable[[RegisteredResource], None]] = None,
    ) -> Evaluation:
        """Evaluate the program for ``stack`` (its stack file's config) under ``mocks``.

        By default a fresh cluster that also knows the stacks of the projects beside this one
        (:meth:`mocks`). ``on_registered``: see :func:`~offline.recording.evaluate_program`.
        """
        return evaluate_program(
            self.run_program,
            stack=stack,
            config=self.config(stack, overrides),
            project=self.name,
            mocks=mocks or self.mocks(stack, preview=preview),
            on_registered=on_registered,
        )

    def mocks(self, stack: str, *, preview: bool = False) -> ApiServerMocks:
        """A fresh emulated cluster for ``stack``, its stack references answered by :meth:`referenced_stacks`."""
        return ApiServerMocks(preview=preview, stacks=self.referenced_stacks(stack))

    def neighbours(self) -> list[PulumiProject]:
        """The projects in this one's subdirectories (e.g. ``platform/``), whose stacks its program may reference."""
        return [
            PulumiProject.load(path.parent)
            for path in sorted(self.directory.glob(f"*/{PROJECT_FILE_NAME}"))
            if not path.parent.name.startswith(".")
        ]

    def referenced_stacks(self, stack: str) -> dict[str, ReferencedStack]:
        """The stack of the same name of every :meth:`neighbours` project, as a StackReference reads it.

        Each is evaluated (deployed, not a preview) under a cluster of its own; its outputs are keyed
        ``organization/<project>/<stack>``, the name a DIY backend gives it.
        """
        referenced: dict[str, ReferencedStack] = {}
        for project in self.neighbours():
            if stack in project.stacks():
                evaluation = project.evaluate(stack)
                referenced[diy_stack_name(project.name, stack)] = ReferencedStack(
                    evaluation.outputs, frozenset(evaluation.secret_outputs)
                )
        return referenced

    def _full_keys(self, values: Mapping[str, Any]) -> dict[str, Any]:
        return {key if ":" in key else f"{self.name}:{key}": value for key, value in values.items()}


def find_project(start: Optional[Union[str, Path]] = None) -> PulumiProject:
    """The project of ``start`` (default: the working directory) or its nearest parent with a ``Pulumi.yaml``.

    Without ``start`` and with no project above the working directory, the checkout this
    package runs from (when it is one, as in this repository).
    """
    here = Path(start or Path.cwd()).resolve()
    for directory in (here, *here.parents):
        if (directory / PROJECT_FILE_NAME).is_file():
            return PulumiProject.load(directory)
    checkout = Path(__file__).resolve().parent.parent
    if start is None and (checkout / PROJECT_FILE_NAME).is_file():
        return PulumiProject.load(checkout)
    raise FileNotFoundError(f"no {PROJECT_FILE_NAME} in {here} or its parents; give the project directory")


def _project_defaults(name: str, declared: Mapping[str, Any]) -> dict[str, Any]:
    """Full key -> value of ``Pulumi.yaml``'s ``config``: literal values, ``value`` or declared ``default``."""
    defaults: dict[str, Any] = {}
    for key, declaration in declared.items():
        full_key = key if ":" in key else f"{name}:{key}"
        if not isinstance(declaration, dict):
            defaults[full_key] = declaration
        elif "value" in declaration:
            defaults[full_key] = declaration["value"]
        elif "default" in declaration:
            defaults[full_key] = declaration["default"]
    return defaults


@contextlib.contextmanager
def _program_context(directory: Path) -> Iterator[None]:
    """Run with ``directory`` first on sys.path and as the working directory, then restore both."""
    sys.path.insert(0, str(directory))
    try:
        with contextlib.chdir(directory):
            yield
    finally:
        with contextlib.suppress(ValueError):
            sys.path.remove(str(directory))
