"""Each policy through the pack's analyzer service: a compliant object passes, a violating one gets
exactly the expected violation (policy, level, resource, message)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from policy.gate import PolicyPackServer, Violation

from .conftest import analyze, compliant_app, find, stack_config

DEPLOYMENT = "kubernetes:apps/v1:Deployment"
SERVICE = "kubernetes:core/v1:Service"
Objects = list[dict[str, Any]]


def frontend_container(objects: Objects) -> dict[str, Any]:
    container: dict[str, Any] = find(objects, "Deployment", "frontend")["spec"]["template"]["spec"]["containers"][0]
    return container


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_the_compliant_app_passes_every_stack_config(pack: PolicyPackServer, stack: str) -> None:
    objects = compliant_app()
    if stack == "dev":  # dev allows NodePort, not LoadBalancer; prod/staging the reverse
        find(objects, "Service", "frontend")["spec"]["type"] = "NodePort"
    else:
        find(objects, "Service", "frontend")["spec"]["type"] = "LoadBalancer"
    report = analyze(pack, objects, stack)
    assert report.violations == []


def set_image(image: str) -> Callable[[Objects], None]:
    return lambda objects: frontend_container(objects).__setitem__("image", image)


def drop_resource(part: str, resource: str) -> Callable[[Objects], None]:
    return lambda objects: frontend_container(objects)["resources"][part].pop(resource)


def drop_probe(probe: str, tier: str = "frontend") -> Callable[[Objects], None]:
    def mutate(objects: Objects) -> None:
        find(objects, "Deployment", tier)["spec"]["template"]["spec"]["containers"][0].pop(probe)

    return mutate


def set_security(field: str, value: Any, level: str = "container") -> Callable[[Objects], None]:
    def mutate(objects: Objects) -> None:
        pod = find(objects, "Deployment", "frontend")["spec"]["template"]["spec"]
        target = pod if level == "pod" else pod["containers"][0]["securityContext"]
        if level == "podSecurityContext":
            target = pod["securityContext"]
        if value is None:
            target.pop(field, None)
        else:
            target[field] = value

    return mutate


def set_service(tier: str, **spec: Any) -> Callable[[Objects], None]:
    def mutate(objects: Objects) -> None:
        find(objects, "Service", tier)["spec"].update(spec)

    return mutate


def set_env(name: str, entry: dict[str, Any]) -> Callable[[Objects], None]:
    return lambda objects: frontend_container(objects)["env"].append({"name": name, **entry})


# (case, mutation, policy, resource kind+name, message fragment)
CASES: list[tuple[str, Callable[[Objects], None], str, str, str]] = [
    (
        "untagged image",
        set_image("registry.example/frontend"),
        "images-pinned",
        f"{DEPLOYMENT}: frontend-deployment",
        "image 'registry.example/frontend' has no tag",
    ),
    (
        "latest image",
        set_image("nginx:latest"),
        "images-pinned",
        f"{DEPLOYMENT}: frontend-deployment",
        "uses the mutable tag 'latest'",
    ),
    (
        "no cpu limit",
        drop_resource("limits", "cpu"),
        "container-resources",
        f"{DEPLOYMENT}: frontend-deployment",
        "missing resources limits.cpu",
    ),
    (
        "no memory request",
        drop_resource("requests", "memory"),
        "container-resources",
        f"{DEPLOYMENT}: frontend-deployment",
        "missing resources requests.memory",
    ),
    (
        "no readiness probe",
        drop_probe("readinessProbe"),
        "probes-on-stateless-tiers",
        f"{DEPLOYMENT}: frontend-deployment",
        "container frontend: no readinessProbe",
    ),
    (
        "no liveness probe on backend",
        drop_probe("livenessProbe", "backend"),
        "probes-on-stateless-tiers",
        f"{DEPLOYMENT}: backend-deployment",
        "container backend: no livenessProbe",
    ),
    (
        "privileged",
        set_security("privileged", True),
        "restricted-pod-security",
        f"{DEPLOYMENT}: frontend-deployment",
        "privileged must be false",
    ),
    (
        "escalation allowed",
        set_security("allowPrivilegeEscalation", True),
        "restricted-pod-security",
        f"{DEPLOYMENT}: frontend-deployment",
        "set allowPrivilegeEscalation: false",
    ),
    (
        "capabilities kept",
        set_security("capabilities", {"drop": ["NET_RAW"]}),
        "restricted-pod-security",
        f"{DEPLOYMENT}: frontend-deployment",
        "set capabilities.drop: [ALL]",
    ),
    (
        "root allowed",
        set_security("runAsNonRoot", None, "podSecurityContext"),
        "restricted-pod-security",
        f"{DEPLOYMENT}: frontend-deployment",
        "set runAsNonRoot: true",
    ),
    (
        "no seccomp",
        set_security("seccompProfile", None, "podSecurityContext"),
        "restricted-pod-security",
        f"{DEPLOYMENT}: frontend-deployment",
        "set seccompProfile.type: RuntimeDefault",
    ),
    (
        "host network",
        set_security("hostNetwork", True, "pod"),
        "restricted-pod-security",
        f"{DEPLOYMENT}: frontend-deployment",
        "spec.hostNetwork: true is not allowed",
    ),
    (
        "host path",
        set_security("volumes", [{"name": "host", "hostPath": {"path": "/"}}], "pod"),
        "restricted-pod-security",
        f"{DEPLOYMENT}: frontend-deployment",
        "volume host: hostPath is not allowed",
    ),
    (
        "NodePort in prod",
        set_service("frontend", type="NodePort"),
        "allowed-service-types",
        f"{SERVICE}: frontend-service",
        "has type NodePort; this environment allows ClusterIP, LoadBalancer",
    ),
    (
        "node port out of range",
        set_service("frontend", type="LoadBalancer", ports=[{"port": 80, "targetPort": 8080, "nodePort": 40000}]),
        "node-port-range",
        f"{SERVICE}: frontend-service",
        "nodePort 40000 is outside 30000-32767",
    ),
    (
        "plaintext password",
        set_env("DB_PASSWORD", {"value": "hunter2"}),
        "no-plaintext-secrets-in-env",
        f"{DEPLOYMENT}: frontend-deployment",
        "env DB_PASSWORD holds a plain value",
    ),
    (
        "plaintext api key",
        set_env("stripe_api_key", {"value": "sk"}),
        "no-plaintext-secrets-in-env",
        f"{DEPLOYMENT}: frontend-deployment",
        "env stripe_api_key holds a plain value",
    ),
]


@pytest.mark.parametrize(("case", "mutate", "policy", "resource", "fragment"), CASES, ids=[c[0] for c in CASES])
def test_a_violating_object_gets_exactly_its_violation(
    pack: PolicyPackServer, case: str, mutate: Callable[[Objects], None], policy: str, resource: str, fragment: str
) -> None:
    objects = compliant_app()
    mutate(objects)
    report = analyze(pack, objects, "prod")
    assert report.summary() == {(policy, "mandatory", resource)}, case
    [violation] = report.violations
    assert fragment in violation.message
    assert "Fix:" in violation.message


def test_the_database_needs_no_probes(pack: PolicyPackServer) -> None:
    # A database's readiness is not a stateless tier's: the probe rule leaves it to the tier.
    objects = compliant_app()
    drop_probe("readinessProbe", "database")(objects)
    drop_probe("livenessProbe", "database")(objects)
    assert analyze(pack, objects, "prod").violations == []


def test_the_probe_rule_covers_exactly_the_tiers_its_config_names(pack: PolicyPackServer) -> None:
    objects = compliant_app()
    drop_probe("readinessProbe", "database")(objects)
    config = stack_config("prod") | {"probes-on-stateless-tiers": {"tiers": ["frontend", "backend", "database"]}}
    report = analyze(pack, objects, config)
    assert report.summary() == {("probes-on-stateless-tiers", "mandatory", f"{DEPLOYMENT}: database-deployment")}
    assert "container database: no readinessProbe" in report.violations[0].message


def with_node_port(node_port: int) -> Objects:
    objects = compliant_app()
    set_service("frontend", type="LoadBalancer", ports=[{"port": 80, "targetPort": 8080, "nodePort": node_port}])(
        objects
    )
    return objects


@pytest.mark.parametrize("node_port", [30000, 32767])
def test_node_ports_at_the_ends_of_the_range_are_fine(pack: PolicyPackServer, node_port: int) -> None:
    assert analyze(pack, with_node_port(node_port), "prod").violations == []


@pytest.mark.parametrize("node_port", [29999, 32768])
def test_node_ports_just_outside_the_range_are_rejected(pack: PolicyPackServer, node_port: int) -> None:
    report = analyze(pack, with_node_port(node_port), "prod")
    assert report.summary() == {("node-port-range", "mandatory", f"{SERVICE}: frontend-service")}
    assert f"nodePort {node_port} is outside 30000-32767" in report.violations[0].message


def test_the_database_is_never_exposed(pack: PolicyPackServer) -> None:
    objects = compliant_app()
    set_service("database", type="LoadBalancer")(objects)
    report = analyze(pack, objects, "prod")
    assert report.summary() == {("database-not-exposed", "mandatory", f"{SERVICE}: database-service")}
    assert "selects the database tier and has type LoadBalancer" in report.violations[0].message


def test_a_nodeport_database_in_dev_breaks_only_the_exposure_rule(pack: PolicyPackServer) -> None:
    objects = compliant_app()
    set_service("database", type="NodePort")(objects)
    report = analyze(pack, objects, "dev")  # NodePort is an allowed type in dev, but not for the database
    assert report.summary() == {("database-not-exposed", "mandatory", f"{SERVICE}: database-service")}


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_a_secret_in_an_env_var_is_refused_in_every_stack(pack: PolicyPackServer, stack: str) -> None:
    objects = compliant_app()
    set_env("DB_PASSWORD", {"valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}})(objects)
    report = analyze(pack, objects, stack)
    assert report.summary() == {("secrets-as-files", "mandatory", f"{DEPLOYMENT}: frontend-deployment")}
    assert "env DB_PASSWORD (secretKeyRef db) puts a Secret into the environment" in report.violations[0].message


def test_a_whole_secret_as_env_vars_is_refused(pack: PolicyPackServer) -> None:
    objects = compliant_app()
    frontend_container(objects)["envFrom"] = [{"secretRef": {"name": "db"}}]
    report = analyze(pack, objects, "prod")
    assert report.summary() == {("secrets-as-files", "mandatory", f"{DEPLOYMENT}: frontend-deployment")}
    assert "envFrom secretRef db" in report.violations[0].message


def test_a_mounted_secret_file_named_by_a_path_variable_is_fine(pack: PolicyPackServer) -> None:
    objects = compliant_app()
    set_env("DB_PASSWORD_FILE", {"value": "/etc/secrets/db/password"})(objects)
    assert analyze(pack, objects, "prod").violations == []


def test_a_password_in_a_file_variable_that_is_no_path_is_still_plaintext(pack: PolicyPackServer) -> None:
    objects = compliant_app()
    set_env("DB_PASSWORD_FILE", {"value": "hunter2"})(objects)
    report = analyze(pack, objects, "prod")
    assert report.summary() == {("no-plaintext-secrets-in-env", "mandatory", f"{DEPLOYMENT}: frontend-deployment")}


def test_digest_pinned_images_are_fine(pack: PolicyPackServer) -> None:
    objects = compliant_app()
    set_image("registry.example/frontend@sha256:" + "a" * 64)(objects)
    assert analyze(pack, objects, "prod").violations == []


def test_missing_recommended_labels_are_advisory(pack: PolicyPackServer) -> None:
    objects = compliant_app()
    del find(objects, "Service", "backend")["metadata"]["labels"]["app.kubernetes.io/part-of"]
    report = analyze(pack, objects, "staging")
    assert report.summary() == {("recommended-labels", "advisory", f"{SERVICE}: backend-service")}
    assert report.mandatory == 0
    assert "lacks labels app.kubernetes.io/part-of" in report.violations[0].message


def test_prod_config_makes_recommended_labels_mandatory(pack: PolicyPackServer) -> None:
    objects = compliant_app()
    del find(objects, "Service", "backend")["metadata"]["labels"]["app.kubernetes.io/part-of"]
    assert analyze(pack, objects, "prod").summary() == {
        ("recommended-labels", "mandatory", f"{SERVICE}: backend-service")
    }


def test_service_types_follow_the_stack_config(pack: PolicyPackServer) -> None:
    node_port_app = compliant_app()
    set_service("frontend", type="NodePort")(node_port_app)
    load_balancer_app = compliant_app()
    set_service("frontend", type="LoadBalancer")(load_balancer_app)
    assert analyze(pack, node_port_app, "dev").violations == []
    assert analyze(pack, load_balancer_app, "dev").summary() == {
        ("allowed-service-types", "mandatory", f"{SERVICE}: frontend-service")
    }
    assert analyze(pack, load_balancer_app, "prod").violations == []


def messages(violations: list[Violation]) -> list[str]:
    return [v.message for v in violations]


def test_unknown_policy_in_config_is_an_error(pack: PolicyPackServer) -> None:
    from policy.gate import PolicyConfigError

    with pytest.raises(PolicyConfigError, match="unknown policies in config: no-such-policy"):
        analyze(pack, compliant_app(), {"no-such-policy": "mandatory"})
    with pytest.raises(PolicyConfigError, match="allowed-service-types"):
        analyze(pack, compliant_app(), {"allowed-service-types": {"allowedTypes": ["Ingress"]}})
    with pytest.raises(PolicyConfigError, match="enforcement level 'fatal'"):
        analyze(pack, compliant_app(), {"images-pinned": "fatal"})


def test_disabled_policies_report_nothing(pack: PolicyPackServer) -> None:
    objects = compliant_app()
    set_image("nginx")(objects)
    assert analyze(pack, objects, {"images-pinned": "disabled"}).violations == []
