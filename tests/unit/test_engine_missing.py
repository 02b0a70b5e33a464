"""Without the whole Pulumi engine, ``make up`` and its engine step stop before touching anything,
naming each missing part and how to install it."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from deploy.engine import Engine, Piece

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


def test_the_consumers_language_hosts_are_reported_apart_and_do_not_make_the_engine_incomplete(tmp_path: Path) -> None:
    found = Piece("pulumi CLI v3.259.0", Path("/bin/true"), "/bin/true")
    yaml_host = Piece("pulumi-language-yaml", Path("/opt/yaml/pulumi-language-yaml"), "/opt/yaml/pulumi-language-yaml")
    nodejs_host = Piece(
        "pulumi-language-nodejs", None, "not in .toolchain/bin", "pulumi plugin install language nodejs"
    )
    engine = Engine([found, found], {"yaml": yaml_host, "nodejs": nodejs_host})
    assert engine.complete
    assert engine.consumer_skip_reason("yaml") == ""
    assert engine.consumer_skip_reason("nodejs") == "no nodejs language host: not in .toolchain/bin"
    assert "/opt/yaml" in engine.path().split(os.pathsep)  # the CLI finds the host on PATH
    report = engine.report()
    assert report.index("consumers") < report.index("MISSING pulumi-language-nodejs")
    assert "install: pulumi plugin install language" in report
    incomplete = Engine([found, Piece("pulumi-language-python", None, "nowhere")], {"yaml": yaml_host})
    assert incomplete.consumer_skip_reason("yaml") == incomplete.skip_reason()


def test_python_m_deploy_names_the_missing_consumer_hosts(tmp_path: Path) -> None:
    env = {**os.environ, "PULUMI_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    completed = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "python"), "-m", "deploy"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert completed.returncode == 2
    assert "MISSING pulumi-language-nodejs" in completed.stdout
    assert f"{tmp_path}/plugins/language-nodejs-v3.259.0/pulumi-language-nodejs" in completed.stdout
    assert "language-yaml-v1.25.0" in completed.stdout or "ok      pulumi-language-yaml" in completed.stdout
