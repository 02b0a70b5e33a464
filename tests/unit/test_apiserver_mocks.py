"""The mock layer behaves like the API server where the components depend on it."""

from __future__ import annotations

import re
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pytest

from components.args import Manifest
from offline import ApiServerMocks, ApiServerRejectionError, evaluate_program


def node_port_service(name: str, node_port: int | None, service_type: str = "NodePort") -> None:
    port: dict[str, int] = {"port": 80}
    if node_port is not None:
        port["nodePort"] = node_port
    spec: Manifest = {"type": service_type, "selector": {"app": name}, "ports": [port]}
    k8s.core.v1.Service(name, spec=spec)


def test_a_taken_node_port_is_rejected() -> None:
    def program() -> None:
        node_port_service("first", 30500)
        node_port_service("second", 30500)

    with pytest.raises(ApiServerRejectionError, match="30500: provided port is already allocated"):
        evaluate_program(program, stack="test", config={})


def test_node_port_outside_the_range_is_rejected() -> None:
    with pytest.raises(
        ApiServerRejectionError, match=re.escape("not in the valid range. The range of valid ports is 30000-32767")
    ):
        evaluate_program(lambda: node_port_service("low", 8080), stack="test", config={})


def test_node_port_on_a_cluster_ip_service_is_rejected() -> None:
    with pytest.raises(ApiServerRejectionError, match=re.escape("may not be used when `type` is 'ClusterIP'")):
        evaluate_program(lambda: node_port_service("plain", 30001, "ClusterIP"), stack="test", config={})


def test_dynamic_node_ports_prefer_the_upper_band_and_avoid_pinned_ones() -> None:
    mocks = ApiServerMocks()

    def program() -> None:
        # Pinned ports belong in the lower (static) band, 30000-30085 for the default range.
        node_port_service("pinned", 30010)
        node_port_service("dynamic", None)
        node_port_service("dynamic-too", None)

    evaluation = evaluate_program(program, stack="test", config={}, mocks=mocks)
    ports = {r.name: r.state["spec"]["ports"][0]["nodePort"] for r in evaluation.kubernetes_objects()}
    assert ports["pinned"] == 30010
    assert {ports["dynamic"], ports["dynamic-too"]} == {30086, 30087}


def test_defaults_are_filled_like_the_api_server() -> None:
    def program() -> None:
        k8s.core.v1.Service("svc", spec={"selector": {"app": "x"}, "ports": [{"port": 80}]})
        deployment_spec: Manifest = {
            "selector": {"matchLabels": {"app": "x"}},
            "template": {"metadata": {"labels": {"app": "x"}}, "spec": {"containers": [{"name": "c", "image": "x:1"}]}},
        }
        k8s.apps.v1.Deployment("dep", spec=deployment_spec)

    evaluation = evaluate_program(program, stack="test", config={})
    by_name = {r.name: r.state for r in evaluation.kubernetes_objects()}
    service, deployment = by_name["svc"], by_name["dep"]
    assert service["metadata"]["namespace"] == "default"
    assert service["metadata"]["name"].startswith("svc-")
    assert service["spec"]["type"] == "ClusterIP"
    assert service["spec"]["ports"][0] == {"port": 80, "protocol": "TCP", "targetPort": 80}
    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["template"]["spec"]["dnsPolicy"] == "ClusterFirst"
    assert deployment["status"]["readyReplicas"] == 1
    assert service["metadata"]["uid"] != deployment["metadata"]["uid"]


def test_services_created_from_many_threads_get_distinct_addresses_and_ports() -> None:
    """The SDK calls ``new_resource`` from its registration threads at once; admission is one at a time.

    Seen at 50 fleet apps: two threads inside the cluster-IP allocator's generator at once made the
    gate fail with ``ValueError: generator already executing``.
    """
    mocks = ApiServerMocks()
    threads, per_thread = 8, 150
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible: the race shows at once
    try:

        def create(worker: int) -> list[tuple[str | None, dict[Any, Any]]]:
            created = []
            for index in range(per_thread):
                name = f"s-{worker}-{index}"
                kind = "LoadBalancer" if index % 6 == 0 else "NodePort"  # the pool holds 254 addresses
                args = pulumi.runtime.MockResourceArgs(
                    typ="kubernetes:core/v1:Service",
                    name=name,
                    inputs={"metadata": {"name": name}, "spec": {"type": kind, "ports": [{"port": 80}]}},
                    provider="",
                    resource_id="",
                )
                created.append(mocks.new_resource(args))
            return created

        with ThreadPoolExecutor(threads) as pool:
            services = [state for batch in pool.map(create, range(threads)) for _, state in batch]
    finally:
        sys.setswitchinterval(previous)
    cluster_ips = [service["spec"]["clusterIP"] for service in services]
    node_ports = [service["spec"]["ports"][0]["nodePort"] for service in services]
    lb_ips = [
        service["status"]["loadBalancer"]["ingress"][0]["ip"]
        for service in services
        if service["status"]["loadBalancer"]
    ]
    assert len(services) == threads * per_thread
    for values in (cluster_ips, node_ports, lb_ips):
        assert len(set(values)) == len(values)
