"""Platform and app stacks, live: each environment's deployer may touch its namespace and nothing else.

The session's platform stacks (namespace, ResourceQuota, LimitRange, deployer) are the ones the
app stacks deploy through (tests/integration/stacks.py). Here: the platform's objects as the API
server holds them; a program that skips the policy pack and tries, as dev's deployer, to create a
ClusterRole or to read staging's Secret is refused by the API server itself, and creates nothing;
the access checks see a widened deployer; a platform stack still serving its app stack cannot be
destroyed; the deployer's token is nowhere but as ciphertext in state.
"""

from __future__ import annotations

import base64
import json
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pytest
import yaml
from kubernetes import client, config
from pulumi import automation as auto

from components import deployer_provider, read_environment
from components.platform_reference import default_platform_stack
from deploy.engine import required_cli_version
from deploy.stack import InstalledCli
from verify.access import Access, LiveAccessReviewer, deployer_kubeconfig_from_stack
from verify.checks.access import check_access
from verify.cluster import LiveCluster
from verify.context import CheckContext
from verify.model import StackOutputs, Status

from .conftest import ROOT, kubeconfig_path, wait_until
from .stacks import STACKS, Deployments

pytestmark = pytest.mark.integration

PLATFORM_STACKS = ROOT / "platform" / "stacks"
INTRUDER_CLUSTER_ROLE = "threetier-intruder"


def platform_file(stack: str) -> dict[str, Any]:
    config: dict[str, Any] = yaml.safe_load((PLATFORM_STACKS / f"Pulumi.{stack}.yaml").read_text())["config"]
    return config


def deployer_token(core: client.CoreV1Api, namespace: str) -> str:
    """The deployer's token as the token controller wrote it (read with admin rights)."""
    secret = core.read_namespaced_secret("deployer-token", namespace)
    return base64.b64decode(secret.data["token"]).decode()


def test_make_up_from_nothing_deploys_the_platform_stack_first(deployments: Deployments) -> None:
    printed = deployments.get("dev").make_output
    assert "platform stack dev is not deployed yet: deploying it first (make platform-up STACK=dev)" in printed
    assert printed.index("platform stack dev is not deployed yet") < printed.index("Updating (dev)")


@pytest.mark.parametrize("stack", STACKS)
def test_each_environment_is_the_platform_stacks_namespace_quota_limits_and_deployer(
    stack: str, deployments: Deployments, core: client.CoreV1Api
) -> None:
    deployed = deployments.get(stack)
    namespace = deployed.namespace
    config = platform_file(stack)
    assert namespace == config["threetier-platform:namespace"]
    assert deployed.outputs["platformStack"] == default_platform_stack(stack)
    labels = core.read_namespace(namespace).metadata.labels
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    [quota] = core.list_namespaced_resource_quota(namespace).items
    assert quota.spec.hard == {key: str(value) for key, value in config["threetier-platform:quota"].items()}
    # The app's pods count against it: what is used never exceeds it.
    assert int(quota.status.used["pods"]) >= 1
    [limits] = core.list_namespaced_limit_range(namespace).items
    assert limits.spec.limits[0].type == "Container"
    account = core.read_namespaced_service_account("deployer", namespace)
    assert account.automount_service_account_token is False
    rbac = client.RbacAuthorizationV1Api(core.api_client)
    binding = rbac.read_namespaced_role_binding("deployer", namespace)
    assert (binding.role_ref.kind, binding.role_ref.name) == ("Role", "deployer")
    assert [(s.kind, s.name, s.namespace) for s in binding.subjects] == [("ServiceAccount", "deployer", namespace)]
    assert deployer_token(core, namespace)


def test_the_api_server_itself_refuses_devs_deployer_what_its_role_does_not_grant(deployments: Deployments) -> None:
    """Plain API requests with dev's deployer token (not access reviews): the server's authorizer (RBAC) decides."""
    dev, staging = deployments.get("dev"), deployments.get("staging")
    kubeconfig = deployer_kubeconfig_from_stack(dev.outputs["platformStack"], env=deployments.env())
    configuration = client.Configuration()
    config.load_kube_config_from_dict(kubeconfig, client_configuration=configuration)
    with client.ApiClient(configuration) as api:
        core = client.CoreV1Api(api)
        # Allowed: its own namespace's Services (the request reaches the server and succeeds).
        assert {s.metadata.name for s in core.list_namespaced_service(dev.namespace).items} >= {"frontend"}
        refused: dict[str, Callable[[], object]] = {
            f"list secrets in {staging.namespace}": lambda: core.list_namespaced_secret(staging.namespace),
            "get secret database-credentials": lambda: core.read_namespaced_secret(
                "database-credentials", staging.namespace
            ),
            "list secrets in kube-system": lambda: core.list_namespaced_secret("kube-system"),
            "create namespaces": lambda: core.create_namespace({"metadata": {"name": "threetier-intruder"}}),
            "list clusterroles": lambda: client.RbacAuthorizationV1Api(api).list_cluster_role(),
        }
        answers = {}
        for what, request in refused.items():
            with pytest.raises(client.ApiException) as forbidden:
                request()
            answers[what] = (forbidden.value.status, json.loads(forbidden.value.body)["message"])
    deployer = f'User "system:serviceaccount:{dev.namespace}:deployer" cannot'
    assert {what: status for what, (status, _) in answers.items()} == dict.fromkeys(refused, 403), answers
    assert [what for what, (_, message) in answers.items() if deployer not in message] == [], answers


def intruder_stack(deployments: Deployments, work: Path, program: Callable[[], None]) -> auto.Stack:
    """A program of another project in the session's backend, run as dev's deployer, with no policy pack.

    Its environment is dev's, read from dev's platform stack; the admin kubeconfig is not in its environment.
    """
    env = {key: value for key, value in deployments.env().items() if key != "KUBECONFIG"}
    assert deployments.engine.cli is not None
    workspace = auto.LocalWorkspace(
        work_dir=str(work),
        env_vars=env,
        pulumi_command=InstalledCli(deployments.engine.cli, required_cli_version()),
        project_settings=auto.ProjectSettings(name="threetier-intruder", runtime="python"),
        program=program,
    )
    return auto.Stack.create_or_select("dev", workspace)


def as_devs_deployer() -> pulumi.ResourceOptions:
    environment = read_environment(default_platform_stack("dev"), key="intruder:platformStack")
    return pulumi.ResourceOptions(provider=deployer_provider("deployer", environment))


@pytest.fixture
def intruder_work(tmp_path: Path, rbac: client.RbacAuthorizationV1Api) -> Iterator[Path]:
    yield tmp_path
    try:  # should a regression let it through
        rbac.delete_cluster_role(INTRUDER_CLUSTER_ROLE)
    except client.ApiException as error:
        if error.status != 404:
            raise


@pytest.fixture(scope="module")
def rbac(api_client: client.ApiClient) -> client.RbacAuthorizationV1Api:
    return client.RbacAuthorizationV1Api(api_client)


def refused_up(stack: auto.Stack) -> str:
    """Run ``pulumi up`` (no policy pack); it must fail; what the CLI said."""
    printed: list[str] = []
    with pytest.raises(auto.CommandError) as failed:
        stack.up(color="never", on_output=printed.append)
    return str(failed.value) + "\n".join(printed)


def resources_in_state(stack: auto.Stack) -> list[str]:
    state = json.loads(
        subprocess.run(
            [str(stack.workspace.pulumi_command.command), "stack", "export", "--stack", stack.name],  # type: ignore[union-attr]
            cwd=stack.workspace.work_dir,
            env=stack.workspace.env_vars,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    return [r["type"] for r in (state.get("deployment") or {}).get("resources") or []]


def test_without_the_policy_pack_the_api_server_refuses_devs_deployer_a_cluster_role(
    deployments: Deployments, intruder_work: Path, rbac: client.RbacAuthorizationV1Api
) -> None:
    deployments.get("dev")

    def program() -> None:
        rules: Any = [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "list"]}]
        k8s.rbac.v1.ClusterRole(
            "intruder", metadata={"name": INTRUDER_CLUSTER_ROLE}, rules=rules, opts=as_devs_deployer()
        )

    stack = intruder_stack(deployments, intruder_work, program)
    printed = refused_up(stack)
    assert 'User "system:serviceaccount:threetier-dev:deployer" cannot' in printed, printed[-3000:]
    assert 'resource "clusterroles" in API group "rbac.authorization.k8s.io" at the cluster scope' in printed
    with pytest.raises(client.ApiException) as missing:
        rbac.read_cluster_role(INTRUDER_CLUSTER_ROLE)
    assert missing.value.status == 404
    assert "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole" not in resources_in_state(stack)
    stack.destroy(color="never")
    stack.workspace.remove_stack(stack.name)


def test_without_the_policy_pack_the_api_server_refuses_devs_deployer_stagings_secret(
    deployments: Deployments, intruder_work: Path
) -> None:
    staging = deployments.get("staging")
    deployments.get("dev")

    def program() -> None:
        stolen = k8s.core.v1.Secret.get(
            "staging-credentials", f"{staging.namespace}/database-credentials", opts=as_devs_deployer()
        )
        pulumi.export("stolen", stolen.data)

    stack = intruder_stack(deployments, intruder_work, program)
    printed = refused_up(stack)
    assert (
        'secrets "database-credentials" is forbidden: User "system:serviceaccount:threetier-dev:deployer" cannot '
        f'get resource "secrets" in API group "" in the namespace "{staging.namespace}"'
    ) in printed, printed[-3000:]
    assert "kubernetes:core/v1:Secret" not in resources_in_state(stack)
    assert stack.outputs() == {}
    stack.destroy(color="never")
    stack.workspace.remove_stack(stack.name)


def test_a_deployer_granted_more_than_its_role_fails_the_access_checks(
    deployments: Deployments, rbac: client.RbacAuthorizationV1Api
) -> None:
    """A RoleBinding in kube-system handing staging's deployer the built-in ``view``... and Secrets: the access
    group, asked as the deployer, names exactly the questions whose answer changed."""
    deployed = deployments.get("staging")
    namespace = deployed.namespace
    env = deployments.env()
    kubeconfig = deployer_kubeconfig_from_stack(deployed.outputs["platformStack"], env=env)
    reviewer = LiveAccessReviewer(kubeconfig)
    ctx = CheckContext(
        outputs=StackOutputs.from_json("staging", deployed.outputs),
        cluster=LiveCluster(str(kubeconfig_path())),
        deployer=reviewer,
    )
    assert [r for r in check_access(ctx) if r.status is not Status.PASSED] == []
    role = {
        "metadata": {"name": "test-secret-reader", "namespace": "kube-system"},
        "rules": [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]}],
    }
    binding = {
        "metadata": {"name": "test-secret-reader", "namespace": "kube-system"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "test-secret-reader"},
        "subjects": [{"kind": "ServiceAccount", "name": "deployer", "namespace": namespace}],
    }
    rbac.create_namespaced_role("kube-system", role)
    rbac.create_namespaced_role_binding("kube-system", binding)
    try:
        wait_until(
            "the API server to authorize the new RoleBinding",
            lambda: reviewer.can_i(Access("get", "", "secrets", "kube-system"))[0],
            timeout=30,
        )
        failed = [(r.check, r.detail) for r in check_access(ctx) if r.status is not Status.PASSED]
        assert failed == [
            (
                "access.denied[get secrets in kube-system]",
                f"{namespace}-deployer: allowed, which it must not be "
                f'(RBAC: allowed by RoleBinding "test-secret-reader/kube-system" of Role "test-secret-reader" '
                f'to ServiceAccount "deployer/{namespace}")',
            )
        ]
    finally:
        rbac.delete_namespaced_role_binding("test-secret-reader", "kube-system")
        rbac.delete_namespaced_role("test-secret-reader", "kube-system")
        ctx.cluster.close()


def test_a_platform_stack_still_serving_its_app_stack_cannot_be_destroyed(
    deployments: Deployments, core: client.CoreV1Api
) -> None:
    deployed = deployments.get("prod")
    before = core.read_namespace(deployed.namespace).metadata.uid
    completed = deployments.make("platform-down", "STACK=prod")
    # make exits 2 when a recipe fails; the recipe (python -m deploy.platform down) exited 1: refused.
    assert completed.returncode == 2, completed.stdout[-2000:] + completed.stderr[-2000:]
    assert "platform-down] Error 1" in completed.stderr
    assert "refusing to destroy platform stack prod: app stack prod (" in completed.stderr
    assert (
        "still deploys through it. Destroying it would delete namespace, quota and deployer under the app and "
        "orphan the app's state. Run make down STACK=<app stack> first; nothing was destroyed."
    ) in completed.stderr
    assert "Destroying (prod)" not in completed.stdout
    assert core.read_namespace(deployed.namespace).metadata.uid == before
    assert deployments.platforms["prod"].outputs()["namespace"] == deployed.namespace


def test_the_deployer_token_and_kubeconfig_are_only_ciphertext_in_state(
    deployments: Deployments, core: client.CoreV1Api
) -> None:
    """The state (every file of the session's table on the PostgreSQL server: checkpoints, history, backups),
    pulumi stack output of both stacks, everything the CLI printed."""
    for stack in STACKS:
        deployments.get(stack)
    tokens = {stack: deployer_token(core, deployments.get(stack).namespace) for stack in STACKS}
    forms = [form for token in tokens.values() for form in (token, base64.b64encode(token.encode()).decode())]
    files = deployments.state.files(deployments.table)
    # (the backend prefixes its keys with the database's name: pulumi_state/.pulumi/...)
    platform_keys = [key for key in files if key.endswith("/.pulumi/stacks/threetier-platform/dev.json")]
    assert len(platform_keys) == 1, sorted(files)
    platform_key = platform_keys[0]
    assert [(key, form[:12]) for key, content in files.items() for form in forms if form.encode() in content] == []
    # ... where the kubeconfig is an encrypted secret output of the platform stack.
    platform_state = json.loads(files[platform_key])
    [root] = [r for r in platform_state["checkpoint"]["latest"]["resources"] if r["type"] == "pulumi:pulumi:Stack"]
    assert set(root["outputs"]["kubeconfig"]) == {"4dabf18193072939515e22adb298388d", "ciphertext"}
    for directory, stack in ((ROOT / "platform", "dev"), (ROOT, "dev")):
        shown = subprocess.run(
            ["pulumi", "stack", "output", "--json", "--stack", stack],
            cwd=directory,
            env=deployments.env(),
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert not [form for form in forms if form in shown], directory
    assert (
        json.loads(
            subprocess.run(
                ["pulumi", "stack", "output", "--json", "--stack", "dev"],
                cwd=ROOT / "platform",
                env=deployments.env(),
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        )["kubeconfig"]
        == "[secret]"
    )
    assert [chunk[:80] for chunk in deployments.output for form in forms if form in chunk] == []
