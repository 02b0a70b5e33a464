"""The shipped stacks evaluated once per session under the API-server mocks, and lookups into them."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from offline import Evaluation, PulumiProject, RegisteredResource, evaluate_stack

PLATFORM_DIR = Path(__file__).resolve().parents[2] / "platform"

TIERS = ("frontend", "backend", "database")


@cache
def evaluated(stack: str) -> Evaluation:
    return evaluate_stack(stack)


@cache
def evaluated_platform(stack: str) -> Evaluation:
    """The environment's platform stack (platform/stacks/Pulumi.<stack>.yaml), evaluated under the mocks."""
    return PulumiProject.load(PLATFORM_DIR).evaluate(stack)


def k8s(stack: str, kind: str, name: str | None = None) -> list[RegisteredResource]:
    found = [r for r in evaluated(stack).kubernetes_objects() if r.type.endswith(f":{kind}")]
    if name is not None:
        found = [r for r in found if r.inputs["metadata"]["name"] == name]
    return found


def one(stack: str, kind: str, name: str) -> RegisteredResource:
    found = k8s(stack, kind, name)
    assert len(found) == 1, f"{stack}: expected one {kind} {name}, found {len(found)}"
    return found[0]


def container(stack: str, tier: str) -> dict[str, Any]:
    containers: list[dict[str, Any]] = one(stack, "Deployment", tier).inputs["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    return containers[0]


def env_of(stack: str, tier: str) -> dict[str, Any]:
    return {item["name"]: item.get("value", item.get("valueFrom")) for item in container(stack, tier)["env"]}
