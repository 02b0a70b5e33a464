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


def edge_results(results: list[CheckResult], family: str = "isolation") -> dict[tuple[str, str], CheckResult]:
    """{(source, target): result} of the checks named ``<family>[source->target]``."""
    found = {}
    for result in results:
        if result.check.startswith(f"{family}["):
            source, target = result.check.removeprefix(f"{family}[").rstrip("]").split("->")
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


#: Pods spread over two real nodes: frontend on node-a, backend and database on node-b.
POD_PLACEMENT = {
    "frontend": ("node-a", "10.244.0.5"),
    "backend": ("node-b", "10.244.1.6"),
    "database": ("node-b", "10.244.1.7"),
}
CONTAINER_PORTS = {"frontend": 8080, "backend": 8080, "database": 5432}
#: The edges whose source and target pods stand on different nodes in POD_PLACEMENT.
ACROSS = {
    edge: allowed
    for edge, allowed in EDGES.items()
    if "outside" not in edge and POD_PLACEMENT[edge[0]][0] != POD_PLACEMENT[edge[1]][0]
}


def on_two_nodes() -> dict[str, Any]:
    recorded = objects()
    recorded["nodes"] = [
        {
            "metadata": {"name": name},
            "status": {
                "addresses": [{"type": "InternalIP", "address": address}],
                "conditions": [{"type": "Ready", "status": "True"}],
            },
        }
        for name, address in (("node-a", "198.18.0.2"), ("node-b", "198.18.1.2"))
    ]
    for pod in recorded["pods"]:
        node, ip = POD_PLACEMENT[pod["metadata"]["name"].split("-")[0]]
        pod["spec"]["nodeName"] = node
        pod["status"]["podIP"] = ip
    return recorded


def connect_pod(target: str) -> Command:
    return ("sh", "-c", f"nc -w 2 {POD_PLACEMENT[target][1]} {CONTAINER_PORTS[target]} </dev/null")


def across_results(results: list[CheckResult]) -> dict[tuple[str, str], CheckResult]:
    return edge_results(results, "isolation.acrossNodes")


def isolation_on_two_nodes(across: dict[tuple[str, str], bool]) -> tuple[list[CheckResult], FakeCluster]:
    probes, execs = answers(EDGES)
    for (source, target), ok in across.items():
        execs[(pod_of(source), connect_pod(target))] = (True, "") if ok else (False, "nc: timed out")
    cluster = FakeCluster(on_two_nodes(), probes=probes, execs=execs)
    ctx = CheckContext(outputs=StackOutputs.from_json("dev", outputs()), cluster=cluster, settle_timeout=0.2)
    return check_isolation(ctx), cluster


def test_on_two_nodes_every_edge_is_also_tried_pod_to_pod_across_the_nodes() -> None:
    assert set(ACROSS.values()) == {True, False}  # the placement gives allowed and denied pairs
    results, cluster = isolation_on_two_nodes(ACROSS)
    across = across_results(results)
    assert set(across) == set(ACROSS)
    assert all(result.status is Status.PASSED for result in results), [r for r in results if r.status != "passed"]
    assert across[("frontend", "database")].detail == (
        "a frontend pod on node-a -> database pod 10.244.1.7:5432 on node-b: "
        "refused within 2 s, as the policies require"
    )
    assert across[("frontend", "backend")].detail.endswith("on node-b: connected, as the policies require")
    assert ("exec", pod_of("frontend"), *connect_pod("database")) in cluster.asked


def test_a_denied_edge_that_connects_across_nodes_fails_naming_both_nodes() -> None:
    results, _ = isolation_on_two_nodes({**ACROSS, ("frontend", "database"): True})
    failed = [r for r in results if r.status is Status.FAILED]
    assert [(r.tier, r.check) for r in failed] == [("database", "isolation.acrossNodes[frontend->database]")]
    assert failed[0].detail == (
        "a frontend pod on node-a -> database pod 10.244.1.7:5432 on node-b: connected, "
        "but the NetworkPolicies deny this edge"
    )


def test_an_allowed_edge_refused_across_nodes_fails() -> None:
    results, _ = isolation_on_two_nodes({**ACROSS, ("frontend", "backend"): False})
    failed = [(r.check, r.status) for r in results if r.status is not Status.PASSED]
    assert failed == [("isolation.acrossNodes[frontend->backend]", Status.FAILED)]


def test_on_one_node_no_edge_is_tried_across_nodes() -> None:
    results, _ = isolation(EDGES)
    assert across_results(results) == {}
