"""3. DNS: the exported names are the live Service's, and the FQDN resolves to its cluster IP."""

from __future__ import annotations

from ..context import CheckContext, result, skipped
from ..model import CheckResult, TierExport
from ..network import resolve_a, route_decision


def check_dns(ctx: CheckContext, tier: TierExport) -> list[CheckResult]:
    """Names match the live Service; the FQDN resolves (DNS server, else a probe pod)."""
    service = ctx.cluster.service(tier.namespace, tier.service_name)
    if service is None:
        return [result(tier, "dns.names", False, "no live Service to name")]
    name = service["metadata"]["name"]
    namespace = service["metadata"]["namespace"]
    expected = {
        "short": name,
        "namespaced": f"{name}.{namespace}",
        "svc": f"{name}.{namespace}.svc",
        "fqdn": f"{name}.{namespace}.svc.{ctx.outputs.cluster_domain}",
    }
    names_ok = tier.dns_names == expected
    detail = ", ".join(expected.values()) if names_ok else f"exported {tier.dns_names}, live Service gives {expected}"
    cluster_ip = (service.get("spec") or {}).get("clusterIP")
    return [result(tier, "dns.names", names_ok, detail), _resolve(ctx, tier, expected["fqdn"], cluster_ip)]


def _resolve(ctx: CheckContext, tier: TierExport, fqdn: str, cluster_ip: str | None) -> CheckResult:
    if ctx.dns_server:
        host, _, port = ctx.dns_server.rpartition(":")
        route = route_decision(host)
        if not route.local:
            return skipped(tier, "dns.resolve", f"DNS server {ctx.dns_server}: {route.reason}")
        answers, status = resolve_a(host, int(port), fqdn)
        if answers is None:
            return result(tier, "dns.resolve", False, f"{fqdn} @ {ctx.dns_server}: {status}")
        return result(
            tier, "dns.resolve", answers == {cluster_ip}, f"{fqdn} -> {sorted(answers)} (cluster IP {cluster_ip})"
        )
    ok, output = ctx.cluster.run_probe(tier.namespace, ["nslookup", fqdn], ctx.probe_image, ctx.settle_timeout)
    if ok is None:
        return skipped(tier, "dns.resolve", f"no --dns-server and {output}")
    return result(
        tier,
        "dns.resolve",
        bool(ok) and f"Address: {cluster_ip}" in output,
        f"nslookup {fqdn} in a probe pod: {output[-200:]}",
    )
