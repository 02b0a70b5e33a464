"""The real Pulumi CLI (built by `make toolchain`) accepts the project and stack files.

Needs the CLI only (no language host, no providers): it loads Pulumi.yaml (typed config with
defaults) and every stack file, resolves each declared key, and `stack init` leaves the stack file
as it is (it carries the local passphrase's salt). The deployments themselves: test_engine.py.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from .conftest import ROOT, TOOLCHAIN

pytestmark = pytest.mark.integration

PULUMI = TOOLCHAIN / "bin" / "pulumi"


@pytest.fixture
def project_copy(tmp_path: Path) -> Path:
    """The project's Pulumi files in a scratch dir, with a state backend of its own."""
    if not PULUMI.exists():
        pytest.fail(f"{PULUMI} missing: run `make toolchain`")
    shutil.copy(ROOT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    shutil.copytree(ROOT / "stacks", tmp_path / "stacks")
    (tmp_path / "state").mkdir()
    return tmp_path


def pulumi(project: Path, *args: str) -> str:
    env = {
        **os.environ,
        "PULUMI_HOME": str(project / "home"),
        "PULUMI_BACKEND_URL": f"file://{project / 'state'}",
        "PULUMI_CONFIG_PASSPHRASE": "threetier-local",
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
    }
    completed = subprocess.run([str(PULUMI), *args], cwd=project, env=env, capture_output=True, text=True, check=True)
    return completed.stdout


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_the_cli_resolves_every_declared_key_of_each_stack(project_copy: Path, stack: str) -> None:
    assert pulumi(project_copy, "version").strip() == "v3.259.0"
    pulumi(project_copy, "stack", "init", stack)
    # The stack file carries the salt of the local passphrase: stack init leaves it byte for byte.
    stack_file_name = f"Pulumi.{stack}.yaml"
    assert (project_copy / "stacks" / stack_file_name).read_bytes() == (ROOT / "stacks" / stack_file_name).read_bytes()
    config = json.loads(pulumi(project_copy, "config", "--stack", stack, "--json"))
    declared = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["config"]
    assert set(config) == {f"threetier:{key}" for key in declared}
    stack_file = yaml.safe_load((ROOT / "stacks" / f"Pulumi.{stack}.yaml").read_text())["config"]
    for key, declaration in declared.items():
        value = config[f"threetier:{key}"]
        expected = stack_file.get(f"threetier:{key}", declaration["default"])
        actual = value.get("objectValue", value["value"]) if isinstance(value, dict) else value
        if isinstance(actual, str) and declaration["type"] in ("object", "boolean"):
            actual = json.loads(actual)
        assert actual == expected, key
