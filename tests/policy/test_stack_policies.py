"""Stack policies: dead Services, high availability in prod, duplicated node ports."""

from __future__ import annotations

from typing import Any

from policy.gate import PolicyPackServer

from .conftest import analyze, compliant_app, find, service

DEPLOYMENT = "kubernetes:apps/v1:Deployment"
SERVICE = "kubernetes:core/v1:Service"


def test_a_service_whose_selector_matches_nothing_is_dead(pack: PolicyPackServer) -> None:
    objects = compliant_app()
    find(objects, "Service", "backend")["spec"]["selector"] = {"app.kubernetes.io/name": "backnd"}
    report = analyze(pack, objects, "prod")
    assert report.summary() == {("no-dead-services", "mandatory", f"{SERVICE}: backend-service")}
    assert "matches the pods of no workload in namespace shop" in report.violations[0].message


def test_a_target_port_no_container_declares_is_dead(pack: PolicyPackServer) -> None:
    objects = compliant_app()
    find(objects, "Service", "backend")["spec"]["ports"][0]["targetPort"] = 9090
    report = analyze(pack, objects, "prod")
    assert report.summary() == {("no-dead-services", "mandatory", f"{SERVICE}: backend-service")}
    assert "targetPort 9090 is not a port that Deployment shop/backend declares" in report.violations[0].message


def test_named_target_ports_resolve_against_container_port_names(pack: PolicyPackServer) -> None:
    objects = compliant_app()
    find(objects, "Service", "backend")["spec"]["ports"][0]["targetPort"] = "main"
    assert analyze(pack, objects, "prod").violations == []
    find(objects, "Service", "backend")["spec"]["ports"][0]["targetPort"] = "metrics"
    assert analyze(pack, objects, "prod").summary() == {
        ("no-dead-services", "mandatory", f"{SERVICE}: backend-service")
    }


def test_prod_needs_two_replicas_and_a_budget_for_stateless_tiers(pack: PolicyPackServer) -> None:
    objects = compliant_app()
    find(objects, "Deployment", "frontend")["spec"]["replicas"] = 1
    objects = [o for o in objects if not (o["kind"] == "PodDisruptionBudget" and o["metadata"]["name"] == "backend")]
    report = analyze(pack, objects, "prod")
    assert report.summary() == {
        ("ha-stateless-tiers", "mandatory", f"{DEPLOYMENT}: frontend-deployment"),
        ("ha-stateless-tiers", "mandatory", f"{DEPLOYMENT}: backend-deployment"),
    }
    assert sorted(v.message.split(" (")[0] for v in report.violations) == [
        "Deployment shop/backend",
        "Deployment shop/frontend",
    ]
    # The same objects are fine in dev (policy disabled) and only advisory in staging.
    assert analyze(pack, objects, "dev").violations == []
    staging = analyze(pack, objects, "staging")
    assert {v.level for v in staging.violations} == {"advisory"}
    assert staging.mandatory == 0


def frontend_and_admin(node_port: int, admin_node_port: int) -> list[dict[str, Any]]:
    """The compliant app with a NodePort frontend and a second NodePort Service for its admin port."""
    objects = compliant_app()
    find(objects, "Service", "frontend")["spec"].update(
        type="NodePort", ports=[{"port": 80, "targetPort": 8080, "nodePort": node_port}]
    )
    admin = service("frontend", "NodePort", port=81, node_port=admin_node_port)
    admin["metadata"]["name"] = "frontend-admin"
    return [*objects, admin]


def test_two_services_with_one_node_port_are_rejected(pack: PolicyPackServer) -> None:
    report = analyze(pack, frontend_and_admin(30080, 30080), "dev")
    # Both claimants are named: the API server would reject whichever comes second.
    assert report.summary() == {
        ("unique-node-ports", "mandatory", f"{SERVICE}: frontend-service"),
        ("unique-node-ports", "mandatory", f"{SERVICE}: frontend-admin-service"),
    }
    assert sorted(v.message.split(";")[0] for v in report.violations) == [
        "Service shop/frontend-admin: nodePort 30080 is also requested by Service shop/frontend",
        "Service shop/frontend: nodePort 30080 is also requested by Service shop/frontend-admin",
    ]


def test_distinct_node_ports_are_fine(pack: PolicyPackServer) -> None:
    assert analyze(pack, frontend_and_admin(30080, 30081), "dev").violations == []
