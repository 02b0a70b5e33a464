"""The verifier against the live local cluster: a deployed stack verifies; broken deployments fail
with the tier and the check named."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from .conftest import delete_namespace, has_real_node
from .deploy import deploy, exported_outputs, kubectl, results_by_check, verify

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("verify")


@pytest.fixture(scope="module", params=["dev", "staging", "prod"])
def deployed(
    request: pytest.FixtureRequest, core: client.CoreV1Api, work: Path
) -> Iterator[tuple[str, dict[str, Any]]]:
    stack: str = request.param
    outputs = exported_outputs(deploy(stack, work / stack), core)
    yield stack, outputs
    delete_namespace(outputs["namespace"], core)


def test_a_deployed_stack_verifies(deployed: tuple[str, dict[str, Any]], work: Path, real_traffic: bool) -> None:
    stack, outputs = deployed
    status, report = verify(stack, outputs, work)
    checks = results_by_check(report)
    assert report["summary"]["failed"] == 0, [r for r in report["results"] if r["status"] == "failed"]
    assert status == 0
    for tier in ("frontend", "backend", "database"):
        for check in (
            "objects.type",
            "objects.clusterIP",
            "objects.nodePort",
            "endpoints.ready",
            "dns.names",
            "dns.resolve",
        ):
            assert checks[(tier, check)]["status"] == "passed", (tier, check)
    assert checks[("frontend", "discovery.env")]["status"] == "passed"
    assert checks[("backend", "discovery.env")]["status"] == "passed"
    if outputs["frontend"]["serviceType"] == "LoadBalancer":
        assert checks[("frontend", "objects.loadBalancer")]["status"] == "passed"
    reach = [r for r in report["results"] if r["check"].startswith("reach.")]
    assert {r["tier"] for r in reach} == {"frontend", "backend", "database"}
    if real_traffic:
        # The real node: every endpoint answers, nothing is skipped.
        assert all(r["status"] == "passed" for r in reach), reach
        assert report["summary"]["skipped"] == 0, [r for r in report["results"] if r["status"] == "skipped"]
    else:
        # Simulated nodes carry no traffic: reachability is skipped with the reason, never passed.
        assert all(r["status"] == "skipped" and r["detail"] for r in reach)


@pytest.fixture(scope="module")
def real_traffic(core: client.CoreV1Api) -> bool:
    """True when a node runs real pods (the local cluster's real node), False with kwok nodes only."""
    return has_real_node(core)


def reachable_nodes(report: dict[str, Any]) -> set[str]:
    """Nodes whose node-port check ran (not skipped)."""
    return {
        r["check"].removeprefix("reach.nodePort[").rstrip("]")
        for r in report["results"]
        if r["tier"] == "frontend" and r["check"].startswith("reach.nodePort[") and r["status"] != "skipped"
    }


def set_node_port(namespace: str, service: str, node_port: int) -> None:
    """Edit a Service's node port by hand, as an operator might."""
    patch = f'[{{"op": "replace", "path": "/spec/ports/0/nodePort", "value": {node_port}}}]'
    kubectl("patch", "service", service, "-n", namespace, "--type=json", "-p", patch)


def test_a_service_edited_by_hand_fails_verification(
    deployed: tuple[str, dict[str, Any]], work: Path, real_traffic: bool
) -> None:
    stack, outputs = deployed
    namespace = outputs["namespace"]
    original = outputs["frontend"]["nodePort"]
    set_node_port(namespace, "frontend", 31999)
    try:
        status, report = verify(stack, outputs, work, timeout=5)
        assert status == 1
        failed = {(r["tier"], r["check"]) for r in report["results"] if r["status"] == "failed"}
        expected = {("frontend", "objects.nodePort")}
        if real_traffic:  # and the exported node port no longer answers on the node
            expected |= {("frontend", f"reach.nodePort[{node}]") for node in reachable_nodes(report)}
        assert failed == expected
        assert (
            f"exported {original}, live 31999" in results_by_check(report)[("frontend", "objects.nodePort")]["detail"]
        )
    finally:
        set_node_port(namespace, "frontend", original)


def test_a_deployment_scaled_to_zero_fails_verification(
    deployed: tuple[str, dict[str, Any]], work: Path, real_traffic: bool
) -> None:
    stack, outputs = deployed
    namespace, replicas = outputs["namespace"], outputs["backend"]["replicas"]
    kubectl("scale", "deployment", "backend", "-n", namespace, "--replicas=0")
    # Terminating pods still serve for their drain window: verify once they are gone.
    selector = "app.kubernetes.io/component=backend"
    kubectl("wait", "--for=delete", "pod", "-l", selector, "-n", namespace, "--timeout=90s")
    try:
        status, report = verify(stack, outputs, work, timeout=5)
        assert status == 1
        failed = {(r["tier"], r["check"]) for r in report["results"] if r["status"] == "failed"}
        # The drift is the replica count (exported 1, live 0); with no pods the wiring cannot be shown either.
        expected = {("backend", "endpoints.replicas"), ("backend", "discovery.env")}
        if real_traffic:  # nothing answers at the backend's address any more
            expected.add(("backend", "reach.inCluster"))
        assert failed == expected
        detail = results_by_check(report)[("backend", "endpoints.replicas")]["detail"]
        assert detail == f"desired replicas: exported {replicas}, live 0"
    finally:
        kubectl("scale", "deployment", "backend", "-n", namespace, f"--replicas={replicas}")
