"""The app knows its environment's budget: a stack that would not fit fails before it registers anything.

A tier of N replicas runs N + 1 pods during a rollout (maxSurge 1, maxUnavailable 0); the sum over
tiers of each pod's requests and limits, and the pod count, must fit the ResourceQuota the platform
stack gave the namespace, and no container limit may exceed its LimitRange's max.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from components import (
    ConfigError,
    ContainerLimits,
    EnvironmentQuota,
    ResourceSpec,
    ThreeTierAppArgs,
    fit_problems,
    parse_settings,
)
from components.program import three_tier_program
from offline import ApiServerMocks, ReferencedStack, UnknownStackError, evaluate_program, find_project, stack_config

from .stack_files import stack_yaml
from .test_config import app_args

#: prod's stack file during a rollout, worked out by hand: frontend and backend 3 + 1 pods at
#: 100m/128Mi (limits 1/512Mi), the database 1 + 1 pods at 250m/256Mi (limits 2/1Gi).
PROD_DEMAND: dict[str, str | int] = {
    "requests.cpu": "1300m",
    "requests.memory": "1536Mi",
    "limits.cpu": "12",
    "limits.memory": "6Gi",
    "pods": 10,
}
STACK_REFERENCE = ("pulumi:pulumi:StackReference", "platform")


def prod_args() -> ThreeTierAppArgs:
    """prod's app arguments from its real stack file, in its namespace."""
    raw = {key.split(":", 1)[1]: value for key, value in stack_yaml("prod").items()}
    return replace(parse_settings(raw).app, namespace="threetier-prod")


def test_prod_fits_a_quota_of_exactly_its_rollout_demand() -> None:
    assert fit_problems(prod_args(), EnvironmentQuota(PROD_DEMAND)) == []


@pytest.mark.parametrize(
    ("key", "one_less", "setting"),
    [
        ("requests.cpu", "1299m", "threetier:database.resources.requests.cpu"),  # 2 x 250m > 4 x 100m
        ("requests.memory", "1535Mi", "threetier:frontend.resources.requests.memory"),
        ("limits.cpu", "11999m", "threetier:frontend.resources.limits.cpu"),
        ("limits.memory", "6143Mi", "threetier:frontend.resources.limits.memory"),
        ("pods", 9, "threetier:frontend.replicas"),
    ],
)
def test_one_unit_less_of_any_quota_key_is_refused_naming_the_largest_tier_setting(
    key: str, one_less: Any, setting: str
) -> None:
    [problem] = fit_problems(
        prod_args(), EnvironmentQuota({**PROD_DEMAND, key: one_less}), key_prefix="threetier:", environment="prod"
    )
    assert problem.key == setting
    assert f"over the ResourceQuota of prod ({key}: " in problem.message
    assert "during a rollout (replicas + 1 surge pod each)" in problem.message


def test_the_message_spells_out_the_sum() -> None:
    [problem] = fit_problems(prod_args(), EnvironmentQuota({"pods": 9}), key_prefix="threetier:")
    assert (
        "the tiers need pods frontend 1 x 4 + backend 1 x 4 + database 1 x 2 = 10 during a rollout" in problem.message
    )
    assert "allowed: a total of at most 9" in problem.message


def test_a_scaled_down_tier_needs_no_pods() -> None:
    args = app_args(backend=replace(app_args().backend, replicas=0))
    # frontend 2 + database 2 pods at the defaults (50m), the backend none.
    assert fit_problems(args, EnvironmentQuota({"pods": 4, "requests.cpu": "200m"})) == []
    assert [p.key for p in fit_problems(args, EnvironmentQuota({"pods": 3}))] == ["frontend.replicas"]


def test_a_container_limit_above_the_limit_range_max_is_refused() -> None:
    database = replace(app_args().database, resources=ResourceSpec(cpu_limit="3", memory_limit="2Gi"))
    problems = fit_problems(app_args(database=database), EnvironmentQuota(), ContainerLimits(), key_prefix="threetier:")
    assert {p.key: p.message for p in problems} == {
        "threetier:database.resources.limits.cpu": "'3' is above the LimitRange (max cpu per container: 2); "
        "allowed values: at most 2",
        "threetier:database.resources.limits.memory": "'2Gi' is above the LimitRange (max memory per container: 1Gi); "
        "allowed values: at most 1Gi",
    }


def run_program(stack: str, overrides: dict[str, Any], mocks: ApiServerMocks) -> None:
    def program() -> None:
        three_tier_program()

    evaluate_program(program, stack=stack, config=stack_config(stack, overrides), mocks=mocks)


def test_a_stack_over_its_quota_fails_before_any_kubernetes_object_or_provider_is_registered() -> None:
    mocks = find_project().mocks("dev")
    frontend = {**stack_yaml("dev")["threetier:frontend"], "replicas": 20}
    with pytest.raises(ConfigError) as caught:
        run_program("dev", {"threetier:frontend": frontend}, mocks)
    assert "threetier:frontend.replicas" in caught.value.keys
    assert (
        "pods frontend 1 x 21 + backend 1 x 2 + database 1 x 2 = 25 during a rollout (replicas + 1 surge pod each), "
        "over the ResourceQuota of namespace threetier-dev (platform stack organization/threetier-platform/dev) "
        "(pods: 20)"
    ) in str(caught.value)
    # Only the platform stack was read; nothing was created.
    assert mocks.created == [STACK_REFERENCE]


def test_dev_takes_eleven_frontends_and_not_twelve() -> None:
    # dev's quota (platform/stacks/Pulumi.dev.yaml): limits.cpu 8 and limits.memory 4Gi. Eleven
    # frontends: 12 + 2 + 2 = 16 pods at 500m/256Mi = exactly 8 CPUs and 4Gi; twelve: 17 pods, over.
    fits = find_project().mocks("dev")
    run_program("dev", {"threetier:frontend": {**stack_yaml("dev")["threetier:frontend"], "replicas": 11}}, fits)
    assert ("kubernetes:apps/v1:Deployment", "threetier-frontend") in fits.created
    over = find_project().mocks("dev")
    with pytest.raises(ConfigError) as caught:
        run_program("dev", {"threetier:frontend": {**stack_yaml("dev")["threetier:frontend"], "replicas": 12}}, over)
    assert caught.value.keys == [
        "threetier:frontend.resources.limits.cpu",
        "threetier:frontend.resources.limits.memory",
    ]
    assert over.created == [STACK_REFERENCE]


def test_a_namespace_other_than_the_environments_is_refused() -> None:
    mocks = find_project().mocks("dev")
    with pytest.raises(ConfigError) as caught:
        run_program("dev", {"threetier:namespace": "threetier-prod"}, mocks)
    assert caught.value.keys == ["threetier:namespace"]
    assert (
        "'threetier-prod' is not the namespace of platform stack organization/threetier-platform/dev "
        "('threetier-dev'); allowed values: unset, or 'threetier-dev'"
    ) in str(caught.value)
    assert mocks.created == [STACK_REFERENCE]


def test_a_platform_stack_without_outputs_is_refused_naming_the_key() -> None:
    mocks = ApiServerMocks(stacks={"organization/threetier-platform/dev": ReferencedStack({})})
    with pytest.raises(ConfigError) as caught:
        run_program("dev", {}, mocks)
    assert caught.value.keys == ["threetier:platformStack"]
    assert "exports no namespace, quota, limits, kubeconfig (not deployed, or destroyed)" in str(caught.value)
    assert mocks.created == [STACK_REFERENCE]


def test_an_unknown_platform_stack_fails_the_read_and_creates_nothing() -> None:
    mocks = find_project().mocks("dev")
    with pytest.raises(UnknownStackError, match='unknown stack "organization/threetier-platform/qa"'):
        run_program("dev", {"threetier:platformStack": "organization/threetier-platform/qa"}, mocks)
    assert mocks.created == [STACK_REFERENCE]
