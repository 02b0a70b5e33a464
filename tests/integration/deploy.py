"""Deploy a stack's rendered manifests to the live cluster, and export its outputs as Pulumi would.

A stand-in for `pulumi up` while the engine cannot be built here (docs/pulumi-engine.md): the
objects are exactly what `make render` writes from the stack's program, applied with kubectl
(server-side), and the outputs are the program's own exports with the fields the provider reads
back from the live Service (cluster IP, node port, load-balancer ingress) taken from the cluster,
as pulumi-kubernetes does after a create.
"""

from __future__ import annotations

import json
import secrets
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from kubernetes import client

from offline import evaluate_stack
from offline.render import REDACTED, manifests, write_manifests

from .conftest import ROOT, TOOLCHAIN, kubeconfig_path, probe_image, wait_until

KUBECTL = TOOLCHAIN / "bin" / "kubectl"


def kubectl(*args: str) -> str:
    """Run kubectl against the test cluster; its stdout."""
    completed = subprocess.run(
        [str(KUBECTL), "--kubeconfig", str(kubeconfig_path()), *args], capture_output=True, text=True, check=True
    )
    return completed.stdout


def deploy(stack: str, out_dir: Path, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Render ``stack`` (with config ``overrides``), apply it, return the program's outputs."""
    evaluation = evaluate_stack(stack, overrides)
    write_manifests(manifests(evaluation), out_dir)
    generate_secrets(out_dir)
    kubectl("apply", "--server-side", "--force-conflicts", "-f", str(out_dir))
    # Like pulumi-kubernetes' await: a Deployment counts as created once its rollout is done.
    namespace = str(evaluation.outputs["namespace"])
    for value in evaluation.outputs.values():
        if isinstance(value, dict) and value.get("deploymentName"):
            kubectl("rollout", "status", f"deployment/{value['deploymentName']}", "-n", namespace, "--timeout=120s")
    return evaluation.outputs


def secret_exists(namespace: str, name: str) -> bool:
    """The Secret is already in the cluster."""
    try:
        kubectl("get", "secret", name, "-n", namespace)
    except subprocess.CalledProcessError:
        return False
    return True


def generate_secrets(out_dir: Path) -> None:
    """Give each redacted Secret value a fresh random one, as pulumi-random would at `pulumi up`.

    A Secret that already exists keeps its value (like a RandomPassword in the stack's state):
    the database was initialised with it. Values never leave the manifest files and the cluster.
    """
    for path in sorted(out_dir.glob("*.yaml")):
        manifest = yaml.safe_load(path.read_text())
        if manifest.get("kind") != "Secret":
            continue
        meta = manifest["metadata"]
        if secret_exists(meta["namespace"], meta["name"]):
            path.unlink()
            continue
        data = manifest.get("stringData") or {}
        manifest["stringData"] = {
            key: secrets.token_urlsafe(24) if value == REDACTED else value for key, value in data.items()
        }
        path.write_text(yaml.safe_dump(manifest))
        path.chmod(0o600)


def exported_outputs(outputs: Mapping[str, Any], core: client.CoreV1Api, timeout: float = 60) -> dict[str, Any]:
    """The program's outputs with the live Service's allocated fields, as the engine would export them."""
    exported = json.loads(json.dumps(outputs))
    for value in exported.values():
        if not (isinstance(value, dict) and "serviceName" in value):
            continue
        name, namespace = value["serviceName"], value["namespace"]

        def live_service(name: str = name, namespace: str = namespace) -> client.V1Service | None:
            service = core.read_namespaced_service(name, namespace)
            if service.spec.type == "LoadBalancer" and not (service.status.load_balancer.ingress or []):
                return None  # pulumi-kubernetes waits for the ingress too
            return service

        service = wait_until(f"Service {namespace}/{name} ready to export", live_service, timeout)
        port = service.spec.ports[0]
        ingress = (service.status.load_balancer.ingress or [None])[0]
        value["clusterIP"] = service.spec.cluster_ip
        value["nodePort"] = port.node_port
        value["loadBalancerIngress"] = (ingress.ip or ingress.hostname) if ingress else None
        urls = value["urls"]
        urls["nodePort"] = f"http://<nodeIP>:{port.node_port}" if port.node_port else None
        urls["loadBalancer"] = f"http://{value['loadBalancerIngress']}:{port.port}" if ingress else None
    return exported


def verify(stack: str, outputs: Mapping[str, Any], work: Path, timeout: float = 60) -> tuple[int, dict[str, Any]]:
    """Run ``python -m verify`` (the CLI users run) on ``outputs``; (exit status, JSON report)."""
    outputs_file = work / f"{stack}-outputs.json"
    outputs_file.write_text(json.dumps(outputs))
    dns_server = (TOOLCHAIN / "dns-server").read_text().strip()
    completed = subprocess.run(
        [
            str(ROOT / ".venv" / "bin" / "python"),
            "-m",
            "verify",
            "--stack",
            stack,
            "--outputs",
            str(outputs_file),
            "--kubeconfig",
            str(kubeconfig_path()),
            "--dns-server",
            dns_server,
            "--timeout",
            str(timeout),
            "--probe-image",
            probe_image(),
            "--json",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    return completed.returncode, json.loads(completed.stdout)


def results_by_check(report: Mapping[str, Any]) -> dict[tuple[str, str], dict[str, str]]:
    """The report's results keyed by (tier, check)."""
    return {(item["tier"], item["check"]): item for item in report["results"]}
