"""The verifier's logic on recorded API objects: consistent deployments pass, broken ones fail loudly."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from verify import CheckResult, StackOutputs, Status, VerifyOptions, verify
from verify.__main__ import main as verify_main
from verify.cluster import RecordedCluster
from verify.network import route_decision
from verify.report import to_json

from .verify_fixtures import NS, recording, stack_outputs

FAST = VerifyOptions(settle_timeout=0.2)


def run(outputs: dict[str, Any] | None = None, objects: dict[str, Any] | None = None) -> list[CheckResult]:
    return verify(
        StackOutputs.from_json("dev", outputs or stack_outputs()), RecordedCluster(objects or recording()), FAST
    )


def by_check(results: list[CheckResult], tier: str, check: str) -> CheckResult:
    [found] = [r for r in results if r.tier == tier and r.check == check]
    return found


def failures(results: list[CheckResult]) -> list[tuple[str, str]]:
    return [(r.tier, r.check) for r in results if r.status is Status.FAILED]


def test_a_consistent_deployment_has_no_failure() -> None:
    results = run()
    assert failures(results) == []
    assert by_check(results, "frontend", "objects.nodePort").status is Status.PASSED
    assert by_check(results, "backend", "endpoints.ready").detail.startswith("1 ready endpoint(s) = 1 desired")
    assert by_check(results, "frontend", "discovery.env").detail.startswith(
        f"BACKEND_HOST=backend.{NS}.svc.cluster.local"
    )


def test_what_cannot_be_observed_on_simulated_nodes_is_skipped_with_the_reason() -> None:
    results = run()
    node_port = by_check(results, "frontend", "reach.nodePort[kwok-node-0]")
    assert node_port.status is Status.SKIPPED
    assert node_port.detail == (
        "no traffic can be observed: 1 of 1 frontend pod(s) on kwok-node-0: simulated (kwok) node(s), "
        "their pods run no process"
    )
    service_env = by_check(results, "frontend", "discovery.serviceEnv")
    assert service_env.status is Status.SKIPPED
    assert service_env.detail == (
        "container environment not observable: every node is simulated (kwok): no kubelet, no kube-proxy, "
        "pods run no process"
    )
    resolve = by_check(results, "backend", "dns.resolve")
    assert resolve.status is Status.SKIPPED
    assert resolve.detail == "no --dns-server and recorded cluster: no probe pod can run"
    # A database is reached over TCP from a pod of the tier that calls it (backend): both on a simulated node.
    database = by_check(results, "database", "reach.inCluster")
    assert database.status is Status.SKIPPED
    assert database.detail == (
        "no traffic can be observed: 1 of 1 database pod(s) on kwok-node-0; 1 of 1 backend pod(s) on kwok-node-0: "
        "simulated (kwok) node(s), their pods run no process"
    )


def test_a_service_edited_by_hand_fails_naming_tier_and_check() -> None:
    objects = recording()
    frontend = next(s for s in objects["services"] if s["metadata"]["name"] == "frontend")
    frontend["spec"]["ports"][0]["nodePort"] = 31999
    frontend["spec"]["type"] = "LoadBalancer"
    results = run(objects=objects)
    assert set(failures(results)) == {("frontend", "objects.nodePort"), ("frontend", "objects.type")}
    assert by_check(results, "frontend", "objects.nodePort").detail == "nodePort: exported 30080, live 31999"


def test_a_deployment_scaled_to_zero_fails_the_endpoint_checks() -> None:
    objects = recording()
    next(d for d in objects["deployments"] if d["metadata"]["name"] == "backend")["spec"]["replicas"] = 0
    results = run(objects=objects)
    assert set(failures(results)) == {("backend", "endpoints.replicas"), ("backend", "endpoints.ready")}
    assert "1 ready endpoint(s), 0 desired" in by_check(results, "backend", "endpoints.ready").detail


def test_endpoints_must_be_the_selected_pods() -> None:
    objects = recording()
    database_slice = next(s for s in objects["endpointSlices"] if s["metadata"]["name"].startswith("database"))
    database_slice["endpoints"][0]["targetRef"]["name"] = "someone-else-0"
    results = run(objects=objects)
    assert failures(results) == [("database", "endpoints.ready")]


def test_a_missing_service_fails() -> None:
    objects = recording()
    objects["services"] = [s for s in objects["services"] if s["metadata"]["name"] != "database"]
    results = run(objects=objects)
    assert ("database", "objects.service") in failures(results)
    assert by_check(results, "database", "objects.service").detail == f"Service {NS}/database does not exist"


def test_wrong_dns_names_and_wrong_wiring_fail() -> None:
    outputs = stack_outputs()
    outputs["backend"]["dnsNames"]["fqdn"] = f"backend.{NS}.svc.example.org"
    objects = recording()
    pod = next(p for p in objects["pods"] if p["metadata"]["name"].startswith("backend"))
    pod["spec"]["containers"][0]["env"][0]["value"] = "database.other-ns.svc.cluster.local"
    results = run(outputs, objects)
    # The frontend's BACKEND_HOST no longer matches the (wrongly) exported backend FQDN either.
    assert set(failures(results)) == {
        ("backend", "dns.names"),
        ("backend", "discovery.env"),
        ("frontend", "discovery.env"),
    }
    assert (
        "DB_HOST should be database.threetier-dev.svc.cluster.local"
        in by_check(results, "backend", "discovery.env").detail
    )


def test_load_balancer_without_ingress_fails_after_the_deadline() -> None:
    outputs = stack_outputs()
    outputs["frontend"]["serviceType"] = "LoadBalancer"
    outputs["frontend"]["loadBalancerIngress"] = "127.0.20.1"
    outputs["frontend"]["urls"]["loadBalancer"] = "http://127.0.20.1:80"
    objects = recording()
    next(s for s in objects["services"] if s["metadata"]["name"] == "frontend")["spec"]["type"] = "LoadBalancer"
    results = run(outputs, objects)
    assert failures(results) == [("frontend", "objects.loadBalancer")]
    assert "no status.loadBalancer.ingress" in by_check(results, "frontend", "objects.loadBalancer").detail
    assert by_check(results, "frontend", "reach.loadBalancer").status is Status.SKIPPED


def test_load_balancer_ingress_must_equal_the_export() -> None:
    outputs = stack_outputs()
    outputs["frontend"]["serviceType"] = "LoadBalancer"
    outputs["frontend"]["loadBalancerIngress"] = "127.0.20.1"
    objects = recording()
    service = next(s for s in objects["services"] if s["metadata"]["name"] == "frontend")
    service["spec"]["type"] = "LoadBalancer"
    service["status"] = {"loadBalancer": {"ingress": [{"ip": "127.0.20.9"}]}}
    results = run(outputs, objects)
    assert by_check(results, "frontend", "objects.loadBalancer").detail == (
        "load-balancer ingress: exported '127.0.20.1', live '127.0.20.9'"
    )


def test_outputs_without_tiers_are_rejected() -> None:
    with pytest.raises(ValueError, match="no tier outputs found"):
        StackOutputs.from_json("dev", {"namespace": NS})


def test_json_report_counts_statuses() -> None:
    report = json.loads(to_json("dev", run()))
    assert report["summary"]["failed"] == 0
    assert report["summary"]["passed"] > 10
    assert report["summary"]["skipped"] > 0
    assert {"tier", "check", "status", "detail"} == set(report["results"][0])


def test_route_guard_allows_loopback_and_refuses_addresses_that_leave_the_machine() -> None:
    assert route_decision("127.0.10.1").local
    assert not route_decision("not-an-ip").local
    cluster_ip = route_decision("10.96.0.1")
    # 10.96.0.1 is a ClusterIP: only a veth into the real node's namespace may carry packets there.
    assert cluster_ip.local == ("a veth into network namespace threetier" in cluster_ip.reason)
    # TEST-NET-3: routed off the machine (or not at all), never into a project namespace.
    assert not route_decision("203.0.113.7").local


def test_cli_bad_input_exits_2_with_a_clear_message(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "missing.json"
    assert verify_main(["--stack", "dev", "--outputs", str(missing)]) == 2
    assert f"{missing}: not found" in capsys.readouterr().err
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps(stack_outputs()))
    assert verify_main(["--stack", "dev", "--outputs", str(outputs), "--kubeconfig", str(tmp_path / "nope")]) == 2
    assert "cannot use kubeconfig" in capsys.readouterr().err
    outputs.write_text(json.dumps({"namespace": NS}))
    assert verify_main(["--stack", "dev", "--outputs", str(outputs)]) == 2
    assert "no tier outputs found" in capsys.readouterr().err


def test_a_database_is_reached_from_the_tier_wired_to_it() -> None:
    outputs = StackOutputs.from_json("dev", stack_outputs())
    clients = outputs.clients_of(outputs.tiers["database"])
    assert [(client.key, env) for client, env in clients] == [("backend", "DB_HOST")]
    assert outputs.clients_of(outputs.tiers["frontend"]) == []
