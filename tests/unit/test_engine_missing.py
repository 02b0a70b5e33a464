"""Without the whole Pulumi engine, ``make up`` and its engine step stop before touching anything,
naming each missing part and how to install it."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run_stack_sh(action: str, pulumi_home: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PULUMI_HOME": str(pulumi_home),  # an empty plugin cache: no language host, no resource plugin
        "PULUMI_BACKEND_URL": f"file://{tmp_path / 'state'}",
        "KUBECONFIG": str(tmp_path / "no-such-kubeconfig"),
    }
    return subprocess.run(
        [str(ROOT / "hack" / "stack.sh"), action, "dev"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize("action", ["up", "apply", "down"])
def test_an_incomplete_engine_is_reported_and_nothing_is_touched(action: str, tmp_path: Path) -> None:
    empty_home = tmp_path / "pulumi-home"
    empty_home.mkdir()
    completed = run_stack_sh(action, empty_home, tmp_path)
    assert completed.returncode == 2, completed.stdout + completed.stderr
    assert "the Pulumi engine is incomplete" in completed.stderr
    assert "MISSING pulumi-resource-kubernetes v4.32.0" in completed.stderr
    assert "pulumi plugin install resource kubernetes 4.32.0" in completed.stderr
    assert "MISSING pulumi-resource-random v4.21.1" in completed.stderr
    assert not (tmp_path / "state").exists(), "a stack was created"
    assert "cluster" not in completed.stdout, "the cluster was started or checked"
