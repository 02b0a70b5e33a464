"""The Kubernetes providers the stacks deploy through."""

from __future__ import annotations

from typing import Optional

import pulumi
import pulumi_kubernetes as k8s

from .platform_reference import Environment


def kubernetes_provider(name: str, kubeconfig: str = "", context: str = "") -> Optional[k8s.Provider]:
    """An explicit provider for a kubeconfig path and/or context, or None for the default one.

    With neither set, resources use the default provider, which reads ``$KUBECONFIG`` (``make up``
    points it at the local cluster). The platform stack deploys this way, with admin credentials.
    """
    if not kubeconfig and not context:
        return None
    return k8s.Provider(name, kubeconfig=kubeconfig or None, context=context or None)


def deployer_provider(name: str, environment: Environment) -> k8s.Provider:
    """The provider of an app stack: the environment's deployer, its kubeconfig (a secret) and namespace.

    Nothing in the app stack runs with other credentials: every Kubernetes object is created
    through this provider (policy ``explicit-provider``), and the API server refuses whatever the
    deployer's Role does not allow.
    """
    return k8s.Provider(
        name,
        kubeconfig=environment.kubeconfig,
        namespace=environment.namespace,
        opts=pulumi.ResourceOptions(additional_secret_outputs=["kubeconfig"]),
    )
