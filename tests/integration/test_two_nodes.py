"""The cluster's real nodes together: pods reach each other across nodes, each node's pods resolve
names, and a strict spread over nodes is not held back by a node that cannot take pods.

Needs two real nodes (``make cluster-up``, whose default is two); on a cluster started with
``NODES=1`` these tests are skipped naming that (the count asked for is in ``.toolchain/nodes``).
"""

from __future__ import annotations

import copy
import ipaddress
import subprocess
import uuid
from collections.abc import Iterator
from functools import partial
from typing import Any

import pytest
from kubernetes import client

from components.scheduling import Scheduling

from .conftest import TOOLCHAIN, restricted_pod_spec, wait_until
from .node_steps import KUBECTL, node_ready, real_nodes
from .stacks import kubectl
from .test_cluster_smoke import ready_pod_ip

pytestmark = pytest.mark.integration


@pytest.fixture
def two_nodes(core: client.CoreV1Api, real_traffic: bool) -> list[str]:
    """The names of the Ready real nodes (at least two), else skipped naming the count asked for."""
    asked = int((TOOLCHAIN / "nodes").read_text()) if (TOOLCHAIN / "nodes").exists() else 1
    if not real_traffic or asked < 2:
        pytest.skip(f"needs two real nodes; make cluster-up was asked for {asked if real_traffic else 0}")
    ready = sorted(str(node.metadata.name) for node in real_nodes(core) if node_ready(node))
    assert len(ready) >= 2, f"make cluster-up asked for {asked} real nodes; Ready: {ready}"
    return ready


def exec_in(namespace: str, pod: str, *command: str) -> str:
    return kubectl("exec", "-n", namespace, pod, "--", *command)


def test_pods_on_different_nodes_reach_each_other_and_resolve_names(
    core: client.CoreV1Api, namespace: str, two_nodes: list[str]
) -> None:
    pods = {}
    for node in two_nodes:
        name = f"on-{node}"
        core.create_namespaced_pod(
            namespace, {"metadata": {"name": name}, "spec": {**restricted_pod_spec(name), "nodeName": node}}
        )
        pods[node] = name
    ips = {
        node: wait_until(f"{name} Ready", partial(ready_pod_ip, core, namespace, name), 60)
        for node, name in pods.items()
    }
    for node, name in pods.items():
        # Every other node's pod, by its pod IP: over the fabric between the node namespaces.
        for other, ip in ips.items():
            if other != node:
                page = exec_in(namespace, name, "timeout", "5", "wget", "-q", "-O", "-", f"http://{ip}:8080/index.html")
                assert page.strip() == pods[other], (node, other, page)
        # The cluster DNS from this node (its own kube-dns endpoint, internalTrafficPolicy Local).
        answer = exec_in(namespace, name, "nslookup", "kubernetes.default.svc.cluster.local")
        assert "Address" in answer and "10.96.0.1" in answer, (node, answer)


def strict_spread_deployment(name: str, taints_policy: str | None = None) -> dict[str, Any]:
    """Two replicas spread with the components' own settings (a tier with spread DoNotSchedule);
    ``taints_policy`` overrides their nodeTaintsPolicy (the control)."""
    labels = {"app": name}
    scheduling = Scheduling(spread="DoNotSchedule").pod_spec(labels)
    constraint = copy.deepcopy(scheduling["topologySpreadConstraints"][0])
    if taints_policy is not None:
        constraint["nodeTaintsPolicy"] = taints_policy
    spec = {**restricted_pod_spec(name), **scheduling, "topologySpreadConstraints": [constraint]}
    return {
        "metadata": {"name": name},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": spec},
        },
    }


@pytest.fixture
def cordoned(two_nodes: list[str]) -> Iterator[str]:
    """The last real node, cordoned (kubectl adds the unschedulable taint); uncordoned afterwards."""
    node = two_nodes[-1]
    kubectl("cordon", node)
    yield node
    kubectl("uncordon", node)


def placed(core: client.CoreV1Api, namespace: str, name: str) -> tuple[list[str], list[str]]:
    """(nodes of the Running pods, names of the pods the scheduler found no node for)."""
    pods = core.list_namespaced_pod(namespace, label_selector=f"app={name}").items
    running = [str(p.spec.node_name) for p in pods if p.status.phase == "Running"]
    unschedulable = [
        str(p.metadata.name)
        for p in pods
        if any(c.type == "PodScheduled" and c.reason == "Unschedulable" for c in p.status.conditions or [])
    ]
    return running, unschedulable


@pytest.mark.disruptive
def test_a_cordoned_node_does_not_hold_back_a_strict_spread(
    core: client.CoreV1Api, apps: client.AppsV1Api, namespace: str, cordoned: str, two_nodes: list[str]
) -> None:
    # The tier's spread (maxSkew 1 over kubernetes.io/hostname) with nodeTaintsPolicy Honor: a node
    # carrying a taint the pods do not tolerate (here node.kubernetes.io/unschedulable) is no domain,
    # so both replicas run on the node left. The same spread ignoring taints leaves one Pending.
    honored = f"tier-{uuid.uuid4().hex[:6]}"
    apps.create_namespaced_deployment(namespace, strict_spread_deployment(honored))
    running = wait_until(
        "both replicas running on the node left",
        lambda: (lambda r: r if len(r[0]) == 2 else None)(placed(core, namespace, honored)),
        timeout=90,
    )[0]
    assert cordoned not in running and len(set(running)) == 1, running

    ignored = f"ignore-{uuid.uuid4().hex[:6]}"
    apps.create_namespaced_deployment(namespace, strict_spread_deployment(ignored, "Ignore"))
    running, pending = wait_until(
        "the scheduler to report a replica unschedulable",
        lambda: (lambda r: r if r[1] else None)(placed(core, namespace, ignored)),
        timeout=90,
    )
    assert len(running) <= 1 and pending, (running, pending)


def policy(name: str, pod_selector: dict[str, str], ingress: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "metadata": {"name": name},
        "spec": {"podSelector": {"matchLabels": pod_selector}, "policyTypes": ["Ingress"], "ingress": ingress},
    }


def pod_on(name: str, node: str, role: str) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "labels": {"role": role}},
        "spec": {**restricted_pod_spec(name), "nodeName": node},
    }


def connects(namespace: str, pod: str, address: str) -> bool:
    """``pod`` opens a TCP connection to ``address`` (host port) within 2 s."""
    completed = subprocess.run(
        [*KUBECTL, "exec", "-n", namespace, pod, "--", "sh", "-c", f"nc -w 2 {address} </dev/null"],
        capture_output=True,
        text=True,
        check=False,
    )
    return completed.returncode == 0


def test_a_pod_ip_reused_at_once_does_not_inherit_the_old_pods_access(
    core: client.CoreV1Api, networking: client.NetworkingV1Api, namespace: str, two_nodes: list[str]
) -> None:
    """docs/cluster.md's known issue, reproduced on purpose: a pod admitted by a NetworkPolicy is
    deleted and its IP handed at once to a pod the policy denies (the node's host-local IPAM told to
    allocate it next). The new pod must be refused from its first connection on: the enforcer must
    not keep the old pod's rules for the address."""
    node = two_nodes[0]
    ipam = TOOLCHAIN / "node" / node / "cni" / "ipam" / "threetier"
    networking.create_namespaced_network_policy(namespace, policy("deny-all", {}, []))
    networking.create_namespaced_network_policy(
        namespace,
        policy(
            "server-from-clients",
            {"role": "server"},
            [{"from": [{"podSelector": {"matchLabels": {"role": "client"}}}]}],
        ),
    )
    for name, role in (("server", "server"), ("client", "client")):
        core.create_namespaced_pod(namespace, pod_on(name, node, role))
    server = wait_until("the server Ready", partial(ready_pod_ip, core, namespace, "server"), 60)
    old_ip = wait_until("the client Ready", partial(ready_pod_ip, core, namespace, "client"), 60)
    wait_until("the client admitted", lambda: connects(namespace, "client", f"{server} 8080"), 60)

    core.delete_namespaced_pod("client", namespace, grace_period_seconds=0)
    wait_until("the client's address released", lambda: not (ipam / old_ip).exists(), 60)
    # host-local hands out the address after the last one it reserved: make that the old client's.
    before = ipaddress.ip_address(old_ip) - 1
    (ipam / "last_reserved_ip.0").write_text(str(before))
    core.create_namespaced_pod(namespace, pod_on("intruder", node, "intruder"))
    new_ip = wait_until("the intruder Ready", partial(ready_pod_ip, core, namespace, "intruder"), 60)
    assert new_ip == old_ip, f"the IPAM did not reuse {old_ip} (gave {new_ip}): the test proves nothing"

    attempts = [connects(namespace, "intruder", f"{server} 8080") for _ in range(8)]
    assert not any(attempts), f"the intruder on the old client's address {old_ip} connected: {attempts}"
    # The policy still admits a real client (so the refusals above are the policy's, not a dead server).
    core.create_namespaced_pod(namespace, pod_on("client-2", node, "client"))
    wait_until("client-2 Ready", partial(ready_pod_ip, core, namespace, "client-2"), 60)
    wait_until("client-2 admitted", lambda: connects(namespace, "client-2", f"{server} 8080"), 60)
