"""make up's inline program (deploy.stack): the same program as ``__main__.py``, held by the gate.

``python -m deploy up`` runs the program in its own process, the CLI connected to it, and starts
the offline policy gate beside the engine; the program must register nothing until the gate has
passed, and exactly what ``__main__.py`` registers once it has.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from deploy.gate import OfflineGate, PolicyRefusedError
from deploy.stack import config_copy, gated_program
from offline import evaluate_program, find_project, stack_config
from offline.evaluate import run_main_program

REFUSED = {"threetier:database": {"serviceType": "LoadBalancer"}}


def registered(program: object, stack: str, config: dict[str, str]) -> list[tuple[str, str]]:
    mocks = find_project().mocks(stack)  # an emulated cluster that knows the stack's platform stack
    evaluate_program(program, stack=stack, config=config, mocks=mocks)  # type: ignore[arg-type]
    return mocks.created


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_the_inline_program_registers_what_main_py_registers(stack: str) -> None:
    inline = registered(gated_program(None), stack, stack_config(stack))
    main_py = registered(run_main_program, stack, stack_config(stack))
    assert ("kubernetes:apps/v1:Deployment", "threetier-frontend") in inline
    assert sorted(inline) == sorted(main_py)


def test_a_refused_gate_holds_the_program_before_it_registers_anything(tmp_path: Path) -> None:
    config_file = config_copy("prod", tmp_path, REFUSED)
    gate = OfflineGate("prod", config_file)
    mocks = find_project().mocks("prod")
    with pytest.raises(PolicyRefusedError) as refused:
        evaluate_program(gated_program(gate), stack="prod", config=stack_config("prod", REFUSED), mocks=mocks)
    assert mocks.created == []
    assert gate.refused
    assert "database-not-exposed" in str(refused.value)
    assert "Service threetier-prod/database selects the database tier and has type LoadBalancer" in str(refused.value)


def test_a_passed_gate_lets_the_program_run() -> None:
    gate = OfflineGate("dev")
    created = registered(gated_program(gate), "dev", stack_config("dev"))
    assert not gate.refused
    assert ("kubernetes:core/v1:Service", "threetier-backend") in created


def test_a_gate_stopped_early_leaves_no_process() -> None:
    gate = OfflineGate("dev")
    gate.stop()
    assert gate._process.poll() is not None
