"""replicas-spread-across-nodes: a workload of several replicas spreads them over nodes, its own pods.

Advisory in dev and staging, mandatory in prod (policy/config/*.json).
"""

from __future__ import annotations

from typing import Any

import pytest

from offline.policy_check import check_program, check_stack
from policy.gate import PolicyPackServer

from .conftest import analyze, compliant_app, deployment, find, selector, stack_config
from .test_broken_stacks import dev_app_plus

DEPLOYMENT = "kubernetes:apps/v1:Deployment"
POLICY = "replicas-spread-across-nodes"
Objects = list[dict[str, Any]]


def backend_pod_spec(objects: Objects) -> dict[str, Any]:
    spec: dict[str, Any] = find(objects, "Deployment", "backend")["spec"]["template"]["spec"]
    return spec


def without_spread() -> Objects:
    objects = compliant_app()
    backend_pod_spec(objects).pop("topologySpreadConstraints")
    return objects


def violations(report: Any) -> set[tuple[str, str, str]]:
    return {(v.policy, v.level, v.resource) for v in report.violations}


@pytest.mark.parametrize(("stack", "level"), [("dev", "advisory"), ("staging", "advisory"), ("prod", "mandatory")])
def test_two_replicas_without_spread_or_anti_affinity_are_flagged_at_the_stacks_level(
    pack: PolicyPackServer, stack: str, level: str
) -> None:
    objects = without_spread()
    report = analyze(pack, objects, stack)
    assert violations(report) == {(POLICY, level, f"{DEPLOYMENT}: backend-deployment")}
    [violation] = report.violations
    assert violation.message.startswith(
        "Deployment shop/backend has 2 replicas and no topologySpreadConstraint or podAntiAffinity on "
        "kubernetes.io/hostname"
    )
    assert "Fix:" in violation.message


def test_one_replica_needs_no_spread(pack: PolicyPackServer) -> None:
    objects = without_spread()
    find(objects, "Deployment", "backend")["spec"]["replicas"] = 1
    # prod's HA rule would ask for two replicas: off here, this test is about the spread alone.
    report = analyze(pack, objects, {**stack_config("prod"), "ha-stateless-tiers": "disabled"})
    assert report.violations == []


def test_a_spread_over_zones_only_does_not_count(pack: PolicyPackServer) -> None:
    objects = compliant_app()
    backend_pod_spec(objects)["topologySpreadConstraints"][0]["topologyKey"] = "topology.kubernetes.io/zone"
    report = analyze(pack, objects, "prod")
    assert violations(report) == {(POLICY, "mandatory", f"{DEPLOYMENT}: backend-deployment")}


def test_a_spread_that_selects_another_tiers_pods_does_not_count(pack: PolicyPackServer) -> None:
    objects = compliant_app()
    backend_pod_spec(objects)["topologySpreadConstraints"][0]["labelSelector"] = {"matchLabels": selector("frontend")}
    report = analyze(pack, objects, "prod")
    assert violations(report) == {(POLICY, "mandatory", f"{DEPLOYMENT}: backend-deployment")}
    assert "not its own pods" in report.violations[0].message


def test_an_empty_spread_selector_does_not_count(pack: PolicyPackServer) -> None:
    objects = compliant_app()
    backend_pod_spec(objects)["topologySpreadConstraints"][0].pop("labelSelector")
    report = analyze(pack, objects, "prod")
    assert violations(report) == {(POLICY, "mandatory", f"{DEPLOYMENT}: backend-deployment")}


@pytest.mark.parametrize(
    "expressions",
    [
        [{"key": "app.kubernetes.io/component", "operator": "In", "values": ["backend", "api"]}],
        [{"key": "app.kubernetes.io/name", "operator": "Exists"}, {"key": "canary", "operator": "DoesNotExist"}],
        [{"key": "app.kubernetes.io/component", "operator": "NotIn", "values": ["frontend"]}],
    ],
)
def test_match_expressions_that_select_the_own_pods_count(pack: PolicyPackServer, expressions: list[Any]) -> None:
    objects = compliant_app()
    backend_pod_spec(objects)["topologySpreadConstraints"][0]["labelSelector"] = {"matchExpressions": expressions}
    assert analyze(pack, objects, "prod").violations == []


def test_match_expressions_that_miss_the_own_pods_do_not_count(pack: PolicyPackServer) -> None:
    objects = compliant_app()
    backend_pod_spec(objects)["topologySpreadConstraints"][0]["labelSelector"] = {
        "matchExpressions": [{"key": "app.kubernetes.io/component", "operator": "In", "values": ["frontend"]}]
    }
    assert violations(analyze(pack, objects, "prod")) == {(POLICY, "mandatory", f"{DEPLOYMENT}: backend-deployment")}


@pytest.mark.parametrize("kind", ["required", "preferred"])
def test_pod_anti_affinity_on_the_hostname_counts(pack: PolicyPackServer, kind: str) -> None:
    objects = without_spread()
    term = {"topologyKey": "kubernetes.io/hostname", "labelSelector": {"matchLabels": selector("backend")}}
    anti_affinity = (
        {"requiredDuringSchedulingIgnoredDuringExecution": [term]}
        if kind == "required"
        else {"preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 100, "podAffinityTerm": term}]}
    )
    backend_pod_spec(objects)["affinity"] = {"podAntiAffinity": anti_affinity}
    assert analyze(pack, objects, "prod").violations == []
    term["topologyKey"] = "topology.kubernetes.io/zone"
    assert violations(analyze(pack, objects, "prod")) == {(POLICY, "mandatory", f"{DEPLOYMENT}: backend-deployment")}


# Through `make policy`'s gate: the real program of a shipped stack plus a hand-written worker Deployment.


def worker(namespace: str, spread: bool) -> dict[str, Any]:
    """A Deployment of two workers that every other policy of every stack accepts, spread or not."""
    manifest = deployment("worker", replicas=2)
    manifest["metadata"]["namespace"] = namespace
    if not spread:
        manifest["spec"]["template"]["spec"].pop("topologySpreadConstraints")
    return manifest


@pytest.mark.parametrize(("stack", "level"), [("dev", "advisory"), ("prod", "mandatory")])
def test_a_stack_with_an_unspread_worker(stack: str, level: str) -> None:
    manifest = worker(f"threetier-{stack}", spread=False)
    extra = {"metadata": manifest["metadata"], "spec": manifest["spec"]}
    report = check_program(dev_app_plus(extra, "worker", "Deployment"), stack)
    assert violations(report) == {(POLICY, level, f"{DEPLOYMENT}: worker")}
    assert report.mandatory == (1 if level == "mandatory" else 0)
    spread = worker(f"threetier-{stack}", spread=True)
    report = check_program(
        dev_app_plus({"metadata": spread["metadata"], "spec": spread["spec"]}, "worker", "Deployment"), stack
    )
    assert report.violations == []


def test_prod_with_more_replicas_and_a_strict_spread_passes() -> None:
    # The components spread every tier: any replica count and either whenUnsatisfiable satisfies the policy.
    tier = {"replicas": 5, "serviceType": "ClusterIP", "spread": "DoNotSchedule"}
    report = check_stack("prod", {"threetier:backend": tier})
    assert report.violations == []
