"""The fleet at N = 10 on the simulated nodes beside the real one(s): deployed, verified, destroyed (#24).

The fleet's pods all land on the tainted simulated nodes and nowhere else; the real node(s) carry
no taint of theirs and the shipped stacks' pods stay off them; the verifier over every app's
outputs passes what a simulated node can show (objects, Available Deployments, endpoints, DNS
through CoreDNS) and skips the rest naming the simulated node, within its measured deadline; a
broken app fails it, naming the app, the tier and the check.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from examples.fleet.fleet import SIMULATED_NODE_LABEL, SIMULATED_NODE_TAINT
from verify.cluster import is_simulated

from .conftest import ROOT, TOOLCHAIN, kubeconfig_path, wait_until
from .fleet import APPS, PARALLEL, Fleet
from .stacks import Deployments, kubectl

pytestmark = pytest.mark.integration

#: Measured for N = 10 (docs/fleet.md, docs/benchmarks.md): the verification's deadline, with room.
VERIFY_DEADLINE_SECONDS = 60
#: Reasons a fleet's check may be skipped for (anything else skipped is a failure).
SKIP_REASONS = ("simulated (kwok)", "by no platform's deployer")


def sim_nodes(core: client.CoreV1Api) -> dict[str, Any]:
    """The simulated nodes make cluster-up KWOK_NODES=K added, by name."""
    selector = ",".join(f"{key}={value}" for key, value in SIMULATED_NODE_LABEL.items())
    return {str(node.metadata.name): node for node in core.list_node(label_selector=selector).items}


def fleet_pods(core: client.CoreV1Api) -> list[Any]:
    """Every pod in the fleet's namespaces."""
    return [pod for pod in core.list_pod_for_all_namespaces().items if pod.metadata.namespace.startswith("fleet-")]


def verify_fleet(fleet: Fleet, work: Path, timeout: float = 30) -> tuple[int, dict[str, Any], float]:
    """``python -m verify --fleet --json`` over the fleet's outputs: (exit status, report, seconds)."""
    outputs = work / "fleet-outputs.json"
    outputs.write_text(json.dumps(fleet.outputs))
    start = time.monotonic()
    command = [str(ROOT / ".venv" / "bin" / "python"), "-m", "verify", "--stack", "kwok", "--fleet", "--json"]
    command += ["--outputs", str(outputs), "--kubeconfig", str(kubeconfig_path()), "--timeout", str(timeout)]
    command += ["--dns-server", (TOOLCHAIN / "dns-server").read_text().strip()]
    completed = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, check=False)
    seconds = time.monotonic() - start
    if not completed.stdout.strip():
        pytest.fail(f"python -m verify --fleet printed no report (exit {completed.returncode}): {completed.stderr}")
    return completed.returncode, json.loads(completed.stdout), seconds


def test_make_fleet_up_deploys_every_app_and_its_verification_passes(fleet: Fleet) -> None:
    assert sorted(fleet.outputs) == [f"fleet-{index:03d}" for index in range(APPS)]
    assert ", 0 failed, " in fleet.make_output  # make fleet-verify's summary line
    assert all(f"fleet-{index:03d}/database" in fleet.make_output for index in range(APPS))
    # make fleet-up's PARALLEL reaches the CLI (said before the up starts, deploy/up_options.py)
    assert f"resource operations at once: {PARALLEL} (pulumi up --parallel {PARALLEL})" in fleet.make_output


def test_every_fleet_pod_runs_on_a_simulated_node_and_only_there(fleet: Fleet, core: client.CoreV1Api) -> None:
    nodes = sim_nodes(core)
    assert nodes, "no simulated nodes: make cluster-up KWOK_NODES=K"
    pods = fleet_pods(core)
    assert len(pods) == APPS * 3
    elsewhere = [
        f"{pod.metadata.namespace}/{pod.metadata.name}: {pod.spec.node_name}"
        for pod in pods
        if pod.spec.node_name not in nodes
    ]
    assert elsewhere == []


def test_the_real_nodes_carry_no_simulated_taint_and_shipped_pods_stay_off_the_simulated_nodes(
    fleet: Fleet, core: client.CoreV1Api, deployments: Deployments
) -> None:
    serialize = core.api_client.sanitize_for_serialization
    for node in core.list_node().items:
        if not is_simulated(serialize(node)):
            assert SIMULATED_NODE_TAINT["key"] not in {taint.key for taint in node.spec.taints or []}
    namespace = deployments.get("dev").namespace
    placed = {pod.spec.node_name for pod in core.list_namespaced_pod(namespace).items}
    assert placed, f"no pods in {namespace}"
    assert not placed & set(sim_nodes(core)), placed


def test_the_verifier_checks_every_app_within_its_deadline_and_skips_only_with_a_reason(
    fleet: Fleet, tmp_path: Path
) -> None:
    status, report, seconds = verify_fleet(fleet, tmp_path)
    failed = [r for r in report["results"] if r["status"] == "failed"]
    assert failed == []
    assert status == 0
    assert seconds < VERIFY_DEADLINE_SECONDS, f"verification of {APPS} apps took {seconds:.1f} s"
    skipped = [r for r in report["results"] if r["status"] == "skipped"]
    assert [r for r in skipped if not any(reason in r["detail"] for reason in SKIP_REASONS)] == []
    passed = {(r["tier"], r["check"]) for r in report["results"] if r["status"] == "passed"}
    for index in range(APPS):
        for tier in ("frontend", "backend", "database"):
            for check in ("objects.service", "endpoints.available", "endpoints.ready", "dns.resolve"):
                assert (f"fleet-{index:03d}/{tier}", check) in passed


def test_a_broken_app_fails_the_fleet_verification_naming_it(
    fleet: Fleet, tmp_path: Path, apps: client.AppsV1Api
) -> None:
    namespace = "fleet-004"
    kubectl("scale", "deployment/backend", "-n", namespace, "--replicas=0")
    try:
        status, report, _ = verify_fleet(fleet, tmp_path, timeout=3)
    finally:
        kubectl("scale", "deployment/backend", "-n", namespace, "--replicas=1")
        wait_until(
            f"{namespace}/backend available again",
            lambda: (apps.read_namespaced_deployment("backend", namespace).status.available_replicas or 0) == 1,
            timeout=120,
        )
    failed = {(r["tier"], r["check"]) for r in report["results"] if r["status"] == "failed"}
    assert status == 1
    assert ("fleet-004/backend", "endpoints.replicas") in failed
    assert {tier.split("/")[0] for tier, _ in failed} == {namespace}
