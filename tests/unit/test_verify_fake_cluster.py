"""The verifier's pass/fail logic for what only a running cluster shows: commands in pods, DNS, traffic.

A :class:`FakeCluster` answers the commands the checks run in pods; DNS answers come from a real
DNS server and node ports from real sockets, all on 127.0.0.1. Each failure test starts from a
healthy cluster where every tier check passes and breaks exactly one thing.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Optional

import pytest

from verify import CheckResult, StackOutputs, Status, VerifyOptions, verify

from .fake_cluster import (
    Answer,
    Command,
    FakeCluster,
    healthy_execs,
    healthy_probes,
    netcat,
    nslookup_output,
    pin_node_port,
    pod_of,
    service_env,
    wget,
    with_real_node,
)
from .loopback_servers import LOOPBACK, dns_server, http_server, refused_port
from .verify_fixtures import TIERS, fqdn, recording, stack_outputs

#: The per-tier checks; stack-wide checks are not this module's subject.
TIER_CHECK_FAMILIES = ("objects.", "endpoints.", "dns.", "discovery.", "reach.")
CLUSTER_IPS = {name: spec[4] for name, spec in TIERS.items()}


@dataclass
class Deployment:
    """A recorded dev deployment on one real node at 127.0.0.1, and the cluster's canned answers."""

    outputs: dict[str, Any]
    objects: dict[str, Any]
    probes: dict[Command, Answer]
    execs: dict[tuple[str, Command], Answer]

    def verify(self, dns: Optional[str] = None) -> list[CheckResult]:
        cluster = FakeCluster(self.objects, self.probes, self.execs)
        options = VerifyOptions(settle_timeout=0.2, dns_server=dns)
        return [
            r
            for r in verify(StackOutputs.from_json("dev", self.outputs), cluster, options)
            if r.check.startswith(TIER_CHECK_FAMILIES)
        ]


@pytest.fixture
def healthy() -> Iterator[Deployment]:
    """Every tier check passes: the frontend's node port is a real HTTP server answering 200."""
    with http_server(200) as node_port:
        outputs, objects = stack_outputs(), with_real_node(recording())
        pin_node_port(outputs, objects, "frontend", node_port)
        yield Deployment(outputs, objects, healthy_probes(), healthy_execs())


def not_passed(results: list[CheckResult]) -> list[tuple[str, str, Status]]:
    return [(r.tier, r.check, r.status) for r in results if r.status is not Status.PASSED]


def only(results: list[CheckResult], tier: str, check: str) -> CheckResult:
    """The one result that did not pass, which must be ``tier``'s ``check``, and failed."""
    assert not_passed(results) == [(tier, check, Status.FAILED)]
    [found] = [r for r in results if (r.tier, r.check) == (tier, check)]
    return found


def test_a_healthy_cluster_passes_every_tier_check_with_none_skipped(healthy: Deployment) -> None:
    results = healthy.verify()
    assert not_passed(results) == []
    checks = {(r.tier, r.check) for r in results}
    assert {
        ("frontend", "dns.resolve"),
        ("frontend", "discovery.serviceEnv"),
        ("frontend", "reach.inCluster"),
        ("frontend", "reach.nodePort[node-a]"),
        ("backend", "dns.resolve"),
        ("backend", "discovery.serviceEnv"),
        ("backend", "reach.inCluster"),
        ("database", "dns.resolve"),
        ("database", "reach.inCluster"),
    } <= checks


def test_a_healthy_cluster_passes_through_a_dns_server(healthy: Deployment) -> None:
    with dns_server({fqdn(name): ip for name, ip in CLUSTER_IPS.items()}) as server:
        results = healthy.verify(dns=server)
    assert not_passed(results) == []
    resolve = next(r for r in results if (r.tier, r.check) == ("backend", "dns.resolve"))
    assert resolve.detail == f"{fqdn('backend')} -> ['10.96.200.41'] (cluster IP 10.96.200.41)"


def test_a_dns_server_answering_a_wrong_ip_fails_dns_resolve(healthy: Deployment) -> None:
    answers = {fqdn(name): ip for name, ip in CLUSTER_IPS.items()} | {fqdn("backend"): "10.96.0.99"}
    with dns_server(answers) as server:
        result = only(healthy.verify(dns=server), "backend", "dns.resolve")
    assert result.detail == f"{fqdn('backend')} -> ['10.96.0.99'] (cluster IP 10.96.200.41)"


def test_a_name_the_dns_server_does_not_know_fails_dns_resolve(healthy: Deployment) -> None:
    answers = {fqdn(name): ip for name, ip in CLUSTER_IPS.items() if name != "database"}
    with dns_server(answers) as server:
        result = only(healthy.verify(dns=server), "database", "dns.resolve")
    assert result.detail == f"{fqdn('database')} -> [] (cluster IP 10.96.77.3)"


def test_nslookup_in_a_probe_pod_answering_a_wrong_ip_fails_dns_resolve(healthy: Deployment) -> None:
    healthy.probes[("nslookup", fqdn("frontend"))] = (True, nslookup_output(fqdn("frontend"), "10.96.5.5"))
    result = only(healthy.verify(), "frontend", "dns.resolve")
    assert result.detail.startswith(f"nslookup {fqdn('frontend')} in a probe pod: ")
    assert "Address: 10.96.5.5" in result.detail


def test_nslookup_failing_in_a_probe_pod_fails_dns_resolve(healthy: Deployment) -> None:
    healthy.probes[("nslookup", fqdn("database"))] = (False, f"** server can't find {fqdn('database')}: NXDOMAIN")
    result = only(healthy.verify(), "database", "dns.resolve")
    assert result.detail.endswith("NXDOMAIN")


def test_nslookup_answering_an_ip_that_merely_starts_like_the_cluster_ip_fails(healthy: Deployment) -> None:
    healthy.probes[("nslookup", fqdn("frontend"))] = (True, nslookup_output(fqdn("frontend"), "10.96.12.70"))
    only(healthy.verify(), "frontend", "dns.resolve")


def test_a_refused_get_from_the_probe_pod_fails_reach_in_cluster(healthy: Deployment) -> None:
    # Nothing in the stack calls the frontend: its in-cluster URL is tried from the probe pod.
    refused = "wget: can't connect to remote host (10.96.12.7): Connection refused"
    healthy.probes[wget(f"http://{fqdn('frontend')}:80")] = (False, refused)
    result = only(healthy.verify(), "frontend", "reach.inCluster")
    assert result.detail == f"GET http://{fqdn('frontend')}:80 from the verification's probe pod: {refused}"


def test_a_backend_refusing_its_client_tier_fails_reach_in_cluster(healthy: Deployment) -> None:
    refused = "wget: can't connect to remote host (10.96.200.41): Connection refused"
    healthy.execs[(pod_of("frontend"), wget(f"http://{fqdn('backend')}:8080"))] = (False, refused)
    result = only(healthy.verify(), "backend", "reach.inCluster")
    assert result.detail == (
        f"GET http://{fqdn('backend')}:8080 from pod {pod_of('frontend')} (frontend, which calls it by BACKEND_HOST): "
        f"{refused}"
    )


def test_a_database_refusing_its_client_tier_fails_reach_in_cluster(healthy: Deployment) -> None:
    refused = "nc: can't connect to remote host (10.96.77.3): Connection refused"
    healthy.execs[(pod_of("backend"), netcat(fqdn("database"), 5432))] = (False, refused)
    result = only(healthy.verify(), "database", "reach.inCluster")
    assert result.detail == (
        f"TCP {fqdn('database')}:5432 from pod {pod_of('backend')} (backend, which calls it by DB_HOST): {refused}"
    )


def test_a_missing_service_env_var_fails_discovery_service_env(healthy: Deployment) -> None:
    env_without_port = service_env("frontend", "database").replace("DATABASE_SERVICE_PORT=5432\n", "")
    healthy.execs[(pod_of("backend"), ("env",))] = (True, env_without_port)
    result = only(healthy.verify(), "backend", "discovery.serviceEnv")
    assert result.detail == f"missing {pod_of('backend')}: DATABASE_SERVICE_PORT"


def test_a_service_env_var_that_only_ends_like_the_wanted_one_does_not_count(healthy: Deployment) -> None:
    env = service_env("frontend", "database").replace("DATABASE_SERVICE_PORT=", "OLD_DATABASE_SERVICE_PORT=")
    healthy.execs[(pod_of("backend"), ("env",))] = (True, env)
    result = only(healthy.verify(), "backend", "discovery.serviceEnv")
    assert result.detail == f"missing {pod_of('backend')}: DATABASE_SERVICE_PORT"


def test_a_refused_node_port_fails_reach_node_port(healthy: Deployment) -> None:
    with refused_port() as port:
        pin_node_port(healthy.outputs, healthy.objects, "frontend", port)
        result = only(healthy.verify(), "frontend", "reach.nodePort[node-a]")
    assert result.detail.startswith(f"GET http://{LOOPBACK}:{port}/: URLError")
    assert "Connection refused" in result.detail


def test_a_node_port_answering_an_error_fails_reach_node_port(healthy: Deployment) -> None:
    with http_server(503) as port:
        pin_node_port(healthy.outputs, healthy.objects, "frontend", port)
        result = only(healthy.verify(), "frontend", "reach.nodePort[node-a]")
    assert result.detail == f"GET http://{LOOPBACK}:{port}/: HTTP 503"


def test_a_node_that_is_not_ready_has_its_node_port_skipped_not_reached(healthy: Deployment) -> None:
    # A lost node (its kubelet gone, its link down) serves nothing: the app is verified through the
    # nodes that are Ready, and the report names the one left out. Its address is off this machine
    # (TEST-NET-1), so a probe sent there would fail the check rather than skip it.
    lost = {
        "metadata": {"name": "node-b"},
        "status": {
            "addresses": [{"type": "InternalIP", "address": "192.0.2.7"}],
            "conditions": [{"type": "Ready", "status": "Unknown"}],
        },
    }
    healthy.objects["nodes"].append(lost)
    results = healthy.verify()
    [skip] = [r for r in results if r.check == "reach.nodePort[node-b]"]
    assert skip.status is Status.SKIPPED
    assert skip.detail == f"192.0.2.7:{healthy.outputs['frontend']['nodePort']}: node node-b is not Ready"
    assert [r for r in not_passed(results) if r[1] != "reach.nodePort[node-b]"] == []


def as_load_balancer(deployment: Deployment, address: str, port: int) -> None:
    """The frontend behind a load balancer at ``address``, its Service port moved to ``port``."""
    frontend = deployment.outputs["frontend"]
    old_url = frontend["urls"]["inCluster"]
    frontend.update(serviceType="LoadBalancer", loadBalancerIngress=address, port=port)
    frontend["urls"].update(inCluster=f"http://{fqdn('frontend')}:{port}", loadBalancer=f"http://{address}:{port}")
    deployment.probes[wget(frontend["urls"]["inCluster"])] = deployment.probes.pop(wget(old_url))
    service = next(s for s in deployment.objects["services"] if s["metadata"]["name"] == "frontend")
    service["spec"]["type"] = "LoadBalancer"
    service["spec"]["ports"][0]["port"] = port
    service["status"] = {"loadBalancer": {"ingress": [{"ip": address}]}}


def test_a_load_balancer_that_answers_passes(healthy: Deployment) -> None:
    with http_server(200) as port:
        as_load_balancer(healthy, LOOPBACK, port)
        results = healthy.verify()
    assert not_passed(results) == []
    reach = next(r for r in results if r.check == "reach.loadBalancer")
    assert reach.detail == f"GET http://{LOOPBACK}:{port}/: HTTP 200"


def test_a_refused_load_balancer_fails_reach_load_balancer(healthy: Deployment) -> None:
    with refused_port() as port:
        as_load_balancer(healthy, LOOPBACK, port)
        result = only(healthy.verify(), "frontend", "reach.loadBalancer")
    assert "Connection refused" in result.detail


def test_the_checks_ask_the_cluster_exactly_these_commands(healthy: Deployment) -> None:
    cluster = FakeCluster(healthy.objects, healthy.probes, healthy.execs)
    verify(StackOutputs.from_json("dev", healthy.outputs), cluster, VerifyOptions(settle_timeout=0.2))
    asked = sorted(cluster.asked)
    assert asked == sorted(
        [
            *(("probe", "threetier-dev", "nslookup", fqdn(name)) for name in TIERS),
            ("probe", "threetier-dev", *wget(f"http://{fqdn('frontend')}:80")),
            ("exec", pod_of("frontend"), *wget(f"http://{fqdn('backend')}:8080")),
            ("exec", pod_of("frontend"), "env"),
            ("exec", pod_of("backend"), "env"),
            ("exec", pod_of("backend"), *netcat(fqdn("database"), 5432)),
        ]
    )


SIMULATED_NODE = {
    "metadata": {"name": "kwok-sim-1", "annotations": {"kwok.x-k8s.io/node": "fake"}},
    "status": {"addresses": [{"type": "InternalIP", "address": "127.0.11.1"}]},
}


def on_node(objects: dict[str, Any], tier: str, node: str) -> None:
    """Put every recorded pod of ``tier`` on ``node``."""
    for pod in objects["pods"]:
        if pod["metadata"]["labels"]["app.kubernetes.io/component"] == tier:
            pod["spec"]["nodeName"] = node


def test_beside_a_real_node_pods_on_real_nodes_are_checked_as_before(healthy: Deployment) -> None:
    healthy.objects["nodes"].append(SIMULATED_NODE)
    for tier in TIERS:
        on_node(healthy.objects, tier, "node-a")
    results = healthy.verify()
    assert not_passed(results) == [("frontend", "reach.nodePort[kwok-sim-1]", Status.SKIPPED)]


def test_beside_a_real_node_traffic_to_and_from_pods_on_simulated_nodes_is_skipped_naming_them(
    healthy: Deployment,
) -> None:
    healthy.objects["nodes"].append(SIMULATED_NODE)
    for tier in TIERS:
        on_node(healthy.objects, tier, "node-a")
    on_node(healthy.objects, "database", "kwok-sim-1")
    results = healthy.verify()
    # The database (on the simulated node) reached by its client: skipped; nothing failed.
    assert not_passed(results) == [
        ("frontend", "reach.nodePort[kwok-sim-1]", Status.SKIPPED),
        ("database", "reach.inCluster", Status.SKIPPED),
    ]
    database = next(r for r in results if (r.tier, r.check) == ("database", "reach.inCluster"))
    assert database.detail == (
        "no traffic can be observed: 1 of 1 database pod(s) on kwok-sim-1: simulated (kwok) node(s), "
        "their pods run no process"
    )
    # What can be checked still is: the database's Service, endpoints, Deployment, name.
    passed = {(r.tier, r.check) for r in results if r.status is Status.PASSED}
    assert {("database", "objects.service"), ("database", "endpoints.ready"), ("database", "endpoints.available")} <= (
        passed
    )
    assert ("exec", pod_of("backend"), *netcat(fqdn("database"), 5432)) not in healthy_cluster_asked(healthy)


def healthy_cluster_asked(deployment: Deployment) -> list[Command]:
    """What the verifier asked the cluster to run, on a fresh verification of ``deployment``."""
    cluster = FakeCluster(deployment.objects, deployment.probes, deployment.execs)
    verify(StackOutputs.from_json("dev", deployment.outputs), cluster, VerifyOptions(settle_timeout=0.2))
    return cluster.asked


def test_an_unavailable_deployment_fails_endpoints_available(healthy: Deployment) -> None:
    backend = next(d for d in healthy.objects["deployments"] if d["metadata"]["name"] == "backend")
    backend["status"] = {"availableReplicas": 0, "conditions": [{"type": "Available", "status": "False"}]}
    result = only(healthy.verify(), "backend", "endpoints.available")
    assert result.detail.startswith("0 available replica(s) of 1, condition Available=False")
