"""Bad input fails in the real program before a single resource is registered."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from components import ConfigError, SecretFile, ThreeTierApp, Tier, TierArgs
from offline import ApiServerMocks, evaluate_program, stack_config
from offline.evaluate import run_main_program

from .test_config import BAD_INPUTS, app_args


def run_dev_with(overrides: dict[str, Any]) -> tuple[ApiServerMocks, BaseException]:
    mocks = ApiServerMocks()
    config = stack_config("dev", {f"threetier:{key}": value for key, value in overrides.items()})
    with pytest.raises(ConfigError) as caught:
        evaluate_program(run_main_program, stack="dev", config=config, mocks=mocks)
    return mocks, caught.value


@pytest.mark.parametrize(("case", "raw", "key", "allowed"), BAD_INPUTS, ids=[case[0] for case in BAD_INPUTS])
def test_program_rejects_bad_config_before_registering(case: str, raw: dict[str, Any], key: str, allowed: str) -> None:
    mocks, error = run_dev_with(raw)
    assert isinstance(error, ConfigError)
    assert error.keys == [key], case
    assert allowed in str(error), case
    assert mocks.created == [], f"{case}: resources were registered before the error: {mocks.created}"


def test_config_value_of_the_wrong_type_names_the_key() -> None:
    mocks = ApiServerMocks()
    config = stack_config("dev")
    config["threetier:frontend"] = "not-json"
    with pytest.raises(ConfigError) as caught:
        evaluate_program(run_main_program, stack="dev", config=config, mocks=mocks)
    assert caught.value.keys == ["threetier:frontend"]
    assert "allowed values: a JSON object" in str(caught.value)
    assert mocks.created == []


def registers_nothing(build: Callable[[], object]) -> ConfigError:
    """The ConfigError a program that calls ``build`` raises under the mocks, having registered nothing."""
    mocks = ApiServerMocks()

    def program() -> None:
        build()

    with pytest.raises(ConfigError) as caught:
        evaluate_program(program, stack="test", config={}, mocks=mocks)
    assert mocks.created == []
    return caught.value


def test_library_users_get_the_same_validation() -> None:
    error = registers_nothing(lambda: Tier("Cache_Tier", TierArgs(image="redis:7.4", port=6379), namespace="shop"))
    assert error.keys == ["Cache_Tier.name"]
    assert "a DNS-1035 label" in str(error)


@pytest.mark.parametrize("length", [15, 129])
def test_a_password_length_out_of_bounds_registers_nothing(length: int) -> None:
    error = registers_nothing(lambda: ThreeTierApp("shop", app_args(password_length=length)))
    assert error.keys == ["passwordLength"]
    assert "an integer from 16 to 128" in str(error)


def test_an_env_var_clashing_with_a_secret_file_path_registers_nothing() -> None:
    args = TierArgs(
        image="api:1.0.0", port=80, env={"TOKEN_FILE": "/tmp/x"}, secret_files=(SecretFile("t", "token", "TOKEN_FILE"),)
    )
    error = registers_nothing(lambda: Tier("api", args, namespace="shop"))
    assert error.keys == ["api.env"]
    assert "TOKEN_FILE also carries a Secret file's path" in str(error)


def test_a_stack_env_var_clashing_with_the_password_file_registers_nothing() -> None:
    mocks, error = run_dev_with({"backend": {"env": {"DB_PASSWORD_FILE": "/tmp/password"}}})
    assert isinstance(error, ConfigError)
    assert error.keys == ["threetier:backend.env"]
    assert "DB_PASSWORD_FILE also carries a Secret file's path" in str(error)
    assert mocks.created == []


@pytest.mark.parametrize(
    ("tier", "name", "carries"),
    [
        ("frontend", "BACKEND_URL", "the backend's URL"),
        ("backend", "DB_HOST", "the database's DNS name"),
        ("database", "DB_USER", "the database's user"),
    ],
)
def test_a_stack_env_var_the_app_sets_itself_is_refused_before_anything_is_registered(
    tier: str, name: str, carries: str
) -> None:
    mocks, error = run_dev_with({tier: {"env": {name: "mine"}}})
    assert isinstance(error, ConfigError)
    assert error.keys == [f"threetier:{tier}.env"]
    assert f"{name} also carries {carries} (set by the app)" in str(error)
    assert mocks.created == []
