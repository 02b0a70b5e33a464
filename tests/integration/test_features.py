"""The product's Kubernetes Service behaviours (tests/features/*.feature) against the live cluster.

Stacks are deployed from their rendered manifests (tests/integration/deploy.py explains why this
stands in for `pulumi up` here). On the local cluster's real node the traffic is real: pages are
fetched from node ports, load-balancer addresses and pods, and every reachability check must pass.
On a cluster of simulated (kwok) nodes only, such steps accept a check *skipped* with that reason.
Every request goes through the verifier's route guard first (no packet leaves the machine).
"""

from __future__ import annotations

import ipaddress
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client
from pytest_bdd import given, parsers, scenarios, then, when

from verify import StackOutputs, Status
from verify.checks import check_reachability
from verify.cluster import LiveCluster
from verify.context import CheckContext
from verify.network import resolve_a, route_decision

from .conftest import (
    ROOT,
    delete_namespace,
    has_real_node,
    kubeconfig_path,
    node_addresses,
    probe_image,
    restricted_pod_spec,
    wait_until,
)
from .deploy import deploy, exported_outputs
from .probe_loop import ProbeLoop

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
        probe_image=probe_image(),
    )


def accepted(results: list[Any], core: client.CoreV1Api) -> None:
    """Passed; skipped only when every node is simulated (with that reason): never failed, never silent."""
    assert results
    simulated_only = not has_real_node(core)
    for result in results:
        assert result.status is not Status.FAILED, result
        if result.status is Status.SKIPPED:
            assert simulated_only and "simulated" in result.detail, result


def real_node_or_skip(core: client.CoreV1Api) -> None:
    """Steps that send real traffic need a node that runs real pods."""
    if not has_real_node(core):
        pytest.skip("every node is simulated (kwok): no real traffic (make cluster-up runs a real node by default)")


def fetch(url: str) -> tuple[bool, str]:
    """GET ``url`` from this machine, only if its route stays local; (ok, body or reason)."""
    host = url.split("://", 1)[1].split("/", 1)[0].rsplit(":", 1)[0]
    route = route_decision(host)
    assert route.local, f"refusing to send a packet: {route.reason}"
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return 200 <= response.status < 400, response.read().decode(errors="replace")
    except (urllib.error.URLError, OSError) as error:
        return False, f"{type(error).__name__}: {error}"


SAMPLE_PAGE_TITLE = "threetier sample page"


def exec_in(namespace: str, pod: str, command: list[str]) -> tuple[bool, str]:
    """Run ``command`` in ``pod`` (kubectl exec through the verifier's client); (exit 0, output)."""
    ok, output = LiveCluster(str(kubeconfig_path())).exec_in_pod(namespace, pod, command)
    return bool(ok), output


def pods_of(core: client.CoreV1Api, namespace: str, component: str) -> list[client.V1Pod]:
    pods = core.list_namespaced_pod(namespace, label_selector=f"app.kubernetes.io/component={component}").items
    running = [p for p in pods if p.status.phase == "Running" and not p.metadata.deletion_timestamp]
    assert running, f"no running {component} pods in {namespace}"
    return running


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


@then("the sample page renders on every node's IP at the node port")
def page_on_every_node(deployment: Deployment, core: client.CoreV1Api) -> None:
    ctx = check_context(deployment)
    tier = ctx.outputs.tiers["frontend"]
    results = [r for r in check_reachability(ctx, tier) if r.check.startswith("reach.nodePort")]
    addresses = node_addresses(core)
    assert len(results) == len(addresses) >= 1  # one check per node, same port on each
    for result in results:
        assert f":{tier.node_port}" in result.detail
    accepted(results, core)
    real_node_or_skip(core)
    for address in addresses.values():
        ok, body = fetch(f"http://{address}:{tier.node_port}/")
        assert ok and SAMPLE_PAGE_TITLE in body, body[:300]


@when(parsers.parse('a busybox pod fetches "{url}" in the stack\'s namespace'), target_fixture="fetched")
def busybox_fetches(deployment: Deployment, url: str, core: client.CoreV1Api) -> str:
    real_node_or_skip(core)
    # The frontend's NetworkPolicy admits any client, so a plain probe pod may call it.
    ok, output = LiveCluster(str(kubeconfig_path())).run_probe(
        deployment.namespace, ["timeout", "8", "wget", "-q", "-O", "-", url], probe_image(), 60
    )
    assert ok, output
    return output


@then("the sample page is returned")
def sample_page_returned(fetched: str) -> None:
    assert SAMPLE_PAGE_TITLE in fetched, fetched[:300]


@when(parsers.parse('"{path}" is fetched from the frontend on the node port'), target_fixture="fetched")
def fetch_through_node_port(deployment: Deployment, path: str, core: client.CoreV1Api) -> str:
    real_node_or_skip(core)
    address = next(iter(node_addresses(core).values()))
    ok, body = fetch(f"http://{address}:{deployment.outputs['frontend']['nodePort']}{path}")
    assert ok, body
    return body


@then(parsers.parse('the backend answers through the frontend and reports the database "{state}"'))
def backend_reports_database(deployment: Deployment, fetched: str) -> None:
    status = json.loads(fetched)
    assert status["tier"] == "backend"
    assert status["pod"].startswith("backend-")
    assert status["database"] == "ok", status
    assert status["dbHost"] == deployment.outputs["database"]["dnsNames"]["fqdn"]


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


@when(parsers.parse('a new Deployment "{name}" and its Service are created'))
def new_deployment_and_service(deployment: Deployment, name: str, core: client.CoreV1Api) -> None:
    real_node_or_skip(core)
    apps = client.AppsV1Api(core.api_client)
    labels = {"app.kubernetes.io/name": name, "app.kubernetes.io/component": name}
    core.create_namespaced_service(
        deployment.namespace,
        {"metadata": {"name": name}, "spec": {"selector": labels, "ports": [{"port": 80, "targetPort": 8080}]}},
    )
    spec = restricted_pod_spec(f"{name} page")
    spec["containers"][0]["resources"] = {"limits": {"cpu": "100m", "memory": "32Mi"}}
    apps.create_namespaced_deployment(
        deployment.namespace,
        {
            "metadata": {"name": name},
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": labels},
                "template": {"metadata": {"labels": labels}, "spec": spec},
            },
        },
    )
    # The default-deny NetworkPolicy of the stack admits this tier only where policies allow it.
    client.NetworkingV1Api(core.api_client).create_namespaced_network_policy(
        deployment.namespace,
        {
            "metadata": {"name": f"{name}-allow-all"},
            "spec": {"podSelector": {"matchLabels": labels}, "ingress": [{}], "policyTypes": ["Ingress"]},
        },
    )
    wait_until(f"deployment {name} ready", partial(deployment_ready, apps, deployment.namespace, name), timeout=90)


def deployment_ready(apps: client.AppsV1Api, namespace: str, name: str) -> bool:
    """At least one replica of the Deployment is Ready."""
    status = apps.read_namespaced_deployment(name, namespace).status
    return (status.ready_replicas or 0) >= 1


def pod_env(namespace: str, pod: str) -> str:
    ok, output = exec_in(namespace, pod, ["env"])
    assert ok, output
    return output


@then(parsers.parse('the "{component}" pods have the env var "{name}"'))
def pods_have_env(deployment: Deployment, component: str, name: str, core: client.CoreV1Api) -> None:
    for pod in pods_of(core, deployment.namespace, component):
        assert f"{name}=" in pod_env(deployment.namespace, pod.metadata.name), pod.metadata.name


@then(parsers.parse('the "{component}" pods do not have the env var "{name}"'))
def pods_lack_env(deployment: Deployment, component: str, name: str, core: client.CoreV1Api) -> None:
    for pod in pods_of(core, deployment.namespace, component):
        assert f"{name}=" not in pod_env(deployment.namespace, pod.metadata.name), pod.metadata.name


@then(parsers.parse('the "{component}" pods fetch "{url}" by name'))
def pods_fetch_by_name(deployment: Deployment, component: str, url: str, core: client.CoreV1Api) -> None:
    for pod in pods_of(core, deployment.namespace, component):
        ok, output = exec_in(deployment.namespace, pod.metadata.name, ["timeout", "8", "wget", "-q", "-O", "-", url])
        assert ok, f"{pod.metadata.name}: {output}"
        assert output.strip(), pod.metadata.name


@given("a bounded probe loop requests the page on the node port", target_fixture="probe_loop")
def probe_loop(deployment: Deployment, core: client.CoreV1Api) -> Iterator[ProbeLoop]:
    real_node_or_skip(core)
    address = next(iter(node_addresses(core).values()))
    loop = ProbeLoop(f"http://{address}:{deployment.outputs['frontend']['nodePort']}/")
    loop.start()
    yield loop
    loop.stop()


@then("the probe loop saw no failed request")
def probe_loop_clean(probe_loop: ProbeLoop) -> None:
    probe_loop.stop()
    assert probe_loop.requests >= 20, f"only {probe_loop.requests} requests: the loop did not run"
    assert probe_loop.failures == [], (
        f"{len(probe_loop.failures)} of {probe_loop.requests} failed: {probe_loop.failures[:5]}"
    )


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


@then("the sample page renders at the load-balancer address")
def page_at_load_balancer(deployment: Deployment, core: client.CoreV1Api) -> None:
    ctx = check_context(deployment)
    results = [r for r in check_reachability(ctx, ctx.outputs.tiers["frontend"]) if r.check == "reach.loadBalancer"]
    accepted(results, core)
    real_node_or_skip(core)
    ok, body = fetch(str(deployment.outputs["frontend"]["urls"]["loadBalancer"]))
    assert ok and SAMPLE_PAGE_TITLE in body, body[:300]


@then("the exported load-balancer endpoint matches it")
def export_matches(deployment: Deployment) -> None:
    frontend = deployment.outputs["frontend"]
    assert frontend["loadBalancerIngress"] == deployment.remembered["ingress"]
    assert frontend["urls"]["loadBalancer"] == f"http://{deployment.remembered['ingress']}:{frontend['port']}"
