"""One policy pack process for the whole session; each test configures and analyzes afresh."""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from policy.gate import GateProvider, GateReport, GateResource, PolicyPackServer
from policy.gate.config import load_config_file

CONFIG_DIR = Path(__file__).resolve().parents[2] / "policy" / "config"
NS = "shop"


@pytest.fixture(scope="session")
def pack() -> Iterator[PolicyPackServer]:
    with PolicyPackServer() as server:
        yield server


def stack_config(stack: str) -> dict[str, Any]:
    return load_config_file(CONFIG_DIR / f"{stack}.json")


def labels(tier: str) -> dict[str, str]:
    return {
        "app.kubernetes.io/name": tier,
        "app.kubernetes.io/instance": NS,
        "app.kubernetes.io/component": tier,
        "app.kubernetes.io/part-of": "shop",
        "app.kubernetes.io/managed-by": "pulumi",
    }


def selector(tier: str) -> dict[str, str]:
    return {k: v for k, v in labels(tier).items() if k.rsplit("/", 1)[1] in ("name", "instance", "component")}


def deployment(tier: str, replicas: int = 2, port: int = 8080) -> dict[str, Any]:
    """A Deployment that every resource policy accepts (camelCase, as the provider sees it)."""
    probe = {"httpGet": {"path": "/healthz", "port": port}}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": tier, "namespace": NS, "labels": labels(tier)},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": selector(tier)},
            "template": {
                "metadata": {"labels": labels(tier)},
                "spec": {
                    "topologySpreadConstraints": [
                        {
                            "topologyKey": "kubernetes.io/hostname",
                            "maxSkew": 1,
                            "whenUnsatisfiable": "ScheduleAnyway",
                            "labelSelector": {"matchLabels": selector(tier)},
                        }
                    ],
                    "securityContext": {
                        "runAsNonRoot": True,
                        "runAsUser": 10001,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "containers": [
                        {
                            "name": tier,
                            "image": f"registry.example/{tier}:1.2.3",
                            "ports": [{"name": "main", "containerPort": port}],
                            "env": [{"name": "LOG_LEVEL", "value": "info"}],
                            "resources": {
                                "requests": {"cpu": "50m", "memory": "64Mi"},
                                "limits": {"cpu": "500m", "memory": "256Mi"},
                            },
                            "readinessProbe": probe,
                            "livenessProbe": probe,
                            "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
                        }
                    ],
                },
            },
        },
    }


def service(
    tier: str, service_type: str = "ClusterIP", port: int = 80, target: Any = 8080, node_port: int | None = None
) -> dict[str, Any]:
    service_port: dict[str, Any] = {"port": port, "targetPort": target}
    if node_port is not None:
        service_port["nodePort"] = node_port
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": tier, "namespace": NS, "labels": labels(tier)},
        "spec": {"type": service_type, "selector": selector(tier), "ports": [service_port]},
    }


def pdb(tier: str) -> dict[str, Any]:
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": tier, "namespace": NS},
        "spec": {"maxUnavailable": 1, "selector": {"matchLabels": selector(tier)}},
    }


TYPES = {
    "Deployment": "kubernetes:apps/v1:Deployment",
    "Service": "kubernetes:core/v1:Service",
    "PodDisruptionBudget": "kubernetes:policy/v1:PodDisruptionBudget",
    "Namespace": "kubernetes:core/v1:Namespace",
    "ResourceQuota": "kubernetes:core/v1:ResourceQuota",
    "LimitRange": "kubernetes:core/v1:LimitRange",
    "ClusterRole": "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole",
    "ClusterRoleBinding": "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding",
    "Role": "kubernetes:rbac.authorization.k8s.io/v1:Role",
}
#: The explicit provider app objects are registered with (the environment's deployer).
DEPLOYER = GateProvider(
    type="pulumi:providers:kubernetes",
    urn="urn:pulumi:test::shop::pulumi:providers:kubernetes::deployer",
    name="deployer",
)
#: The engine's default Kubernetes provider (the credentials of whoever runs pulumi up).
DEFAULT_PROVIDER = GateProvider(
    type="pulumi:providers:kubernetes",
    urn="urn:pulumi:test::shop::pulumi:providers:kubernetes::default_4_32_0",
    name="default_4_32_0",
)


def as_resource(
    obj: Mapping[str, Any], name: str | None = None, provider: GateProvider | None = DEPLOYER
) -> GateResource:
    typ = TYPES[obj["kind"]]
    name = name or f"{obj['metadata']['name']}-{obj['kind'].lower()}"
    return GateResource(
        type=typ,
        urn=f"urn:pulumi:test::shop::{typ}::{name}",
        name=name,
        props=copy.deepcopy(dict(obj)),
        provider=provider,
    )


def compliant_app() -> list[dict[str, Any]]:
    """Frontend, backend and database that pass every policy in every stack config."""
    objects: list[dict[str, Any]] = []
    for tier, port in (("frontend", 8080), ("backend", 8080), ("database", 5432)):
        objects += [deployment(tier, replicas=1 if tier == "database" else 2, port=port), service(tier, target=port)]
    objects += [pdb("frontend"), pdb("backend")]
    return objects


def analyze(
    pack: PolicyPackServer, objects: list[dict[str, Any]], config: Mapping[str, Any] | str = "prod"
) -> GateReport:
    file_config = stack_config(config) if isinstance(config, str) else config
    return pack.analyze([as_resource(obj) for obj in objects], file_config)


def find(objects: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    return next(o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name)
