"""Each shipped stack (dev, staging, prod), evaluated from its real stacks/*.yaml."""

from __future__ import annotations

import base64
import hashlib
import ipaddress
from functools import partial
from typing import Any

import pytest

from components.args import APP_ENV
from components.tier import DRAIN_SECONDS
from offline.apiserver_mocks import LOAD_BALANCER_POOL, SERVICE_CIDR, unwrap_secret

from .evaluated_stacks import TIERS, container, env_of, evaluated, evaluated_platform, k8s, one
from .stack_files import STACKS, environment_namespace, tier_setting

#: The product's promise per stack (README's stack table).
EXPECTED_SERVICE_TYPES = {
    "dev": {"frontend": "NodePort", "backend": "ClusterIP", "database": "ClusterIP"},
    "staging": {"frontend": "LoadBalancer", "backend": "ClusterIP", "database": "ClusterIP"},
    "prod": {"frontend": "LoadBalancer", "backend": "ClusterIP", "database": "ClusterIP"},
}
#: (Service port, port the image listens on): images/*/image.conf (frontend and backend httpd
#: on 8080, PostgreSQL on 5432) and the README's configuration table (frontend Service on 80).
IMAGE_PORTS = {"frontend": (80, 8080), "backend": (8080, 8080), "database": (5432, 5432)}


@pytest.mark.parametrize("stack", STACKS)
def test_service_types_match_the_product_table_and_the_stack_file(stack: str) -> None:
    for tier in TIERS:
        service = one(stack, "Service", tier)
        declared = tier_setting(stack, tier, "serviceType", "ClusterIP")
        assert service.inputs["spec"]["type"] == declared == EXPECTED_SERVICE_TYPES[stack][tier]
        assert evaluated(stack).outputs[tier]["serviceType"] == declared


def test_all_three_service_types_are_used_across_stacks() -> None:
    used = {one(s, "Service", t).inputs["spec"]["type"] for s in STACKS for t in TIERS}
    assert used == {"ClusterIP", "NodePort", "LoadBalancer"}


def test_replicas_grow_from_dev_to_prod() -> None:
    for tier in ("frontend", "backend"):
        counts = [one(s, "Deployment", tier).inputs["spec"]["replicas"] for s in STACKS]
        assert counts == sorted(counts) and counts[0] < counts[-1], f"{tier}: {counts}"


@pytest.mark.parametrize("stack", STACKS)
def test_replicas_and_images_come_from_the_stack_file(stack: str) -> None:
    for tier in TIERS:
        image = tier_setting(stack, tier, "image")
        assert image is not None, f"{stack}: every stack file pins each tier's image"
        assert container(stack, tier)["image"] == image
        assert one(stack, "Deployment", tier).inputs["spec"]["replicas"] == tier_setting(stack, tier, "replicas", 1)


@pytest.mark.parametrize("stack", STACKS)
def test_services_forward_to_the_ports_the_images_listen_on(stack: str) -> None:
    for tier, (port, listens_on) in IMAGE_PORTS.items():
        service_port = one(stack, "Service", tier).inputs["spec"]["ports"][0]
        assert (service_port["port"], service_port["targetPort"]) == (port, listens_on), tier
        assert container(stack, tier)["ports"][0]["containerPort"] == listens_on, tier


def test_dev_frontend_node_port_is_pinned_and_exported() -> None:
    pinned = tier_setting("dev", "frontend", "nodePort")
    assert pinned is not None
    assert one("dev", "Service", "frontend").inputs["spec"]["ports"][0]["nodePort"] == pinned
    outputs = evaluated("dev").outputs["frontend"]
    assert outputs["nodePort"] == pinned
    assert outputs["urls"]["nodePort"] == f"http://<nodeIP>:{pinned}"


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_load_balancer_frontends_export_their_ingress(stack: str) -> None:
    outputs = evaluated(stack).outputs["frontend"]
    ingress = outputs["loadBalancerIngress"]
    assert ingress is not None
    assert ipaddress.ip_address(ingress) in LOAD_BALANCER_POOL
    assert outputs["urls"]["loadBalancer"] == f"http://{ingress}:{outputs['port']}"
    # A LoadBalancer Service is also a NodePort Service: the API server allocated one.
    assert 30000 <= outputs["nodePort"] <= 32767


@pytest.mark.parametrize("stack", STACKS)
def test_selectors_always_match_pod_template_labels(stack: str) -> None:
    for tier in TIERS:
        deployment = one(stack, "Deployment", tier).inputs["spec"]
        pod_labels = deployment["template"]["metadata"]["labels"]
        service_selector = one(stack, "Service", tier).inputs["spec"]["selector"]
        assert deployment["selector"]["matchLabels"] == service_selector
        assert service_selector.items() <= pod_labels.items()
        assert pod_labels["app.kubernetes.io/component"] == tier
        for key in ("name", "instance", "component", "part-of", "managed-by"):
            assert f"app.kubernetes.io/{key}" in pod_labels


@pytest.mark.parametrize("stack", STACKS)
def test_tiers_are_wired_by_cluster_dns_names_that_match_the_outputs(stack: str) -> None:
    outputs = evaluated(stack).outputs
    namespace = environment_namespace(stack)
    assert outputs["namespace"] == namespace
    for tier in TIERS:
        assert outputs[tier]["dnsNames"] == {
            "short": tier,
            "namespaced": f"{tier}.{namespace}",
            "svc": f"{tier}.{namespace}.svc",
            "fqdn": f"{tier}.{namespace}.svc.cluster.local",
        }
    frontend_env, backend_env = env_of(stack, "frontend"), env_of(stack, "backend")
    assert frontend_env["BACKEND_HOST"] == outputs["backend"]["dnsNames"]["fqdn"]
    assert frontend_env["BACKEND_URL"] == outputs["backend"]["urls"]["inCluster"]
    assert backend_env["DB_HOST"] == outputs["database"]["dnsNames"]["fqdn"]
    assert backend_env["DB_PORT"] == str(outputs["database"]["port"])
    # The wiring is exported, so a verifier can check live pods without knowing the components.
    assert outputs["frontend"]["wiring"] == {
        "BACKEND_HOST": {"service": "backend", "fqdn": outputs["backend"]["dnsNames"]["fqdn"]}
    }
    assert outputs["backend"]["wiring"] == {
        "DB_HOST": {"service": "database", "fqdn": outputs["database"]["dnsNames"]["fqdn"]}
    }
    assert outputs["database"]["wiring"] == {}


@pytest.mark.parametrize("stack", STACKS)
def test_cluster_ips_are_allocated_from_the_service_cidr(stack: str) -> None:
    ips = [evaluated(stack).outputs[tier]["clusterIP"] for tier in TIERS]
    assert len(set(ips)) == 3
    assert all(ipaddress.ip_address(ip) in SERVICE_CIDR for ip in ips)


@pytest.mark.parametrize("stack", STACKS)
def test_database_password_is_asked_for_long_and_url_safe(stack: str) -> None:
    # What the program asks pulumi-random for (the mocks' generator proves nothing about it):
    # at least 16 characters, none that would need escaping in the exported databaseUrl.
    [password] = evaluated(stack).of_type("random:index/randomPassword:RandomPassword")
    assert password.inputs["length"] >= 16
    assert password.inputs["special"] is False


@pytest.mark.parametrize("stack", STACKS)
def test_database_password_is_random_kept_in_a_secret_and_mounted_as_a_file(stack: str) -> None:
    evaluation = evaluated(stack)
    [password] = evaluation.of_type("random:index/randomPassword:RandomPassword")
    plaintext = password.state["result"]
    secret = one(stack, "Secret", "database-credentials")
    data = unwrap_secret(secret.state["data"])
    assert base64.b64decode(data["password"]).decode() == plaintext
    for tier in ("backend", "database"):
        # The file's path in an env var, the Secret's key mounted read-only there, no Secret in env.
        assert env_of(stack, tier)["DB_PASSWORD_FILE"] == "/etc/secrets/database-credentials/password"
        assert "DB_PASSWORD" not in env_of(stack, tier)
        assert not [item for item in container(stack, tier)["env"] if "valueFrom" in item]
        assert {
            "name": "secret-database-credentials",
            "mountPath": "/etc/secrets/database-credentials",
            "readOnly": True,
        } in container(stack, tier)["volumeMounts"]
        pod = one(stack, "Deployment", tier).inputs["spec"]["template"]
        assert {
            "name": "secret-database-credentials",
            "secret": {
                "secretName": "database-credentials",
                "defaultMode": 0o440,
                "items": [{"key": "password", "path": "password"}],
            },
        } in pod["spec"]["volumes"]
        # A new password rolls the pods that mount it: a digest (never the password) in the template.
        checksum = pod["metadata"]["annotations"]["threetier.dev/database-credentials-checksum"]
        assert checksum == hashlib.sha256(plaintext.encode()).hexdigest()[:16]
    assert "annotations" not in one(stack, "Deployment", "frontend").inputs["spec"]["template"]["metadata"]
    for tier in TIERS:
        assert plaintext not in str(one(stack, "Deployment", tier).inputs)


@pytest.mark.parametrize("stack", STACKS)
def test_outputs_never_show_the_password_in_plaintext(stack: str) -> None:
    evaluation = evaluated(stack)
    [password] = evaluation.of_type("random:index/randomPassword:RandomPassword")
    plaintext = password.state["result"]
    carrying = {name for name, value in evaluation.outputs.items() if plaintext in str(value)}
    assert carrying == {"databaseUrl"}
    assert evaluation.secret_outputs == {"databaseUrl"}


@pytest.mark.parametrize("stack", STACKS)
def test_namespace_enforces_the_restricted_pod_security_level(stack: str) -> None:
    assert k8s(stack, "Namespace") == []  # the app's namespace is its platform stack's
    [namespace] = [r for r in evaluated_platform(stack).kubernetes_objects() if r.type.endswith(":Namespace")]
    assert namespace.inputs["metadata"]["name"] == evaluated(stack).outputs["namespace"]
    labels = namespace.inputs["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    for tier in TIERS:
        pod = one(stack, "Deployment", tier).inputs["spec"]["template"]["spec"]
        security = container(stack, tier)["securityContext"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert security["allowPrivilegeEscalation"] is False
        assert security["capabilities"] == {"drop": ["ALL"]}
        assert security["seccompProfile"] == {"type": "RuntimeDefault"}


@pytest.mark.parametrize("stack", STACKS)
def test_rollouts_keep_capacity_and_probes_exist(stack: str) -> None:
    for tier in TIERS:
        strategy = one(stack, "Deployment", tier).inputs["spec"]["strategy"]
        assert strategy["rollingUpdate"]["maxUnavailable"] == 0
        probe_kind = "tcpSocket" if tier == "database" else "httpGet"
        assert probe_kind in container(stack, tier)["readinessProbe"]
        assert probe_kind in container(stack, tier)["livenessProbe"]
        resources = container(stack, tier)["resources"]
        assert set(resources["requests"]) == set(resources["limits"]) == {"cpu", "memory"}


@pytest.mark.parametrize("stack", STACKS)
def test_terminating_pods_drain_before_they_stop(stack: str) -> None:
    for tier in TIERS:
        pre_stop = container(stack, tier)["lifecycle"]["preStop"]
        # Kubelet's own sleep action: needs no shell in the image.
        assert pre_stop == {"sleep": {"seconds": DRAIN_SECONDS}}
        pod_spec = one(stack, "Deployment", tier).inputs["spec"]["template"]["spec"]
        assert pod_spec["terminationGracePeriodSeconds"] > DRAIN_SECONDS


def policy_sources(policies: dict[str, Any], policy: str) -> list[str]:
    """Components a NetworkPolicy admits traffic from."""
    return [
        peer["podSelector"]["matchLabels"]["app.kubernetes.io/component"]
        for rule in policies[policy]["ingress"]
        for peer in rule["from"]
    ]


def policy_target(policies: dict[str, Any], policy: str) -> str:
    """The component a NetworkPolicy protects."""
    return str(policies[policy]["podSelector"]["matchLabels"]["app.kubernetes.io/component"])


@pytest.mark.parametrize("stack", STACKS)
def test_network_policies_allow_only_the_next_tier_up(stack: str) -> None:
    policies = {p.inputs["metadata"]["name"]: p.inputs["spec"] for p in k8s(stack, "NetworkPolicy")}
    assert policies["default-deny-ingress"] == {
        "podSelector": {"matchLabels": {}},
        "policyTypes": ["Ingress"],
        "ingress": [],
    }

    sources = partial(policy_sources, policies)
    target = partial(policy_target, policies)

    assert (target("database-allow-backend"), sources("database-allow-backend")) == ("database", ["backend"])
    assert (target("backend-allow-frontend"), sources("backend-allow-frontend")) == ("backend", ["frontend"])
    assert policies["database-allow-backend"]["ingress"][0]["ports"] == [{"protocol": "TCP", "port": 5432}]
    assert target("frontend-allow-clients") == "frontend"
    assert "from" not in policies["frontend-allow-clients"]["ingress"][0]


@pytest.mark.parametrize("stack", STACKS)
def test_a_disruption_budget_exists_exactly_where_replicas_exceed_one(stack: str) -> None:
    budgets = {p.inputs["metadata"]["name"]: p.inputs["spec"] for p in k8s(stack, "PodDisruptionBudget")}
    expected = {tier for tier in TIERS if tier_setting(stack, tier, "replicas", 1) > 1}
    assert set(budgets) == expected
    for tier, spec in budgets.items():
        assert spec["selector"]["matchLabels"] == one(stack, "Service", tier).inputs["spec"]["selector"]
        assert spec["maxUnavailable"] == 1


@pytest.mark.parametrize("stack", STACKS)
def test_every_child_is_parented_to_its_component(stack: str) -> None:
    evaluation = evaluated(stack)
    by_urn = {r.urn: r for r in evaluation.resources}
    for resource in evaluation.kubernetes_objects():
        assert by_urn[resource.parent].type.startswith("threetier:components:"), resource.urn
    for kind in ("Service", "Deployment"):
        for resource in k8s(stack, kind):
            assert by_urn[resource.parent].type == "threetier:components:Tier"


@pytest.mark.parametrize("stack", STACKS)
def test_the_env_vars_the_app_reserves_are_exactly_the_ones_it_sets(stack: str) -> None:
    """components.args.APP_ENV (what a stack's own env may not set) names what the program writes."""

    for tier in TIERS:
        own = set(tier_setting(stack, tier, "env", {}))
        assert set(env_of(stack, tier)) - own == set(APP_ENV[tier]), tier
