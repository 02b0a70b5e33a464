"""A recorded dev deployment: stack outputs and the API objects a kwok cluster returned for them.

Shapes follow ``kubectl get -o json`` of Kubernetes 1.36 (Service, Deployment,
EndpointSlice, Pod, Node); only the fields the verifier reads are kept.
"""

from __future__ import annotations

import copy
from typing import Any

NS = "threetier-dev"
TIERS = {
    # key: (port, targetPort, type, nodePort, clusterIP, replicas, wiring)
    "frontend": (80, 8080, "NodePort", 30080, "10.96.12.7", 1, {"BACKEND_HOST": "backend"}),
    "backend": (8080, 8080, "ClusterIP", None, "10.96.200.41", 1, {"DB_HOST": "database"}),
    "database": (5432, 5432, "ClusterIP", None, "10.96.77.3", 1, {}),
}


def fqdn(name: str) -> str:
    return f"{name}.{NS}.svc.cluster.local"


def selector(name: str) -> dict[str, str]:
    return {"app.kubernetes.io/name": name, "app.kubernetes.io/instance": NS, "app.kubernetes.io/component": name}


def stack_outputs() -> dict[str, Any]:
    outputs: dict[str, Any] = {"namespace": NS, "clusterDomain": "cluster.local", "databaseUrl": "[secret]"}
    for name, (port, target, kind, node_port, ip, replicas, wiring) in TIERS.items():
        scheme = "postgres" if name == "database" else "http"
        outputs[name] = {
            "serviceName": name,
            "deploymentName": name,
            "namespace": NS,
            "serviceType": kind,
            "clusterIP": ip,
            "port": port,
            "targetPort": target,
            "nodePort": node_port,
            "loadBalancerIngress": None,
            "replicas": replicas,
            "selector": selector(name),
            "dnsNames": {"short": name, "namespaced": f"{name}.{NS}", "svc": f"{name}.{NS}.svc", "fqdn": fqdn(name)},
            "urls": {
                "inCluster": f"{scheme}://{fqdn(name)}:{port}",
                "nodePort": f"http://<nodeIP>:{node_port}" if node_port else None,
                "loadBalancer": None,
            },
            "wiring": {env: {"service": target_tier, "fqdn": fqdn(target_tier)} for env, target_tier in wiring.items()},
        }
    return outputs


def recording() -> dict[str, Any]:
    services, deployments, slices, pods = [], [], [], []
    for name, (port, target, kind, node_port, ip, replicas, wiring) in TIERS.items():
        service_port: dict[str, Any] = {"name": "main", "port": port, "protocol": "TCP", "targetPort": target}
        if node_port:
            service_port["nodePort"] = node_port
        services.append(
            {
                "metadata": {"name": name, "namespace": NS},
                "spec": {
                    "type": kind,
                    "clusterIP": ip,
                    "clusterIPs": [ip],
                    "ports": [service_port],
                    "selector": selector(name),
                },
                "status": {"loadBalancer": {}},
            }
        )
        deployments.append(
            {
                "metadata": {"name": name, "namespace": NS},
                "spec": {"replicas": replicas},
                "status": {"availableReplicas": replicas, "conditions": [{"type": "Available", "status": "True"}]},
            }
        )
        pod_names = [f"{name}-6d4cf56db6-{index:05d}" for index in range(replicas)]
        slices.append(
            {
                "metadata": {
                    "name": f"{name}-x7k2p",
                    "namespace": NS,
                    "labels": {"kubernetes.io/service-name": name},
                },
                "endpoints": [
                    {
                        "addresses": [f"10.244.0.{10 + index}"],
                        "conditions": {"ready": True, "serving": True, "terminating": False},
                        "targetRef": {"kind": "Pod", "name": pod, "namespace": NS},
                    }
                    for index, pod in enumerate(pod_names)
                ],
            }
        )
        env = [{"name": env_name, "value": fqdn(target_tier)} for env_name, target_tier in wiring.items()]
        for pod in pod_names:
            pods.append(
                {
                    "metadata": {
                        "name": pod,
                        "namespace": NS,
                        "labels": {**selector(name), "pod-template-hash": "6d4cf56db6"},
                    },
                    "spec": {"containers": [{"name": name, "env": env}], "nodeName": "kwok-node-0"},
                    "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]},
                }
            )
    nodes = [
        {
            "metadata": {"name": f"kwok-node-{index}", "annotations": {"kwok.x-k8s.io/node": "fake"}},
            "status": {"addresses": [{"type": "InternalIP", "address": f"127.0.10.{index + 1}"}]},
        }
        for index in range(2)
    ]
    return copy.deepcopy(
        {"services": services, "deployments": deployments, "endpointSlices": slices, "pods": pods, "nodes": nodes}
    )
