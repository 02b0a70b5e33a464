"""Reading Kubernetes objects as the provider hands them to policies (camelCase props)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Optional

TIER_LABEL = "app.kubernetes.io/component"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
SERVICE = "kubernetes:core/v1:Service"
PDB = "kubernetes:policy/v1:PodDisruptionBudget"

#: Resource types that carry a pod template, and where it sits.
_POD_TEMPLATE_PATHS: dict[str, tuple[str, ...]] = {
    "kubernetes:core/v1:Pod": ("spec",),
    DEPLOYMENT: ("spec", "template", "spec"),
    "kubernetes:apps/v1:StatefulSet": ("spec", "template", "spec"),
    "kubernetes:apps/v1:DaemonSet": ("spec", "template", "spec"),
    "kubernetes:apps/v1:ReplicaSet": ("spec", "template", "spec"),
    "kubernetes:batch/v1:Job": ("spec", "template", "spec"),
    "kubernetes:batch/v1:CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}
_POD_LABEL_PATHS: dict[str, tuple[str, ...]] = {
    "kubernetes:core/v1:Pod": ("metadata", "labels"),
    "kubernetes:batch/v1:CronJob": ("spec", "jobTemplate", "spec", "template", "metadata", "labels"),
}


def dig(obj: Any, *path: str) -> Any:
    """``obj[path[0]][path[1]]...``, or None where a step is missing."""
    for key in path:
        if not isinstance(obj, Mapping):
            return None
        obj = obj.get(key)
    return obj


def kind_of(resource_type: str) -> str:
    """``kubernetes:apps/v1:Deployment`` -> ``Deployment``."""
    return resource_type.rsplit(":", 1)[-1]


def describe(resource_type: str, props: Mapping[str, Any]) -> str:
    """``Deployment threetier-dev/frontend``: how messages name an object."""
    name = dig(props, "metadata", "name") or "<unnamed>"
    namespace = dig(props, "metadata", "namespace")
    return f"{kind_of(resource_type)} {namespace}/{name}" if namespace else f"{kind_of(resource_type)} {name}"


def pod_spec(resource_type: str, props: Mapping[str, Any]) -> Optional[Mapping[str, Any]]:
    """The pod spec of a workload (Pod, Deployment, StatefulSet, ...), or None for other kinds."""
    path = _POD_TEMPLATE_PATHS.get(resource_type)
    spec = dig(props, *path) if path else None
    return spec if isinstance(spec, Mapping) else None


def pod_labels(resource_type: str, props: Mapping[str, Any]) -> Mapping[str, str]:
    """The labels of the pods a workload creates."""
    path = _POD_LABEL_PATHS.get(resource_type, ("spec", "template", "metadata", "labels"))
    labels = dig(props, *path)
    return labels if isinstance(labels, Mapping) else {}


def containers(spec: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    """Init containers and containers of a pod spec."""
    for key in ("initContainers", "containers"):
        for container in spec.get(key) or []:
            if isinstance(container, Mapping):
                yield container


def tier_of(labels: Mapping[str, Any]) -> Optional[str]:
    """The ``app.kubernetes.io/component`` of an object's (or pod's) labels."""
    tier = labels.get(TIER_LABEL) if isinstance(labels, Mapping) else None
    return str(tier) if tier is not None else None
