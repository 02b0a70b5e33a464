"""Deliberately broken stacks through `make policy`'s gate: the real program, preview under the mocks,
the real pack. Each produces exactly its mandatory violations; the shipped stacks produce none."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pytest

from components import ConfigError
from components.args import Manifest
from components.platform_program import platform_program
from components.program import three_tier_program
from offline.policy_check import check_program, check_stack, main

from .conftest import stack_config

DEPLOYMENT = "kubernetes:apps/v1:Deployment"
SERVICE = "kubernetes:core/v1:Service"
ROOT = Path(__file__).resolve().parents[2]
PLATFORM_DIR = ROOT / "platform"
PLATFORM_POLICY = ROOT / "policy" / "config" / "platform.json"


def mandatory(report: Any) -> set[tuple[str, str]]:
    return {(v.policy, v.resource) for v in report.violations if v.level == "mandatory"}


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_shipped_stacks_pass(stack: str) -> None:
    report = check_stack(stack)
    assert report.mandatory == 0
    assert report.violations == []
    assert report.resources >= 17


def test_make_policy_exit_codes(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["--stack", "prod"]) == 0
    assert "0 mandatory, 0 advisory violation(s): passed" in capsys.readouterr().out
    # The dev stack judged by dev's config allowing ClusterIP only: its NodePort frontend blocks.
    cluster_ip_only = tmp_path / "cluster-ip-only.json"
    config = stack_config("dev") | {"allowed-service-types": {"allowedTypes": ["ClusterIP"]}}
    cluster_ip_only.write_text(json.dumps(config))
    assert main(["--stack", "dev", "--config", str(cluster_ip_only)]) == 1
    out = capsys.readouterr().out
    assert f"[mandatory]  allowed-service-types  ({SERVICE}: threetier-frontend)" in out
    assert out.rstrip().endswith("1 mandatory, 0 advisory violation(s): BLOCKED")
    unknown_policy = tmp_path / "unknown-policy.json"
    unknown_policy.write_text(json.dumps({"no-such-policy": "mandatory"}))
    assert main(["--stack", "dev", "--config", str(unknown_policy)]) == 2
    assert "invalid policy config: unknown policies in config: no-such-policy" in capsys.readouterr().err


def test_prod_with_a_load_balancer_database() -> None:
    report = check_stack("prod", {"threetier:database": {"serviceType": "LoadBalancer"}})
    assert mandatory(report) == {("database-not-exposed", f"{SERVICE}: threetier-database")}


def test_a_latest_image() -> None:
    report = check_stack("staging", {"threetier:backend": {"image": "threetier/backend:latest", "replicas": 2}})
    assert mandatory(report) == {("images-pinned", f"{DEPLOYMENT}: threetier-backend")}


def test_a_plaintext_password_env() -> None:
    report = check_stack("dev", {"threetier:backend": {"env": {"ADMIN_PASSWORD": "hunter2"}}})
    assert mandatory(report) == {("no-plaintext-secrets-in-env", f"{DEPLOYMENT}: threetier-backend")}
    assert "hunter2" not in str(report.violations)


def test_prod_with_a_single_frontend_replica() -> None:
    report = check_stack("prod", {"threetier:frontend": {"serviceType": "LoadBalancer", "replicas": 1}})
    # One replica also means no PodDisruptionBudget: both halves of the HA rule fire.
    assert mandatory(report) == {("ha-stateless-tiers", f"{DEPLOYMENT}: threetier-frontend")}
    assert len(report.violations) == 2


def test_a_node_port_frontend_in_prod() -> None:
    report = check_stack("prod", {"threetier:frontend": {"serviceType": "NodePort", "replicas": 3}})
    assert mandatory(report) == {("allowed-service-types", f"{SERVICE}: threetier-frontend")}


def test_an_untagged_image_never_reaches_the_gate_from_stack_config() -> None:
    with pytest.raises(ConfigError, match=r"threetier:frontend\.image"):
        check_stack("dev", {"threetier:frontend": {"image": "threetier/frontend"}})


def dev_app_plus(extra: Manifest, name: str, kind: str = "Service") -> Any:
    """The dev stack's program plus one hand-written object, as a team might add, through the deployer's provider."""

    def program() -> None:
        app = three_tier_program()
        resource = k8s.core.v1.Service if kind == "Service" else k8s.apps.v1.Deployment
        resource(name, **extra, opts=pulumi.ResourceOptions(provider=app.provider))

    return program


def test_an_untagged_image_in_a_hand_written_deployment() -> None:
    labels = {"app": "worker"}
    spec: Manifest = {
        "selector": {"matchLabels": labels},
        "template": {"metadata": {"labels": labels}, "spec": {"containers": [{"name": "worker", "image": "busybox"}]}},
    }
    metadata: Manifest = {"name": "worker", "namespace": "threetier-dev"}
    report = check_program(dev_app_plus({"metadata": metadata, "spec": spec}, "worker", "Deployment"), "dev")
    found = mandatory(report)
    assert ("images-pinned", f"{DEPLOYMENT}: worker") in found
    # The same hand-written object also misses resources and the restricted securityContext.
    assert {policy for policy, _ in found} == {"images-pinned", "container-resources", "restricted-pod-security"}


def test_a_service_whose_selector_matches_nothing() -> None:
    metadata: Manifest = {"name": "metrics", "namespace": "threetier-dev"}
    spec: Manifest = {"selector": {"app.kubernetes.io/component": "metrics"}, "ports": [{"port": 9090}]}
    report = check_program(dev_app_plus({"metadata": metadata, "spec": spec}, "metrics"), "dev")
    assert mandatory(report) == {("no-dead-services", f"{SERVICE}: metrics")}


def test_a_duplicated_node_port() -> None:
    metadata: Manifest = {"name": "frontend-admin", "namespace": "threetier-dev"}
    selector = {
        "app.kubernetes.io/name": "frontend",
        "app.kubernetes.io/instance": "threetier-dev",
        "app.kubernetes.io/component": "frontend",
    }
    spec: Manifest = {
        "type": "NodePort",
        "selector": selector,
        "ports": [{"port": 81, "targetPort": 8080, "nodePort": 30080}],
    }
    report = check_program(dev_app_plus({"metadata": metadata, "spec": spec}, "frontend-admin"), "dev")
    assert mandatory(report) == {
        ("unique-node-ports", f"{SERVICE}: frontend-admin"),
        ("unique-node-ports", f"{SERVICE}: threetier-frontend"),
    }


def test_a_stack_that_cannot_be_evaluated_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--stack", "qa"]) == 2
    assert "stack qa cannot be evaluated: no stack config" in capsys.readouterr().err


def test_the_app_program_creating_a_cluster_role_through_its_deployer() -> None:
    def program() -> None:
        app = three_tier_program()
        rules: Manifest = [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]}]
        metadata: Manifest = {"name": "reader"}
        k8s.rbac.v1.ClusterRole(
            "reader", metadata=metadata, rules=rules, opts=pulumi.ResourceOptions(provider=app.provider)
        )

    report = check_program(program, "dev")
    assert mandatory(report) == {
        ("no-cluster-scoped-resources", "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole: reader")
    }


def test_the_app_program_creating_its_own_namespace() -> None:
    def program() -> None:
        app = three_tier_program()
        k8s.core.v1.Namespace("extra", metadata={"name": "extra"}, opts=pulumi.ResourceOptions(provider=app.provider))

    report = check_program(program, "staging")
    assert mandatory(report) == {("no-namespaces", "kubernetes:core/v1:Namespace: extra")}


def test_a_hand_written_object_with_the_default_provider() -> None:
    metadata: Manifest = {"name": "metrics", "namespace": "threetier-prod"}
    selector = {"app.kubernetes.io/component": "frontend"}
    spec: Manifest = {"selector": selector, "ports": [{"port": 8080, "targetPort": 8080}]}

    def program() -> None:
        three_tier_program()
        k8s.core.v1.Service("metrics", metadata=metadata, spec=spec)  # no provider: the engine's default one

    report = check_program(program, "prod")
    assert ("explicit-provider", f"{SERVICE}: metrics") in mandatory(report)
    assert {policy for policy, _ in mandatory(report)} <= {"explicit-provider", "recommended-labels"}


def test_the_platform_program_with_a_namespace_it_does_not_size() -> None:
    def program() -> None:
        platform_program()
        k8s.core.v1.Namespace("scratch", metadata={"name": "scratch"})

    report = check_program(program, "dev", project_dir=PLATFORM_DIR, config=PLATFORM_POLICY)
    assert mandatory(report) == {("namespaces-have-quota-and-limits", "kubernetes:core/v1:Namespace: scratch")}


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_shipped_platform_stacks_pass(stack: str) -> None:
    def program() -> None:
        platform_program()

    report = check_program(program, stack, project_dir=PLATFORM_DIR, config=PLATFORM_POLICY)
    assert report.violations == []
    assert report.resources == 8
