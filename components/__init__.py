"""Reusable Pulumi components for a three-tier application on Kubernetes.

Public API::

    from components import Tier, TierArgs, ThreeTierApp, ThreeTierAppArgs

- :class:`Tier`: a Deployment and its Service (ClusterIP, NodePort or LoadBalancer).
- :class:`ThreeTierApp`: namespace, database secret, three tiers wired by DNS,
  NetworkPolicies and PodDisruptionBudgets; standalone (it creates its namespace) or in an
  :class:`ExistingNamespace` through an explicit provider (platform mode).
- :class:`EnvironmentBase`: what a platform stack creates per environment: the namespace, its
  ResourceQuota and LimitRange, a deployer scoped to it and that deployer's kubeconfig (a secret).
- :func:`parse_settings` / :func:`read_settings`: stack config -> validated arguments.
- :class:`ConfigError`: raised for bad input before any resource is registered.
"""

import pulumi_kubernetes as _k8s

from .app import PASSWORD_SECRET_KEY, PASSWORD_SECRET_NAME, ExistingNamespace, ThreeTierApp
from .args import ResourceSpec, SecretFile, ServiceType, ThreeTierAppArgs, TierArgs
from .config import StackSettings, parse_settings, read_settings
from .environment import EnvironmentArgs, EnvironmentBase
from .errors import ConfigError, Problem
from .naming import DnsNames, recommended_labels, selector_labels, service_dns_names
from .platform_reference import Environment, read_environment
from .provider import deployer_provider, kubernetes_provider
from .quota import ContainerLimits, EnvironmentQuota, fit_problems
from .scheduling import Scheduling, Toleration
from .tier import Tier

# pulumi_kubernetes loads its API modules lazily (importlib.util.LazyLoader), which Python 3.11 does
# not make thread-safe: two inline programs started side by side in one process (the integration
# session deploys stacks from threads) saw "module 'pulumi_kubernetes.core.v1' has no attribute
# 'Namespace'". The modules the components use are loaded here, once, at import.
_LOADED = (
    _k8s.meta.v1.ObjectMetaArgs,  # seen missing in one of two inline programs started at once
    _k8s.core.v1.Namespace,
    _k8s.apps.v1.Deployment,
    _k8s.networking.v1.NetworkPolicy,
    _k8s.policy.v1.PodDisruptionBudget,
    _k8s.rbac.v1.Role,
)

__all__ = [
    "PASSWORD_SECRET_KEY",
    "PASSWORD_SECRET_NAME",
    "ConfigError",
    "ContainerLimits",
    "DnsNames",
    "Environment",
    "EnvironmentArgs",
    "EnvironmentBase",
    "EnvironmentQuota",
    "ExistingNamespace",
    "Problem",
    "ResourceSpec",
    "Scheduling",
    "SecretFile",
    "ServiceType",
    "StackSettings",
    "ThreeTierApp",
    "ThreeTierAppArgs",
    "Tier",
    "TierArgs",
    "Toleration",
    "deployer_provider",
    "fit_problems",
    "kubernetes_provider",
    "parse_settings",
    "read_environment",
    "read_settings",
    "recommended_labels",
    "selector_labels",
    "service_dns_names",
]
