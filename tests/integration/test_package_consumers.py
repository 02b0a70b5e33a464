"""The component package from other languages, through the real engine: YAML and TypeScript programs.

Each consumer deploys the package's ThreeTierApp (the Python components, hosted by the Python
language host) into its own namespace with the project's policy pack; the verifier that checks the
Python stacks checks it from its outputs; a second ``up`` changes nothing; the session destroys it.
A YAML program with a bad value fails with the component's own message and creates nothing.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client
from pulumi import automation as auto

from deploy import ProjectStack
from tests.unit.package_schema import schema
from verify.access import NO_PLATFORM_STACK

from .conftest import ROOT, namespace_gone
from .consumers import CONSUMERS, ConsumerDeployments, program_copy
from .stacks import assert_verified, verify_outputs

pytestmark = pytest.mark.integration

LANGUAGES = list(CONSUMERS)
#: The namespace each consumer's program deploys to.
NAMESPACES = {"yaml": "threetier-yaml", "nodejs": "threetier-ts"}


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_consumer_deploys_the_app_and_it_verifies_with_nothing_failed_or_skipped(
    language: str, consumers: ConsumerDeployments, real_traffic: bool
) -> None:
    deployed = consumers.get(language)
    assert deployed.outputs["namespace"] == NAMESPACES[language]
    assert deployed.outputs["databaseUrl"] == "[secret]"
    status, report = verify_outputs(f"{language}-app", deployed.outputs, consumers.work, env=consumers.env())
    # A standalone program has no platform stack, hence no scoped deployer to ask as: the access
    # group says so, and that is the only check skipped.
    access = [r for r in report["results"] if r["check"].startswith("access.")]
    assert access == [{"tier": "*", "check": "access.identity", "status": "skipped", "detail": NO_PLATFORM_STACK}]
    assert_verified(status, {**report, "results": [r for r in report["results"] if r not in access]}, real_traffic)


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_second_up_of_a_consumer_changes_nothing(language: str, consumers: ConsumerDeployments) -> None:
    deployed = consumers.get(language)
    result = consumers.up(deployed.stack, expect_no_changes=True)
    changes = dict(result.summary.resource_changes or {})
    assert set(changes) == {auto.OpType.SAME}, changes


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_consumer_builds_the_python_components_objects(
    language: str, consumers: ConsumerDeployments, core: client.CoreV1Api
) -> None:
    """The package's component holds the Python ThreeTierApp, whose objects are those the stacks have."""
    deployed = consumers.get(language)
    state = ProjectStack(deployed.stack.name, deployed.stack).export_state()["deployment"]["resources"]
    types = [resource["type"] for resource in state]
    assert types.count("threetier:index:ThreeTierApp") == 1
    assert types.count("threetier:components:ThreeTierApp") == 1
    assert types.count("threetier:components:Tier") == 3
    assert types.count("kubernetes:apps/v1:Deployment") == 3
    assert types.count("kubernetes:networking.k8s.io/v1:NetworkPolicy") == 4
    service = core.read_namespaced_service("frontend", NAMESPACES[language])
    assert service.spec.type == "NodePort"
    assert deployed.outputs["frontend"]["nodePort"] == service.spec.ports[0].node_port


def test_a_yaml_program_with_a_bad_value_fails_with_the_components_message_and_creates_nothing(
    consumers: ConsumerDeployments, core: client.CoreV1Api, tmp_path: Path
) -> None:
    reason = consumers.engine.consumer_skip_reason("yaml")
    if reason:
        pytest.skip(reason)
    consumers.make("package")
    namespace = "threetier-yaml-refused"
    program = program_copy(
        CONSUMERS["yaml"][0],
        tmp_path / "refused",
        {"nodePort: 30180": "nodePort: 8080", "namespace: threetier-yaml": f"namespace: {namespace}"},
    )
    stack = consumers.stack(program, "refused")
    try:
        with pytest.raises(auto.CommandError) as refused:
            consumers.up(stack)
        text = str(refused.value)
        assert "frontend.nodePort: 8080 is not valid; allowed values: an integer from 30000 to 32767" in text
        assert namespace_gone(core, namespace)
        resources = ProjectStack(stack.name, stack).export_state()["deployment"].get("resources") or []
        created = [
            r["type"] for r in resources if not r["type"].startswith(("pulumi:pulumi:Stack", "pulumi:providers:"))
        ]
        assert created == []
    finally:
        stack.destroy(color="never")
        stack.workspace.remove_stack("refused")


def test_the_schema_the_engine_serves_is_the_one_the_unit_tests_check(consumers: ConsumerDeployments) -> None:
    """``pulumi package get-schema ./package`` (the package's provider started by the engine) = ``make test``'s."""
    consumers.make("package")
    assert consumers.engine.cli is not None
    completed = subprocess.run(
        [str(consumers.engine.cli), "package", "get-schema", str(ROOT / "package")],
        cwd=ROOT,
        env={**os.environ, **consumers.env()},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr
    assert normalized(json.loads(completed.stdout)) == normalized(schema())


def normalized(document: Any) -> Any:
    """A schema as the CLI's model reads it: no empty or null field, no description on a map's or an array's
    item type."""
    if isinstance(document, dict):
        return {
            key: normalized({k: v for k, v in value.items() if k != "description"})
            if key in ("additionalProperties", "items") and isinstance(value, dict)
            else normalized(value)
            for key, value in document.items()
            if value not in (None, {}, [])
        }
    if isinstance(document, list):
        return [normalized(item) for item in document]
    return document
