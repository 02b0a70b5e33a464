"""Who each stack deploys as: the app through the deployer's explicit provider, the platform with admin credentials."""

from __future__ import annotations

import pytest
import yaml

from offline import Evaluation, PulumiProject, find_project
from offline.apiserver_mocks import is_secret_value, unwrap_secret

from .evaluated_stacks import PLATFORM_DIR, evaluated_platform
from .stack_files import STACKS

KUBERNETES_PROVIDER = "pulumi:providers:kubernetes"


def provider_urn(reference: str) -> str:
    """The URN part of a provider reference (``<urn>::<id>``)."""
    assert reference, "registered with the default provider"
    return reference.rsplit("::", 1)[0]


@pytest.mark.parametrize("stack", STACKS)
def test_every_app_object_goes_through_the_deployer_provider_of_its_platform_stack(stack: str) -> None:
    project = find_project()
    mocks = project.mocks(stack)  # the platform stack evaluated first, as the StackReference reads it
    evaluation = project.evaluate(stack, mocks=mocks)
    [provider] = evaluation.of_type(KUBERNETES_PROVIDER)
    assert provider.name == "deployer"
    platform = mocks.stacks[f"organization/threetier-platform/{stack}"]
    assert platform.secret_outputs == {"kubeconfig"}
    # The deployer's kubeconfig and namespace, exactly as the platform stack exports them, kept secret.
    assert is_secret_value(provider.inputs["kubeconfig"])
    assert unwrap_secret(provider.inputs["kubeconfig"]) == platform.outputs["kubeconfig"]
    assert provider.inputs["namespace"] == platform.outputs["namespace"] == evaluation.outputs["namespace"]
    kubeconfig = yaml.safe_load(platform.outputs["kubeconfig"])
    [context] = kubeconfig["contexts"]
    assert context["context"]["namespace"] == platform.outputs["namespace"]
    [user] = kubeconfig["users"]
    assert user["user"]["token"].startswith("emulated.")  # the token the emulated token controller issued
    objects = evaluation.kubernetes_objects()
    assert {r.type.rsplit(":", 1)[1] for r in objects} >= {"Secret", "Service", "Deployment", "NetworkPolicy"}
    for resource in objects:
        assert provider_urn(resource.provider) == provider.urn, resource.urn
    # pulumi-random is another package: its default provider, not the Kubernetes one.
    [password] = evaluation.of_type("random:index/randomPassword:RandomPassword")
    assert password.provider == ""


def platform_with(overrides: dict[str, str]) -> Evaluation:
    project = PulumiProject.load(PLATFORM_DIR)
    return project.evaluate("dev", {f"threetier-platform:{key}": value for key, value in overrides.items()})


@pytest.mark.parametrize(
    ("overrides", "provider_inputs"),
    [
        (
            {"kubeconfig": "/home/ops/.kube/lab.yaml", "kubeContext": "lab-admin"},
            {"kubeconfig": "/home/ops/.kube/lab.yaml", "context": "lab-admin"},
        ),
        ({"kubeconfig": "/home/ops/.kube/lab.yaml"}, {"kubeconfig": "/home/ops/.kube/lab.yaml"}),
        ({"kubeContext": "lab-admin"}, {"context": "lab-admin"}),
    ],
    ids=["kubeconfig and context", "kubeconfig", "context"],
)
def test_a_platform_that_names_a_kubeconfig_or_context_creates_everything_through_it(
    overrides: dict[str, str], provider_inputs: dict[str, str]
) -> None:
    evaluation = platform_with(overrides)
    [provider] = evaluation.of_type(KUBERNETES_PROVIDER)
    assert (provider.name, provider.inputs) == ("admin", provider_inputs)
    for resource in evaluation.kubernetes_objects():
        assert provider_urn(resource.provider) == provider.urn, resource.urn


def test_a_platform_without_kubeconfig_or_context_uses_the_default_provider() -> None:
    evaluation = evaluated_platform("dev")
    assert evaluation.of_type(KUBERNETES_PROVIDER) == []
    assert {r.provider for r in evaluation.kubernetes_objects()} == {""}


def test_the_app_and_the_platform_are_neighbour_projects() -> None:
    project = find_project()
    assert [neighbour.name for neighbour in project.neighbours()] == ["threetier-platform"]
    assert sorted(project.referenced_stacks("dev")) == ["organization/threetier-platform/dev"]
