"""Reusable Pulumi components for a three-tier application on Kubernetes.

Public API::

    from components import Tier, TierArgs, ThreeTierApp, ThreeTierAppArgs

- :class:`Tier`: a Deployment and its Service (ClusterIP, NodePort or LoadBalancer).
- :class:`ThreeTierApp`: namespace, database secret, three tiers wired by DNS,
  NetworkPolicies and PodDisruptionBudgets.
- :func:`parse_settings` / :func:`read_settings`: stack config -> validated arguments.
- :class:`ConfigError`: raised for bad input before any resource is registered.
"""

from .app import PASSWORD_SECRET_KEY, PASSWORD_SECRET_NAME, ThreeTierApp
from .args import ResourceSpec, SecretFile, ServiceType, ThreeTierAppArgs, TierArgs
from .config import StackSettings, parse_settings, read_settings
from .errors import ConfigError, Problem
from .naming import DnsNames, recommended_labels, selector_labels, service_dns_names
from .provider import kubernetes_provider
from .scheduling import Scheduling, Toleration
from .tier import Tier

__all__ = [
    "PASSWORD_SECRET_KEY",
    "PASSWORD_SECRET_NAME",
    "ConfigError",
    "DnsNames",
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
    "kubernetes_provider",
    "parse_settings",
    "read_settings",
    "recommended_labels",
    "selector_labels",
    "service_dns_names",
]
