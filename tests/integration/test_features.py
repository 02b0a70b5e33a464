"""The product's Kubernetes Service behaviours (tests/features/*.feature) against the live cluster.

Stacks are deployed from their rendered manifests (tests/integration/deploy.py explains why this
stands in for `pulumi up` here). Checks that need real traffic use the verifier's own logic: on
simulated nodes they report *skipped* with the reason, and these steps accept only that.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client
from pytest_bdd import given, parsers, scenarios, then, when

from verify import StackOutputs, Status
from verify.checks import check_discovery, check_reachability
from verify.cluster import LiveCluster
from verify.context import CheckContext
from verify.network import resolve_a

from .conftest import ROOT, delete_namespace, kubeconfig_path, wait_until
from .deploy import deploy, exported_outputs

pytestmark = pytest.mark.integration

scenarios(str(ROOT / "tests" / "features"))


@dataclass
class Deployment:
    """A stack deployed for one scenario, and what the steps remember."""

    stack: str
    outputs: dict[str, Any]
    work: Path
    remembered: dict[str, Any] = field(default_factory=dict)

    @property
    def namespace(self) -> str:
        return str(self.outputs["namespace"])


@pytest.fixture
def cleanup(core: client.CoreV1Api) -> Iterator[list[str]]:
    namespaces: list[str] = []
    yield namespaces
    for namespace in namespaces:
        delete_namespace(namespace, core)


def stack_tier_config(stack: str, tier: str) -> dict[str, Any]:
    config: dict[str, Any] = yaml.safe_load((ROOT / "stacks" / f"Pulumi.{stack}.yaml").read_text())["config"]
    return dict(config.get(f"threetier:{tier}", {}))


def check_context(deployment: Deployment) -> CheckContext:
    return CheckContext(
        outputs=StackOutputs.from_json(deployment.stack, deployment.outputs),
        cluster=LiveCluster(str(kubeconfig_path())),
        settle_timeout=30,
    )


def accepted(results: list[Any]) -> None:
    """Passed, or skipped with a reason from the simulated data plane: never failed, never silent."""
    assert results
    for result in results:
        assert result.status is not Status.FAILED, result
        if result.status is Status.SKIPPED:
            assert "simulated" in result.detail, result


@given(parsers.parse('the "{stack}" stack is deployed'), target_fixture="deployment")
def deployed_stack(stack: str, core: client.CoreV1Api, tmp_path: Path, cleanup: list[str]) -> Deployment:
    outputs = exported_outputs(deploy(stack, tmp_path / stack), core)
    cleanup.append(outputs["namespace"])
    return Deployment(stack, outputs, tmp_path)


@then(parsers.parse('the "{tier}" Service has type "{kind}" and the exported node port'))
def service_type_and_node_port(deployment: Deployment, tier: str, kind: str, core: client.CoreV1Api) -> None:
    service = core.read_namespaced_service(tier, deployment.namespace)
    assert service.spec.type == kind
    assert service.spec.ports[0].node_port == deployment.outputs[tier]["nodePort"]


@then("the node port is the one pinned in the stack config")
def node_port_pinned(deployment: Deployment) -> None:
    assert deployment.outputs["frontend"]["nodePort"] == stack_tier_config(deployment.stack, "frontend")["nodePort"]


@then("every node answers on the node port, or the check says why it cannot be reached")
def node_port_on_every_node(deployment: Deployment, core: client.CoreV1Api) -> None:
    ctx = check_context(deployment)
    tier = ctx.outputs.tiers["frontend"]
    results = [r for r in check_reachability(ctx, tier) if r.check.startswith("reach.nodePort")]
    nodes = core.list_node().items
    assert len(results) == len(nodes) >= 2  # one check per node, same port on each
    for result in results:
        assert f":{tier.node_port}/" in result.detail
    accepted(results)


@then(parsers.parse('the cluster DNS resolves the "{tier}" Service name to its cluster IP'))
def dns_resolves(deployment: Deployment, tier: str, dns_server: tuple[str, int]) -> None:
    host, port = dns_server
    fqdn = deployment.outputs[tier]["dnsNames"]["fqdn"]
    answers, status = resolve_a(host, port, fqdn)
    assert answers == {deployment.outputs[tier]["clusterIP"]}, status


@then(parsers.parse('the "{tier}" pods carry the "{callee}" DNS name in "{env}"'))
def pods_carry_dns_name(deployment: Deployment, tier: str, callee: str, env: str, core: client.CoreV1Api) -> None:
    pods = core.list_namespaced_pod(deployment.namespace, label_selector=f"app.kubernetes.io/component={tier}").items
    assert pods
    for pod in pods:
        values = {item.name: item.value for item in pod.spec.containers[0].env or []}
        assert values[env] == deployment.outputs[callee]["dnsNames"]["fqdn"]


@then(parsers.parse('every "{tier}" pod was created after the "{service}" Service'))
def pods_after_service(deployment: Deployment, tier: str, service: str, core: client.CoreV1Api) -> None:
    created = core.read_namespaced_service(service, deployment.namespace).metadata.creation_timestamp
    pods = core.list_namespaced_pod(deployment.namespace, label_selector=f"app.kubernetes.io/component={tier}").items
    assert pods
    assert all(pod.metadata.creation_timestamp >= created for pod in pods)


@then(parsers.parse('the "{tier}" pods see the "{service}" Service env vars, or the check says why it cannot look'))
def service_env_vars(deployment: Deployment, tier: str, service: str) -> None:
    ctx = check_context(deployment)
    results = [r for r in check_discovery(ctx, ctx.outputs.tiers[tier]) if r.check == "discovery.serviceEnv"]
    assert service in ctx.outputs.tiers[tier].wiring["DB_HOST"]["service"]
    accepted(results)


@when(parsers.parse('the "{tier}" is scaled to {replicas:d} replicas through the stack config'))
def scale_through_config(deployment: Deployment, tier: str, replicas: int, core: client.CoreV1Api) -> None:
    before = deployment.outputs[tier]
    deployment.remembered.setdefault(tier, {k: before[k] for k in ("clusterIP", "dnsNames", "port", "nodePort")})
    settings = stack_tier_config(deployment.stack, tier) | {"replicas": replicas}
    outputs = deploy(
        deployment.stack, deployment.work / f"{deployment.stack}-{replicas}", {f"threetier:{tier}": settings}
    )
    deployment.outputs = exported_outputs(outputs, core)


@then(parsers.parse('the "{tier}" Service keeps its cluster IP, DNS name and port'))
def service_unchanged(deployment: Deployment, tier: str) -> None:
    now = deployment.outputs[tier]
    assert {k: now[k] for k in ("clusterIP", "dnsNames", "port", "nodePort")} == deployment.remembered[tier]


@then(parsers.parse('the "{tier}" endpoints hold {count:d} ready addresses'))
def endpoints_follow(deployment: Deployment, tier: str, count: int, discovery: client.DiscoveryV1Api) -> None:
    def ready() -> bool:
        slices = discovery.list_namespaced_endpoint_slice(
            deployment.namespace, label_selector=f"kubernetes.io/service-name={tier}"
        ).items
        addresses = [a for s in slices for e in s.endpoints or [] if e.conditions.ready for a in e.addresses]
        return len(addresses) == count

    wait_until(f"{count} ready endpoints of {tier}", ready)


@then(parsers.parse('the "{tier}" Service has a load-balancer ingress address'))
def has_ingress(deployment: Deployment, tier: str, core: client.CoreV1Api) -> None:
    ingress = core.read_namespaced_service(tier, deployment.namespace).status.load_balancer.ingress
    assert ingress
    assert ipaddress.ip_address(ingress[0].ip)
    deployment.remembered["ingress"] = ingress[0].ip


@then("the exported load-balancer endpoint matches it")
def export_matches(deployment: Deployment) -> None:
    frontend = deployment.outputs["frontend"]
    assert frontend["loadBalancerIngress"] == deployment.remembered["ingress"]
    assert frontend["urls"]["loadBalancer"] == f"http://{deployment.remembered['ingress']}:{frontend['port']}"
