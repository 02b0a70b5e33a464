"""The component package's ThreeTierApp is the Python one, standalone, behind a façade: same objects, defaults, errors.

Its inputs go through the provider the package runs (``PackageProvider.construct``, as the
engine's Construct call does, numbers as floats as on the wire), under the API-server mocks.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pytest
from pulumi.errors import InputPropertiesError
from pulumi.provider.experimental.component import ComponentProvider
from pulumi.provider.server import ComponentInitError

from components import ConfigError, Problem
from components.app import PASSWORD_CHECKSUM_ANNOTATION
from components.app import ThreeTierApp as App
from components.config import parse_settings
from components.package import APP_TOKEN, PACKAGE, STANDALONE_NAMESPACE, PackageProvider, ThreeTierApp
from offline import ApiServerMocks, Evaluation, evaluate_program, evaluate_stack, manifests

from .package_schema import problems, project_version, schema
from .stack_files import stack_yaml
from .test_config import BAD_INPUTS

PREFIX = "threetier:"
TIERS = ("frontend", "backend", "database")


def on_the_wire(value: Any) -> Any:
    """``value`` as the engine hands it to a provider: every number a float."""
    if isinstance(value, dict):
        return {key: on_the_wire(item) for key, item in value.items()}
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def construct(
    inputs: dict[str, Any],
    mocks: ApiServerMocks | None = None,
    name: str = "threetier",
    options: Callable[[], pulumi.ResourceOptions] = pulumi.ResourceOptions,
) -> Evaluation:
    """Construct the package's ThreeTierApp through its provider, with ``options()``; its outputs exported."""
    provider = PackageProvider(project_version())

    def program() -> None:
        result = provider.construct(name, APP_TOKEN, on_the_wire(inputs), options())
        for key, value in result.state.items():
            pulumi.export(key, value)

    return evaluate_program(program, stack="test", config={}, project="consumer", mocks=mocks)


def dev_inputs() -> dict[str, Any]:
    """The dev stack's config as the package's inputs (the same keys, without the project prefix)."""
    return {key.removeprefix(PREFIX): value for key, value in stack_yaml("dev").items()}


def objects(evaluation: Evaluation) -> list[dict[str, Any]]:
    """The evaluation's manifests by kind and name (side by side, resources register in no fixed order).

    The password's checksum annotation is left out: each evaluation draws a new random password.
    """
    found = sorted(manifests(evaluation), key=lambda m: (m["kind"], m["metadata"]["name"]))
    for manifest in found:
        template = manifest.get("spec", {}).get("template", {}).get("metadata", {})
        template.get("annotations", {}).pop(PASSWORD_CHECKSUM_ANNOTATION, None)
    return found


def settled(outputs: dict[str, Any]) -> dict[str, Any]:
    """Outputs without what each (emulated) cluster draws anew (cluster IPs, the password in the URL) and unset fields.

    The package leaves an unset output field out (a ClusterIP tier's nodePort) where Python has
    None; readers of the outputs (the verifier) take either as unset.
    """
    tiers = {tier: {k: v for k, v in outputs[tier].items() if k != "clusterIP"} for tier in TIERS}
    kept: dict[str, Any] = without_none({**{k: v for k, v in outputs.items() if k != "databaseUrl"}, **tiers})
    return kept


def without_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: without_none(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [without_none(item) for item in value]
    return value


def standalone(raw: dict[str, Any]) -> Evaluation:
    """A standalone ``components.ThreeTierApp`` (it creates its namespace) of the stack config's model of ``raw``."""
    args = parse_settings(raw, prefix="").app

    def program() -> None:
        for key, value in App("threetier", args).stack_outputs().items():
            pulumi.export(key, value)

    return evaluate_program(program, stack="test", config={}, project="consumer")


def test_the_package_builds_what_a_standalone_app_builds_from_the_same_settings() -> None:
    inputs = {**dev_inputs(), "namespace": "threetier-shop"}
    package, python = construct(inputs), standalone(inputs)
    assert objects(package) == objects(python)
    assert settled(package.outputs) == settled(python.outputs)
    assert package.secret_outputs == python.secret_outputs == {"databaseUrl"}


def test_the_package_builds_the_dev_stacks_app_plus_the_namespace_its_platform_stack_owns() -> None:
    """The dev stack deploys into its platform's namespace; the package, standalone, creates that namespace."""
    program = evaluate_stack("dev")
    package = construct({**dev_inputs(), "namespace": program.outputs["namespace"]})
    namespaces = [m for m in objects(package) if m["kind"] == "Namespace"]
    assert [m["metadata"]["name"] for m in namespaces] == [program.outputs["namespace"]]
    assert [m for m in objects(package) if m["kind"] != "Namespace"] == objects(program)
    outputs = {key: value for key, value in program.outputs.items() if key != "platformStack"}
    assert settled(package.outputs) == settled(outputs)


def test_inputs_left_out_take_the_stack_configs_defaults_and_namespace_threetier() -> None:
    package = construct({})
    assert objects(package) == objects(standalone({"namespace": "threetier"}))
    assert package.outputs["namespace"] == STANDALONE_NAMESPACE == "threetier"
    (namespace,) = [m for m in manifests(package) if m["kind"] == "Namespace"]
    assert namespace["metadata"]["name"] == "threetier"
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"


def deployer() -> pulumi.ResourceOptions:
    """Resource options with a kubernetes provider, as a consumer passes its platform's deployer."""
    return pulumi.ResourceOptions(providers={"kubernetes": k8s.Provider("deployer", namespace="threetier-dev")})


def test_without_create_namespace_the_package_builds_the_dev_stacks_app_through_the_given_provider() -> None:
    program = evaluate_stack("dev")
    inputs = {**dev_inputs(), "namespace": program.outputs["namespace"], "createNamespace": False}
    package = construct(inputs, options=deployer)
    assert objects(package) == objects(program)  # no Namespace: the platform's
    [provider] = package.of_type("pulumi:providers:kubernetes")
    assert provider.name == "deployer"
    for resource in package.kubernetes_objects():
        assert resource.provider.startswith(f"{provider.urn}::"), resource.urn


def test_without_create_namespace_a_kubernetes_provider_is_required() -> None:
    mocks = ApiServerMocks()
    with pytest.raises(InputPropertiesError) as caught:
        construct({"createNamespace": False}, mocks)
    assert [error["property_path"] for error in caught.value.errors or []] == ["createNamespace"]
    assert "false needs the namespace's kubernetes provider" in (caught.value.errors or [])[0]["reason"]
    assert mocks.created == []


@pytest.mark.parametrize(
    ("inputs", "key", "reason"),
    [
        ({"namespace": ""}, "namespace", "'' is not valid; allowed values: a DNS-1123 label"),
        ({"platformStack": "acme/threetier-platform/dev"}, "platformStack", "unknown key; allowed keys: namespace,"),
    ],
    ids=["empty namespace", "platformStack"],
)
def test_a_standalone_app_needs_a_namespace_and_reads_no_platform_stack(
    inputs: dict[str, Any], key: str, reason: str
) -> None:
    mocks = ApiServerMocks()
    with pytest.raises(InputPropertiesError) as caught:
        construct(inputs, mocks)
    assert [error["property_path"] for error in caught.value.errors or []] == [key]
    assert (caught.value.errors or [])[0]["reason"].startswith(reason)
    assert mocks.created == []


def test_the_app_only_arguments_reach_the_app() -> None:
    package = construct({"databaseName": "shop", "databaseUser": "shopper", "passwordLength": 20})
    (password,) = package.of_type("random:index/randomPassword:RandomPassword")
    assert password.inputs["length"] == 20
    backend = next(m for m in manifests(package) if m["kind"] == "Deployment" and m["metadata"]["name"] == "backend")
    env = {item["name"]: item.get("value") for item in backend["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert (env["DB_NAME"], env["DB_USER"]) == ("shop", "shopper")


@pytest.mark.parametrize(("case", "raw", "key", "allowed"), BAD_INPUTS, ids=[case[0] for case in BAD_INPUTS])
def test_bad_input_fails_with_the_stack_configs_message_per_property_or_the_schemas_type_check(
    case: str, raw: dict[str, Any], key: str, allowed: str
) -> None:
    inputs_schema = {"type": "object", "properties": schema()["resources"][APP_TOKEN]["inputProperties"]}
    refused_by_schema = problems(raw, inputs_schema, "")
    if refused_by_schema:  # a wrong type or an unknown key: the consumer's language refuses it first
        assert any(key.removeprefix(PREFIX) in problem for problem in refused_by_schema), refused_by_schema
        return
    mocks = ApiServerMocks()
    with pytest.raises(InputPropertiesError) as caught:
        construct(raw, mocks)
    expected = ConfigError(parse_errors(raw))
    assert caught.value.message == str(expected)  # the message stack config gives, without the project prefix
    assert [error["property_path"] for error in caught.value.errors or []] == [key.removeprefix(PREFIX)], case
    assert allowed.replace(PREFIX, "") in (caught.value.errors or [])[0]["reason"], case
    assert mocks.created == [], f"{case}: resources were registered before the error: {mocks.created}"


def parse_errors(raw: dict[str, Any]) -> list[Problem]:
    """The problems stack config reports for ``raw`` (keys without the project prefix)."""
    with pytest.raises(ConfigError) as caught:
        parse_settings(raw, prefix="")
    return caught.value.problems


def test_the_app_only_arguments_are_validated_too() -> None:
    mocks = ApiServerMocks()
    with pytest.raises(InputPropertiesError) as caught:
        construct({"passwordLength": 8}, mocks)
    assert caught.value.message == (
        "invalid configuration (1 problem(s)):\n"
        "  - passwordLength: 8 is not valid; allowed values: an integer from 16 to 128"
    )
    assert mocks.created == []


def test_the_component_validates_on_its_own_under_the_sdks_plain_provider_too() -> None:
    """Hosted by ``ComponentProvider`` itself (no check before construct), the component still refuses first."""
    mocks = ApiServerMocks()

    def program() -> None:
        provider = ComponentProvider([ThreeTierApp], PACKAGE, version=project_version())
        inputs = {"frontend": {"serviceType": "NodePort", "nodePort": 8080.0}}
        provider.construct("threetier", APP_TOKEN, inputs, pulumi.ResourceOptions())

    with pytest.raises(ComponentInitError) as caught:
        evaluate_program(program, stack="test", config={}, mocks=mocks)
    assert isinstance(caught.value.inner, ConfigError)
    assert caught.value.inner.keys == ["frontend.nodePort"]
    assert "8080 is not valid; allowed values: an integer from 30000 to 32767" in str(caught.value)
    assert mocks.created == []


def test_an_input_from_another_resources_output_is_refused_naming_its_key() -> None:
    mocks = ApiServerMocks()

    def program() -> None:
        inputs = {"frontend": {"image": pulumi.Output.from_input("threetier/frontend:1.0.0")}}
        PackageProvider(project_version()).construct("threetier", APP_TOKEN, inputs, pulumi.ResourceOptions())

    with pytest.raises(InputPropertiesError) as caught:
        evaluate_program(program, stack="test", config={}, mocks=mocks)
    assert [error["property_path"] for error in caught.value.errors or []] == ["frontend.image"]
    assert "a value known before the deployment" in caught.value.message
    assert mocks.created == []
