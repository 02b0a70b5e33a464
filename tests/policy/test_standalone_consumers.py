"""The component package's consumers are standalone programs: judged by ``policy/config/standalone.json``.

A consumer's app creates its namespace with whoever runs ``pulumi up`` (the package's app is
standalone, docs/component-package.md): the app stacks' config refuses it (``no-namespaces``,
``explicit-provider``); the standalone config reports both as warnings and keeps everything else
dev's, ``no-cluster-scoped-resources`` mandatory included. In platform mode (``createNamespace:
false``, the deployer's provider) a consumer passes the app stacks' config as the stacks do.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import pulumi
import pulumi_kubernetes as k8s
import yaml

from components.args import Manifest
from components.package import ThreeTierApp
from components.package import ThreeTierAppArgs as PackageArgs
from offline.policy_check import check_program

from .conftest import CONFIG_DIR, stack_config

ROOT = Path(__file__).resolve().parents[2]
STANDALONE = CONFIG_DIR / "standalone.json"
#: The policies of who owns what (docs/policy.md, 14-16): advisory for standalone programs but 14.
TENANCY = {"no-cluster-scoped-resources": "mandatory", "no-namespaces": "advisory", "explicit-provider": "advisory"}
NAMESPACE = "kubernetes:core/v1:Namespace: app-namespace"


def yaml_consumer() -> None:
    """``examples/yaml-app``'s app: the package's ThreeTierApp with the YAML program's properties."""
    program = yaml.safe_load((ROOT / "examples" / "yaml-app" / "Pulumi.yaml").read_text())
    ThreeTierApp("app", program["resources"]["app"]["properties"])


def levels(report: Any) -> set[tuple[str, str]]:
    return {(v.policy, v.level) for v in report.violations}


def test_the_standalone_config_is_devs_but_for_the_tenancy_policies() -> None:
    standalone, dev = stack_config("standalone"), stack_config("dev")
    assert {key: value for key, value in standalone.items() if key not in TENANCY} == {
        key: value for key, value in dev.items() if key not in TENANCY
    }
    assert {key: standalone[key] for key in TENANCY} == TENANCY


def test_a_consumers_app_passes_the_standalone_config_with_the_tenancy_warnings() -> None:
    report = check_program(yaml_consumer, "dev", config=STANDALONE)
    assert report.mandatory == 0
    assert levels(report) == {
        ("no-namespaces", "advisory"),
        ("explicit-provider", "advisory"),
        ("namespaces-have-quota-and-limits", "advisory"),
    }
    objects = {v.resource for v in report.violations if v.policy == "explicit-provider"}
    assert NAMESPACE in objects and len(objects) == 12  # every Kubernetes object, through the default provider


def test_a_consumers_app_is_refused_by_an_app_stacks_config() -> None:
    report = check_program(yaml_consumer, "dev", config=CONFIG_DIR / "dev.json")
    refused = {policy for policy, level in levels(report) if level == "mandatory"}
    assert refused == {"no-namespaces", "explicit-provider"}


def test_a_consumer_in_platform_mode_passes_the_app_stacks_config() -> None:
    """``createNamespace: false`` with the deployer's provider: what an app stack of the platform does."""

    def program() -> None:
        program = yaml.safe_load((ROOT / "examples" / "yaml-app" / "Pulumi.yaml").read_text())
        inputs = cast(PackageArgs, {**program["resources"]["app"]["properties"], "createNamespace": False})
        deployer = k8s.Provider("deployer", namespace="threetier-yaml")
        ThreeTierApp("app", inputs, pulumi.ResourceOptions(providers={"kubernetes": deployer}))

    report = check_program(program, "dev", config=CONFIG_DIR / "dev.json")
    assert report.violations == []


def test_a_standalone_program_creating_a_cluster_scoped_object_is_still_refused() -> None:
    def program() -> None:
        yaml_consumer()
        rules: Manifest = [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]}]
        k8s.rbac.v1.ClusterRole("reader", metadata={"name": "reader"}, rules=rules)

    report = check_program(program, "dev", config=STANDALONE)
    mandatory = {(v.policy, v.resource) for v in report.violations if v.level == "mandatory"}
    assert mandatory == {("no-cluster-scoped-resources", "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole: reader")}
