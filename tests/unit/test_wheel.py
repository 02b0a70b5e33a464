"""The library as another program gets it: built into a wheel, installed in a fresh venv, used from elsewhere.

The wheel is built from a copy of the working tree (what a clone holds, as ``pip install
git+URL`` builds it), installed with its declared dependencies into a venv outside the repo,
and serves ``examples/cache_app`` copied outside the repo: its program rendered under the
mocks and its own unit tests, with no PYTHONPATH. Dependencies come from a wheelhouse cached
outside the clone (downloaded once from the package index at the project venv's versions),
so later runs need no network.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tomllib
import venv
import zipfile
from collections.abc import Sequence
from email.parser import Parser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "threetier" / "wheelhouse"
EXAMPLE = ROOT / "examples" / "cache_app"


def run(command: Sequence[object], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run ``command`` with no PYTHONPATH; fail the test with its output when it fails."""
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "VIRTUAL_ENV")}
    done = subprocess.run(
        [str(part) for part in command], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, f"{command} exited {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done


def pytest_pin() -> str:
    return next(
        line for line in (ROOT / "requirements-dev.txt").read_text().splitlines() if line.startswith("pytest==")
    )


def wheelhouse() -> Path:
    """Wheels of the runtime pins and pytest, at the project venv's versions; downloaded once per pin set."""
    wanted = (ROOT / "requirements.txt").read_text() + pytest_pin()
    target = CACHE / hashlib.sha256(wanted.encode()).hexdigest()[:16]
    if target.is_dir():
        return target
    CACHE.mkdir(parents=True, exist_ok=True)
    staging = CACHE / f".{target.name}.{os.getpid()}"
    constraints = CACHE / f".{target.name}.constraints"
    constraints.write_text(run([sys.executable, "-m", "pip", "freeze", "--exclude-editable"], cwd=ROOT).stdout)
    download = [sys.executable, "-m", "pip", "download", "--quiet", "--dest", staging, "-c", constraints]
    run([*download, "-r", ROOT / "requirements.txt", pytest_pin()], cwd=ROOT)
    try:
        staging.rename(target)
    except OSError:  # another run got there first
        shutil.rmtree(staging)
    return target


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel, built from a copy of the files a clone of the working tree would hold."""
    source, dist = tmp_path_factory.mktemp("source"), tmp_path_factory.mktemp("dist")
    listed = run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT).stdout
    for name in filter(None, listed.split("\0")):
        if (ROOT / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    # Without isolation: the project venv has the pinned build backend (the build checks it).
    run([sys.executable, "-m", "build", "--no-isolation", "--outdir", dist, source], cwd=source)
    [built] = dist.glob("*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv outside the repo with the wheel, its declared dependencies and pytest installed."""
    env_dir = tmp_path_factory.mktemp("venv")
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    install = [sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--no-compile", "--no-index"]
    run([*install, "--find-links", wheelhouse(), wheel, pytest_pin()], cwd=env_dir)
    return python


def test_the_wheel_ships_the_typed_library_and_nothing_else(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata = Parser().parsestr(archive.read(f"threetier-{PROJECT['version']}.dist-info/METADATA").decode())
    assert wheel.name == f"threetier-{PROJECT['version']}-py3-none-any.whl"
    assert {name.split("/")[0] for name in names} == {
        "components",
        "offline",
        f"threetier-{PROJECT['version']}.dist-info",
    }
    assert {"components/py.typed", "offline/py.typed", "components/tier.py", "offline/apiserver_mocks.py"} <= set(names)
    assert not [name for name in names if name.split("/")[0] in ("tests", "hack", "policy", "verify", "examples")]
    assert metadata.get_all("Requires-Dist") == PROJECT["dependencies"]


def test_another_program_uses_the_installed_library_and_its_mocks(
    installed: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    app = tmp_path_factory.mktemp("cache_app")
    shutil.copytree(EXAMPLE, app, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__", "build"))
    assert not app.is_relative_to(ROOT)

    probe = (
        "import json, components, offline, importlib.resources as r\n"
        "try:\n    import offline.policy_check\n    gate = 'importable'\n"
        "except ImportError as error:\n    gate = str(error)\n"
        "print(json.dumps({'components': components.__file__, 'offline': offline.__file__, 'gate': gate,\n"
        "  'typed': [r.files(p).joinpath('py.typed').is_file() for p in ('components', 'offline')]}))"
    )
    found = json.loads(run([installed, "-c", probe], cwd=app).stdout)
    venv_dir = installed.parent.parent
    assert Path(found["components"]).is_relative_to(venv_dir / "lib"), found
    assert Path(found["offline"]).is_relative_to(venv_dir / "lib"), found
    assert found["typed"] == [True, True]
    assert "does not ship" in found["gate"]

    rendered = run([installed, "-m", "offline.render", "--stack", "prod"], cwd=app).stdout
    assert "wrote 5 manifests" in rendered, rendered
    [api] = (app / "build" / "manifests" / "prod").glob("*-deployment-cache-app-api.yaml")
    assert "replicas: 3" in api.read_text()

    tests = run([installed, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"], cwd=app).stdout
    assert tests.splitlines()[-1].startswith("4 passed"), tests
