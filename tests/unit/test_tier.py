"""The Tier component on its own, in the classic Pulumi mock style (assertions inside apply)."""

from __future__ import annotations

import ipaddress
from typing import Any

import pulumi
import pytest
from pulumi.runtime.mocks import MockMonitor

from components import SecretFile, Tier, TierArgs
from offline import ApiServerMocks
from offline.apiserver_mocks import LOAD_BALANCER_POOL, SERVICE_CIDR


class DependencyMonitor(MockMonitor):
    """The SDK's mock monitor, remembering each registration's dependencies and inputs by (type, name)."""

    def __init__(self, mocks: ApiServerMocks) -> None:
        super().__init__(mocks)
        self.dependencies: dict[tuple[str, str], set[str]] = {}
        self.inputs: dict[tuple[str, str], dict[str, Any]] = {}

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 (gRPC method name)
        key = (request.type, request.name)
        self.dependencies[key] = {urn.rsplit("::", 1)[-1] for urn in request.dependencies}
        self.inputs[key] = pulumi.runtime.rpc.deserialize_properties(request.object)
        return super().RegisterResource(request)  # type: ignore[no-untyped-call]


@pytest.fixture(autouse=True)
def monitor() -> DependencyMonitor:
    mocks = ApiServerMocks()
    monitor = DependencyMonitor(mocks)
    pulumi.runtime.set_mocks(mocks, project="tier-test", stack="test", preview=False, monitor=monitor)
    return monitor


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
        assert deployment_annotations == {
            "pulumi.com/skipAwait": "true",
            "pulumi.com/deletionPropagationPolicy": "background",
        }
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


@pytest.mark.parametrize(
    ("service_type", "wait_for"),
    [
        ("ClusterIP", "jsonpath={.spec.clusterIP}"),
        ("NodePort", "jsonpath={.spec.ports[0].nodePort}"),
        ("LoadBalancer", "jsonpath={.status.loadBalancer.ingress[0]}"),
    ],
)
@pulumi.runtime.test
def test_a_service_waits_for_its_address_not_for_pods(service_type: str, wait_for: str) -> pulumi.Output[None]:
    tier = make_tier(service_type)

    def check(values: list[Any]) -> None:
        service_annotations, deployment_annotations = values
        assert service_annotations == {"pulumi.com/waitFor": wait_for}
        assert deployment_annotations == {"pulumi.com/deletionPropagationPolicy": "background"}

    return pulumi.Output.all(tier.service.metadata.annotations, tier.deployment.metadata.annotations).apply(check)


@pulumi.runtime.test
def test_a_deployment_waits_for_the_services_it_calls_not_for_its_own(
    monitor: DependencyMonitor,
) -> pulumi.Output[None]:
    db = Tier("db", TierArgs(image="postgres:16.4", port=5432, health_path=None), namespace="shop")
    api = Tier("api", TierArgs(image="api:1.0.0", port=80), namespace="shop", dns_env={"DB_HOST": db})

    def check(_: Any) -> None:
        deployments = {name: monitor.dependencies[("kubernetes:apps/v1:Deployment", name)] for name in ("api", "db")}
        services = {name: monitor.dependencies[("kubernetes:core/v1:Service", name)] for name in ("api", "db")}
        # The caller's pods start after the callee's Service exists (env-var discovery) ...
        assert deployments["api"] == {"db"}
        # ... and no tier waits for its own Service (nor a Service for its Deployment).
        assert deployments["db"] == set()
        assert services == {"api": set(), "db": set()}

    return pulumi.Output.all(api.deployment.urn, db.deployment.urn).apply(check)


@pulumi.runtime.test
def test_secret_files_are_mounted_read_only_and_named_by_a_path_variable(
    monitor: DependencyMonitor,
) -> pulumi.Output[None]:
    args = TierArgs(
        image="api:1.0.0",
        port=80,
        secret_files=(SecretFile("api-token", "token", "API_TOKEN_FILE"),),
        readiness_path="/readyz",
    )
    tier = Tier("api", args, namespace="shop")

    def check(_: Any) -> None:
        pod = monitor.inputs[("kubernetes:apps/v1:Deployment", "api")]["spec"]["template"]["spec"]
        [container] = pod["containers"]
        env = {item["name"]: item for item in container["env"]}
        assert env["API_TOKEN_FILE"] == {"name": "API_TOKEN_FILE", "value": "/etc/secrets/api-token/token"}
        assert not any("valueFrom" in item for item in container["env"])
        assert {"name": "secret-api-token", "mountPath": "/etc/secrets/api-token", "readOnly": True} in container[
            "volumeMounts"
        ]
        assert {
            "name": "secret-api-token",
            "secret": {"secretName": "api-token", "defaultMode": 0o440, "items": [{"key": "token", "path": "token"}]},
        } in pod["volumes"]
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"

    return tier.deployment.urn.apply(check)


def _assert_equal(actual: Any, expected: Any) -> None:
    assert actual == expected
