"""Unit tests of the fleet program under the ``offline`` mocks (no cluster, no engine)."""

from pathlib import Path

import pytest

from components.errors import ConfigError
from offline import PulumiProject, manifests

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
        ({"apps": 0}, "fleet:apps", "1-500"),
        ({"apps": 501}, "fleet:apps", "1-500"),
        ({"app": {"frontend": {"replicas": -1}}}, "fleet:app.frontend.replicas", ""),
        ({"app": {"namespace": "x"}}, "fleet:app.namespace", "fleet-NNN"),
    ],
)
def test_bad_settings_name_their_key_and_register_nothing(overrides: dict[str, object], key: str, allowed: str) -> None:
    with pytest.raises(ConfigError) as raised:
        FLEET.evaluate("bench", overrides)
    assert key in str(raised.value)
    assert allowed in str(raised.value)
