"""A stack that names a kubeconfig or context deploys every Kubernetes object through its own provider."""

from __future__ import annotations

from typing import Any, Optional

import pulumi
import pytest

from offline import ApiServerMocks, Evaluation, evaluate_program, stack_config
from offline.evaluate import run_main_program

KUBERNETES_PROVIDER = "pulumi:providers:kubernetes"


class ProviderRecordingMocks(ApiServerMocks):
    """The API-server mocks, also remembering the provider reference each resource was registered with."""

    def __init__(self) -> None:
        super().__init__()
        #: (type, name) -> provider reference ``<provider URN>::<provider id>``; "" for the default provider.
        self.providers: dict[tuple[str, str], Optional[str]] = {}

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[Optional[str], dict[Any, Any]]:
        self.providers[(args.typ, args.name)] = args.provider
        return super().new_resource(args)


def evaluate_dev(overrides: dict[str, str]) -> tuple[Evaluation, ProviderRecordingMocks]:
    mocks = ProviderRecordingMocks()
    evaluation = evaluate_program(run_main_program, stack="dev", config=stack_config("dev", overrides), mocks=mocks)
    return evaluation, mocks


def provider_urn(reference: Optional[str]) -> str:
    """The URN part of a provider reference (``<urn>::<id>``)."""
    assert reference, "registered with the default provider"
    return reference.rsplit("::", 1)[0]


@pytest.mark.parametrize(
    ("overrides", "provider_inputs"),
    [
        (
            {"threetier:kubeconfig": "/home/ops/.kube/lab.yaml", "threetier:kubeContext": "lab-admin"},
            {"kubeconfig": "/home/ops/.kube/lab.yaml", "context": "lab-admin"},
        ),
        ({"threetier:kubeconfig": "/home/ops/.kube/lab.yaml"}, {"kubeconfig": "/home/ops/.kube/lab.yaml"}),
        ({"threetier:kubeContext": "lab-admin"}, {"context": "lab-admin"}),
    ],
    ids=["kubeconfig and context", "kubeconfig", "context"],
)
def test_a_configured_kubeconfig_or_context_gets_an_explicit_provider_used_by_every_object(
    overrides: dict[str, str], provider_inputs: dict[str, str]
) -> None:
    evaluation, mocks = evaluate_dev(overrides)
    [provider] = evaluation.of_type(KUBERNETES_PROVIDER)
    assert provider.name == "kubernetes"
    assert provider.inputs == provider_inputs
    objects = evaluation.kubernetes_objects()
    assert {r.type.rsplit(":", 1)[1] for r in objects} >= {"Namespace", "Secret", "Service", "Deployment"}
    for resource in objects:
        assert provider_urn(mocks.providers[(resource.type, resource.name)]) == provider.urn, resource.urn
    # pulumi-random is another package: its default provider, not the Kubernetes one.
    assert mocks.providers[("random:index/randomPassword:RandomPassword", "threetier-database-password")] == ""


def test_without_kubeconfig_or_context_every_object_uses_the_default_provider() -> None:
    evaluation, mocks = evaluate_dev({})
    assert evaluation.of_type(KUBERNETES_PROVIDER) == []
    assert {mocks.providers[(r.type, r.name)] for r in evaluation.kubernetes_objects()} == {""}
