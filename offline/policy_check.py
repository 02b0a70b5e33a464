"""``make policy STACK=s``: the project's policy pack over a stack, offline, through the pack's analyzer service.

The stack's program is evaluated under the same mocks as the unit tests; every registered
resource goes to the pack as the engine would send it (type, URN, name, inputs, parent).
Violations print grouped by enforcement level; exit 1 on any mandatory violation.

Project-specific: the gate is this repository's ``policy.gate`` (not part of the installed
library) with the policy configs in ``<project>/policy/config/<stack>.json``; run it from the
repository.

Usage: ``python -m offline.policy_check --stack dev [--config policy/config/dev.json] [--stack-config COPY]``
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Optional

import yaml

from components import ConfigError

from .apiserver_mocks import ApiServerMocks, ApiServerRejectionError
from .evaluate import evaluate_stack, stack_config
from .project import find_project
from .recording import Evaluation, evaluate_program

try:
    from policy.gate import GateReport, GateResource, gate_exit_status, run_gate
except ImportError as error:
    raise ImportError(
        "offline.policy_check runs the threetier repository's policy gate (policy/gate), which the installed "
        "library does not ship: run it from the repository"
    ) from error


def policy_config_dir() -> Path:
    """``policy/config`` of the current project (see :func:`offline.project.find_project`)."""
    return find_project().directory / "policy" / "config"


def gate_resources(evaluation: Evaluation) -> list[GateResource]:
    """Every registered resource as the engine describes it to analyzers."""
    return [
        GateResource(type=r.type, urn=r.urn, name=r.name, props=r.inputs, parent=r.parent) for r in evaluation.resources
    ]


def check_stack(stack: str, overrides: Optional[Mapping[str, Any]] = None, config: Optional[Path] = None) -> GateReport:
    """Evaluate ``stack`` (with config ``overrides``) as a preview and judge it with its policy config.

    Policies run at preview, before anything exists, as in ``pulumi up``.
    """
    evaluation = evaluate_stack(stack, overrides, preview=True)
    return run_gate(gate_resources(evaluation), config or policy_config_dir() / f"{stack}.json")


def check_program(program: Callable[[], None], stack: str) -> GateReport:
    """Judge any Pulumi program (evaluated as a preview under the mocks) with ``stack``'s policy config."""
    evaluation = evaluate_program(program, stack=stack, config=stack_config(stack), mocks=ApiServerMocks(preview=True))
    return run_gate(gate_resources(evaluation), policy_config_dir() / f"{stack}.json")


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
    options = parser.parse_args(argv)
    try:
        overrides = (
            (yaml.safe_load(options.stack_config.read_text()) or {}).get("config") if options.stack_config else None
        )
        # Evaluate first: a stack that cannot even be evaluated never reaches the pack.
        evaluation = evaluate_stack(options.stack, overrides, preview=True)
    except (FileNotFoundError, ConfigError, ApiServerRejectionError) as error:
        print(f"stack {options.stack} cannot be evaluated: {error}", file=sys.stderr)
        return 2
    config = options.config or policy_config_dir() / f"{options.stack}.json"
    return gate_exit_status(lambda: run_gate(gate_resources(evaluation), config), options.stack)


if __name__ == "__main__":
    sys.exit(main())
