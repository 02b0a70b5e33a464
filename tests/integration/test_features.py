"""The product's Kubernetes behaviours (tests/features/*.feature) against the live cluster.

Stacks are deployed by the real Pulumi engine, once per session (tests/integration/stacks.py); a
scenario that changes one (scaling, an extra Deployment) puts it back. On the local cluster's real
node the traffic is real: pages are fetched from node ports, load-balancer addresses and pods, and
connections between tiers meet the NetworkPolicies. Each step that waits on the network retries
until its condition holds or a deadline passes, and reports the last answer when it gives up. On
a cluster of simulated (kwok) nodes only, steps that need traffic report *skipped* with that
reason. Every request from this machine goes through the verifier's route guard first.
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
from pulumi import automation as auto
from pytest_bdd import given, parsers, scenarios, then, when

from deploy import config_copy
from verify import StackOutputs, Status
from verify.checks import check_reachability
from verify.cluster import LiveCluster
from verify.context import CheckContext
from verify.network import resolve_a, route_decision

from .conftest import (
    ROOT,
    kubeconfig_path,
    node_addresses,
    probe_image,
    real_node_addresses,
    restricted_pod_spec,
    wait_until,
)
from .node_steps import *  # noqa: F403 (the steps of node_failure.feature)
from .probe_loop import ProbeLoop
from .stacks import Deployed, Deployments

pytestmark = pytest.mark.integration

scenarios(str(ROOT / "tests" / "features"))

SAMPLE_PAGE_TITLE = "threetier sample page"
#: How long a step waits for the network to show what it asserts.
SETTLE_SECONDS = 60


@dataclass
class Scenario:
    """A stack deployed for a scenario, and what the steps remember."""

    deployed: Deployed
    work: Path
    remembered: dict[str, Any] = field(default_factory=dict)
    last_connection: tuple[bool, str] = (False, "")

    @property
    def outputs(self) -> dict[str, Any]:
        return self.deployed.outputs

    @property
    def namespace(self) -> str:
        return self.deployed.namespace


def stack_tier_config(stack: str, tier: str) -> dict[str, Any]:
    config: dict[str, Any] = yaml.safe_load((ROOT / "stacks" / f"Pulumi.{stack}.yaml").read_text())["config"]
    return dict(config.get(f"threetier:{tier}", {}))


def check_context(scenario: Scenario) -> CheckContext:
    return CheckContext(
        outputs=StackOutputs.from_json(scenario.deployed.name, scenario.outputs),
        cluster=LiveCluster(str(kubeconfig_path())),
        settle_timeout=30,
        probe_image=probe_image(),
    )


def accepted(results: list[Any], real_traffic: bool) -> None:
    """Passed; skipped only for simulated nodes (with that reason): never failed, never silent.

    With real nodes, the simulated ones beside them (``KWOK_NODES``, for the fleet) have their node
    ports skipped; every check of a real node must pass.
    """
    assert results
    for result in results:
        assert result.status is not Status.FAILED, result
        if result.status is Status.SKIPPED:
            assert "simulated" in result.detail, result
    if real_traffic:
        assert any(result.status is Status.PASSED for result in results), results


def real_node_or_skip(real_traffic: bool) -> None:
    """Steps that send real traffic need a node that runs real pods."""
    if not real_traffic:
        pytest.skip("every node is simulated (kwok): no real traffic (make cluster-up runs a real node by default)")


def fetch(url: str) -> tuple[bool, str]:
    """GET ``url`` from this machine, only if its route stays local; (ok, body or reason)."""
    host = url.split("://", 1)[1].split("/", 1)[0].rsplit(":", 1)[0]
    route = route_decision(host)
    assert route.local, f"refusing to send a packet: {route.reason}"
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return 200 <= response.status < 400, response.read().decode(errors="replace")
    except urllib.error.HTTPError as error:
        return False, f"HTTP {error.code}: {error.read().decode(errors='replace')[:500]}"
    except (urllib.error.URLError, OSError) as error:
        return False, f"{type(error).__name__}: {error}"


def fetch_until(url: str, wanted: str, timeout: float = SETTLE_SECONDS) -> str:
    """GET ``url`` until the answer is 2xx/3xx and contains ``wanted``; its body (fails with the last answer)."""
    last: list[str] = [""]

    def answered() -> str | None:
        ok, body = fetch(url)
        last[0] = body
        return body if ok and wanted in body else None

    return wait_until(f"{url} to answer with {wanted!r} (last answer: {last[0][:300]!r})", answered, timeout)


def in_cluster(namespace: str, pod: str | None, command: list[str]) -> tuple[bool, str]:
    """Run ``command`` in ``pod`` (or in a probe pod of ``namespace``); (exit 0, output)."""
    cluster = LiveCluster(str(kubeconfig_path()))
    try:
        if pod is None:
            ok, output = cluster.run_probe(namespace, command, probe_image(), SETTLE_SECONDS)
        else:
            ok, output = cluster.exec_in_pod(namespace, pod, command)
    finally:
        cluster.close()
    return bool(ok), output


def output_if_ok(namespace: str, pod: str | None, command: list[str]) -> str | None:
    """The command's (non-empty) output when it exited 0, else None (for :func:`wait_until`)."""
    ok, output = in_cluster(namespace, pod, command)
    return output if ok and output.strip() else None


def running_pods(core: client.CoreV1Api, namespace: str, component: str) -> list[client.V1Pod]:
    pods = core.list_namespaced_pod(namespace, label_selector=f"app.kubernetes.io/component={component}").items
    return [p for p in pods if p.status.phase == "Running" and not p.metadata.deletion_timestamp]


def pods_of(core: client.CoreV1Api, namespace: str, component: str) -> list[client.V1Pod]:
    running = running_pods(core, namespace, component)
    assert running, f"no running {component} pods in {namespace}"
    return running


@given(parsers.parse('the "{stack}" stack is deployed'), target_fixture="scenario")
def deployed_stack(stack: str, deployments: Deployments, tmp_path: Path) -> Scenario:
    return Scenario(deployments.get(stack), tmp_path)


@then(parsers.parse('the "{tier}" Service has type "{kind}" and the exported node port'))
def service_type_and_node_port(scenario: Scenario, tier: str, kind: str, core: client.CoreV1Api) -> None:
    service = core.read_namespaced_service(tier, scenario.namespace)
    assert service.spec.type == kind
    assert service.spec.ports[0].node_port == scenario.outputs[tier]["nodePort"]


@then("the node port is the one pinned in the stack config")
def node_port_pinned(scenario: Scenario) -> None:
    pinned = stack_tier_config(scenario.deployed.name, "frontend")["nodePort"]
    assert scenario.outputs["frontend"]["nodePort"] == pinned == 30080


@then("the sample page renders on every node's IP at the node port")
def page_on_every_node(scenario: Scenario, core: client.CoreV1Api, real_traffic: bool) -> None:
    ctx = check_context(scenario)
    tier = ctx.outputs.tiers["frontend"]
    results = [r for r in check_reachability(ctx, tier) if r.check.startswith("reach.nodePort")]
    ctx.cluster.close()
    addresses = node_addresses(core)
    assert len(results) == len(addresses) >= 1  # one check per node, same port on each
    for result in results:
        assert f":{tier.node_port}" in result.detail
    accepted(results, real_traffic)
    real_node_or_skip(real_traffic)
    for address in real_node_addresses(core).values():
        fetch_until(f"http://{address}:{tier.node_port}/", SAMPLE_PAGE_TITLE)


@when(parsers.parse('a busybox pod fetches "{url}" in the stack\'s namespace'), target_fixture="fetched")
def busybox_fetches(scenario: Scenario, url: str, real_traffic: bool) -> str:
    real_node_or_skip(real_traffic)
    # The frontend's NetworkPolicy admits any client, so a plain probe pod may call it.
    command = ["timeout", "8", "wget", "-q", "-O", "-", url]
    return wait_until(
        f"a probe pod to fetch {url}", partial(output_if_ok, scenario.namespace, None, command), SETTLE_SECONDS
    )


@then("the sample page is returned")
def sample_page_returned(fetched: str) -> None:
    assert SAMPLE_PAGE_TITLE in fetched, fetched[:300]


@when(parsers.parse('"{path}" is fetched from the frontend on the node port'), target_fixture="fetched")
def fetch_through_node_port(scenario: Scenario, path: str, core: client.CoreV1Api, real_traffic: bool) -> str:
    real_node_or_skip(real_traffic)
    address = next(iter(real_node_addresses(core).values()))
    # The whole chain must answer: frontend -> backend -> database (each Ready only when it serves).
    return fetch_until(f"http://{address}:{scenario.outputs['frontend']['nodePort']}{path}", '"database":"ok"')


@then(parsers.parse('the backend answers through the frontend and reports the database "{state}"'))
def backend_reports_database(scenario: Scenario, fetched: str, state: str) -> None:
    status = json.loads(fetched)
    assert status["tier"] == "backend"
    assert status["pod"].startswith("backend-")
    assert status["database"] == state, status
    assert status["dbHost"] == scenario.outputs["database"]["dnsNames"]["fqdn"]


@then(parsers.parse('the cluster DNS resolves the "{tier}" Service name to its cluster IP'))
def dns_resolves(scenario: Scenario, tier: str, dns_server: tuple[str, int]) -> None:
    host, port = dns_server
    route = route_decision(host)
    assert route.local, f"refusing to query {host}: {route.reason}"
    fqdn = scenario.outputs[tier]["dnsNames"]["fqdn"]
    wanted = {scenario.outputs[tier]["clusterIP"]}
    wait_until(f"{fqdn} -> {wanted}", lambda: resolve_a(host, port, fqdn)[0] == wanted, timeout=30)


@then(parsers.parse('the "{tier}" pods carry the "{callee}" DNS name in "{env}"'))
def pods_carry_dns_name(scenario: Scenario, tier: str, callee: str, env: str, core: client.CoreV1Api) -> None:
    pods = core.list_namespaced_pod(scenario.namespace, label_selector=f"app.kubernetes.io/component={tier}").items
    assert pods
    for pod in pods:
        values = {item.name: item.value for item in pod.spec.containers[0].env or []}
        assert values[env] == scenario.outputs[callee]["dnsNames"]["fqdn"]


@pytest.fixture
def extra_objects(core: client.CoreV1Api) -> Iterator[list[tuple[str, str]]]:
    """(namespace, name) of the extra Deployments a scenario adds to a shared stack; removed afterwards."""
    created: list[tuple[str, str]] = []
    yield created
    apps, networking = client.AppsV1Api(core.api_client), client.NetworkingV1Api(core.api_client)
    for namespace, name in created:
        for delete in (
            partial(apps.delete_namespaced_deployment, name, namespace, grace_period_seconds=0),
            partial(core.delete_namespaced_service, name, namespace),
            partial(networking.delete_namespaced_network_policy, f"{name}-allow-all", namespace),
        ):
            try:
                delete()
            except client.ApiException as error:
                if error.status != 404:
                    raise


@when(parsers.parse('a new Deployment "{name}" and its Service are created'))
def new_deployment_and_service(
    scenario: Scenario,
    name: str,
    core: client.CoreV1Api,
    real_traffic: bool,
    extra_objects: list[tuple[str, str]],
) -> None:
    real_node_or_skip(real_traffic)
    apps = client.AppsV1Api(core.api_client)
    labels = {"app.kubernetes.io/name": name, "app.kubernetes.io/component": name}
    extra_objects.append((scenario.namespace, name))
    core.create_namespaced_service(
        scenario.namespace,
        {"metadata": {"name": name}, "spec": {"selector": labels, "ports": [{"port": 80, "targetPort": 8080}]}},
    )
    spec = restricted_pod_spec(f"{name} page")
    spec["containers"][0]["resources"] = {"limits": {"cpu": "100m", "memory": "32Mi"}}
    apps.create_namespaced_deployment(
        scenario.namespace,
        {
            "metadata": {"name": name},
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": labels},
                "template": {"metadata": {"labels": labels}, "spec": spec},
            },
        },
    )
    # The stack's default-deny NetworkPolicy admits this tier only where a policy allows it.
    client.NetworkingV1Api(core.api_client).create_namespaced_network_policy(
        scenario.namespace,
        {
            "metadata": {"name": f"{name}-allow-all"},
            "spec": {"podSelector": {"matchLabels": labels}, "ingress": [{}], "policyTypes": ["Ingress"]},
        },
    )
    wait_until(f"deployment {name} ready", partial(deployment_ready, apps, scenario.namespace, name), timeout=90)


def deployment_ready(apps: client.AppsV1Api, namespace: str, name: str) -> bool:
    """At least one replica of the Deployment is Ready."""
    status = apps.read_namespaced_deployment(name, namespace).status
    return (status.ready_replicas or 0) >= 1


def pod_env(namespace: str, pod: str) -> str:
    ok, output = in_cluster(namespace, pod, ["env"])
    assert ok, output
    return output


@then(parsers.parse('the "{component}" pods have the env var "{name}"'))
def pods_have_env(scenario: Scenario, component: str, name: str, core: client.CoreV1Api) -> None:
    for pod in pods_of(core, scenario.namespace, component):
        assert f"{name}=" in pod_env(scenario.namespace, pod.metadata.name), pod.metadata.name


@then(parsers.parse('the "{component}" pods do not have the env var "{name}"'))
def pods_lack_env(scenario: Scenario, component: str, name: str, core: client.CoreV1Api) -> None:
    for pod in pods_of(core, scenario.namespace, component):
        assert f"{name}=" not in pod_env(scenario.namespace, pod.metadata.name), pod.metadata.name


@then(parsers.parse('the "{component}" pods fetch "{url}" by name'))
def pods_fetch_by_name(scenario: Scenario, component: str, url: str, core: client.CoreV1Api) -> None:
    for pod in pods_of(core, scenario.namespace, component):
        command = ["timeout", "8", "wget", "-q", "-O", "-", url]
        wait_until(
            f"{pod.metadata.name} to fetch {url}",
            partial(output_if_ok, scenario.namespace, pod.metadata.name, command),
            SETTLE_SECONDS,
        )


@given("a bounded probe loop requests the page on the node port", target_fixture="probe_loop")
def probe_loop(scenario: Scenario, core: client.CoreV1Api, real_traffic: bool) -> Iterator[ProbeLoop]:
    real_node_or_skip(real_traffic)
    address = next(iter(real_node_addresses(core).values()))
    loop = ProbeLoop(f"http://{address}:{scenario.outputs['frontend']['nodePort']}/")
    loop.start()
    yield loop
    loop.stop()


@then("the probe loop saw no failed request")
def probe_loop_clean(scenario: Scenario, probe_loop: ProbeLoop, core: client.CoreV1Api) -> None:
    # Stop only once the pods scaled away are gone: requests must keep flowing while they drain.
    wait_until(
        "the frontend pods scaled away to be gone",
        lambda: (
            len(
                core.list_namespaced_pod(
                    scenario.namespace, label_selector="app.kubernetes.io/component=frontend"
                ).items
            )
            == 1
        ),
        timeout=120,
    )
    assert not probe_loop.capped, f"the probe loop hit its bound ({probe_loop.requests} requests) before the end"
    probe_loop.stop()
    assert probe_loop.requests >= 20, f"only {probe_loop.requests} requests: the loop did not run"
    assert probe_loop.failures == [], (
        f"{len(probe_loop.failures)} of {probe_loop.requests} failed: {probe_loop.failures[:5]}"
    )


@when(parsers.parse('the "{tier}" is scaled to {replicas:d} replicas through the stack config'))
def scale_through_config(scenario: Scenario, tier: str, replicas: int) -> None:
    before = scenario.outputs[tier]
    scenario.remembered.setdefault(tier, {k: before[k] for k in ("clusterIP", "dnsNames", "port", "nodePort")})
    stack = scenario.deployed.name
    settings = stack_tier_config(stack, tier) | {"replicas": replicas}
    # Back to the stack file's own count: up with the tracked file itself.
    config = (
        None
        if settings == stack_tier_config(stack, tier)
        else config_copy(stack, scenario.work / f"scale-{replicas}", {f"threetier:{tier}": settings})
    )
    events: list[auto.EngineEvent] = []
    scenario.deployed.stack.up(config_file=config, on_event=events.append)
    scenario.deployed.refresh_outputs()
    steps = {
        (event.res_outputs_event.metadata.op, event.res_outputs_event.metadata.type)
        for event in events
        if event.res_outputs_event is not None
    }
    # (The platform stack is read on every up: a read, not a change.)
    changed = {step for step in steps if step[0] != auto.OpType.SAME} - {
        (auto.OpType.READ, "pulumi:pulumi:StackReference")
    }
    # Only the tier's Deployment is updated; its PodDisruptionBudget exists only above one replica.
    assert (auto.OpType.UPDATE, "kubernetes:apps/v1:Deployment") in changed, steps
    assert changed <= {
        (auto.OpType.UPDATE, "kubernetes:apps/v1:Deployment"),
        (auto.OpType.CREATE, "kubernetes:policy/v1:PodDisruptionBudget"),
        (auto.OpType.DELETE, "kubernetes:policy/v1:PodDisruptionBudget"),
    }, changed


@then(parsers.parse('the "{tier}" Service keeps its cluster IP, DNS name and port'))
def service_unchanged(scenario: Scenario, tier: str) -> None:
    now = scenario.outputs[tier]
    assert {k: now[k] for k in ("clusterIP", "dnsNames", "port", "nodePort")} == scenario.remembered[tier]


@then(parsers.parse('the "{tier}" endpoints hold {count:d} ready addresses'))
def endpoints_follow(scenario: Scenario, tier: str, count: int, discovery: client.DiscoveryV1Api) -> None:
    def ready() -> bool:
        slices = discovery.list_namespaced_endpoint_slice(
            scenario.namespace, label_selector=f"kubernetes.io/service-name={tier}"
        ).items
        addresses = [a for s in slices for e in s.endpoints or [] if e.conditions.ready for a in e.addresses]
        return len(addresses) == count

    wait_until(f"{count} ready endpoints of {tier}", ready)


@then(parsers.parse('the "{tier}" Service has a load-balancer ingress address'))
def has_ingress(scenario: Scenario, tier: str, core: client.CoreV1Api) -> None:
    ingress = core.read_namespaced_service(tier, scenario.namespace).status.load_balancer.ingress
    assert ingress
    assert ipaddress.ip_address(ingress[0].ip)
    scenario.remembered["ingress"] = ingress[0].ip


@then("the sample page renders at the load-balancer address")
def page_at_load_balancer(scenario: Scenario, real_traffic: bool) -> None:
    ctx = check_context(scenario)
    results = [r for r in check_reachability(ctx, ctx.outputs.tiers["frontend"]) if r.check == "reach.loadBalancer"]
    ctx.cluster.close()
    accepted(results, real_traffic)
    real_node_or_skip(real_traffic)
    fetch_until(str(scenario.outputs["frontend"]["urls"]["loadBalancer"]), SAMPLE_PAGE_TITLE)


@then("the exported load-balancer endpoint matches it")
def export_matches(scenario: Scenario) -> None:
    frontend = scenario.outputs["frontend"]
    assert frontend["loadBalancerIngress"] == scenario.remembered["ingress"]
    assert frontend["urls"]["loadBalancer"] == f"http://{scenario.remembered['ingress']}:{frontend['port']}"


# --- isolation --------------------------------------------------------------------------------


@pytest.fixture
def cluster() -> Iterator[LiveCluster]:
    """One client for a scenario's commands in pods: its probe pods are reused, and removed at the end."""
    live = LiveCluster(str(kubeconfig_path()))
    yield live
    live.close()


def open_port(scenario: Scenario, cluster: LiveCluster, core: client.CoreV1Api, source: str, target: str) -> bool:
    """Open ``target``'s Service port from a pod of tier ``source`` (or from another namespace): connected?"""
    exported = scenario.outputs[target]
    command = ["sh", "-c", f"nc -w 2 {exported['dnsNames']['fqdn']} {exported['port']} </dev/null"]
    if source == "another namespace":
        ok, _ = cluster.run_probe("default", command, probe_image(), SETTLE_SECONDS)
    else:
        ok, _ = cluster.exec_in_pod(
            scenario.namespace, pods_of(core, scenario.namespace, source)[0].metadata.name, command
        )
    return bool(ok)


@when(parsers.parse("the {source} opens the {target} port"))
@when(parsers.parse("a pod in {source} opens the {target} port"))
def opens_port(scenario: Scenario, source: str, target: str, core: client.CoreV1Api, real_traffic: bool) -> None:
    real_node_or_skip(real_traffic)
    scenario.remembered["edge"] = (source, target)


@then("the connection is refused")
def connection_refused(scenario: Scenario, cluster: LiveCluster, core: client.CoreV1Api) -> None:
    source, target = scenario.remembered["edge"]
    # Policies are programmed moments after pods start: wait for the refusal, then insist it holds.
    wait_until(f"{source} -> {target} to be refused", lambda: not open_port(scenario, cluster, core, source, target))
    assert not open_port(scenario, cluster, core, source, target), f"{source} -> {target} connected again"


@then("it connects")
def it_connects(scenario: Scenario, cluster: LiveCluster, core: client.CoreV1Api) -> None:
    source, target = scenario.remembered["edge"]
    wait_until(f"{source} -> {target} to connect", lambda: open_port(scenario, cluster, core, source, target))
