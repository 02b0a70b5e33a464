"""The stacks through the real Pulumi engine: up, idempotence, policy gate, drift, secrets, down.

Each stack is deployed once per session (tests/integration/stacks.py). What is asserted is the
engine's own work: the program's exports against the live objects, a second ``up`` changing
nothing, a violating stack refused with nothing created, a Service deleted by hand restored by
``up --refresh``, the password never in plaintext, ``make down`` leaving nothing behind.
"""

from __future__ import annotations

import base64
import functools
import json
import subprocess
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import pytest
from kubernetes import client
from pulumi import automation as auto

from deploy import Backend, PolicyRefusedError, ProjectStack, config_copy
from deploy.stack import Gate
from offline import evaluate_stack
from verify.cluster import is_simulated

from .conftest import ROOT, delete_namespace, namespace_gone, wait_until
from .stacks import STACKS, Deployments, assert_verified, stack_names, verify_outputs

pytestmark = pytest.mark.integration

TIERS = ("frontend", "backend", "database")


def live_service(core: client.CoreV1Api, namespace: str, name: str) -> dict[str, Any]:
    service: dict[str, Any] = core.api_client.sanitize_for_serialization(core.read_namespaced_service(name, namespace))
    return service


@pytest.mark.parametrize("stack", STACKS)
def test_a_deployed_stack_verifies_with_nothing_failed_or_skipped(
    stack: str, deployments: Deployments, real_traffic: bool
) -> None:
    deployed = deployments.get(stack)
    status, report = verify_outputs(stack, deployed.outputs, deployments.work, env=deployments.env())
    assert_verified(status, report, real_traffic)


def test_make_up_ends_with_the_verification_table(
    deployments: Deployments, real_traffic: bool, core: client.CoreV1Api
) -> None:
    printed = deployments.get("dev").make_output
    assert "pulumi up" in printed or "Updating (dev)" in printed, printed[-2000:]
    assert "verification of stack dev" in printed
    summary = [line for line in printed.splitlines() if " passed, " in line and " failed, " in line][-1]
    assert " 0 failed" in summary, summary
    if real_traffic:
        # Only the node port of each simulated node beside the real ones (KWOK_NODES) is skipped:
        # dev has one NodePort tier.
        simulated = [n for n in core.list_node().items if is_simulated(core.api_client.sanitize_for_serialization(n))]
        assert summary.endswith(f" {len(simulated)} skipped"), summary


@pytest.mark.parametrize("stack", STACKS)
def test_the_program_exports_what_the_api_server_allocated(
    stack: str, deployments: Deployments, core: client.CoreV1Api
) -> None:
    """The engine's outputs (Tier.outputs) against the live objects, read here without the verifier."""
    outputs = deployments.get(stack).outputs
    namespace = outputs["namespace"]
    for tier in TIERS:
        exported = outputs[tier]
        service = live_service(core, namespace, tier)
        port = service["spec"]["ports"][0]
        assert exported["serviceName"] == service["metadata"]["name"] == tier
        assert exported["clusterIP"] == service["spec"]["clusterIP"]
        assert exported["serviceType"] == service["spec"]["type"]
        assert (exported["port"], exported["targetPort"]) == (port["port"], port["targetPort"])
        assert exported["nodePort"] == port.get("nodePort")
        ingress = (service["status"].get("loadBalancer") or {}).get("ingress") or [{}]
        assert exported["loadBalancerIngress"] == ingress[0].get("ip")
        assert exported["dnsNames"]["fqdn"] == f"{tier}.{namespace}.svc.cluster.local"
        deployment = client.AppsV1Api(core.api_client).read_namespaced_deployment(exported["deploymentName"], namespace)
        assert deployment.spec.replicas == exported["replicas"]
        assert deployment.spec.selector.match_labels == exported["selector"] == service["spec"]["selector"]
    if outputs["frontend"]["serviceType"] == "LoadBalancer":
        ip = outputs["frontend"]["loadBalancerIngress"]
        assert outputs["frontend"]["urls"]["loadBalancer"] == f"http://{ip}:80"
    assert outputs["databaseUrl"] == "[secret]"


def test_a_second_up_of_each_stack_changes_nothing(deployments: Deployments) -> None:
    """The three stacks side by side (independent stacks, independent namespaces)."""

    def second_up(stack: str) -> tuple[str, dict[str, int]]:
        # --expect-no-changes: the up fails if it would change anything (the policy pack judging each resource).
        result = deployments.get(stack).stack.up(expect_no_changes=True)
        return stack, dict(result.summary.resource_changes or {})

    with ThreadPoolExecutor(max_workers=len(STACKS)) as pool:
        changes = dict(pool.map(second_up, STACKS))
    for stack in STACKS:
        assert changes[stack] == {auto.OpType.SAME: len(evaluate_stack(stack).resources) + 1}, stack  # + the Stack


REFUSED_NAMESPACE = "threetier-refused"


@dataclass(frozen=True)
class RefusedEnvironment:
    """A backend of its own whose prod platform stack owns namespace threetier-refused."""

    backend: Backend
    platform: ProjectStack


@pytest.fixture(scope="module")
def refused_environment(
    deployments: Deployments, core: client.CoreV1Api, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RefusedEnvironment]:
    """prod's platform in a backend of its own, namespace renamed (shared by the refusal tests; destroyed after)."""
    work = tmp_path_factory.mktemp("refused")
    backend = Backend.local(work / "state")
    platform = deployments.platform_elsewhere("prod", backend, REFUSED_NAMESPACE, work)
    yield RefusedEnvironment(backend, platform)
    platform.destroy()
    platform.remove()
    delete_namespace(REFUSED_NAMESPACE, core)


def app_objects(core: client.CoreV1Api, namespace: str) -> list[str]:
    """The Services, Deployments and Opaque Secrets in ``namespace`` (what an app stack creates)."""
    found = [f"Service/{s.metadata.name}" for s in core.list_namespaced_service(namespace).items]
    deployments = client.AppsV1Api(core.api_client).list_namespaced_deployment(namespace).items
    found += [f"Deployment/{d.metadata.name}" for d in deployments]
    found += [f"Secret/{s.metadata.name}" for s in core.list_namespaced_secret(namespace).items if s.type == "Opaque"]
    return found


@pytest.mark.parametrize("gate", ["make-up", "offline", "preview"])
def test_a_stack_violating_a_mandatory_policy_is_refused_and_creates_nothing(
    deployments: Deployments,
    core: client.CoreV1Api,
    tmp_path: Path,
    refused_environment: RefusedEnvironment,
    gate: str,
) -> None:
    """Refused by make up's engine step (``ProjectStack.apply``: the program inline, held by the
    pack offline), by ``ProjectStack.up``'s offline gate, and by a plain `pulumi up`
    (``__main__.py`` through the language host, its preview with the pack)."""
    config = config_copy("prod", tmp_path / "config", {"threetier:database": {"serviceType": "LoadBalancer"}})
    stack = deployments.open("prod", refused_environment.backend, inline=gate != "preview")
    output: list[str] = []
    stack.on_output = output.append
    deploy: Callable[[], object]
    if gate == "make-up":
        deploy = functools.partial(stack.apply, config_file=config)
    else:
        deploy = functools.partial(stack.up, config_file=config, gate=cast(Gate, gate))
    with pytest.raises((auto.CommandError, PolicyRefusedError)) as refused:
        deploy()
    text = str(refused.value) + "\n".join(output)
    assert "database-not-exposed" in text
    # The engine's preview runs in the deployed environment; the offline gate in the one the platform
    # stack file describes (platform/stacks/Pulumi.prod.yaml): the same objects, another namespace name.
    namespace = REFUSED_NAMESPACE if gate == "preview" else "threetier-prod"
    assert f"Service {namespace}/database selects the database tier and has type LoadBalancer" in text
    assert app_objects(core, REFUSED_NAMESPACE) == []
    state = stack.export_state().get("deployment") or {}
    kept = {"pulumi:pulumi:Stack", "pulumi:pulumi:StackReference", "pulumi:providers:kubernetes"}
    assert [r["urn"] for r in state.get("resources", []) if r["type"] not in kept] == []
    stack.destroy()
    stack.remove()


def test_rotating_the_password_rolls_the_pods_that_mount_it_and_the_backend_still_reaches_the_database(
    deployments: Deployments, core: client.CoreV1Api, apps: client.AppsV1Api, real_traffic: bool
) -> None:
    deployed = deployments.get("staging")
    namespace = deployed.namespace
    annotation = "threetier.dev/database-credentials-checksum"

    def checksums() -> dict[str, str]:
        return {
            tier: apps.read_namespaced_deployment(tier, namespace).spec.template.metadata.annotations[annotation]
            for tier in ("backend", "database")
        }

    def secret_value() -> bytes:
        return base64.b64decode(core.read_namespaced_secret("database-credentials", namespace).data["password"])

    before, old_password = checksums(), secret_value()
    password = deployed.stack.urn_of("random:index/randomPassword:RandomPassword", "threetier-database-password")
    deployed.stack.up(replace=[password])
    after = checksums()
    assert secret_value() != old_password
    assert after["backend"] == after["database"] != before["backend"]
    for tier in ("backend", "database"):
        rollout = subprocess.run(
            [
                str(ROOT / ".toolchain" / "bin" / "kubectl"),
                "rollout",
                "status",
                f"deployment/{tier}",
                "-n",
                namespace,
                "--timeout=120s",
            ],
            env=deployments.env(),
            capture_output=True,
            text=True,
            check=False,
        )
        assert rollout.returncode == 0, rollout.stdout + rollout.stderr
    status, report = verify_outputs("staging", deployed.refresh_outputs(), deployments.work, env=deployments.env())
    assert status == 0, [r for r in report["results"] if r["status"] == "failed"]
    if real_traffic:  # the backend's readiness asks the database with the new password
        backend_pods = core.list_namespaced_pod(namespace, label_selector="app.kubernetes.io/component=backend").items
        assert all(
            any(c.type == "Ready" and c.status == "True" for c in pod.status.conditions or [])
            for pod in backend_pods
            if not pod.metadata.deletion_timestamp
        )


def test_the_password_is_nowhere_in_plaintext(deployments: Deployments, core: client.CoreV1Api) -> None:
    """State rows in PostgreSQL, `pulumi stack output`, the CLI's output, pod specs and env, rendered manifests."""
    deployed = deployments.get("staging")
    secret = core.read_namespaced_secret("database-credentials", deployed.namespace)
    password = base64.b64decode(secret.data["password"]).decode()
    assert len(password) >= 16
    # the state backend, every file of it (checkpoints, history, backups, locks): the session's rows on
    # the PostgreSQL server, decoded; neither this password nor the server's own is in any of them
    files = deployments.state.files(deployments.table)
    assert any(key.endswith("/staging.json") for key in files), sorted(files)
    secrets = {"the database password": password, "the state server's password": deployments.state.password}
    found = [
        (what, key) for key, content in files.items() for what, value in secrets.items() if value.encode() in content
    ]
    assert found == []
    # `pulumi stack output --json`, as users and `make verify` read it
    completed = subprocess.run(
        ["pulumi", "stack", "output", "--json", "--stack", "staging"],
        cwd=ROOT,
        env=deployments.env(),
        capture_output=True,
        text=True,
        check=True,
    )
    assert password not in completed.stdout
    assert json.loads(completed.stdout)["databaseUrl"] == "[secret]"
    # everything the CLI printed this session (make up, up, preview, destroy)
    assert [chunk for chunk in deployments.output if password in chunk or deployments.state.password in chunk] == []
    # the live pod specs and the containers' environment
    pods = core.list_namespaced_pod(deployed.namespace).items
    assert password not in json.dumps(core.api_client.sanitize_for_serialization(pods))
    # rendered manifests
    out = deployments.work / "render-staging"
    subprocess.run(["make", "render", "STACK=staging", f"OUT={out}"], cwd=ROOT, check=True, capture_output=True)
    assert [p for p in out.glob("*.yaml") if password in p.read_text()] == []


def test_a_service_deleted_by_hand_fails_make_verify_and_up_refresh_restores_it(
    deployments: Deployments, core: client.CoreV1Api
) -> None:
    deployed = deployments.get("dev")
    namespace = deployed.namespace
    pinned = deployed.outputs["frontend"]["nodePort"]
    core.delete_namespaced_service("frontend", namespace)
    wait_until("the frontend Service to be gone", lambda: _service_missing(core, namespace, "frontend"), timeout=30)

    broken = deployments.make("verify", "STACK=dev", "VERIFY_TIMEOUT=3")
    assert broken.returncode != 0, broken.stdout[-2000:]
    assert "Service threetier-dev/frontend does not exist" in broken.stdout
    summary = broken.stdout.strip().splitlines()[-1]
    assert " 0 failed" not in summary, summary

    result = deployed.stack.up(refresh=True)
    assert (result.summary.resource_changes or {}).get(auto.OpType.CREATE) == 1, result.summary.resource_changes
    restored = live_service(core, namespace, "frontend")
    assert restored["spec"]["ports"][0]["nodePort"] == pinned == 30080
    deployed.refresh_outputs()
    fixed = deployments.make("verify", "STACK=dev")
    assert fixed.returncode == 0, fixed.stdout[-3000:]
    assert " 0 failed" in fixed.stdout


def test_an_up_after_one_interrupted_mid_create_adopts_the_object_it_left(
    deployments: Deployments, apps: client.AppsV1Api
) -> None:
    deployed = deployments.get("dev")
    namespace = deployed.namespace
    urn = deployed.stack.urn_of("kubernetes:apps/v1:Deployment", "threetier-backend")
    uid = apps.read_namespaced_deployment("backend", namespace).metadata.uid
    # As an up killed after sending the create: the object exists, the state only knows it was sent.
    deployments.interrupt_create("dev", urn)

    # make up's engine step alone (make up = cluster check + this + make verify, covered elsewhere)
    completed = deployments.run(str(ROOT / "hack" / "stack.sh"), "apply", "dev")

    printed = completed.stdout + completed.stderr
    assert completed.returncode == 0, printed[-3000:]
    assert f"adopted the pending create of {urn} as {namespace}/backend" in printed
    assert "already exists" not in printed
    assert "18 unchanged" in printed, printed[-3000:]
    assert apps.read_namespaced_deployment("backend", namespace).metadata.uid == uid, "adopted, not recreated"
    assert deployed.stack.urn_of("kubernetes:apps/v1:Deployment", "threetier-backend") == urn


def _service_missing(core: client.CoreV1Api, namespace: str, name: str) -> bool:
    try:
        core.read_namespaced_service(name, namespace)
    except client.ApiException as error:
        return error.status == 404
    return False


@pytest.mark.disruptive
def test_make_down_then_platform_down_leave_no_object_and_the_stack_files_untouched(
    deployments: Deployments, core: client.CoreV1Api
) -> None:
    namespace = deployments.get("dev").namespace
    before = _tracked_stack_files()
    completed = deployments.make("down", "STACK=dev")
    assert completed.returncode == 0, completed.stdout[-3000:]
    deployments.forget("dev")
    # The app's objects are gone; the namespace is the platform stack's and stays until it goes.
    wait_until(
        f"the app's pods in {namespace} to be gone",
        lambda: core.list_namespaced_pod(namespace).items == [] and app_objects(core, namespace) == [],
        timeout=120,
    )
    completed = deployments.make("platform-down", "STACK=dev")
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    deployments.forget("dev", platform=True)
    wait_until(f"namespace {namespace} to be gone", lambda: namespace_gone(core, namespace), timeout=120)
    services = core.list_service_for_all_namespaces().items
    pods = core.list_pod_for_all_namespaces().items
    leftovers = [f"Service/{s.metadata.name}" for s in services if s.metadata.namespace == namespace]
    leftovers += [f"Pod/{p.metadata.name}" for p in pods if p.metadata.namespace == namespace]
    assert leftovers == []
    assert _tracked_stack_files() == before
    status = subprocess.run(
        ["git", "status", "--porcelain", "--", "stacks", "platform/stacks"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert status.stdout == ""
    assert [project for project, names in stack_names(deployments.env()).items() if "dev" in names] == []
    delete_namespace(namespace, core)  # (already gone: a no-op that keeps the test independent)


def _tracked_stack_files() -> dict[str, bytes]:
    files = [*(ROOT / "stacks").glob("Pulumi.*.yaml"), *(ROOT / "platform" / "stacks").glob("Pulumi.*.yaml")]
    return {str(path.relative_to(ROOT)): path.read_bytes() for path in sorted(files)}
