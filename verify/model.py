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


#: In an exported ingress rule, the source that stands for any pod, in any namespace.
ANY_SOURCE = "*"


@dataclass(frozen=True)
class IngressRule:
    """One allowed edge: pods of tier ``source`` (or any pod: ``*``) may open ``port`` of ``target``."""

    source: str
    target: str
    port: int


@dataclass(frozen=True)
class NetworkIsolation:
    """The isolation a stack declares: its NetworkPolicies and the edges they allow (all else is denied)."""

    namespace: str
    policies: tuple[str, ...]
    allowed: tuple[IngressRule, ...]

    @classmethod
    def from_output(cls, value: Mapping[str, Any]) -> NetworkIsolation:
        """Read the ``networkPolicies`` output (``namespace``, ``policies``, ``allowedIngress``)."""
        return cls(
            namespace=str(value["namespace"]),
            policies=tuple(str(name) for name in value.get("policies") or []),
            allowed=tuple(
                IngressRule(str(rule["from"]), str(rule["to"]), int(rule["port"]))
                for rule in value.get("allowedIngress") or []
            ),
        )

    def allows(self, source: str, target: str) -> bool:
        """True when pods of ``source`` (a tier key, or a pod outside the stack) may reach ``target``."""
        return any(rule.target == target and rule.source in (source, ANY_SOURCE) for rule in self.allowed)


@dataclass(frozen=True)
class StackOutputs:
    """A stack's outputs: the tiers it exported, the cluster DNS domain, the declared isolation."""

    stack: str
    tiers: dict[str, TierExport]
    cluster_domain: str = "cluster.local"
    isolation: Optional[NetworkIsolation] = None
    #: The platform stack whose deployer deployed this one (``platformStack``), if any.
    platform_stack: Optional[str] = None

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
        policies = outputs.get("networkPolicies")
        return cls(
            stack=stack,
            tiers=tiers,
            cluster_domain=str(outputs.get("clusterDomain") or "cluster.local"),
            isolation=NetworkIsolation.from_output(policies) if isinstance(policies, Mapping) else None,
            platform_stack=str(outputs["platformStack"]) if outputs.get("platformStack") else None,
        )

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
