"""Bad input fails in the real program before a single resource is registered."""

from __future__ import annotations

from typing import Any

import pytest

from components import ConfigError, Tier, TierArgs
from offline import ApiServerMocks, evaluate_program, stack_config
from offline.evaluate import run_main_program

from .test_config import BAD_INPUTS


def run_dev_with(overrides: dict[str, Any]) -> tuple[ApiServerMocks, BaseException]:
    mocks = ApiServerMocks()
    config = stack_config("dev", {f"threetier:{key}": value for key, value in overrides.items()})
    with pytest.raises(ConfigError) as caught:
        evaluate_program(run_main_program, stack="dev", config=config, mocks=mocks)
    return mocks, caught.value


@pytest.mark.parametrize(("case", "raw", "key", "allowed"), BAD_INPUTS, ids=[case[0] for case in BAD_INPUTS])
def test_program_rejects_bad_config_before_registering(case: str, raw: dict[str, Any], key: str, allowed: str) -> None:
    mocks, error = run_dev_with(raw)
    assert key in str(error), case
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


def test_library_users_get_the_same_validation() -> None:
    mocks = ApiServerMocks()

    def program() -> None:
        Tier("Cache_Tier", TierArgs(image="redis:7.4", port=6379), namespace="shop")

    with pytest.raises(ConfigError) as caught:
        evaluate_program(program, stack="test", config={}, mocks=mocks)
    assert caught.value.keys == ["Cache_Tier.name"]
    assert "a DNS-1035 label" in str(caught.value)
    assert mocks.created == []
