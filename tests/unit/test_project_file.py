"""Pulumi.yaml declares every key the program reads, with the program's own defaults."""

from __future__ import annotations

from pathlib import Path

import yaml

from components.config import DEFAULTS, TOP_LEVEL_KEYS

ROOT = Path(__file__).resolve().parents[2]
PROJECT = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())


def test_project_runs_python_in_the_project_virtualenv_with_stacks_dir() -> None:
    assert PROJECT["name"] == "threetier"
    assert PROJECT["runtime"]["name"] == "python"
    assert PROJECT["runtime"]["options"]["virtualenv"] == ".venv"
    assert PROJECT["stackConfigDir"] == "stacks"


def test_every_key_the_program_reads_is_declared_with_type_default_and_description() -> None:
    declared = PROJECT["config"]
    assert set(declared) == set(TOP_LEVEL_KEYS)
    for key, kind in TOP_LEVEL_KEYS.items():
        assert declared[key]["type"] == kind, key
        assert declared[key]["default"] == DEFAULTS[key], key
        assert declared[key]["description"].strip(), key


def test_every_stack_file_uses_only_declared_keys() -> None:
    for stack_file in (ROOT / "stacks").glob("Pulumi.*.yaml"):
        config = yaml.safe_load(stack_file.read_text())["config"]
        project_keys = {key.split(":", 1)[1] for key in config if key.startswith("threetier:")}
        assert project_keys <= set(TOP_LEVEL_KEYS), stack_file.name
