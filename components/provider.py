"""The Kubernetes provider a stack deploys through."""

from __future__ import annotations

from typing import Optional

import pulumi_kubernetes as k8s

from .config import StackSettings


def kubernetes_provider(name: str, settings: StackSettings) -> Optional[k8s.Provider]:
    """An explicit provider for the configured kubeconfig/context, or None for the default one.

    With neither ``kubeconfig`` nor ``kubeContext`` set, resources use the default provider,
    which reads ``$KUBECONFIG`` (``make up`` points it at the local cluster).
    """
    if not settings.kubeconfig and not settings.kube_context:
        return None
    return k8s.Provider(
        name,
        kubeconfig=settings.kubeconfig or None,
        context=settings.kube_context or None,
    )
