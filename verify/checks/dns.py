"""3. DNS: the exported names are the live Service's, and the FQDN resolves to its cluster IP.

Resolution is retried until the answer is the cluster IP or the settle timeout passes: a cluster
DNS that lags (its informer re-syncing after an API server restart, a cache holding an old
answer) catches up. What cannot heal fails at once: no live Service to resolve.
"""

from __future__ import annotations

from ..context import CheckContext, result, skipped
from ..model import CheckResult, TierExport
from ..network import resolve_a, route_decision
from ..retry import eventually


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

        def ask_server() -> tuple[bool, tuple[bool, str]]:
            answers, status = resolve_a(host, int(port), fqdn)
            if answers is None:
                return False, (False, f"{fqdn} @ {ctx.dns_server}: {status}")
            ok = answers == {cluster_ip}
            return ok, (ok, f"{fqdn} -> {sorted(answers)} (cluster IP {cluster_ip})")

        ok, detail = eventually(ask_server, timeout=ctx.settle_timeout)[1]
        return result(tier, "dns.resolve", ok, detail)

    def ask_in_pod() -> tuple[bool, tuple[bool | None, str]]:
        ran, output = ctx.cluster.run_probe(tier.namespace, ["nslookup", fqdn], ctx.probe_image, ctx.settle_timeout)
        if ran is None:
            return True, (None, output)
        ok = bool(ran) and nslookup_addresses(output) == {cluster_ip}
        return ok, (ok, f"nslookup {fqdn} in a probe pod: {output[-200:]}")

    found, detail = eventually(ask_in_pod, timeout=ctx.settle_timeout)[1]
    if found is None:
        return skipped(tier, "dns.resolve", f"no --dns-server and {detail}")
    return result(tier, "dns.resolve", found, detail)


def nslookup_addresses(output: str) -> set[str]:
    """The addresses busybox ``nslookup`` printed for the name (after ``Name:``, not the server's)."""
    addresses: set[str] = set()
    answer = False
    for line in output.splitlines():
        label, _, value = line.partition(":")
        if label.strip() == "Name":
            answer = True
        elif answer and label.strip() == "Address":
            addresses.add(value.strip().split()[0] if value.strip() else "")
    addresses.discard("")
    return addresses
