"""``make policy STACK=s``: the policy pack over a stack, offline, through the pack's analyzer service.

The stack's program is evaluated under the same mocks as the unit tests; every registered
resource goes to the pack as the engine would send it (type, URN, name, inputs, parent).
Violations print grouped by enforcement level; exit 1 on any mandatory violation.

Usage: ``python -m offline.policy_check --stack dev [--config policy/config/dev.json]``
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Optional

from components import ConfigError
from policy.gate import GateReport, GateResource, gate_exit_status, run_gate

from .apiserver_mocks import ApiServerMocks, ApiServerRejectionError
from .evaluate import PROJECT_ROOT, Evaluation, evaluate_program, evaluate_stack, stack_config

POLICY_CONFIG_DIR = PROJECT_ROOT / "policy" / "config"


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
    return run_gate(gate_resources(evaluation), config or POLICY_CONFIG_DIR / f"{stack}.json")


def check_program(program: Callable[[], None], stack: str) -> GateReport:
    """Judge any Pulumi program (evaluated as a preview under the mocks) with ``stack``'s policy config."""
    evaluation = evaluate_program(program, stack=stack, config=stack_config(stack), mocks=ApiServerMocks(preview=True))
    return run_gate(gate_resources(evaluation), POLICY_CONFIG_DIR / f"{stack}.json")


def main(argv: Optional[list[str]] = None) -> int:
    """CLI entry point."""
    parser = argparse.ArgumentParser(prog="python -m offline.policy_check", description=__doc__.splitlines()[0])
    parser.add_argument("--stack", required=True)
    parser.add_argument("--config", type=Path, help="policy pack config (default policy/config/<stack>.json)")
    options = parser.parse_args(argv)
    try:
        # Evaluate first: a stack that cannot even be evaluated never reaches the pack.
        evaluation = evaluate_stack(options.stack, preview=True)
    except (FileNotFoundError, ConfigError, ApiServerRejectionError) as error:
        print(f"stack {options.stack} cannot be evaluated: {error}", file=sys.stderr)
        return 2
    config = options.config or POLICY_CONFIG_DIR / f"{options.stack}.json"
    return gate_exit_status(lambda: run_gate(gate_resources(evaluation), config), options.stack)


if __name__ == "__main__":
    sys.exit(main())
