"""The mocks' cost grows linearly: no rescans of the address ranges (see also test_offline_recording)."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from typing import Any

import pytest
from pulumi.runtime import MockResourceArgs

from offline import ApiServerMocks, ApiServerRejectionError
from offline import apiserver_mocks as mocks_module
from offline.allocators import FirstFreeAllocator, RangeExhaustedError


class CountingNetwork:
    """An IP network that counts the host addresses its ``hosts()`` iterators hand out."""

    def __init__(self, cidr: str) -> None:
        self.network = ipaddress.ip_network(cidr)
        self.yielded = 0

    def hosts(self) -> Iterator[ipaddress.IPv4Address | ipaddress.IPv6Address]:
        for address in self.network.hosts():
            self.yielded += 1
            yield address


def create_service(mocks: ApiServerMocks, name: str, service_type: str = "ClusterIP", **spec: Any) -> dict[str, Any]:
    inputs = {
        "metadata": {"name": name, "namespace": "scale"},
        "spec": {"type": service_type, "ports": [{"port": 80}], **spec},
    }
    _, state = mocks.new_resource(MockResourceArgs("kubernetes:core/v1:Service", name, inputs, "", None))
    return state


def test_allocating_s_addresses_walks_each_address_of_the_range_once(monkeypatch: pytest.MonkeyPatch) -> None:
    cidr, pool = CountingNetwork("10.96.0.0/12"), CountingNetwork("198.51.100.0/24")
    monkeypatch.setattr(mocks_module, "SERVICE_CIDR", cidr)
    monkeypatch.setattr(mocks_module, "LOAD_BALANCER_POOL", pool)
    mocks = ApiServerMocks()
    services = 400
    states = [create_service(mocks, f"svc-{i}", "LoadBalancer" if i < 200 else "ClusterIP") for i in range(services)]

    cluster_ips = [state["spec"]["clusterIP"] for state in states]
    assert len(set(cluster_ips)) == services
    # Rescanning from the start for every Service walked ~services²/2 = 80,000 addresses.
    assert cidr.yielded <= services + len(mocks_module.RESERVED_CLUSTER_IPS)
    assert pool.yielded == 200


def test_addresses_come_first_free_in_order_and_pinned_ones_are_never_handed_out() -> None:
    mocks = ApiServerMocks()
    first, second = (create_service(mocks, name)["spec"]["clusterIP"] for name in ("a", "b"))
    assert (first, second) == ("10.96.0.2", "10.96.0.3")
    pinned = create_service(mocks, "pinned-ip", clusterIP="10.96.0.5")["spec"]
    assert pinned["clusterIPs"] == ["10.96.0.5"]
    following = [create_service(mocks, f"s{i}")["spec"]["clusterIP"] for i in range(6)]
    # .5 is pinned and .10 is kube-dns's: neither is handed out.
    assert following == ["10.96.0.4", "10.96.0.6", "10.96.0.7", "10.96.0.8", "10.96.0.9", "10.96.0.11"]
    with pytest.raises(ApiServerRejectionError, match=r"failed to allocate IP 10.96.0.5: provided IP is already"):
        create_service(mocks, "same-ip", clusterIP="10.96.0.5")
    with pytest.raises(ApiServerRejectionError, match=r"The range of valid IPs is 10.96.0.0/12"):
        create_service(mocks, "outside", clusterIP="10.0.0.5")
    assert create_service(mocks, "headless", clusterIP="None")["spec"]["clusterIPs"] == ["None"]

    node_ports = [create_service(mocks, f"np{i}", "NodePort")["spec"]["ports"][0]["nodePort"] for i in range(3)]
    assert node_ports == [30086, 30087, 30088]
    pinned_port = create_service(mocks, "pinned", "NodePort", ports=[{"port": 80, "nodePort": 30089}])
    assert pinned_port["spec"]["ports"][0]["nodePort"] == 30089
    assert create_service(mocks, "next", "NodePort")["spec"]["ports"][0]["nodePort"] == 30090
    with pytest.raises(ApiServerRejectionError, match="30089: provided port is already allocated"):
        create_service(mocks, "clash", "NodePort", ports=[{"port": 80, "nodePort": 30089}])


def test_a_full_range_is_rejected_like_the_api_server() -> None:
    mocks = ApiServerMocks(node_port_range=(30000, 30016))
    for i in range(17):
        create_service(mocks, f"np{i}", "NodePort")
    with pytest.raises(ApiServerRejectionError, match='"scale/full": failed to allocate a nodePort: range is full'):
        create_service(mocks, "full", "NodePort")


def test_first_free_allocator_matches_a_scan_from_the_start() -> None:
    order = list(range(20))
    allocator = FirstFreeAllocator(iter(order), reserved=[0, 3])
    taken = {0, 3}
    for step in range(15):
        if step % 4 == 1:
            pinned = max(set(order) - taken)
            allocator.reserve(pinned, f"pin-{step}")
            taken.add(pinned)
            continue
        expected = next(value for value in order if value not in taken)
        assert allocator.allocate(f"owner-{step}") == expected
        taken.add(expected)
    assert allocator.owner(3) == "reserved"
    assert allocator.owner(19) == "pin-1"
    while len(taken) < len(order):
        taken.add(allocator.allocate("rest"))
    with pytest.raises(RangeExhaustedError):
        allocator.allocate("one too many")
