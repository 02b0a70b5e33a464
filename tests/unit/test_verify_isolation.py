"""The verifier's isolation group on a fake cluster: declared edges against canned connections."""

from __future__ import annotations

import copy
from typing import Any

from verify import CheckResult, StackOutputs, Status, VerifyOptions
from verify.checks import check_isolation
from verify.context import CheckContext

from .fake_cluster import Answer, Command, FakeCluster, pod_of, with_real_node
from .verify_fixtures import NS, fqdn, recording, stack_outputs

POLICIES = ["default-deny-ingress", "frontend-allow-clients", "backend-allow-frontend", "database-allow-backend"]
#: (source, target) -> may connect, as the app's NetworkPolicies declare it.
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
SERVICE_PORTS = {"frontend": 80, "backend": 8080, "database": 5432}


def outputs() -> dict[str, Any]:
    exported = stack_outputs()
    exported["networkPolicies"] = {
        "namespace": NS,
        "policies": POLICIES,
        "allowedIngress": [
            {"from": "*", "to": "frontend", "port": 8080},
            {"from": "frontend", "to": "backend", "port": 8080},
            {"from": "backend", "to": "database", "port": 5432},
        ],
    }
    return exported


def objects(policies: list[str] = POLICIES) -> dict[str, Any]:
    recorded = with_real_node(recording())
    recorded["networkPolicies"] = [{"metadata": {"name": name, "namespace": NS}} for name in policies]
    return recorded


def connect(target: str) -> Command:
    return ("sh", "-c", f"nc -w 2 {fqdn(target)} {SERVICE_PORTS[target]} </dev/null")


def answers(connected: dict[tuple[str, str], bool]) -> tuple[dict[Command, Answer], dict[tuple[str, Command], Answer]]:
    """Probe (outside) and exec (tier pods) answers: a connection succeeds where ``connected`` says so."""
    probes: dict[Command, Answer] = {}
    execs: dict[tuple[str, Command], Answer] = {}
    for (source, target), ok in connected.items():
        answer: Answer = (True, "") if ok else (False, "nc: timed out")
        if source == "outside":
            probes[connect(target)] = answer
        else:
            execs[(pod_of(source), connect(target))] = answer
    return probes, execs


def isolation(
    connected: dict[tuple[str, str], bool], recorded: dict[str, Any] | None = None
) -> tuple[list[CheckResult], FakeCluster]:
    probes, execs = answers(connected)
    cluster = FakeCluster(recorded or objects(), probes=probes, execs=execs)
    options = VerifyOptions(settle_timeout=0.2)
    ctx = CheckContext(
        outputs=StackOutputs.from_json("dev", outputs()),
        cluster=cluster,
        settle_timeout=options.settle_timeout,
        outside_namespace="default",
    )
    return check_isolation(ctx), cluster


def edge_results(results: list[CheckResult]) -> dict[tuple[str, str], CheckResult]:
    found = {}
    for result in results:
        if result.check.startswith("isolation["):
            source, target = result.check.removeprefix("isolation[").rstrip("]").split("->")
            found[(source, target)] = result
    return found


def test_a_cluster_that_enforces_the_policies_passes_every_edge() -> None:
    results, cluster = isolation(EDGES)
    edges = edge_results(results)
    assert set(edges) == set(EDGES)
    assert all(result.status is Status.PASSED for result in results), [r for r in results if r.status != "passed"]
    assert "refused within 2 s" in edges[("frontend", "database")].detail
    assert "connected" in edges[("backend", "database")].detail
    # the outside edges run in a probe pod of another namespace, the others in the source tier's pod
    assert ("probe", "default", *connect("database")) in cluster.asked
    assert ("exec", pod_of("frontend"), *connect("database")) in cluster.asked
    [policies] = [r for r in results if r.check == "isolation.policies"]
    assert policies.detail == f"4 NetworkPolicies in {NS}: {', '.join(POLICIES)}"


def test_a_denied_edge_that_connects_fails_naming_it() -> None:
    connected = {**EDGES, ("frontend", "database"): True}
    edges = edge_results(isolation(connected)[0])
    failed = {edge for edge, result in edges.items() if result.status is Status.FAILED}
    assert failed == {("frontend", "database")}
    assert edges[("frontend", "database")].tier == "database"
    assert edges[("frontend", "database")].detail == (
        f"a frontend pod -> {fqdn('database')}:5432: connected, but the NetworkPolicies deny this edge"
    )


def test_an_allowed_edge_that_is_refused_fails_naming_it() -> None:
    connected = {**EDGES, ("backend", "database"): False}
    edges = edge_results(isolation(connected)[0])
    assert {edge for edge, result in edges.items() if result.status is Status.FAILED} == {("backend", "database")}
    assert (
        "not connected (nc: timed out), but the NetworkPolicies allow this edge"
        in edges[("backend", "database")].detail
    )


def test_an_outside_pod_reaching_the_database_fails() -> None:
    connected = {**EDGES, ("outside", "database"): True}
    edges = edge_results(isolation(connected)[0])
    assert edges[("outside", "database")].status is Status.FAILED
    assert edges[("outside", "database")].detail.startswith("a pod in another namespace -> ")


def test_a_missing_policy_fails_naming_it() -> None:
    results, _ = isolation(EDGES, objects(POLICIES[:3]))
    [policies] = [r for r in results if r.check == "isolation.policies"]
    assert policies.status is Status.FAILED
    assert policies.detail == "missing NetworkPolicies: database-allow-backend"


def test_simulated_nodes_skip_every_edge_with_the_reason() -> None:
    recorded = objects()
    recorded["nodes"] = [
        {"metadata": {"name": "kwok-node-1", "annotations": {"kwok.x-k8s.io/node": "fake"}}, "status": {}}
    ]
    results, cluster = isolation(EDGES, recorded)
    edges = edge_results(results)
    assert set(edges) == set(EDGES)
    for result in edges.values():
        assert result.status is Status.SKIPPED
        assert result.detail == (
            "no traffic can flow: every node is simulated (kwok): no kubelet, no kube-proxy, pods run no process"
        )
    assert cluster.asked == []


def test_a_source_without_running_pods_is_skipped_not_passed() -> None:
    recorded = objects()
    recorded["pods"] = [p for p in recorded["pods"] if not p["metadata"]["name"].startswith("backend")]
    edges = edge_results(isolation(EDGES, copy.deepcopy(recorded))[0])
    for target in ("frontend", "database"):
        assert edges[("backend", target)].status is Status.SKIPPED
        assert edges[("backend", target)].detail == "no running backend pod to connect from"
