"""policy.gate.StreamingGate: the pack judges each resource while the program is still evaluated.

``python -m offline.policy_check`` (make policy, make up's offline gate) feeds it from the
evaluation; its verdict must be run_gate's for the same resources, whatever the timing.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from offline import evaluate_stack
from offline.policy_check import gate_resources
from policy.gate import GateResource, PolicyConfigError, StreamingGate, run_gate

CONFIG_DIR = Path(__file__).resolve().parents[2] / "policy" / "config"
#: prod with a LoadBalancer database and one frontend replica: mandatory and advisory violations.
BROKEN_PROD = {"threetier:database": {"serviceType": "LoadBalancer"}, "threetier:frontend": {"replicas": 1}}


def pack_processes() -> list[str]:
    """Command lines of the policy pack processes (policy/__main__.py) running on this machine."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            command = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if "policy/__main__.py" in command:
            found.append(command)
    return found


def wait_for(condition: str, check: object, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {condition}")
        time.sleep(0.05)


def broken_prod() -> list[GateResource]:
    return gate_resources(evaluate_stack("prod", BROKEN_PROD, preview=True))


def test_its_verdict_is_run_gates_for_the_same_resources() -> None:
    resources = broken_prod()
    gate = StreamingGate(CONFIG_DIR / "prod.json")
    for resource in resources:
        gate.add(resource)
    streamed = gate.verdict()
    whole = run_gate(resources, CONFIG_DIR / "prod.json")
    assert streamed.mandatory > 0
    assert streamed.resources == whole.resources == len(resources)
    assert streamed.violations == whole.violations


def test_the_pack_judges_a_resource_before_the_rest_exist() -> None:
    first, *rest = broken_prod()
    gate = StreamingGate(CONFIG_DIR / "prod.json")
    gate.add(first)
    wait_for("the pack to judge the first resource", lambda: gate.analyzed == 1)
    for resource in rest:
        gate.add(resource)
    assert gate.verdict().resources == 1 + len(rest)


def test_a_cancelled_gate_gives_no_verdict_and_leaves_no_pack_process() -> None:
    before = pack_processes()
    gate = StreamingGate(CONFIG_DIR / "prod.json")
    gate.add(broken_prod()[0])
    wait_for("the pack to judge the first resource", lambda: gate.analyzed == 1)
    gate.cancel()
    assert pack_processes() == before


def test_a_bad_config_fails_the_verdict_naming_it(tmp_path: Path) -> None:
    config = tmp_path / "broken.json"
    config.write_text("[1, 2]")
    gate = StreamingGate(config)
    gate.add(broken_prod()[0])
    with pytest.raises(PolicyConfigError, match=r"broken\.json: expected a JSON object"):
        gate.verdict()
