"""The local cluster is a real Kubernetes control plane: the API server, its admission, controllers and
allocators behave as the product relies on (make cluster-up; run by make integration)."""

from __future__ import annotations

import ipaddress
import subprocess
from typing import Any

import dns.message
import dns.query
import dns.rdatatype
import pytest
from kubernetes import client

from .conftest import ROOT, restricted_pod_spec, wait_until

pytestmark = pytest.mark.integration

LB_POOL = (ipaddress.ip_address("127.0.20.1"), ipaddress.ip_address("127.0.20.50"))


def service(name: str, service_type: str = "ClusterIP", node_port: int | None = None) -> dict[str, Any]:
    port: dict[str, Any] = {"name": "http", "port": 80, "targetPort": 8080}
    if node_port:
        port["nodePort"] = node_port
    return {"metadata": {"name": name}, "spec": {"type": service_type, "selector": {"app": "web"}, "ports": [port]}}


def deployment(replicas: int) -> dict[str, Any]:
    return {
        "metadata": {"name": "web"},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}}, "spec": restricted_pod_spec()},
        },
    }


def test_deployment_of_three_gets_three_running_ready_pods(
    namespace: str, apps: client.AppsV1Api, core: client.CoreV1Api
) -> None:
    apps.create_namespaced_deployment(namespace, deployment(3))

    def ready_pods() -> list[client.V1Pod] | None:
        pods = core.list_namespaced_pod(namespace, label_selector="app=web").items
        ready = [
            p
            for p in pods
            if p.status.phase == "Running"
            and any(c.type == "Ready" and c.status == "True" for c in p.status.conditions or [])
        ]
        return ready if len(ready) == 3 else None

    pods = wait_until("3 Running/Ready pods", ready_pods)
    assert all(pod.status.pod_ip for pod in pods)
    assert {pod.spec.node_name for pod in pods} <= {n.metadata.name for n in core.list_node().items}


def test_cluster_ip_service_gets_an_ip_and_an_endpoint_slice_of_three_ready_addresses(
    namespace: str, apps: client.AppsV1Api, core: client.CoreV1Api, discovery: client.DiscoveryV1Api
) -> None:
    apps.create_namespaced_deployment(namespace, deployment(3))
    created = core.create_namespaced_service(namespace, service("web"))
    assert ipaddress.ip_address(created.spec.cluster_ip) in ipaddress.ip_network("10.96.0.0/12")

    def ready_addresses() -> list[str] | None:
        slices = discovery.list_namespaced_endpoint_slice(
            namespace, label_selector="kubernetes.io/service-name=web"
        ).items
        ready = [a for s in slices for e in s.endpoints or [] if e.conditions.ready for a in e.addresses]
        return ready if len(ready) == 3 else None

    wait_until("an EndpointSlice with 3 ready addresses", ready_addresses)


def test_node_port_is_allocated_in_range_and_a_taken_one_is_rejected(namespace: str, core: client.CoreV1Api) -> None:
    first = core.create_namespaced_service(namespace, service("first", "NodePort"))
    node_port = first.spec.ports[0].node_port
    assert 30000 <= node_port <= 32767
    with pytest.raises(client.ApiException) as rejected:
        core.create_namespaced_service(namespace, service("second", "NodePort", node_port))
    assert rejected.value.status == 422
    assert "provided port is already allocated" in rejected.value.body


def test_load_balancer_gets_an_ingress_ip_from_the_loopback_pool(namespace: str, core: client.CoreV1Api) -> None:
    core.create_namespaced_service(namespace, service("public", "LoadBalancer"))

    def ingress_ip() -> str | None:
        status = core.read_namespaced_service("public", namespace).status
        ingress = status.load_balancer.ingress if status.load_balancer else None
        return ingress[0].ip if ingress else None

    address = ipaddress.ip_address(wait_until("status.loadBalancer.ingress", ingress_ip))
    assert LB_POOL[0] <= address <= LB_POOL[1]


def test_coredns_answers_the_service_fqdn_with_its_cluster_ip(
    namespace: str, core: client.CoreV1Api, dns_server: tuple[str, int]
) -> None:
    cluster_ip = core.create_namespaced_service(namespace, service("named")).spec.cluster_ip
    host, port = dns_server
    assert ipaddress.ip_address(host).is_loopback
    fqdn = f"named.{namespace}.svc.cluster.local"

    def answers() -> set[str] | None:
        response = dns.query.udp(dns.message.make_query(fqdn, dns.rdatatype.A), host, port=port, timeout=2)
        found = {item.address for rrset in response.answer for item in rrset}
        return found or None

    assert wait_until(f"an A record for {fqdn}", answers, timeout=30) == {cluster_ip}


def test_a_pod_violating_the_restricted_level_is_rejected(namespace: str, core: client.CoreV1Api) -> None:
    privileged = {
        "metadata": {"name": "root"},
        "spec": {
            "containers": [
                {"name": "app", "image": "registry.local/smoke/app:1.0.0", "securityContext": {"privileged": True}}
            ]
        },
    }
    with pytest.raises(client.ApiException) as rejected:
        core.create_namespaced_pod(namespace, privileged)
    assert rejected.value.status == 403
    assert "violates PodSecurity" in rejected.value.body
    assert "restricted" in rejected.value.body


def test_kwokctl_dry_run_downloads_nothing() -> None:
    completed = subprocess.run(
        [str(ROOT / "hack" / "cluster-up.sh"), "--dry-run"], capture_output=True, text=True, check=True, cwd=ROOT
    )
    # kwokctl announces each binary it fetches as "# Download SOURCE to TARGET".
    sources = [line.split()[2] for line in completed.stdout.splitlines() if line.startswith("# Download ")]
    assert len(sources) == 5  # etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok-controller
    assert all(source.startswith(str(ROOT / ".toolchain" / "bin")) for source in sources), sources
    assert "kube-apiserver" in completed.stdout
