"""The verifier's placement check on a fake cluster view: a tier of several replicas stands on several nodes.

Starts from the recorded dev deployment with three backend replicas and two Ready real nodes; each
test moves pods or changes nodes. Tiers of one replica get no placement check at all.
"""

from __future__ import annotations

from typing import Any

import pytest

from verify import CheckResult, StackOutputs, Status, VerifyOptions, verify
from verify.checks.placement import ONE_NODE, tolerates
from verify.cluster import RecordedCluster

from .verify_fixtures import NS, recording, selector, stack_outputs

KWOK_TAINT = {"key": "kwok.x-k8s.io/node", "value": "fake", "effect": "NoSchedule"}


def node(name: str, ready: bool = True, **spec: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}},
        "spec": spec,
        "status": {
            "conditions": [{"type": "Ready", "status": "True" if ready else "Unknown"}],
            "addresses": [{"type": "InternalIP", "address": "127.0.0.1"}],
        },
    }


def pod(index: int, node_name: str, ready: bool = True, terminating: bool = False) -> dict[str, Any]:
    metadata: dict[str, Any] = {
        "name": f"backend-6d4cf56db6-{index:05d}",
        "namespace": NS,
        "labels": {**selector("backend"), "pod-template-hash": "6d4cf56db6"},
    }
    if terminating:
        metadata["deletionTimestamp"] = "2026-11-23T10:00:00Z"
    return {
        "metadata": metadata,
        "spec": {"containers": [{"name": "backend"}], "nodeName": node_name},
        "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True" if ready else "False"}]},
    }


class Cluster:
    """The recorded dev stack, its backend scaled to ``replicas``, on the given nodes and backend pods."""

    def __init__(self, replicas: int = 3) -> None:
        self.outputs = stack_outputs()
        self.outputs["backend"]["replicas"] = replicas
        self.objects = recording()
        self.objects["pods"] = [
            p for p in self.objects["pods"] if p["metadata"]["labels"]["app.kubernetes.io/name"] != "backend"
        ]
        self.backend["spec"] = {"replicas": replicas, "template": {"spec": {"containers": [{"name": "backend"}]}}}
        self.objects["nodes"] = [node("node-a"), node("node-b")]

    @property
    def backend(self) -> dict[str, Any]:
        found: dict[str, Any] = next(d for d in self.objects["deployments"] if d["metadata"]["name"] == "backend")
        return found

    def backend_pods_on(self, *nodes: str, **flags: Any) -> Cluster:
        self.objects["pods"] += [pod(index, name, **flags) for index, name in enumerate(nodes)]
        return self

    def placement(self) -> list[CheckResult]:
        results = verify(
            StackOutputs.from_json("dev", self.outputs),
            RecordedCluster(self.objects),
            VerifyOptions(settle_timeout=0.1),
        )
        return [r for r in results if r.check.startswith("placement")]


def only(results: list[CheckResult], status: Status) -> CheckResult:
    [found] = results
    assert (found.tier, found.check, found.status) == ("backend", "placement.spread", status), found
    return found


def test_replicas_on_two_ready_nodes_pass_and_single_replica_tiers_get_no_check() -> None:
    result = only(Cluster().backend_pods_on("node-a", "node-b", "node-a").placement(), Status.PASSED)
    assert result.detail == (
        "3 Ready pod(s) of 3 on 2 node(s) (node-a: 2, node-b: 1); 2 usable Ready node(s), at least 2 required"
    )


def test_every_replica_on_one_of_two_ready_nodes_fails() -> None:
    result = only(Cluster().backend_pods_on("node-a", "node-a", "node-a").placement(), Status.FAILED)
    assert result.detail.startswith("3 Ready pod(s) of 3 on 1 node(s) (node-a: 3); 2 usable Ready node(s), at least 2")


def test_two_replicas_on_three_nodes_need_two_nodes_and_three_need_three() -> None:
    cluster = Cluster(replicas=2).backend_pods_on("node-a", "node-c")
    cluster.objects["nodes"].append(node("node-c"))
    assert "at least 2 required" in only(cluster.placement(), Status.PASSED).detail
    cluster = Cluster(replicas=3).backend_pods_on("node-a", "node-c", "node-c")
    cluster.objects["nodes"].append(node("node-c"))
    assert "3 usable Ready node(s), at least 3 required" in only(cluster.placement(), Status.FAILED).detail


@pytest.mark.parametrize(
    ("pods", "flags"),
    [(("node-a", "node-a", "node-b"), {"ready": False}), (("node-a", "node-a", "node-b"), {"terminating": True})],
)
def test_a_pod_that_is_not_ready_or_terminating_does_not_count(pods: tuple[str, ...], flags: dict[str, Any]) -> None:
    cluster = Cluster().backend_pods_on(*pods[:2])
    cluster.objects["pods"].append(pod(2, pods[2], **flags))
    assert "2 Ready pod(s) of 3 on 1 node(s) (node-a: 2)" in only(cluster.placement(), Status.FAILED).detail


@pytest.mark.parametrize(
    ("node_b", "why"),
    [
        (node("node-b", ready=False), "node-b (not Ready)"),
        (node("node-b", unschedulable=True), "node-b (cordoned)"),
        (node("node-b", taints=[KWOK_TAINT]), "node-b (taint kwok.x-k8s.io/node=fake:NoSchedule not tolerated)"),
    ],
    ids=["not-ready", "cordoned", "tainted"],
)
def test_with_one_usable_node_the_check_is_skipped_with_the_reason(node_b: dict[str, Any], why: str) -> None:
    # A drain or a lost node: every replica on the one node left is right, not a failure.
    cluster = Cluster().backend_pods_on("node-a", "node-a", "node-a")
    cluster.objects["nodes"] = [node("node-a"), node_b]
    result = only(cluster.placement(), Status.SKIPPED)
    assert (
        result.detail
        == f"{ONE_NODE} the tier's pods may run on, nothing to spread over: 1 (node-a); not counted: {why}"
    )


def test_a_one_node_cluster_is_skipped() -> None:
    cluster = Cluster().backend_pods_on("node-a", "node-a", "node-a")
    cluster.objects["nodes"] = [node("node-a")]
    assert only(cluster.placement(), Status.SKIPPED).detail == (
        f"{ONE_NODE} the tier's pods may run on, nothing to spread over: 1 (node-a)"
    )


def test_a_tainted_node_counts_once_the_pod_template_tolerates_it() -> None:
    cluster = Cluster().backend_pods_on("node-a", "node-a", "node-a")
    cluster.objects["nodes"] = [node("node-a"), node("node-b", taints=[KWOK_TAINT])]
    template: dict[str, Any] = cluster.backend["spec"]["template"]["spec"]
    template["tolerations"] = [{"key": "kwok.x-k8s.io/node", "operator": "Exists", "effect": "NoSchedule"}]
    assert "2 usable Ready node(s)" in only(cluster.placement(), Status.FAILED).detail
    # A PreferNoSchedule taint only discourages: the node counts without a toleration.
    template.pop("tolerations")
    cluster.objects["nodes"][1]["spec"]["taints"] = [{**KWOK_TAINT, "effect": "PreferNoSchedule"}]
    assert "2 usable Ready node(s)" in only(cluster.placement(), Status.FAILED).detail


def test_nodes_the_node_selector_excludes_do_not_count() -> None:
    cluster = Cluster().backend_pods_on("node-b", "node-b", "node-b")
    cluster.objects["nodes"].append(node("node-c"))
    cluster.backend["spec"]["template"]["spec"]["nodeSelector"] = {"kubernetes.io/hostname": "node-b"}
    result = only(cluster.placement(), Status.SKIPPED)
    assert result.detail.endswith(
        "1 (node-b); not counted: node-a (nodeSelector {'kubernetes.io/hostname': 'node-b'} not matched), "
        "node-c (nodeSelector {'kubernetes.io/hostname': 'node-b'} not matched)"
    )


def test_the_live_replica_count_wins_over_the_export() -> None:
    cluster = Cluster(replicas=3).backend_pods_on("node-a")
    cluster.backend["spec"]["replicas"] = 1  # scaled down by hand: endpoints.replicas reports that
    assert cluster.placement() == []


@pytest.mark.parametrize(
    ("toleration", "taint", "expected"),
    [
        ({"operator": "Exists"}, KWOK_TAINT, True),
        ({"operator": "Exists", "effect": "NoExecute"}, KWOK_TAINT, False),
        ({"key": "kwok.x-k8s.io/node", "operator": "Equal", "value": "fake"}, KWOK_TAINT, True),
        ({"key": "kwok.x-k8s.io/node", "value": "fake", "effect": "NoSchedule"}, KWOK_TAINT, True),
        ({"key": "kwok.x-k8s.io/node", "operator": "Equal", "value": "real"}, KWOK_TAINT, False),
        ({"key": "kwok.x-k8s.io/node", "operator": "Equal"}, KWOK_TAINT, False),
        ({"key": "other", "operator": "Exists"}, KWOK_TAINT, False),
        (
            {"key": "node.kubernetes.io/unschedulable", "operator": "Exists"},
            {"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"},
            True,
        ),
    ],
)
def test_tolerations_match_taints_as_kubernetes_does(
    toleration: dict[str, Any], taint: dict[str, Any], expected: bool
) -> None:
    assert tolerates(toleration, taint) is expected
