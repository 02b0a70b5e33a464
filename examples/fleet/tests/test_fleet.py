"""Unit tests of the fleet program under the ``offline`` mocks (no cluster, no engine)."""

from pathlib import Path
from typing import Any

import pytest

from components.errors import ConfigError
from examples.fleet.fleet import SIMULATED_NODE_LABEL, SIMULATED_NODE_TAINT
from offline import PulumiProject, evaluate_stack, manifests
from offline.render import write_manifests

FLEET = PulumiProject.load(Path(__file__).resolve().parents[1])


def test_each_app_gets_a_namespace_of_its_own_and_exports_its_outputs() -> None:
    evaluation = FLEET.evaluate("bench", {"apps": 3})
    assert sorted(evaluation.outputs) == ["fleet-000", "fleet-001", "fleet-002"]
    assert {evaluation.outputs[name]["namespace"] for name in evaluation.outputs} == {
        "fleet-000",
        "fleet-001",
        "fleet-002",
    }
    deployments = [m for m in manifests(evaluation) if m["kind"] == "Deployment"]
    assert len(deployments) == 9
    assert {d["spec"]["replicas"] for d in deployments} == {0}  # Pulumi.bench.yaml: no pods


@pytest.mark.parametrize(
    ("overrides", "key", "allowed"),
    [
        ({"apps": 0}, "fleet:apps", "an integer from 1 to 500"),
        ({"apps": 501}, "fleet:apps", "an integer from 1 to 500"),
        ({"apps": "ten"}, "fleet:apps", "an integer from 1 to 500"),
        ({"app": {"frontend": {"replicas": -1}}}, "fleet:app.frontend.replicas", ""),
        ({"app": {"namespace": "x"}}, "fleet:app.namespace", "fleet-NNN"),
        ({"apps": 3, "overrides": {"fleet-003": {}}}, "fleet:overrides.fleet-003", "fleet-000..fleet-002"),
        ({"overrides": {"fleet-000": {"backend": {"replicas": -1}}}}, "fleet:overrides.fleet-000.backend.replicas", ""),
        ({"overrides": ["fleet-000"]}, "fleet:overrides", "a JSON object"),
    ],
)
def test_bad_settings_name_their_key_and_register_nothing(overrides: dict[str, object], key: str, allowed: str) -> None:
    with pytest.raises(ConfigError) as raised:
        FLEET.evaluate("bench", overrides)
    assert key in str(raised.value)
    assert allowed in str(raised.value)


def pod_specs(overrides: dict[str, object]) -> list[dict[str, Any]]:
    """The pod templates of every Deployment of the kwok stack (with ``overrides``)."""
    evaluation = FLEET.evaluate("kwok", overrides)
    return [m["spec"]["template"]["spec"] for m in manifests(evaluation) if m["kind"] == "Deployment"]


def test_every_tier_selects_and_tolerates_the_simulated_nodes_by_default() -> None:
    specs = pod_specs({"apps": 2})
    assert len(specs) == 6
    for spec in specs:
        assert spec["nodeSelector"] == SIMULATED_NODE_LABEL
        assert SIMULATED_NODE_TAINT in spec["tolerations"]


def test_a_tier_of_its_own_placement_keeps_it() -> None:
    specs = pod_specs({"apps": 1, "app": {"database": {"nodeSelector": {}, "tolerations": []}}})
    placed = {spec["containers"][0]["name"]: spec for spec in specs}  # type: ignore[index]
    assert "nodeSelector" not in placed["database"]
    assert SIMULATED_NODE_TAINT not in placed["database"]["tolerations"]  # type: ignore[operator]
    assert placed["frontend"]["nodeSelector"] == SIMULATED_NODE_LABEL


def test_the_simulated_nodes_label_and_taint_are_the_ones_cluster_up_puts_on_them() -> None:
    script = (Path(__file__).resolve().parents[3] / "hack" / "kwok-nodes.sh").read_text()
    ((label, value),) = SIMULATED_NODE_LABEL.items()
    assert f"KWOK_SIM_LABEL_KEY={label}\n" in script
    assert f"KWOK_SIM_LABEL_VALUE={value}\n" in script
    assert f"KWOK_SIM_TAINT_KEY={SIMULATED_NODE_TAINT['key']}\n" in script
    taint = f"{SIMULATED_NODE_TAINT['value']}:{SIMULATED_NODE_TAINT['effect']}"
    assert f'KWOK_SIM_TAINT="$KWOK_SIM_TAINT_KEY={taint}"' in script


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_the_shipped_stacks_neither_select_nor_tolerate_the_simulated_nodes(stack: str) -> None:
    for manifest in manifests(evaluate_stack(stack)):
        if manifest["kind"] != "Deployment":
            continue
        spec = manifest["spec"]["template"]["spec"]
        assert SIMULATED_NODE_TAINT["key"] not in {t.get("key") for t in spec["tolerations"]}
        assert not set(spec.get("nodeSelector", {})) & set(SIMULATED_NODE_LABEL)


def test_an_override_changes_one_app_only_merged_over_the_shared_settings() -> None:
    evaluation = FLEET.evaluate(
        "kwok",
        {"apps": 3, "app": {"backend": {"replicas": 2}}, "overrides": {"fleet-001": {"backend": {"replicas": 3}}}},
    )
    replicas = {
        (m["metadata"]["namespace"], m["metadata"]["name"]): m["spec"]["replicas"]
        for m in manifests(evaluation)
        if m["kind"] == "Deployment"
    }
    assert replicas[("fleet-000", "backend")] == 2
    assert replicas[("fleet-001", "backend")] == 3
    assert replicas[("fleet-002", "backend")] == 2
    assert replicas[("fleet-001", "frontend")] == 1


def test_rendered_files_sort_in_the_program_order_past_99_objects(tmp_path: Path) -> None:
    objects = manifests(FLEET.evaluate("kwok", {"apps": 10}))
    assert len(objects) > 100
    paths = write_manifests(objects, tmp_path)
    assert sorted(paths) == paths  # kubectl apply -f DIR reads them in this order: a Namespace before its objects
