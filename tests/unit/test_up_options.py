"""One up's engine settings (deploy/up_options.py): make's variables and the flags, refused when not valid."""

from __future__ import annotations

import subprocess

import pytest

from deploy.up_options import MAX_PARALLEL, PATCH_FORCE, SKIP_CHECKPOINTS, UPSERT_EXISTING, UpOptions, up_options

from .stack_files import ROOT


def test_both_settings_are_off_unless_asked_for() -> None:
    options = up_options({}, UpOptions())
    assert options == UpOptions()
    assert options.environment() == {}
    assert options.notices() == []


@pytest.mark.parametrize("value", ["", "0"])
def test_empty_or_zero_means_off(value: str) -> None:
    environ = {"THREETIER_SKIP_CHECKPOINTS": value, "THREETIER_ADOPT_EXISTING": value}
    assert up_options(environ, UpOptions()) == UpOptions()


def test_make_variables_turn_on_the_engine_and_provider_settings() -> None:
    options = up_options({"THREETIER_SKIP_CHECKPOINTS": "1", "THREETIER_ADOPT_EXISTING": "1"}, UpOptions())
    assert options.environment() == {SKIP_CHECKPOINTS: "true", UPSERT_EXISTING: "true", PATCH_FORCE: "true"}
    said = "\n".join(options.notices())
    assert "written once, at the end" in said and "ADOPT_EXISTING=1" in said
    assert "taken over" in said


def test_a_flag_stays_on_whatever_make_left_empty() -> None:
    options = up_options({"THREETIER_SKIP_CHECKPOINTS": ""}, UpOptions(skip_checkpoints=True))
    assert options.environment() == {SKIP_CHECKPOINTS: "true"}


@pytest.mark.parametrize(("variable", "name"), [("THREETIER_SKIP_CHECKPOINTS", "SKIP_CHECKPOINTS"),
                                                ("THREETIER_ADOPT_EXISTING", "ADOPT_EXISTING")])  # fmt: skip
def test_any_other_value_is_refused_naming_the_variable_and_the_allowed_values(variable: str, name: str) -> None:
    with pytest.raises(ValueError, match=rf"{name}='yes' is not valid \({variable}\); allowed values: 1 \(on\), 0"):
        up_options({variable: "yes"}, UpOptions())


def test_parallel_is_the_clis_default_unless_asked_for() -> None:
    assert up_options({"THREETIER_PARALLEL": ""}, UpOptions()).parallel is None
    options = up_options({"THREETIER_PARALLEL": " 32 "}, UpOptions())
    assert options.parallel == 32
    assert options.environment() == {}  # a flag of the CLI, not its environment
    assert options.notices() == ["resource operations at once: 32 (pulumi up --parallel 32)"]


def test_the_parallel_flag_wins_over_make() -> None:
    assert up_options({"THREETIER_PARALLEL": "32"}, UpOptions(parallel=4)).parallel == 4
    assert up_options({}, UpOptions(parallel=MAX_PARALLEL)).parallel == MAX_PARALLEL


@pytest.mark.parametrize("value", ["0", "-1", "257", "8.5", "eight", "\u00b2", "1e3"])
def test_a_parallel_outside_1_to_256_is_refused_naming_the_variable_and_the_range(value: str) -> None:
    with pytest.raises(ValueError, match=r"PARALLEL='.*' is not valid \(THREETIER_PARALLEL, --parallel\); allowed "
                       r"values: a whole number from 1 to 256"):  # fmt: skip
        up_options({"THREETIER_PARALLEL": value}, UpOptions())


def test_a_parallel_flag_outside_the_range_is_refused_too() -> None:
    with pytest.raises(ValueError, match=r"PARALLEL='0' is not valid"):
        up_options({}, UpOptions(parallel=0))


@pytest.mark.parametrize(
    ("action", "variable", "value", "said"),
    [
        (
            "up",
            "THREETIER_SKIP_CHECKPOINTS",
            "true",
            "SKIP_CHECKPOINTS='true' is not valid (THREETIER_SKIP_CHECKPOINTS)",
        ),
        ("fleet-up", "THREETIER_SKIP_CHECKPOINTS", "true", "SKIP_CHECKPOINTS='true' is not valid"),
        ("up", "THREETIER_PARALLEL", "0", "PARALLEL='0' is not valid (THREETIER_PARALLEL, --parallel)"),
        ("fleet-up", "THREETIER_PARALLEL", "many", "PARALLEL='many' is not valid"),
    ],
)
def test_make_refuses_a_bad_value_before_anything_runs(action: str, variable: str, value: str, said: str) -> None:
    """``hack/stack.sh`` checks first: no engine, cluster or platform stack is touched (none exists here)."""
    completed = subprocess.run(
        ["hack/stack.sh", action, "kwok" if action == "fleet-up" else "dev"],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "HOME": "/nonexistent", variable: value},
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 2, completed.stdout + completed.stderr
    assert said in completed.stderr
    assert "nothing was deployed" in completed.stderr
