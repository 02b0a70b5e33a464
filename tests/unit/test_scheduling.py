"""Scheduling settings of a tier: spread across nodes, nodeSelector, tolerations, eviction timing.

From stack config (and from library arguments) to the Deployment's pod template, under the
API-server mocks; every bad value names its key and the allowed values before anything is registered.
"""

from __future__ import annotations

from typing import Any

import kubernetes_validate
import pytest

from components import ConfigError, Scheduling, Tier, TierArgs, Toleration, parse_settings
from components.scheduling import DEFAULT_EVICTION_SECONDS, NODE_LOSS_TAINTS
from offline import evaluate_stack, manifests

from .evaluated_stacks import TIERS, one
from .stack_files import STACKS, tier_setting
from .test_bad_input_registers_nothing import registers_nothing, run_dev_with
from .test_render import KUBERNETES_VERSION


def pod_spec_of(stack: str, tier: str) -> dict[str, Any]:
    spec: dict[str, Any] = one(stack, "Deployment", tier).inputs["spec"]["template"]["spec"]
    return spec


@pytest.mark.parametrize("stack", STACKS)
def test_every_tier_spreads_its_own_pods_across_nodes_without_blocking_a_drain(stack: str) -> None:
    for tier in TIERS:
        deployment = one(stack, "Deployment", tier).inputs
        [constraint] = pod_spec_of(stack, tier)["topologySpreadConstraints"]
        assert constraint == {
            "topologyKey": "kubernetes.io/hostname",
            "maxSkew": 1,
            # The shipped stacks keep the default: a one-node cluster still runs every replica.
            "whenUnsatisfiable": "ScheduleAnyway",
            "labelSelector": {"matchLabels": deployment["spec"]["selector"]["matchLabels"]},
            "matchLabelKeys": ["pod-template-hash"],
            # A cordoned, NotReady or tainted node is no domain that could hold replicas back.
            "nodeAffinityPolicy": "Honor",
            "nodeTaintsPolicy": "Honor",
        }


@pytest.mark.parametrize("stack", STACKS)
def test_the_spread_selector_matches_the_tiers_own_pods_and_no_other_tiers(stack: str) -> None:
    template_labels = {
        tier: one(stack, "Deployment", tier).inputs["spec"]["template"]["metadata"]["labels"] for tier in TIERS
    }
    for tier in TIERS:
        [constraint] = pod_spec_of(stack, tier)["topologySpreadConstraints"]
        selector = constraint["labelSelector"]["matchLabels"].items()
        matched = [other for other, labels in template_labels.items() if selector <= labels.items()]
        assert matched == [tier], (stack, tier)


@pytest.mark.parametrize("stack", STACKS)
def test_pods_leave_a_lost_node_after_the_stacks_eviction_seconds(stack: str) -> None:
    for tier in TIERS:
        seconds = tier_setting(stack, tier, "evictionSeconds", DEFAULT_EVICTION_SECONDS)
        assert pod_spec_of(stack, tier)["tolerations"] == [
            {"key": taint, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": seconds}
            for taint in NODE_LOSS_TAINTS
        ]
        assert "nodeSelector" not in pod_spec_of(stack, tier)
    # prod replaces a lost node's pods sooner than Kubernetes' default; the others keep it.
    expected = 30 if stack == "prod" else DEFAULT_EVICTION_SECONDS
    assert {tier_setting(stack, tier, "evictionSeconds", DEFAULT_EVICTION_SECONDS) for tier in TIERS} == {expected}


FLEET_BACKEND = {
    "replicas": 2,
    "spread": "DoNotSchedule",
    "nodeSelector": {"type": "kwok", "example.com/pool": "fleet"},
    "tolerations": [
        {"key": "kwok.x-k8s.io/node", "operator": "Equal", "value": "fake", "effect": "NoSchedule"},
        {"key": "example.com/maintenance", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 60.0},
        {"operator": "Exists", "effect": "PreferNoSchedule"},
    ],
    "evictionSeconds": 0,
}


def test_stack_settings_reach_the_pod_template_and_stay_schema_valid() -> None:
    evaluation = evaluate_stack("staging", {"threetier:backend": FLEET_BACKEND})
    [backend] = [m for m in manifests(evaluation) if m["kind"] == "Deployment" and m["metadata"]["name"] == "backend"]
    spec = backend["spec"]["template"]["spec"]
    assert spec["nodeSelector"] == {"type": "kwok", "example.com/pool": "fleet"}
    assert spec["topologySpreadConstraints"][0]["whenUnsatisfiable"] == "DoNotSchedule"
    assert spec["tolerations"] == [
        {"key": "kwok.x-k8s.io/node", "operator": "Equal", "value": "fake", "effect": "NoSchedule"},
        {"key": "example.com/maintenance", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 60},
        {"operator": "Exists", "effect": "PreferNoSchedule"},
        *(
            {"key": taint, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 0}
            for taint in NODE_LOSS_TAINTS
        ),
    ]
    assert type(spec["tolerations"][1]["tolerationSeconds"]) is int
    kubernetes_validate.validate(backend, KUBERNETES_VERSION, strict=True)
    # The other tiers keep their defaults.
    frontend = next(
        m for m in manifests(evaluation) if m["kind"] == "Deployment" and m["metadata"]["name"] == "frontend"
    )
    assert "nodeSelector" not in frontend["spec"]["template"]["spec"]


BAD_SCHEDULING: list[tuple[str, dict[str, Any], str, str]] = [
    (
        "spread typo",
        {"spread": "DoNotSchedul"},
        "threetier:backend.spread",
        "allowed values: ScheduleAnyway, DoNotSchedule",
    ),
    ("spread not a string", {"spread": True}, "threetier:backend.spread", "ScheduleAnyway, DoNotSchedule"),
    ("nodeSelector a list", {"nodeSelector": ["pool"]}, "threetier:backend.nodeSelector", "a map of label key"),
    ("nodeSelector bad key", {"nodeSelector": {"-pool": "a"}}, "threetier:backend.nodeSelector.-pool", "a label key"),
    (
        "nodeSelector bad prefix",
        {"nodeSelector": {"Example.COM/pool": "a"}},
        "threetier:backend.nodeSelector.Example.COM/pool",
        "a label key",
    ),
    (
        "nodeSelector value too long",
        {"nodeSelector": {"pool": "a" * 64}},
        "threetier:backend.nodeSelector.pool",
        "at most 63",
    ),
    (
        "nodeSelector value a number",
        {"nodeSelector": {"pool": 3}},
        "threetier:backend.nodeSelector.pool",
        "a label value",
    ),
    ("tolerations an object", {"tolerations": {"key": "a"}}, "threetier:backend.tolerations", "a list of objects"),
    ("toleration a string", {"tolerations": ["a"]}, "threetier:backend.tolerations[0]", "an object with keys key"),
    (
        "toleration unknown key",
        {"tolerations": [{"key": "a", "operater": "Exists"}]},
        "threetier:backend.tolerations[0].operater",
        "allowed keys: key, operator, value, effect, tolerationSeconds",
    ),
    (
        "toleration bad operator",
        {"tolerations": [{"key": "a", "operator": "In"}]},
        "threetier:backend.tolerations[0].operator",
        "allowed values: Equal, Exists",
    ),
    (
        "toleration bad effect",
        {"tolerations": [{"key": "a", "effect": "NoEvict"}]},
        "threetier:backend.tolerations[0].effect",
        "allowed values: NoSchedule, PreferNoSchedule, NoExecute",
    ),
    (
        "Equal without a key",
        {"tolerations": [{"value": "a", "effect": "NoSchedule"}]},
        "threetier:backend.tolerations[0].key",
        "a label key, or operator Exists",
    ),
    (
        "Exists with a value",
        {"tolerations": [{"key": "a", "operator": "Exists", "value": "b"}]},
        "threetier:backend.tolerations[0].value",
        "allowed values: unset",
    ),
    (
        "tolerationSeconds without NoExecute",
        {"tolerations": [{"key": "a", "effect": "NoSchedule", "tolerationSeconds": 10}]},
        "threetier:backend.tolerations[0].tolerationSeconds",
        "set effect to NoExecute",
    ),
    (
        "negative tolerationSeconds",
        {"tolerations": [{"key": "a", "effect": "NoExecute", "tolerationSeconds": -1}]},
        "threetier:backend.tolerations[0].tolerationSeconds",
        "an integer from 0 to",
    ),
    (
        "node-loss taint by hand",
        {"tolerations": [{"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute"}]},
        "threetier:backend.tolerations[0]",
        "allowed: evictionSeconds for those",
    ),
    (
        "every taint tolerated forever",
        {"tolerations": [{"operator": "Exists"}]},
        "threetier:backend.tolerations[0]",
        "allowed: evictionSeconds for those",
    ),
    ("evictionSeconds too long", {"evictionSeconds": 3601}, "threetier:backend.evictionSeconds", "from 0 to 3600"),
    ("evictionSeconds negative", {"evictionSeconds": -5}, "threetier:backend.evictionSeconds", "from 0 to 3600"),
    ("evictionSeconds a string", {"evictionSeconds": "30s"}, "threetier:backend.evictionSeconds", "from 0 to 3600"),
]


@pytest.mark.parametrize(("case", "backend", "key", "allowed"), BAD_SCHEDULING, ids=[c[0] for c in BAD_SCHEDULING])
def test_a_bad_scheduling_setting_names_its_key_and_registers_nothing(
    case: str, backend: dict[str, Any], key: str, allowed: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_settings({"backend": backend})
    assert caught.value.keys == [key], f"{case}: {caught.value}"
    assert allowed in str(caught.value), case
    mocks, error = run_dev_with({"backend": backend})
    assert isinstance(error, ConfigError) and error.keys == [key], case
    assert mocks.created == [], case


def test_the_boundaries_are_accepted() -> None:
    settings = parse_settings(
        {
            "backend": {
                "evictionSeconds": 3600,
                "nodeSelector": {"example.com/" + "p" * 63: "", "zone": "a" * 63},
                "tolerations": [{"key": "a", "effect": "NoExecute", "tolerationSeconds": 0}],
            },
            "frontend": {"evictionSeconds": 0},
        }
    )
    assert settings.app.backend.scheduling.eviction_seconds == 3600
    assert settings.app.frontend.scheduling.eviction_seconds == 0


def test_library_users_get_the_same_validation() -> None:
    scheduling = Scheduling(
        spread="Sometimes",  # type: ignore[arg-type]
        tolerations=(Toleration(key="node.kubernetes.io/not-ready", operator="Exists"),),
        eviction_seconds=7200,
    )
    error = registers_nothing(
        lambda: Tier("cache", TierArgs(image="redis:7.4.1", port=6379, scheduling=scheduling), namespace="shop")
    )
    assert error.keys == ["cache.spread", "cache.evictionSeconds", "cache.tolerations[0]"]
