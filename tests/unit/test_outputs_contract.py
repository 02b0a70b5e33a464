"""Contract: what the program exports is what the verifier reads.

The program's real outputs (``evaluate_stack().outputs``) go through the verifier's own
``StackOutputs.from_json``. A renamed key in ``Tier.outputs`` would otherwise degrade
verification silently: an empty ``selector`` selects every pod, a missing ``deploymentName``
falls back to the Service's name, a missing ``targetPort`` skips that comparison.
"""

from __future__ import annotations

from typing import Any

import pytest

from offline import Evaluation
from verify import StackOutputs, Status, TierExport, VerifyOptions, verify
from verify.access import Access
from verify.cluster import RecordedCluster
from verify.model import IngressRule, NetworkIsolation

from .evaluated_stacks import TIERS, evaluated, evaluated_platform, k8s, one
from .stack_files import STACKS, environment_namespace

SCHEMES = {"frontend": "http", "backend": "http", "database": "postgres"}
#: Who calls whom, by which env var (README: "Wiring env vars set by the app").
WIRING = {"frontend": {"BACKEND_HOST": "backend"}, "backend": {"DB_HOST": "database"}, "database": {}}


#: The edges the NetworkPolicies allow (any client to the frontend, the frontend to the backend,
#: the backend to the database), to the ports the images listen on.
ALLOWED_INGRESS = (
    IngressRule(source="*", target="frontend", port=8080),
    IngressRule(source="frontend", target="backend", port=8080),
    IngressRule(source="backend", target="database", port=5432),
)


def read_back(stack: str) -> StackOutputs:
    return StackOutputs.from_json(stack, evaluated(stack).outputs)


@pytest.mark.parametrize("stack", STACKS)
def test_the_verifier_reads_every_exported_tier_with_all_its_fields(stack: str) -> None:
    outputs = read_back(stack)
    namespace = environment_namespace(stack)
    assert set(outputs.tiers) == set(TIERS)
    assert outputs.cluster_domain == "cluster.local"
    for key, tier in outputs.tiers.items():
        fqdn = f"{key}.{namespace}.svc.cluster.local"
        assert (tier.key, tier.service_name, tier.deployment_name, tier.namespace) == (key, key, key, namespace)
        assert tier.selector == {
            "app.kubernetes.io/name": key,
            "app.kubernetes.io/instance": namespace,
            "app.kubernetes.io/component": key,
        }
        assert tier.dns_names == {
            "short": key,
            "namespaced": f"{key}.{namespace}",
            "svc": f"{key}.{namespace}.svc",
            "fqdn": fqdn,
        }
        assert tier.urls["inCluster"] == f"{SCHEMES[key]}://{fqdn}:{tier.port}"
        assert tier.wiring == {
            env: {"service": callee, "fqdn": f"{callee}.{namespace}.svc.cluster.local"}
            for env, callee in WIRING[key].items()
        }


@pytest.mark.parametrize("stack", STACKS)
def test_exported_facts_are_those_of_the_objects_the_program_created(stack: str) -> None:
    for key, tier in read_back(stack).tiers.items():
        service = one(stack, "Service", key).state
        deployment = one(stack, "Deployment", key).state
        [port] = service["spec"]["ports"]
        assert service["metadata"]["name"] == tier.service_name
        assert deployment["metadata"]["name"] == tier.deployment_name
        assert service["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"] == tier.selector
        assert tier.selector.items() <= deployment["spec"]["template"]["metadata"]["labels"].items()
        assert (tier.service_type, tier.cluster_ip) == (service["spec"]["type"], service["spec"]["clusterIP"])
        assert (tier.port, tier.target_port, tier.node_port) == (port["port"], port["targetPort"], port.get("nodePort"))
        ingress = service.get("status", {}).get("loadBalancer", {}).get("ingress") or [{}]
        assert tier.load_balancer_ingress == ingress[0].get("ip")
        assert tier.replicas == deployment["spec"]["replicas"]


@pytest.mark.parametrize("stack", STACKS)
def test_the_verifier_reads_the_declared_network_isolation(stack: str) -> None:
    isolation = read_back(stack).isolation
    assert isolation is not None, "no networkPolicies output: the isolation checks would silently not run"
    assert isolation.namespace == environment_namespace(stack)
    assert set(isolation.policies) == {p.state["metadata"]["name"] for p in k8s(stack, "NetworkPolicy")}
    assert set(isolation.policies) == {
        "default-deny-ingress",
        "frontend-allow-clients",
        "backend-allow-frontend",
        "database-allow-backend",
    }
    assert set(isolation.allowed) == set(ALLOWED_INGRESS)


class RoleReviewer:
    """Answers access questions as RBAC does for an identity bound to one Role (``rules``) in ``namespace``."""

    identity = "deployer"

    def __init__(self, namespace: str, rules: list[dict[str, Any]]) -> None:
        self.namespace, self.rules = namespace, rules

    def can_i(self, access: Access) -> tuple[bool, str]:
        if access.namespace != self.namespace:  # a Role grants nothing outside its namespace
            return False, ""
        for rule in self.rules:
            if (
                access.verb in rule["verbs"]
                and access.group in rule["apiGroups"]
                and access.resource in rule["resources"]
                and (not rule.get("resourceNames") or access.name in rule["resourceNames"])
            ):
                return True, "RBAC: allowed by the deployer's Role"
        return False, ""


def test_the_platform_stack_named_by_the_outputs_is_read() -> None:
    for stack in STACKS:
        assert read_back(stack).platform_stack == f"organization/threetier-platform/{stack}"


def test_every_field_the_verifier_reads_is_covered_here() -> None:
    # A field added to what the verifier reads, without a test above, would be read unchecked.
    assert set(StackOutputs.__dataclass_fields__) == {"stack", "tiers", "cluster_domain", "isolation", "platform_stack"}
    assert set(NetworkIsolation.__dataclass_fields__) == {"namespace", "policies", "allowed"}
    assert set(TierExport.__dataclass_fields__) == {
        "key",
        "service_name",
        "deployment_name",
        "namespace",
        "service_type",
        "cluster_ip",
        "port",
        "target_port",
        "node_port",
        "load_balancer_ingress",
        "replicas",
        "selector",
        "dns_names",
        "urls",
        "wiring",
    }


def kwok_recording(evaluation: Evaluation) -> dict[str, Any]:
    """The API objects a cluster of two Ready kwok nodes would hold once the program's objects exist.

    Services, Deployments and NetworkPolicies are the emulated API server's; pods come from each
    Deployment's template (all Ready), and EndpointSlices list the pods each Service's selector
    matches, as the endpoint-slice controller would; every Deployment reports its replicas available.
    """
    objects: dict[str, list[dict[str, Any]]] = {}
    for resource in evaluation.kubernetes_objects():
        objects.setdefault(resource.type.rsplit(":", 1)[1], []).append(resource.state)
    pods = [
        {
            "metadata": {
                "name": f"{deployment['metadata']['name']}-{index}",
                "namespace": deployment["metadata"]["namespace"],
                "labels": deployment["spec"]["template"]["metadata"]["labels"],
            },
            "spec": {**deployment["spec"]["template"]["spec"], "nodeName": f"kwok-node-{index % 2}"},
            "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]},
        }
        for deployment in objects["Deployment"]
        for index in range(int(deployment["spec"]["replicas"]))
    ]
    slices = [
        {
            "metadata": {
                "name": f"{service['metadata']['name']}-abcde",
                "namespace": service["metadata"]["namespace"],
                "labels": {"kubernetes.io/service-name": service["metadata"]["name"]},
            },
            "endpoints": [
                {
                    "addresses": [f"10.244.0.{index + 10}"],
                    "conditions": {"ready": True},
                    "targetRef": {"kind": "Pod", **{key: pod["metadata"][key] for key in ("name", "namespace")}},
                }
                for index, pod in enumerate(pods)
                if pod["metadata"]["namespace"] == service["metadata"]["namespace"]
                and service["spec"]["selector"].items() <= pod["metadata"]["labels"].items()
            ],
        }
        for service in objects["Service"]
    ]
    nodes = [
        {
            "metadata": {"name": f"kwok-node-{index}", "annotations": {"kwok.x-k8s.io/node": "fake"}},
            "status": {
                "addresses": [{"type": "InternalIP", "address": f"127.0.10.{index + 1}"}],
                "conditions": [{"type": "Ready", "status": "True"}],
            },
        }
        for index in range(2)
    ]
    return {
        "services": objects["Service"],
        # Every replica available, as the deployment controller reports once the pods are Ready.
        "deployments": [
            {
                **deployment,
                "status": {
                    "availableReplicas": int(deployment["spec"]["replicas"]),
                    "conditions": [{"type": "Available", "status": "True"}],
                },
            }
            for deployment in objects["Deployment"]
        ],
        "endpointSlices": slices,
        "pods": pods,
        "nodes": nodes,
        "networkPolicies": objects["NetworkPolicy"],
    }


@pytest.mark.parametrize("stack", STACKS)
def test_the_verifier_passes_the_program_own_deployment(stack: str) -> None:
    [role] = [r for r in evaluated_platform(stack).kubernetes_objects() if r.type.endswith(":Role")]
    deployer = RoleReviewer(role.inputs["metadata"]["namespace"], role.inputs["rules"])
    results = verify(
        read_back(stack),
        RecordedCluster(kwok_recording(evaluated(stack))),
        VerifyOptions(settle_timeout=0.2),
        deployer=deployer,
    )
    assert [(r.tier, r.check, r.detail) for r in results if r.status is Status.FAILED] == []
    passed = {(r.tier, r.check) for r in results if r.status is Status.PASSED}
    for tier in TIERS:
        assert {(tier, "objects.targetPort"), (tier, "endpoints.replicas"), (tier, "endpoints.ready")} <= passed
    assert {("frontend", "discovery.env"), ("backend", "discovery.env")} <= passed
    assert ("*", "isolation.policies") in passed
    # The pod template's tolerations and nodeSelector let every replica of a tier use both nodes.
    spread = {(tier, "placement.spread") for tier in TIERS if (read_back(stack).tiers[tier].replicas or 0) > 1}
    assert spread <= passed
    assert len(spread) == (0 if stack == "dev" else 2)
    # The platform's Role, authorized as RBAC does, gives the deployer exactly what the access checks want.
    assert {check for tier, check in passed if check.startswith("access.")} >= {
        f"access.allowed[create apps/deployments in {read_back(stack).tiers['frontend'].namespace}]",
        "access.denied[get secrets in kube-system]",
        "access.denied[create rbac.authorization.k8s.io/clusterroles cluster-wide]",
    }
    # Only traffic is unobservable on a kwok node; each such check says why.
    assert {r.check.split("[")[0] for r in results if r.status is Status.SKIPPED} <= {
        "isolation",
        "dns.resolve",
        "discovery.serviceEnv",
        "reach.inCluster",
        "reach.nodePort",
        "reach.loadBalancer",
    }
