"""The package's schema covers the Python API: every argument an input, documented with its default; every output.

What the schema must hold is read from the Python side, not from the façade: the fields of the
argument dataclasses (``ThreeTierAppArgs``, ``TierArgs``, ``ResourceSpec``), the stack config's
keys and defaults (``components.config``), and the outputs a real ``ThreeTierApp`` exports under
the API-server mocks. A new argument or output of the Python API that the package does not
offer fails here.
"""

from __future__ import annotations

import json
from dataclasses import MISSING, Field, fields
from typing import Any

import pulumi
import pytest

from components import ResourceSpec, Scheduling, ThreeTierApp, ThreeTierAppArgs, TierArgs
from components.config import DEFAULTS, QUANTITY_KEYS, RESOURCE_KEYS, TIER_DEFAULTS, TIER_SETTING_KEYS, TOP_LEVEL_KEYS
from components.package import APP_TOKEN, CONFIG_ONLY_KEYS, CREATE_NAMESPACE, STANDALONE_NAMESPACE
from components.validation import IMAGE_PULL_POLICIES, SERVICE_TYPES
from offline import evaluate_program

from .package_schema import problems, project_version, resolve, schema
from .test_config import app_args

TIERS = ("frontend", "backend", "database")
#: TierArgs fields a package user does not set: ThreeTierApp sets them per tier (the password's
#: Secret file on the backend and database, each tier's URL scheme), as stack config does.
SET_BY_THE_APP = {"secret_files", "scheme"}


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def app_resource() -> dict[str, Any]:
    resource: dict[str, Any] = schema()["resources"][APP_TOKEN]
    return resource


def tier_settings() -> dict[str, Any]:
    properties: dict[str, Any] = resolve(app_resource()["inputProperties"]["frontend"])["properties"]
    return properties


def test_the_package_is_named_threetier_with_the_project_version() -> None:
    assert (schema()["name"], schema()["version"]) == ("threetier", project_version())
    assert app_resource()["isComponent"] is True


def test_every_argument_of_the_app_is_an_input() -> None:
    inputs = set(app_resource()["inputProperties"])
    expected = {camel(field.name) for field in fields(ThreeTierAppArgs)}
    expected |= {key for key in TOP_LEVEL_KEYS if key not in CONFIG_ONLY_KEYS}
    expected |= {CREATE_NAMESPACE}  # ThreeTierApp's ``target``: platform mode (an existing namespace)
    assert expected - inputs == set(), "arguments of the Python API missing from the package's inputs"
    assert inputs - expected == set(), "inputs that are no argument of the Python API"


def test_every_tier_argument_is_an_input_of_each_tier() -> None:
    for tier in TIERS:
        assert app_resource()["inputProperties"][tier]["$ref"].endswith(":TierSettings")
    expected = {camel(field.name) for field in tier_argument_fields()}
    assert expected == set(tier_settings()) == set(TIER_SETTING_KEYS)


def test_every_resource_quantity_is_an_input() -> None:
    resources = resolve(tier_settings()["resources"])["properties"]
    assert set(resources) == set(RESOURCE_KEYS)
    for field in fields(ResourceSpec):  # cpu_request -> resources.requests.cpu
        quantity, part = field.name.split("_")
        assert f"{part}s" in resources, field.name
        assert quantity in resolve(resources[f"{part}s"])["properties"], field.name
    assert set(resolve(resources["requests"])["properties"]) == set(QUANTITY_KEYS)


def shown(value: Any) -> str:
    """A default as the descriptions write it."""
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return str(value).lower()
    return (
        json.dumps(list(value) if isinstance(value, tuple) else value)
        if isinstance(value, (dict, list, tuple))
        else str(value)
    )


def tier_argument_fields() -> list[Field[Any]]:
    """TierArgs' fields a user sets, with ``scheduling`` spelled out as its own fields (the settings' keys)."""
    own = [field for field in fields(TierArgs) if field.name not in SET_BY_THE_APP and field.name != "scheduling"]
    return own + list(fields(Scheduling))


def tier_default(key: str, tier: str) -> Any:
    """A tier setting's default: the tier's (config.TIER_DEFAULTS), else TierArgs' (or Scheduling's) own."""
    if key in TIER_DEFAULTS[tier]:
        return TIER_DEFAULTS[tier][key]
    (field,) = [field for field in tier_argument_fields() if camel(field.name) == key]
    return {} if field.default_factory is not MISSING else field.default


def expected_default(values: list[Any]) -> str:
    """``Default: 1`` when every tier has the same, ``Default: 80 / 8080 / 5432`` otherwise."""
    assert "" not in values, "an empty default would match any description"
    if all(value == values[0] for value in values):
        return f"Default: {shown(values[0])}"
    return "Default: " + " / ".join(shown(value) for value in values)


def app_defaults() -> dict[str, Any]:
    """The stack config's defaults (but its config-only keys) and the dataclass's; the namespace the package's.

    Stack config leaves the namespace to the platform stack (empty); the package's app is
    standalone and creates one, ``STANDALONE_NAMESPACE`` unless the consumer names it.
    """
    defaults = {key: value for key, value in DEFAULTS.items() if key not in CONFIG_ONLY_KEYS}
    defaults["namespace"] = STANDALONE_NAMESPACE
    defaults[CREATE_NAMESPACE] = True  # ThreeTierApp's ``target`` left out: standalone
    for field in fields(ThreeTierAppArgs):
        if field.default is not MISSING:
            defaults[camel(field.name)] = field.default
    return defaults


@pytest.mark.parametrize("key", sorted(app_defaults()))
def test_every_app_input_is_documented_with_its_default(key: str) -> None:
    description = app_resource()["inputProperties"][key].get("description", "")
    assert expected_default([app_defaults()[key]]) in description, description


@pytest.mark.parametrize("key", TIER_SETTING_KEYS)
def test_every_tier_input_is_documented_with_each_tiers_default(key: str) -> None:
    description = tier_settings()[key].get("description", "")
    if key == "resources":
        spec = ResourceSpec()
        assert f"requests cpu {spec.cpu_request}, memory {spec.memory_request}" in description
        assert f"limits cpu {spec.cpu_limit}, memory {spec.memory_limit}" in description
        return
    assert expected_default([tier_default(key, tier) for tier in TIERS]) in description, description


def test_every_quantity_is_documented_with_its_defaults() -> None:
    spec = ResourceSpec()
    resources = resolve(tier_settings()["resources"])["properties"]
    assert f"cpu {spec.cpu_request}, memory {spec.memory_request}" in resources["requests"]["description"]
    assert f"cpu {spec.cpu_limit}, memory {spec.memory_limit}" in resources["limits"]["description"]
    quantities = resolve(resources["requests"])["properties"]
    assert f"requests {spec.cpu_request}, limits {spec.cpu_limit}" in quantities["cpu"]["description"]
    assert f"requests {spec.memory_request}, limits {spec.memory_limit}" in quantities["memory"]["description"]


@pytest.mark.parametrize(("key", "allowed"), [("serviceType", SERVICE_TYPES), ("imagePullPolicy", IMAGE_PULL_POLICIES)])
def test_inputs_with_fixed_choices_name_the_allowed_values(key: str, allowed: tuple[str, ...]) -> None:
    assert f"allowed values: {', '.join(allowed)}." in tier_settings()[key]["description"]


def test_no_input_is_required_every_one_has_a_default() -> None:
    assert app_resource()["requiredInputs"] == []


def python_app_outputs() -> dict[str, Any]:
    """The outputs of the Python ThreeTierApp, resolved: a LoadBalancer frontend, so every field has a value."""
    args = app_args(frontend=TierArgs(image="threetier/frontend:1.0.0", port=80, service_type="LoadBalancer"))

    def program() -> None:
        for name, value in ThreeTierApp("app", args).stack_outputs().items():
            pulumi.export(name, value)

    return evaluate_program(program, stack="test", config={}).outputs


def test_every_output_of_the_python_app_is_an_output_of_the_package_typed() -> None:
    outputs = python_app_outputs()
    assert outputs["frontend"]["loadBalancerIngress"] and outputs["frontend"]["nodePort"]  # no field left None
    properties = app_resource()["properties"]
    assert set(outputs) == set(properties)
    assert set(app_resource()["required"]) == set(outputs)
    found = [problem for key, value in outputs.items() for problem in problems(value, properties[key], key)]
    assert found == []


def test_the_checker_reports_a_missing_an_extra_and_a_mistyped_field() -> None:
    tier = python_app_outputs()["frontend"]
    prop = app_resource()["properties"]["frontend"]
    broken = {**{k: v for k, v in tier.items() if k != "serviceName"}, "extra": 1, "port": "80"}
    assert sorted(problems(broken, prop, "frontend")) == [
        "frontend.extra: not in the schema",
        "frontend.port: '80' is not integer",
        "frontend.serviceName: missing",
    ]
