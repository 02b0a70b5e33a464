"""The platform stack of each environment, evaluated from platform/stacks/*.yaml under the API-server mocks."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pulumi_kubernetes as k8s
import pytest
import yaml

from components import ConfigError, EnvironmentArgs, EnvironmentBase
from components.environment import DEPLOYER_RULES, deployer_kubeconfig
from components.platform_config import PLATFORM_DEFAULTS, PLATFORM_KEYS, QUOTA_DEFAULTS, parse_platform_settings
from offline import ApiServerMocks, ApiServerRejectionError, PulumiProject, RegisteredResource, evaluate_program
from offline.apiserver_mocks import unwrap_secret

from .evaluated_stacks import PLATFORM_DIR, evaluated_platform
from .stack_files import STACKS, platform_yaml

#: Kinds the API server keeps outside namespaces (as `kubectl api-resources --namespaced=false` lists them).
CLUSTER_SCOPED_RESOURCES = {"namespaces", "nodes", "clusterroles", "clusterrolebindings", "persistentvolumes"}


def objects(stack: str, kind: str) -> list[RegisteredResource]:
    return [r for r in evaluated_platform(stack).kubernetes_objects() if r.type.endswith(f":{kind}")]


def only(stack: str, kind: str) -> dict[str, Any]:
    [found] = objects(stack, kind)
    return found.inputs


@pytest.mark.parametrize("stack", STACKS)
def test_the_namespace_its_quota_and_limit_range_come_from_the_platform_stack_file(stack: str) -> None:
    config = platform_yaml(stack)
    namespace = config["threetier-platform:namespace"]
    assert only(stack, "Namespace")["metadata"]["name"] == namespace
    quota = only(stack, "ResourceQuota")
    assert quota["metadata"]["namespace"] == namespace
    expected = {**QUOTA_DEFAULTS, **config["threetier-platform:quota"]}
    assert quota["spec"]["hard"] == {key: str(value) for key, value in expected.items()}
    [limits] = only(stack, "LimitRange")["spec"]["limits"]
    assert limits["type"] == "Container"
    assert set(limits) == {"type", "defaultRequest", "default", "max"}
    maximum = config.get("threetier-platform:limits", {}).get("max", {"cpu": "2", "memory": "1Gi"})
    assert limits["max"] == maximum
    assert evaluated_platform(stack).outputs["quota"] == quota["spec"]["hard"]


@pytest.mark.parametrize("stack", STACKS)
def test_the_deployer_may_touch_its_namespace_only_and_nothing_to_escalate_with(stack: str) -> None:
    namespace = evaluated_platform(stack).outputs["namespace"]
    account = only(stack, "ServiceAccount")
    assert account["metadata"] == {**account["metadata"], "name": "deployer", "namespace": namespace}
    assert account["automountServiceAccountToken"] is False
    role = only(stack, "Role")
    assert role["metadata"]["namespace"] == namespace
    granted = {
        (group, resource) for rule in role["rules"] for group in rule["apiGroups"] for resource in rule["resources"]
    }
    writable = {
        (group, resource)
        for rule in role["rules"]
        if "create" in rule["verbs"]
        for group in rule["apiGroups"]
        for resource in rule["resources"]
    }
    # What the app's components create, and nothing else.
    assert writable == {
        ("", "services"),
        ("", "secrets"),
        ("apps", "deployments"),
        ("networking.k8s.io", "networkpolicies"),
        ("policy", "poddisruptionbudgets"),
    }
    assert not {resource for _, resource in granted} & CLUSTER_SCOPED_RESOURCES
    assert not {group for group, _ in granted} & {"rbac.authorization.k8s.io", "*"}
    assert all("*" not in rule["verbs"] and "*" not in rule["resources"] for rule in role["rules"])
    assert all(not {"escalate", "bind", "impersonate"} & set(rule["verbs"]) for rule in role["rules"])
    binding = only(stack, "RoleBinding")
    assert binding["metadata"]["namespace"] == namespace
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "deployer"}
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "deployer", "namespace": namespace}]


@pytest.mark.parametrize("stack", STACKS)
def test_the_deployer_token_is_a_service_account_token_secret_and_its_kubeconfig_a_secret_output(stack: str) -> None:
    evaluation = evaluated_platform(stack)
    [token] = objects(stack, "Secret")
    assert token.inputs["type"] == "kubernetes.io/service-account-token"
    assert token.inputs["metadata"]["annotations"] == {"kubernetes.io/service-account.name": "deployer"}
    assert "data" not in token.inputs and "stringData" not in token.inputs  # the token controller fills it
    assert evaluation.secret_outputs == {"kubeconfig"}
    kubeconfig = yaml.safe_load(evaluation.outputs["kubeconfig"])
    data = unwrap_secret(token.state["data"])
    [user] = kubeconfig["users"]
    assert user["user"] == {"token": base64.b64decode(data["token"]).decode()}
    [cluster] = kubeconfig["clusters"]
    assert cluster["cluster"] == {"server": "https://127.0.0.1:16443", "certificate-authority-data": data["ca.crt"]}
    [context] = kubeconfig["contexts"]
    assert context["context"] == {
        "cluster": cluster["name"],
        "user": user["name"],
        "namespace": evaluation.outputs["namespace"],
    }
    assert kubeconfig["current-context"] == context["name"]
    # Nothing else the stack exports carries the token.
    plain = yaml.safe_dump({k: v for k, v in evaluation.outputs.items() if k != "kubeconfig"})
    assert user["user"]["token"] not in plain


def test_a_token_secret_for_a_service_account_that_does_not_exist_is_refused() -> None:
    def program() -> None:
        k8s.core.v1.Secret(
            "orphan-token",
            metadata={"name": "t", "namespace": "shop", "annotations": {"kubernetes.io/service-account.name": "ghost"}},
            type="kubernetes.io/service-account-token",
        )

    with pytest.raises(ApiServerRejectionError, match='names ServiceAccount "ghost", which does not exist'):
        evaluate_program(program, stack="test", config={}, mocks=ApiServerMocks())


def test_a_kubeconfig_needs_a_filled_token_secret() -> None:
    with pytest.raises(ValueError, match=r"has no token and ca\.crt"):
        deployer_kubeconfig(server="https://k:6443", namespace="shop", user="deployer", token_data={})


BAD_PLATFORM_INPUTS: list[tuple[str, dict[str, Any], str, str]] = [
    ("unknown quota key", {"quota": {"cpu": "2"}}, "threetier-platform:quota.cpu", "allowed keys: requests.cpu"),
    ("pods zero", {"quota": {"pods": 0}}, "threetier-platform:quota.pods", "an integer >= 1"),
    (
        "bad quantity",
        {"quota": {"limits.memory": "lots"}},
        "threetier-platform:quota.limits.memory",
        "a Kubernetes quantity",
    ),
    (
        "api server over http",
        {"apiServer": "http://127.0.0.1:16443"},
        "threetier-platform:apiServer",
        "an https:// URL",
    ),
    ("namespace not a label", {"namespace": "Dev_1"}, "threetier-platform:namespace", "a DNS-1123 label"),
    ("unknown limits part", {"limits": {"min": {}}}, "threetier-platform:limits.min", "allowed keys: defaultRequest"),
    ("bad limit", {"limits": {"max": {"cpu": "x"}}}, "threetier-platform:limits.max.cpu", "a Kubernetes quantity"),
    ("unknown key", {"quotas": {}}, "threetier-platform:quotas", "allowed keys: namespace"),
    ("quota not an object", {"quota": "big"}, "threetier-platform:quota", "a JSON object"),
]


@pytest.mark.parametrize(
    ("case", "raw", "key", "allowed"), BAD_PLATFORM_INPUTS, ids=[c[0] for c in BAD_PLATFORM_INPUTS]
)
def test_bad_platform_input_names_the_key_and_registers_nothing(
    case: str, raw: dict[str, Any], key: str, allowed: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_platform_settings(raw, stack="dev")
    assert caught.value.keys == [key], case
    assert allowed in str(caught.value), case
    # The same value in the real platform program: refused before anything is registered.
    mocks = ApiServerMocks()
    project = PulumiProject.load(PLATFORM_DIR)
    with pytest.raises(ConfigError):
        project.evaluate("dev", {f"threetier-platform:{k}": v for k, v in raw.items()}, mocks=mocks)
    assert mocks.created == []


def test_an_unset_namespace_is_named_after_the_stack() -> None:
    assert parse_platform_settings({}, stack="qa").environment.namespace == "threetier-qa"


def test_library_users_get_the_same_validation() -> None:
    def program() -> None:
        EnvironmentBase("shop", EnvironmentArgs(namespace="shop", api_server="ftp://x"))

    mocks = ApiServerMocks()
    with pytest.raises(ConfigError) as caught:
        evaluate_program(program, stack="test", config={}, mocks=mocks)
    assert caught.value.keys == ["apiServer"]
    assert mocks.created == []


def test_platform_pulumi_yaml_declares_every_key_with_the_programs_defaults() -> None:
    project = yaml.safe_load((Path(PLATFORM_DIR) / "Pulumi.yaml").read_text())
    assert project["name"] == "threetier-platform"
    assert project["runtime"]["options"]["virtualenv"] == "../.venv"
    assert set(project["config"]) == set(PLATFORM_KEYS)
    for key, kind in PLATFORM_KEYS.items():
        assert project["config"][key]["type"] == kind, key
        assert project["config"][key]["default"] == PLATFORM_DEFAULTS[key], key
        assert project["config"][key]["description"].strip(), key


def test_the_deployer_rules_list_no_verb_twice() -> None:
    for rule in DEPLOYER_RULES:
        assert len(rule["verbs"]) == len(set(rule["verbs"]))
