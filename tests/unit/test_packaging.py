"""The package metadata agrees with the project's pin files and its changelog."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def pins(path: Path) -> dict[str, str]:
    """``name -> ==version`` of a requirements file's own lines (``-r`` includes are not followed)."""
    found: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            name, version = re.fullmatch(r"([A-Za-z0-9_.-]+)==(\S+)", line).groups()  # type: ignore[union-attr]
            found[normalized(name)] = version
    return found


def normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_runtime_dependencies_are_the_pins_of_requirements_txt() -> None:
    declared = pins_of(PYPROJECT["project"]["dependencies"])
    assert declared == pins(ROOT / "requirements.txt")


def test_the_build_backend_is_pinned_as_in_requirements_dev() -> None:
    build_requires = pins_of(PYPROJECT["build-system"]["requires"])
    dev = pins(ROOT / "requirements-dev.txt")
    assert build_requires == {"setuptools": dev["setuptools"]}


def test_every_release_has_a_changelog_section() -> None:
    version = PYPROJECT["project"]["version"]
    changelog = (ROOT / "CHANGELOG.md").read_text()
    assert re.search(rf"^## \[{re.escape(version)}\] - \d{{4}}-\d{{2}}-\d{{2}}$", changelog, re.MULTILINE), version


def test_both_packages_are_typed() -> None:
    for package in ("components", "offline"):
        assert (ROOT / package / "py.typed").is_file()
        assert "py.typed" in PYPROJECT["tool"]["setuptools"]["package-data"][package]


def pins_of(requirements: list[str]) -> dict[str, str]:
    return {normalized(name): version for name, version in (item.split("==") for item in requirements)}
