"""1. Objects: the exported Service facts equal the live Service."""

from __future__ import annotations

from typing import Any, Optional

from ..context import NODE_PORT_RANGE, CheckContext, first_port, result
from ..model import CheckResult, TierExport
from ..retry import eventually


def check_objects(ctx: CheckContext, tier: TierExport) -> list[CheckResult]:
    """Name, namespace, type, cluster IP, ports, node port (in range) and LB ingress."""
    service = ctx.cluster.service(tier.namespace, tier.service_name)
    if service is None:
        return [result(tier, "objects.service", False, f"Service {tier.namespace}/{tier.service_name} does not exist")]
    spec = service.get("spec") or {}
    port = first_port(service)
    results = [
        result(tier, "objects.service", True, f"Service {tier.namespace}/{tier.service_name} exists"),
        _equal(tier, "objects.type", "type", tier.service_type, spec.get("type")),
        _equal(tier, "objects.clusterIP", "clusterIP", tier.cluster_ip, spec.get("clusterIP")),
        _equal(tier, "objects.port", "port", tier.port, port.get("port")),
    ]
    if tier.target_port is not None:
        results.append(_equal(tier, "objects.targetPort", "targetPort", tier.target_port, port.get("targetPort")))
    results.append(_equal(tier, "objects.nodePort", "nodePort", tier.node_port, port.get("nodePort")))
    if tier.node_port is not None:
        low, high = NODE_PORT_RANGE
        results.append(
            result(
                tier,
                "objects.nodePortRange",
                low <= tier.node_port <= high,
                f"nodePort {tier.node_port} in {low}-{high}",
            )
        )
    if tier.service_type == "LoadBalancer":
        results.append(_load_balancer(ctx, tier))
    return results


def _load_balancer(ctx: CheckContext, tier: TierExport) -> CheckResult:
    def probe() -> tuple[bool, Optional[str]]:
        service = ctx.cluster.service(tier.namespace, tier.service_name) or {}
        ingress = ((service.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
        address = (ingress[0].get("ip") or ingress[0].get("hostname")) if ingress else None
        return address is not None, address

    found, address = eventually(probe, timeout=ctx.settle_timeout)
    if not found:
        return result(
            tier, "objects.loadBalancer", False, f"no status.loadBalancer.ingress after {ctx.settle_timeout:.0f}s"
        )
    return _equal(tier, "objects.loadBalancer", "load-balancer ingress", tier.load_balancer_ingress, address)


def _equal(tier: TierExport, check: str, what: str, exported: Any, live: Any) -> CheckResult:
    if exported == live:
        return result(tier, check, True, f"{what} {live}")
    return result(tier, check, False, f"{what}: exported {exported!r}, live {live!r}")
