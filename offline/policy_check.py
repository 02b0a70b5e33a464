"""``make policy STACK=s``: the project's policy pack over a stack, offline, through the pack's analyzer service.

The stack's program is evaluated under the same mocks as the unit tests; every registered
resource goes to the pack as the engine would send it (type, URN, name, inputs, parent).
Violations print grouped by enforcement level; exit 1 on any mandatory violation.

Project-specific: the gate is this repository's ``policy.gate`` (not part of the installed
library) with the policy configs in ``<project>/policy/config/<stack>.json``; run it from the
repository.

Usage: ``python -m offline.policy_check --stack dev [--config policy/config/dev.json] [--stack-config COPY]
[--project-dir platform]`` (the platform stacks: ``--project-dir platform --config policy/config/platform.json``)
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Optional

import yaml

from components import ConfigError

from .apiserver_mocks import ApiServerRejectionError
from .evaluate import evaluate_stack
from .project import PulumiProject, find_project
from .recording import Evaluation, RegisteredResource, evaluate_program
from .stack_references import UnknownStackError

try:
    from policy.gate import GateProvider, GateReport, GateResource, StreamingGate, gate_exit_status, run_gate
except ImportError as error:
    raise ImportError(
        "offline.policy_check runs the threetier repository's policy gate (policy/gate), which the installed "
        "library does not ship: run it from the repository"
    ) from error


def policy_config_dir() -> Path:
    """``policy/config`` of the current project (see :func:`offline.project.find_project`)."""
    return find_project().directory / "policy" / "config"


def gate_resources(evaluation: Evaluation) -> list[GateResource]:
    """Every registered resource as the engine describes it to analyzers, with its provider."""
    return [gate_resource(r) for r in evaluation.resources]


def gate_resource(r: RegisteredResource) -> GateResource:
    """One registered resource as the engine describes it to analyzers, with its provider."""
    return GateResource(type=r.type, urn=r.urn, name=r.name, props=r.inputs, parent=r.parent, provider=gate_provider(r))


def gate_provider(resource: RegisteredResource) -> Optional[GateProvider]:
    """The provider of a custom resource as the engine names it: its own, or the package's default one.

    The engine registers a default provider per package (``default_<version>``); a name starting
    with ``default`` is how analyzers tell it apart (policy ``explicit-provider``).
    """
    if not resource.custom or resource.type.startswith("pulumi:providers:"):
        return None
    if resource.provider:
        urn = resource.provider.rsplit("::", 1)[0]
        qualified_type, name = urn.split("::")[-2:]
        return GateProvider(type=qualified_type.rsplit("$", 1)[-1], urn=urn, name=name)
    package = resource.type.split(":", 1)[0]
    stack_prefix = resource.urn.split("::", 2)
    urn = f"{stack_prefix[0]}::{stack_prefix[1]}::pulumi:providers:{package}::default"
    return GateProvider(type=f"pulumi:providers:{package}", urn=urn, name="default")


def check_stack(stack: str, overrides: Optional[Mapping[str, Any]] = None, config: Optional[Path] = None) -> GateReport:
    """Evaluate ``stack`` (with config ``overrides``) as a preview and judge it with its policy config.

    Policies run at preview, before anything exists, as in ``pulumi up``.
    """
    evaluation = evaluate_stack(stack, overrides, preview=True)
    return run_gate(gate_resources(evaluation), config or policy_config_dir() / f"{stack}.json")


def check_program(
    program: Callable[[], None],
    stack: str,
    *,
    project_dir: Optional[Path] = None,
    config: Optional[Path] = None,
) -> GateReport:
    """Judge any Pulumi program (evaluated as a preview under the mocks) with ``stack``'s policy config.

    The program runs with the stack's config of the current project (or ``project_dir``'s), and is
    judged with ``policy/config/<stack>.json`` (or ``config``).
    """
    project = PulumiProject.load(project_dir) if project_dir is not None else find_project()
    evaluation = evaluate_program(
        program,
        stack=stack,
        config=project.config(stack),
        project=project.name,
        mocks=project.mocks(stack, preview=True),
    )
    return run_gate(gate_resources(evaluation), config or policy_config_dir() / f"{stack}.json")


def main(argv: Optional[list[str]] = None) -> int:
    """CLI entry point."""
    parser = argparse.ArgumentParser(prog="python -m offline.policy_check", description=__doc__.splitlines()[0])
    parser.add_argument("--stack", required=True)
    parser.add_argument("--config", type=Path, help="policy pack config (default policy/config/<stack>.json)")
    parser.add_argument(
        "--stack-config",
        type=Path,
        help="a copy of the stack file to take the config from (as `pulumi up --config-file`)",
    )
    parser.add_argument("--project-dir", type=Path, help="directory of Pulumi.yaml (default: found from the cwd)")
    options = parser.parse_args(argv)
    gate: Optional[StreamingGate] = None
    try:
        config = options.config or policy_config_dir() / f"{options.stack}.json"
        # The pack starts and judges each resource while the program is still being evaluated (at
        # 100 fleet apps that takes seconds); the verdict waits for the whole stack.
        gate = StreamingGate(config)
        streaming = gate
        overrides = (
            (yaml.safe_load(options.stack_config.read_text()) or {}).get("config") if options.stack_config else None
        )
        evaluate_stack(
            options.stack,
            overrides,
            preview=True,
            project_dir=options.project_dir,
            on_registered=lambda registered: streaming.add(gate_resource(registered)),
        )
    except BaseException as error:
        if gate is not None:
            gate.cancel()  # a stack that cannot even be evaluated gets no verdict from the pack
        if isinstance(error, (FileNotFoundError, ConfigError, ApiServerRejectionError, UnknownStackError)):
            print(f"stack {options.stack} cannot be evaluated: {error}", file=sys.stderr)
            return 2
        raise
    return gate_exit_status(gate.verdict, options.stack)


if __name__ == "__main__":
    sys.exit(main())
