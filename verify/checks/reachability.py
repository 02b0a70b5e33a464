"""5. Reachability where the network allows: in-cluster URL, node ports, load balancer.

No packet goes to an address whose route leaves this machine (see :mod:`verify.network`);
such a check is reported as skipped, with the reason, never as passed.
"""

from __future__ import annotations

from ..cluster import internal_ip, is_simulated
from ..context import CheckContext, result, skipped
from ..model import CheckResult, TierExport
from ..network import http_get, route_decision


def check_reachability(ctx: CheckContext, tier: TierExport) -> list[CheckResult]:
    """HTTP GET each endpoint a client would use; only for HTTP tiers."""
    in_cluster = tier.urls.get("inCluster") or ""
    if not in_cluster.startswith("http://"):
        return [skipped(tier, "reach.inCluster", f"not an HTTP endpoint ({in_cluster.split(':', 1)[0]})")]
    results = [_in_cluster(ctx, tier, in_cluster)]
    if tier.node_port:
        results += _node_ports(ctx, tier)
    if tier.service_type == "LoadBalancer":
        results.append(_load_balancer(ctx, tier))
    return results


def _in_cluster(ctx: CheckContext, tier: TierExport, url: str) -> CheckResult:
    command = ["wget", "-q", "-T", "5", "-O", "-", url]
    ok, output = ctx.cluster.run_probe(tier.namespace, command, ctx.probe_image, ctx.settle_timeout)
    if ok is None:
        return skipped(tier, "reach.inCluster", output)
    return result(tier, "reach.inCluster", bool(ok), f"GET {url} from a probe pod: {'ok' if ok else output[-200:]}")


def _node_ports(ctx: CheckContext, tier: TierExport) -> list[CheckResult]:
    results = []
    for node in ctx.cluster.nodes():
        name, address = node["metadata"]["name"], internal_ip(node)
        check = f"reach.nodePort[{name}]"
        if address is None:
            results.append(skipped(tier, check, f"node {name} has no InternalIP"))
            continue
        url = f"http://{address}:{tier.node_port}/"
        if is_simulated(node):
            results.append(
                skipped(tier, check, f"{url}: node {name} is simulated (kwok), no kube-proxy serves node ports")
            )
            continue
        route = route_decision(address)
        if not route.local:
            results.append(skipped(tier, check, route.reason))
            continue
        ok, status = http_get(url)
        results.append(result(tier, check, ok, f"GET {url}: {status}"))
    return results


def _load_balancer(ctx: CheckContext, tier: TierExport) -> CheckResult:
    address = tier.load_balancer_ingress
    url = tier.urls.get("loadBalancer")
    if not address or not url:
        return result(tier, "reach.loadBalancer", False, "no load-balancer address exported")
    reason = ctx.data_plane_reason()
    if reason:
        return skipped(tier, "reach.loadBalancer", f"{url}: {reason}")
    route = route_decision(address)
    if not route.local:
        return skipped(tier, "reach.loadBalancer", route.reason)
    ok, status = http_get(url)
    return result(tier, "reach.loadBalancer", ok, f"GET {url}: {status}")
