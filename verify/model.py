"""What the verifier reads (stack outputs) and what it reports (check results)."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Optional


class Status(enum.StrEnum):
    """Outcome of one check. SKIPPED always carries the reason; it never counts as passed."""

    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class CheckResult:
    """One check of one tier: e.g. (frontend, dns.resolve, passed, "10.96.0.2")."""

    tier: str
    check: str
    status: Status
    detail: str

    def as_dict(self) -> dict[str, str]:
        """JSON form for ``--json``."""
        return {"tier": self.tier, "check": self.check, "status": self.status.value, "detail": self.detail}


@dataclass(frozen=True)
class TierExport:
    """One tier as the stack exported it (the map with ``serviceName``, ``dnsNames``, ``urls``...)."""

    key: str
    service_name: str
    namespace: str
    service_type: str
    cluster_ip: Optional[str]
    port: int
    target_port: Optional[int]
    node_port: Optional[int]
    load_balancer_ingress: Optional[str]
    replicas: Optional[int]
    selector: dict[str, str]
    dns_names: dict[str, str]
    urls: dict[str, Optional[str]]
    deployment_name: Optional[str] = None
    #: Env var -> {"service": name, "fqdn": name} for the tiers this one calls.
    wiring: dict[str, dict[str, str]] = field(default_factory=dict)

    @classmethod
    def from_output(cls, key: str, value: Mapping[str, Any]) -> TierExport:
        """Read one exported tier map (keys in camelCase, as Pulumi exports them)."""

        def optional_int(name: str) -> Optional[int]:
            item = value.get(name)
            return int(item) if item is not None else None

        return cls(
            key=key,
            service_name=str(value["serviceName"]),
            namespace=str(value["namespace"]),
            service_type=str(value["serviceType"]),
            cluster_ip=value.get("clusterIP"),
            port=int(value["port"]),
            target_port=optional_int("targetPort"),
            node_port=optional_int("nodePort"),
            load_balancer_ingress=value.get("loadBalancerIngress"),
            replicas=optional_int("replicas"),
            selector=dict(value.get("selector") or {}),
            dns_names=dict(value.get("dnsNames") or {}),
            urls=dict(value.get("urls") or {}),
            deployment_name=value.get("deploymentName"),
            wiring={env: dict(target) for env, target in (value.get("wiring") or {}).items()},
        )


@dataclass(frozen=True)
class StackOutputs:
    """A stack's outputs: the tiers it exported and the cluster DNS domain."""

    stack: str
    tiers: dict[str, TierExport]
    cluster_domain: str = "cluster.local"

    @classmethod
    def from_json(cls, stack: str, outputs: Mapping[str, Any]) -> StackOutputs:
        """Every output that is a tier map (has ``serviceName`` and ``dnsNames``) becomes a tier."""
        tiers = {
            key: TierExport.from_output(key, value)
            for key, value in outputs.items()
            if isinstance(value, Mapping) and "serviceName" in value and "dnsNames" in value
        }
        if not tiers:
            raise ValueError(f"stack {stack}: no tier outputs found (maps with serviceName and dnsNames)")
        return cls(stack=stack, tiers=tiers, cluster_domain=str(outputs.get("clusterDomain") or "cluster.local"))

    def tier_by_service(self, namespace: str, service: str) -> Optional[TierExport]:
        """The exported tier whose Service is ``namespace/service``."""
        for tier in self.tiers.values():
            if (tier.namespace, tier.service_name) == (namespace, service):
                return tier
        return None

    def clients_of(self, tier: TierExport) -> list[tuple[TierExport, str]]:
        """The tiers wired to ``tier`` (they call it by DNS name), with the env var that carries it."""
        return [
            (client, env)
            for client in self.tiers.values()
            for env, target in sorted(client.wiring.items())
            if client.namespace == tier.namespace and target.get("service") == tier.service_name
        ]
