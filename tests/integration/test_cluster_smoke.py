"""The local cluster is a real Kubernetes control plane: the API server, its admission, controllers and
allocators behave as the product relies on (make cluster-up; run by make integration)."""

from __future__ import annotations

import ipaddress
import re
import subprocess
from functools import partial
from pathlib import Path
from typing import Any

import dns.exception
import dns.message
import dns.query
import dns.rdatatype
import pytest
from kubernetes import client

from verify.network import http_get, route_decision

from .conftest import ROOT, TOOLCHAIN, is_local_cluster, restricted_pod_spec, wait_until

pytestmark = pytest.mark.integration

SERVICE_CIDR = ipaddress.ip_network("10.96.0.0/12")  # hack/cluster-env.sh SERVICE_CIDR (local cluster)
LOOPBACK = ipaddress.ip_network("127.0.0.0/8")


def lb_pools(custom: client.CustomObjectsApi) -> list[tuple[ipaddress.IPv4Address, ipaddress.IPv4Address]]:
    """The LoadBalancer address ranges: MetalLB's IPAddressPools, else .toolchain/lb-pool."""
    ranges: list[str] = []
    try:
        pools = custom.list_cluster_custom_object("metallb.io", "v1beta1", "ipaddresspools")["items"]
        ranges = [r for pool in pools for r in pool["spec"]["addresses"]]
    except client.ApiException as error:
        if error.status != 404:
            raise
    record = TOOLCHAIN / "lb-pool"
    if not ranges and is_local_cluster() and record.exists():
        ranges = [record.read_text().strip()]
    parsed = []
    for item in ranges:
        if "-" in item:
            low, high = item.split("-")
            parsed.append((ipaddress.ip_address(low.strip()), ipaddress.ip_address(high.strip())))
        else:
            network = ipaddress.ip_network(item)
            parsed.append((network[0], network[-1]))
    return parsed  # type: ignore[return-value]


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


def ready_pods(core: client.CoreV1Api, namespace: str, count: int) -> list[client.V1Pod] | None:
    """The Running/Ready pods of the test Deployment, once there are ``count`` of them."""
    pods = core.list_namespaced_pod(namespace, label_selector="app=web").items
    ready = [
        p
        for p in pods
        if p.status.phase == "Running"
        and any(c.type == "Ready" and c.status == "True" for c in p.status.conditions or [])
    ]
    return ready if len(ready) == count else None


def ready_addresses(discovery: client.DiscoveryV1Api, namespace: str, service: str, count: int) -> list[str] | None:
    """The ready endpoint addresses of ``service``, once there are ``count`` of them."""
    slices = discovery.list_namespaced_endpoint_slice(
        namespace, label_selector=f"kubernetes.io/service-name={service}"
    ).items
    ready = [a for s in slices for e in s.endpoints or [] if e.conditions.ready for a in e.addresses]
    return ready if len(ready) == count else None


def ingress_ip(core: client.CoreV1Api, namespace: str, service: str) -> str | None:
    """The first load-balancer ingress IP of ``service``, once it has one."""
    status = core.read_namespaced_service(service, namespace).status
    ingress = status.load_balancer.ingress if status.load_balancer else None
    return ingress[0].ip if ingress else None


def a_records(host: str, port: int, fqdn: str) -> set[str] | None:
    """A records of ``fqdn`` from the DNS server ``host:port``, once there are any (None meanwhile)."""
    try:
        response = dns.query.udp(dns.message.make_query(fqdn, dns.rdatatype.A), host, port=port, timeout=2)
    except (dns.exception.Timeout, OSError):
        return None  # not answering yet: the caller's wait_until asks again
    found = {item.address for rrset in response.answer for item in rrset}
    return found or None


def test_deployment_of_three_gets_three_running_ready_pods(
    namespace: str, apps: client.AppsV1Api, core: client.CoreV1Api
) -> None:
    apps.create_namespaced_deployment(namespace, deployment(3))
    pods = wait_until("3 Running/Ready pods", partial(ready_pods, core, namespace, 3))
    assert all(pod.status.pod_ip for pod in pods)
    assert {pod.spec.node_name for pod in pods} <= {n.metadata.name for n in core.list_node().items}


def test_cluster_ip_service_gets_an_ip_and_an_endpoint_slice_of_three_ready_addresses(
    namespace: str, apps: client.AppsV1Api, core: client.CoreV1Api, discovery: client.DiscoveryV1Api
) -> None:
    apps.create_namespaced_deployment(namespace, deployment(3))
    created = core.create_namespaced_service(namespace, service("web"))
    cluster_ip = ipaddress.ip_address(created.spec.cluster_ip)
    if is_local_cluster():
        assert cluster_ip in SERVICE_CIDR

    wait_until("an EndpointSlice with 3 ready addresses", partial(ready_addresses, discovery, namespace, "web", 3))


def test_node_port_is_allocated_in_range_and_a_taken_one_is_rejected(namespace: str, core: client.CoreV1Api) -> None:
    first = core.create_namespaced_service(namespace, service("first", "NodePort"))
    node_port = first.spec.ports[0].node_port
    assert 30000 <= node_port <= 32767
    with pytest.raises(client.ApiException) as rejected:
        core.create_namespaced_service(namespace, service("second", "NodePort", node_port))
    assert rejected.value.status == 422
    assert "provided port is already allocated" in rejected.value.body


def stays_on_this_machine(address: ipaddress.IPv4Address) -> bool:
    """Loopback (kwok mode), or routed through the veth into the real node's namespace."""
    return address in LOOPBACK or route_decision(str(address)).local


def test_load_balancer_gets_an_ingress_ip_from_a_pool_that_stays_on_this_machine(
    namespace: str, core: client.CoreV1Api, custom: client.CustomObjectsApi
) -> None:
    pools = lb_pools(custom)
    if is_local_cluster():
        assert pools and all(stays_on_this_machine(low) and stays_on_this_machine(high) for low, high in pools), pools
    core.create_namespaced_service(namespace, service("public", "LoadBalancer"))
    address = ipaddress.ip_address(
        wait_until("status.loadBalancer.ingress", partial(ingress_ip, core, namespace, "public"))
    )
    if pools:
        assert any(low <= address <= high for low, high in pools), (address, pools)


def test_coredns_answers_the_service_fqdn_with_its_cluster_ip(
    namespace: str, core: client.CoreV1Api, dns_server: tuple[str, int]
) -> None:
    cluster_ip = core.create_namespaced_service(namespace, service("named")).spec.cluster_ip
    host, port = dns_server
    assert ipaddress.ip_address(host).is_loopback
    fqdn = f"named.{namespace}.svc.cluster.local"
    assert wait_until(f"an A record for {fqdn}", partial(a_records, host, port, fqdn), timeout=30) == {cluster_ip}


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


def test_nodes_are_ready_and_their_addresses_stay_on_this_machine(core: client.CoreV1Api) -> None:
    """Kwok nodes have loopback InternalIPs; the real node's InternalIP is routed into its namespace."""
    if not is_local_cluster():
        pytest.skip("checks the nodes hack/cluster-up.sh creates")
    nodes = core.list_node().items
    assert nodes
    for node in nodes:
        assert any(c.type == "Ready" and c.status == "True" for c in node.status.conditions), node.metadata.name
        internal = [a.address for a in node.status.addresses if a.type == "InternalIP"]
        assert internal, node.metadata.name
        for address in internal:
            if (node.metadata.annotations or {}).get("kwok.x-k8s.io/node") == "fake":
                assert ipaddress.ip_address(address) in LOOPBACK, internal
            else:
                decision = route_decision(address)
                assert decision.local and "network namespace threetier" in decision.reason, decision


def ready_pod_ip(core: client.CoreV1Api, namespace: str, name: str) -> str | None:
    """The pod's IP once it is Ready."""
    status = core.read_namespaced_pod(name, namespace).status
    ready = any(c.type == "Ready" and c.status == "True" for c in status.conditions or [])
    return str(status.pod_ip) if ready else None


def test_every_real_node_runs_containerd_and_its_pods_get_its_pod_cidr_addresses(
    core: client.CoreV1Api, namespace: str, real_traffic: bool
) -> None:
    if not real_traffic:  # (the fixture fails when make cluster-up was asked for a real node)
        pytest.skip("no real node in this cluster (make cluster-up NODE=kwok)")
    real = [n for n in core.list_node().items if (n.metadata.labels or {}).get("threetier.dev/node") == "real"]
    assert real, [n.metadata.name for n in core.list_node().items]
    for index, node in enumerate(real):
        assert node.status.node_info.container_runtime_version.startswith("containerd://"), node.metadata.name
        name = f"real-pod-{index}"
        pod = {"metadata": {"name": name}, "spec": {**restricted_pod_spec(name), "nodeName": node.metadata.name}}
        core.create_namespaced_pod(namespace, pod)
    for index, node in enumerate(real):
        name = f"real-pod-{index}"
        pod_ip = wait_until(
            f"{name} on {node.metadata.name} to be Ready", partial(ready_pod_ip, core, namespace, name), 60
        )
        # Node K's pods get addresses of its own /24 (hack/cluster-env.sh: 10.244.(K-1).0/24).
        number = int(node.metadata.name.rsplit("-", 1)[1])
        assert ipaddress.ip_address(pod_ip) in ipaddress.ip_network(f"10.244.{number - 1}.0/24"), (
            node.metadata.name,
            pod_ip,
        )
        decision = route_decision(pod_ip)
        assert decision.local, decision
        ok, status = http_get(f"http://{pod_ip}:8080/index.html")
        assert ok, status


# kwokctl prints each binary it would fetch as "# Download SOURCE to TARGET"; a SOURCE that is a URL
# would be a download.  The component flags contain URLs too (etcd's listen URLs, the service
# account issuer): those must name loopback/wildcard addresses or the issuer, never a remote host.
ALLOWED_URL_HOSTS = {"127.0.0.1", "0.0.0.0", "kubernetes.default.svc.cluster.local"}


def test_kwokctl_dry_run_downloads_nothing() -> None:
    completed = subprocess.run(
        [str(ROOT / "hack" / "cluster-up.sh"), "--dry-run"], capture_output=True, text=True, check=True, cwd=ROOT
    )
    plan = completed.stdout
    downloads = [line.split() for line in plan.splitlines() if line.startswith("# Download ")]
    sources = [Path(words[2]) for words in downloads]
    # etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok-controller
    assert len(sources) == 5, downloads
    for source in sources:
        assert source.parent.resolve() == (TOOLCHAIN / "bin").resolve(), source  # (a worktree links .toolchain)
        assert source.resolve().is_file(), f"{source} is not a local file"
    urls = re.findall(r"[a-z][a-z0-9+.-]*://[^\s\"',]+", plan)
    hosts = {re.sub(r"^[a-z0-9+.-]+://", "", url).split("/")[0].rsplit(":", 1)[0] for url in urls}
    assert hosts <= ALLOWED_URL_HOSTS, sorted(url for url in urls if "127.0.0.1" not in url)
    assert "kube-apiserver" in plan
    # The API server authorizes with RBAC: the environments' deployers are held to their Roles.
    assert "--authorization-mode=Node,RBAC" in plan


def test_the_running_api_server_authorizes_with_rbac() -> None:
    """The cluster's kube-apiserver process (whichever clone started it) runs with RBAC among its authorizers."""
    modes = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            args = cmdline.read_bytes().split(b"\0")
        except OSError:  # the process ended meanwhile
            continue
        if args and Path(args[0].decode(errors="replace")).name == "kube-apiserver":
            modes += [a.decode().split("=", 1)[1] for a in args if a.startswith(b"--authorization-mode=")]
    assert modes, "no kube-apiserver process with --authorization-mode found"
    assert all("RBAC" in mode.split(",") for mode in modes), modes
