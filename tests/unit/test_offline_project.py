"""offline works on any Pulumi project directory, not only this repository's."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import yaml

from offline import PulumiProject, find_project
from offline.render import main as render_main

PROGRAM = """
import pulumi
import pulumi_kubernetes as k8s

from naming import service_name  # a module next to the program, as the language host allows

config = pulumi.Config()
namespace = config.require("namespace")
service = k8s.core.v1.Service(
    "web",
    metadata={"name": service_name(), "namespace": namespace},
    spec={"type": "NodePort", "selector": {"app": "web"}, "ports": [{"port": 80}]},
)
pulumi.export("namespace", namespace)
pulumi.export("replicas", config.require_int("replicas"))
pulumi.export("nodePort", service.spec.ports[0].node_port)
pulumi.export("cwd", __import__("os").getcwd())
"""


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    """A project laid out the way Pulumi allows: program in a subdirectory, stack files in another."""
    project = {
        "name": "shop",
        "runtime": "python",
        "main": "app",
        "stackConfigDir": "stacks",
        "config": {
            "namespace": {"type": "string", "default": "shop"},
            "replicas": 2,
            "kubernetes:context": {"value": "kind-shop"},
        },
    }
    (tmp_path / "Pulumi.yaml").write_text(yaml.safe_dump(project))
    (tmp_path / "stacks").mkdir()
    (tmp_path / "stacks" / "Pulumi.prod.yaml").write_text(yaml.safe_dump({"config": {"shop:replicas": 3}}))
    (tmp_path / "stacks" / "Pulumi.qa.yaml").write_text(yaml.safe_dump({"config": {"namespace": "shop-qa"}}))
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "__main__.py").write_text(textwrap.dedent(PROGRAM))
    (tmp_path / "app" / "naming.py").write_text("def service_name() -> str:\n    return 'web'\n")
    return tmp_path


def test_config_layers_project_defaults_stack_file_and_overrides(shop: Path) -> None:
    project = PulumiProject.load(shop)
    assert project.name == "shop"
    assert project.main_program == shop / "app" / "__main__.py"
    assert project.stacks() == ["prod", "qa"]
    assert project.config() == {"shop:namespace": "shop", "shop:replicas": "2", "kubernetes:context": "kind-shop"}
    assert project.config("prod")["shop:replicas"] == "3"
    assert project.config("qa", {"replicas": {"min": 1}}) == {
        "shop:namespace": "shop-qa",
        "shop:replicas": '{"min": 1}',
        "kubernetes:context": "kind-shop",
    }


def test_encrypted_values_and_unknown_stacks_are_named(shop: Path) -> None:
    project = PulumiProject.load(shop)
    (shop / "stacks" / "Pulumi.enc.yaml").write_text(yaml.safe_dump({"config": {"shop:token": {"secure": "v1:x"}}}))
    with pytest.raises(ValueError, match="pass it in overrides: shop:token"):
        project.config("enc")
    assert project.config("enc", {"shop:token": "t0k3n"})["shop:token"] == "t0k3n"
    with pytest.raises(FileNotFoundError, match="known stacks: enc, prod, qa"):
        project.config("staging")


def test_the_program_runs_like_under_the_language_host(shop: Path) -> None:
    evaluation = PulumiProject.load(shop).evaluate("prod")
    assert evaluation.outputs["namespace"] == "shop"
    assert evaluation.outputs["replicas"] == 3
    assert 30000 <= evaluation.outputs["nodePort"] <= 32767
    assert evaluation.outputs["cwd"] == str(shop / "app")
    [service] = evaluation.kubernetes_objects()
    assert service.inputs["metadata"] == {"name": "web", "namespace": "shop"}


def test_find_project_walks_up_from_the_working_directory(
    shop: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(shop / "app")
    assert find_project().directory == shop
    assert find_project(shop / "stacks").name == "shop"
    with pytest.raises(FileNotFoundError, match=r"no Pulumi\.yaml"):
        find_project(tmp_path_factory.mktemp("empty"))


def test_find_project_falls_back_to_this_checkout(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path_factory.mktemp("elsewhere"))
    assert find_project().name == "threetier"


def test_render_cli_takes_the_project_directory(shop: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert render_main(["--stack", "qa", "--project-dir", str(shop)]) == 0
    written = sorted((shop / "build" / "manifests" / "qa").glob("*.yaml"))
    assert [path.name for path in written] == ["01-service-shop-qa-web.yaml"]
    assert "wrote 1 manifests" in capsys.readouterr().out
