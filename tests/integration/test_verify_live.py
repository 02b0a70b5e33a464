"""The verifier against the live local cluster: the engine's deployments verify, with every
isolation edge as declared; broken deployments fail with the tier and the check named, and verify
again once put back."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from verify.cluster import LiveCluster
from verify.network import http_get

from .conftest import kubeconfig_path, real_node_addresses, wait_until
from .stacks import STACKS, Deployed, Deployments, kubectl, results_by_check, verify_outputs

pytestmark = pytest.mark.integration

#: Settle timeout of a verification that must fail: what it checks has been broken and waited for.
SHORT = 3

#: Every (source, target) the isolation check tries, and whether the stack's policies allow it.
EDGES = {
    ("frontend", "backend"): True,
    ("frontend", "database"): False,
    ("backend", "frontend"): True,
    ("backend", "database"): True,
    ("database", "frontend"): True,
    ("database", "backend"): False,
    ("outside", "frontend"): True,
    ("outside", "backend"): False,
    ("outside", "database"): False,
}


def connects_from(namespace: str, component: str, host: str, port: int) -> bool:
    """A TCP connection from a pod of ``component`` to ``host:port`` succeeds."""
    cluster = LiveCluster(str(kubeconfig_path()))
    try:
        pods = [
            p
            for p in cluster.pods(namespace, {"app.kubernetes.io/component": component})
            if not p["metadata"].get("deletionTimestamp")
        ]
        if not pods:
            return False
        ok, _ = cluster.exec_in_pod(
            namespace, pods[0]["metadata"]["name"], ["sh", "-c", f"nc -w 2 {host} {port} </dev/null"]
        )
    finally:
        cluster.close()
    return bool(ok)


def isolation_results(report: dict[str, Any]) -> dict[tuple[str, str], dict[str, str]]:
    """``isolation[a->b]`` results by (a, b)."""
    found = {}
    for item in report["results"]:
        if item["check"].startswith("isolation["):
            source, target = item["check"].removeprefix("isolation[").rstrip("]").split("->")
            found[(source, target)] = item
    return found


@pytest.mark.parametrize("stack", STACKS)
def test_every_allowed_edge_connects_and_every_denied_edge_is_refused(
    stack: str, deployments: Deployments, real_traffic: bool
) -> None:
    deployed = deployments.get(stack)
    _, report = verify_outputs(stack, deployed.outputs, deployments.work, env=deployments.env())
    edges = isolation_results(report)
    assert set(edges) == set(EDGES)
    assert results_by_check(report)[("*", "isolation.policies")]["status"] == "passed"
    for (source, target), allowed in EDGES.items():
        item = edges[(source, target)]
        if not real_traffic:
            assert item["status"] == "skipped" and "simulated" in item["detail"], item
            continue
        assert item["status"] == "passed", item
        assert ("connected" if allowed else "refused") in item["detail"], item


def test_a_network_policy_deleted_by_hand_fails_verification_naming_the_edge_that_opened(
    deployments: Deployments, real_traffic: bool
) -> None:
    if not real_traffic:
        pytest.skip("every node is simulated (kwok): no traffic, no policy enforcement")
    deployed = deployments.get("staging")
    namespace = deployed.namespace
    # Without these two, nothing selects the database pods any more: every client may open it.
    for name in ("database-allow-backend", "default-deny-ingress"):
        kubectl("delete", "networkpolicy", name, "-n", namespace)
    try:
        # The enforcer drops the rules moments later: verify once the edge has really opened.
        frontend = deployed.outputs["database"]["dnsNames"]["fqdn"]
        wait_until(
            "frontend -> database to open once its policies are gone",
            partial(connects_from, namespace, "frontend", frontend, 5432),
            timeout=60,
        )
        status, report = verify_outputs(
            "staging", deployed.outputs, deployments.work, timeout=SHORT, env=deployments.env()
        )
        assert status == 1
        failed = {(r["tier"], r["check"]) for r in report["results"] if r["status"] == "failed"}
        # With frontend and database pods on different nodes the same edge is also tried pod to pod
        # across them: it opened too.
        across = {(r["tier"], r["check"]) for r in report["results"]} & {
            ("database", "isolation.acrossNodes[frontend->database]")
        }
        assert failed == {
            ("*", "isolation.policies"),
            ("database", "isolation[frontend->database]"),
            ("database", "isolation[outside->database]"),
            *across,
        }
        detail = results_by_check(report)[("database", "isolation[frontend->database]")]["detail"]
        assert "connected, but the NetworkPolicies deny this edge" in detail
        assert "database-allow-backend" in results_by_check(report)[("*", "isolation.policies")]["detail"]
    finally:
        deployed.stack.up(refresh=True)  # the engine sees them gone and puts them back
    status, report = verify_outputs("staging", deployed.outputs, deployments.work, env=deployments.env())
    assert status == 0, [r for r in report["results"] if r["status"] == "failed"]


def set_node_port(namespace: str, service: str, node_port: int) -> None:
    """Edit a Service's node port by hand, as an operator might."""
    patch = f'[{{"op": "replace", "path": "/spec/ports/0/nodePort", "value": {node_port}}}]'
    kubectl("patch", "service", service, "-n", namespace, "--type=json", "-p", patch)


def reachable_nodes(report: dict[str, Any]) -> set[str]:
    """Nodes whose node-port check ran (not skipped)."""
    return {
        r["check"].removeprefix("reach.nodePort[").rstrip("]")
        for r in report["results"]
        if r["tier"] == "frontend" and r["check"].startswith("reach.nodePort[") and r["status"] != "skipped"
    }


def test_a_service_edited_by_hand_fails_verification(
    deployments: Deployments, real_traffic: bool, core: client.CoreV1Api
) -> None:
    deployed = deployments.get("dev")
    namespace = deployed.namespace
    original = deployed.outputs["frontend"]["nodePort"]
    set_node_port(namespace, "frontend", 31999)
    try:
        if real_traffic:  # kube-proxy moves the port moments later: verify once the old one is closed
            address = next(iter(real_node_addresses(core).values()))
            wait_until(f"{address}:{original} to close", lambda: not http_get(f"http://{address}:{original}/")[0], 60)
        status, report = verify_outputs("dev", deployed.outputs, deployments.work, timeout=SHORT, env=deployments.env())
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
    # Put back, it answers again (within the verifier's deadline: kube-proxy reprograms the port).
    status, report = verify_outputs("dev", deployed.outputs, deployments.work, env=deployments.env())
    assert status == 0, [r for r in report["results"] if r["status"] == "failed"]


def backend_pods_gone(core: client.CoreV1Api, namespace: str) -> bool:
    return not core.list_namespaced_pod(namespace, label_selector="app.kubernetes.io/component=backend").items


def test_a_deployment_scaled_to_zero_fails_verification(
    deployments: Deployments, core: client.CoreV1Api, real_traffic: bool, tmp_path: Path
) -> None:
    deployed: Deployed = deployments.get("prod")
    namespace, replicas = deployed.namespace, deployed.outputs["backend"]["replicas"]
    kubectl("scale", "deployment", "backend", "-n", namespace, "--replicas=0")
    try:
        # Terminating pods still serve for their drain window: verify once they are gone.
        wait_until("the backend pods to be gone", lambda: backend_pods_gone(core, namespace), timeout=90)
        status, report = verify_outputs(
            "prod", deployed.outputs, deployments.work, timeout=SHORT, env=deployments.env()
        )
        assert status == 1
        failed = {(r["tier"], r["check"]) for r in report["results"] if r["status"] == "failed"}
        # The drift is the replica count (exported 3, live 0); with no pods the wiring cannot be shown
        # either, and nothing answers at the backend's address; its callers' edge no longer connects.
        expected = {("backend", "endpoints.replicas"), ("backend", "discovery.env")}
        if real_traffic:
            expected |= {("backend", "reach.inCluster"), ("backend", "isolation[frontend->backend]")}
        assert failed == expected
        detail = results_by_check(report)[("backend", "endpoints.replicas")]["detail"]
        assert detail == f"desired replicas: exported {replicas}, live 0"
    finally:
        kubectl("scale", "deployment", "backend", "-n", namespace, f"--replicas={replicas}")
        kubectl("rollout", "status", "deployment/backend", "-n", namespace, "--timeout=120s")
