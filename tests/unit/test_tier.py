"""The Tier component on its own, in the classic Pulumi mock style (assertions inside apply)."""

from __future__ import annotations

import ipaddress
from typing import Any

import pulumi
import pytest

from components import Tier, TierArgs
from offline import ApiServerMocks
from offline.apiserver_mocks import LOAD_BALANCER_POOL, SERVICE_CIDR


@pytest.fixture(autouse=True)
def fresh_cluster() -> ApiServerMocks:
    mocks = ApiServerMocks()
    pulumi.runtime.set_mocks(mocks, project="tier-test", stack="test", preview=False)
    return mocks


def make_tier(service_type: str = "ClusterIP", node_port: int | None = None, **kwargs: Any) -> Tier:
    return Tier(
        "web",
        TierArgs(image="nginx:1.27", port=80, target_port=8080, service_type=service_type, node_port=node_port),  # type: ignore[arg-type]
        namespace="shop",
        **kwargs,
    )


@pulumi.runtime.test
def test_cluster_ip_tier_exports_dns_names_and_in_cluster_url() -> pulumi.Output[None]:
    tier = make_tier()

    def check(values: list[Any]) -> None:
        service_type, cluster_ip, node_port, ingress, urls = values
        assert service_type == "ClusterIP"
        assert ipaddress.ip_address(cluster_ip) in SERVICE_CIDR
        assert node_port is None
        assert ingress is None
        assert urls == {"inCluster": "http://web.shop.svc.cluster.local:80", "nodePort": None, "loadBalancer": None}
        assert tier.dns_names.fqdn == "web.shop.svc.cluster.local"

    return pulumi.Output.all(
        tier.service_type, tier.cluster_ip, tier.node_port, tier.load_balancer_ingress, tier.urls
    ).apply(check)


@pulumi.runtime.test
def test_unpinned_node_port_is_allocated_by_the_api_server() -> pulumi.Output[None]:
    tier = make_tier("NodePort")

    def check(values: list[Any]) -> None:
        node_port, urls = values
        assert 30000 <= node_port <= 32767
        assert urls["nodePort"] == f"http://<nodeIP>:{node_port}"

    return pulumi.Output.all(tier.node_port, tier.urls).apply(check)


@pulumi.runtime.test
def test_pinned_node_port_is_kept() -> pulumi.Output[None]:
    tier = make_tier("NodePort", node_port=31234)
    return tier.node_port.apply(lambda port: _assert_equal(port, 31234))


@pulumi.runtime.test
def test_load_balancer_gets_an_ingress_and_a_url() -> pulumi.Output[None]:
    tier = make_tier("LoadBalancer")

    def check(values: list[Any]) -> None:
        ingress, urls, node_port = values
        assert ipaddress.ip_address(ingress) in LOAD_BALANCER_POOL
        assert urls["loadBalancer"] == f"http://{ingress}:80"
        assert node_port is not None

    return pulumi.Output.all(tier.load_balancer_ingress, tier.urls, tier.node_port).apply(check)


@pulumi.runtime.test
def test_custom_cluster_domain_and_skip_await() -> pulumi.Output[None]:
    tier = make_tier(cluster_domain="corp.internal", skip_await=True)

    def check(values: list[Any]) -> None:
        service_annotations, deployment_annotations = values
        assert service_annotations == {"pulumi.com/skipAwait": "true"}
        assert deployment_annotations == {"pulumi.com/skipAwait": "true"}
        assert tier.dns_names.fqdn == "web.shop.svc.corp.internal"

    return pulumi.Output.all(tier.service.metadata.annotations, tier.deployment.metadata.annotations).apply(check)


@pulumi.runtime.test
def test_selector_matches_template_labels() -> pulumi.Output[None]:
    tier = make_tier(component="frontend", part_of="shop")

    def check(values: list[Any]) -> None:
        selector, template_labels, service_selector = values
        assert selector == service_selector == tier.selector
        assert selector.items() <= template_labels.items()
        assert template_labels["app.kubernetes.io/component"] == "frontend"
        assert template_labels["app.kubernetes.io/part-of"] == "shop"

    return pulumi.Output.all(
        tier.deployment.spec.selector.match_labels,
        tier.deployment.spec.template.metadata.labels,
        tier.service.spec.selector,
    ).apply(check)


def _assert_equal(actual: Any, expected: Any) -> None:
    assert actual == expected
