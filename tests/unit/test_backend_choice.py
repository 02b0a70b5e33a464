"""``BACKEND=`` of make up/down/verify: a bad value stops before anything runs, naming the allowed ones."""

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("target", ["up", "down", "verify", "state-unlock"])
def test_an_unknown_backend_names_the_allowed_values_and_touches_nothing(target: str, tmp_path: Path) -> None:
    local_state = tmp_path / "state"
    env = {**os.environ, "THREETIER_LOCAL_STATE": str(local_state)}
    env.pop("PULUMI_BACKEND_URL", None)
    completed = subprocess.run(
        ["make", "--no-print-directory", target, "STACK=dev", "BACKEND=s3"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode != 0
    assert "BACKEND=s3 is not valid; allowed values: local, postgres" in completed.stderr
    assert not local_state.exists()  # no backend directory made, no stack selected
