"""`make render`: manifests from the same program, schema-valid, integers as integers, no secrets."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from offline import evaluate_stack
from offline.render import REDACTED, main, manifests

from .stack_files import ROOT, STACKS

PLATFORM_DIR = ROOT / "platform"

#: A current Kubernetes minor shipped by kubernetes-validate (the local cluster runs the same minor).
KUBERNETES_VERSION = "1.34.0"


@cache
def rendered(stack: str, out_dir: Path) -> list[dict[str, object]]:
    assert main(["--stack", stack, "--out", str(out_dir)]) == 0
    return [yaml.safe_load(path.read_text()) for path in sorted(out_dir.glob("*.yaml"))]


@pytest.fixture(scope="module")
def out_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("manifests")


@pytest.mark.parametrize("stack", STACKS)
def test_every_rendered_object_is_valid_against_the_kubernetes_schema(stack: str, out_root: Path) -> None:
    objects = rendered(stack, out_root / stack)
    assert len(objects) >= 11
    for obj in objects:
        kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)


@pytest.mark.parametrize("stack", STACKS)
def test_every_platform_object_is_valid_and_no_token_is_written(stack: str, out_root: Path) -> None:
    out = out_root / f"platform-{stack}"
    assert main(["--stack", stack, "--project-dir", str(PLATFORM_DIR), "--out", str(out)]) == 0
    objects = [yaml.safe_load(path.read_text()) for path in sorted(out.glob("*.yaml"))]
    assert sorted(obj["kind"] for obj in objects) == [
        "LimitRange",
        "Namespace",
        "ResourceQuota",
        "Role",
        "RoleBinding",
        "Secret",
        "ServiceAccount",
    ]
    for obj in objects:
        kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
    [token] = [obj for obj in objects if obj["kind"] == "Secret"]
    assert token["type"] == "kubernetes.io/service-account-token"
    assert "data" not in token and "stringData" not in token  # filled by the token controller, never rendered


@pytest.mark.parametrize("stack", STACKS)
def test_numbers_are_integers(stack: str, out_root: Path) -> None:
    floats = [path for obj in rendered(stack, out_root / stack) for path in float_paths(obj)]
    assert floats == []
    ports = [obj["spec"]["ports"][0]["port"] for obj in rendered(stack, out_root / stack) if obj["kind"] == "Service"]  # type: ignore[index]
    assert ports
    assert all(type(port) is int for port in ports)


def float_paths(value: object, path: str = "") -> list[str]:
    """Where in ``value`` a float hides (Pulumi hands numbers over as floats)."""
    if isinstance(value, float):
        return [path]
    if isinstance(value, dict):
        return [p for key, item in value.items() for p in float_paths(item, f"{path}.{key}")]
    if isinstance(value, list):
        return [p for index, item in enumerate(value) for p in float_paths(item, f"{path}[{index}]")]
    return []


@pytest.mark.parametrize("stack", STACKS)
def test_no_secret_value_reaches_a_rendered_file(stack: str, out_root: Path) -> None:
    objects = rendered(stack, out_root / stack)
    [secret] = [obj for obj in objects if obj["kind"] == "Secret"]
    assert secret["stringData"] == {"password": REDACTED}
    # A fresh evaluation generates a password; whatever it is, the renderer must not write it.
    evaluation = evaluate_stack(stack)
    [password] = evaluation.of_type("random:index/randomPassword:RandomPassword")
    assert password.state["result"] not in yaml.safe_dump_all(manifests(evaluation))


def test_all_three_service_types_appear_across_rendered_stacks(out_root: Path) -> None:
    types = {
        obj["spec"]["type"]  # type: ignore[index]
        for stack in STACKS
        for obj in rendered(stack, out_root / stack)
        if obj["kind"] == "Service"
    }
    assert types == {"ClusterIP", "NodePort", "LoadBalancer"}


def test_unknown_stack_fails_with_the_known_ones(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["--stack", "qa", "--out", str(tmp_path)]) == 1
    assert "known stacks: dev, prod, staging" in capsys.readouterr().err
