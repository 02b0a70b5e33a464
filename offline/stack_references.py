"""Stack references under the mocks: the outputs of other stacks, as the engine would read them.

A program that reads another stack (``pulumi.StackReference``) gets that stack's outputs from the
backend; under :class:`offline.ApiServerMocks` it gets them from ``stacks``, a name ->
:class:`ReferencedStack` map. :meth:`offline.PulumiProject.mocks` fills it by evaluating the
projects beside a project (e.g. ``platform/``) for the same stack: a referenced stack's outputs are
the ones its real program exports. A name that is not there fails the read, like an unknown stack.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .secret_values import wrap_secret

#: Stack references come in as reads of this type; their state carries the outputs.
STACK_REFERENCE_TYPE = "pulumi:pulumi:StackReference"
#: The organization of stacks in a DIY backend (file, PostgreSQL, S3): ``organization/<project>/<stack>``.
DIY_ORGANIZATION = "organization"


class UnknownStackError(Exception):
    """A stack reference names a stack the mocks do not know (the engine: ``unknown stack``)."""


@dataclass(frozen=True)
class ReferencedStack:
    """The outputs a stack reference reads, and which of them are secrets."""

    outputs: Mapping[str, Any]
    secret_outputs: frozenset[str] = field(default_factory=frozenset)


def diy_stack_name(project: str, stack: str) -> str:
    """``organization/<project>/<stack>``: how a program of another project names a stack in a DIY backend."""
    return f"{DIY_ORGANIZATION}/{project}/{stack}"


def stack_reference_state(name: str, stacks: Mapping[str, ReferencedStack]) -> dict[str, Any]:
    """The state a read of stack reference ``name`` returns: its outputs (secrets marked) and secret names."""
    if name not in stacks:
        known = ", ".join(sorted(stacks)) or "none"
        raise UnknownStackError(f'unknown stack "{name}" (stacks the mocks know: {known})')
    referenced = stacks[name]
    outputs = {
        key: wrap_secret(value) if key in referenced.secret_outputs else value
        for key, value in referenced.outputs.items()
    }
    return {"name": name, "outputs": outputs, "secretOutputNames": sorted(referenced.secret_outputs)}
