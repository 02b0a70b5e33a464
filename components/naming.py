"""Names every other module agrees on: recommended labels, selectors and cluster DNS names.

Computed once here so the Deployment, its Service, the NetworkPolicies, the
PodDisruptionBudgets and the exported outputs can never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

MANAGED_BY = "pulumi"

#: Labels that select a tier's pods. A subset of :func:`recommended_labels`, so the
#: selector always matches the pod template, and stable across updates (a Deployment's
#: selector is immutable).
SELECTOR_KEYS = (
    "app.kubernetes.io/name",
    "app.kubernetes.io/instance",
    "app.kubernetes.io/component",
)


def recommended_labels(*, name: str, instance: str, component: str, part_of: str) -> dict[str, str]:
    """The Kubernetes recommended ``app.kubernetes.io/*`` labels for one tier."""
    return {
        "app.kubernetes.io/name": name,
        "app.kubernetes.io/instance": instance,
        "app.kubernetes.io/component": component,
        "app.kubernetes.io/part-of": part_of,
        "app.kubernetes.io/managed-by": MANAGED_BY,
    }


def selector_labels(labels: dict[str, str]) -> dict[str, str]:
    """The part of ``labels`` a Service or Deployment selects on."""
    return {key: labels[key] for key in SELECTOR_KEYS}


@dataclass(frozen=True)
class DnsNames:
    """The four names under which cluster DNS answers for a Service.

    A pod in the same namespace can use ``short``; from another namespace ``namespaced``;
    ``fqdn`` works from anywhere in the cluster and does not depend on the resolver's
    search path.
    """

    short: str
    namespaced: str
    svc: str
    fqdn: str

    def as_dict(self) -> dict[str, str]:
        """The names as an output map (``short``, ``namespaced``, ``svc``, ``fqdn``)."""
        return {"short": self.short, "namespaced": self.namespaced, "svc": self.svc, "fqdn": self.fqdn}


def service_dns_names(service: str, namespace: str, cluster_domain: str = "cluster.local") -> DnsNames:
    """DNS names of Service ``service`` in ``namespace`` (``svc``, ``svc.ns``, ``svc.ns.svc``, FQDN)."""
    return DnsNames(
        short=service,
        namespaced=f"{service}.{namespace}",
        svc=f"{service}.{namespace}.svc",
        fqdn=f"{service}.{namespace}.svc.{cluster_domain}",
    )
