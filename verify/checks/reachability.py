"""5. Reachability where the network allows: in-cluster URL, node ports, load balancer.

HTTP tiers answer a GET; other tiers (a database) accept a TCP connection. In the cluster the
request comes from where the tier's clients are: a pod of a tier wired to it (which its
NetworkPolicy admits), else (a tier nobody in the stack calls, like the frontend) the
verification's probe pod. Each endpoint is retried until it answers or the settle timeout passes,
so a check right after a rollout does not fail on a moment's lag. Beside real nodes, a tier whose
pods (or whose clients' pods) stand on simulated nodes is skipped with that reason: nothing there
would answer, nor send.

No packet goes to an address whose route leaves this machine (see :mod:`verify.network`);
such a check is reported as skipped, with the reason, never as passed.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Optional
from urllib.parse import urlsplit

from ..cluster import internal_ip, is_simulated, node_is_ready
from ..context import CheckContext, result, running_pod, skipped
from ..model import CheckResult, TierExport
from ..network import http_get, route_decision, tcp_connect
from ..retry import eventually

Attempt = Callable[[], tuple[Optional[bool], str]]


def check_reachability(ctx: CheckContext, tier: TierExport) -> list[CheckResult]:
    """Reach each endpoint a client would use: in the cluster, on every node port, at the LB."""
    reason = ctx.simulated_pods_reason(tier, *(client for client, _ in ctx.outputs.clients_of(tier)))
    if reason:
        return [skipped(tier, check, f"no traffic can be observed: {reason}") for check in _checks(ctx, tier)]
    results = [_in_cluster(ctx, tier, tier.urls.get("inCluster") or "")]
    if tier.node_port:
        results += _node_ports(ctx, tier, tier.node_port)
    if tier.service_type == "LoadBalancer":
        results.append(_load_balancer(ctx, tier))
    return results


def _checks(ctx: CheckContext, tier: TierExport) -> list[str]:
    """The names of the reachability checks of ``tier``, as :func:`check_reachability` reports them."""
    checks = ["reach.inCluster"]
    if tier.node_port:
        checks += [f"reach.nodePort[{node['metadata']['name']}]" for node in ctx.cluster.nodes()]
    if tier.service_type == "LoadBalancer":
        checks.append("reach.loadBalancer")
    return checks


def _is_http(url: str) -> bool:
    return url.startswith("http://")


def _until_reached(ctx: CheckContext, attempt: Attempt) -> tuple[Optional[bool], str]:
    """Retry ``attempt`` until it succeeds, says it cannot run (None), or the settle timeout passes."""

    def probe() -> tuple[bool, tuple[Optional[bool], str]]:
        ok, detail = attempt()
        return ok is None or bool(ok), (ok, detail)

    return eventually(probe, timeout=ctx.settle_timeout)[1]


def _in_cluster(ctx: CheckContext, tier: TierExport, url: str) -> CheckResult:
    parts = urlsplit(url)
    if not parts.hostname:
        return result(tier, "reach.inCluster", False, f"exported in-cluster URL {url!r} names no host")
    if _is_http(url):
        # (no wget -T: Debian busybox 1.35 wget crashes with it; timeout bounds it instead)
        command, what, success = ["timeout", "8", "wget", "-q", "-O", "-", url], f"GET {url}", "ok"
    elif parts.port:
        # busybox netcat: connect, send EOF, wait for the server to close (a database closes at once).
        command = ["sh", "-c", f"nc -w 5 {parts.hostname} {parts.port} </dev/null"]
        what, success = f"TCP {parts.hostname}:{parts.port}", "connected"
    else:
        return result(tier, "reach.inCluster", False, f"exported in-cluster URL {url!r} names no port")

    where = "from the verification's probe pod"
    attempt: Attempt = partial(ctx.cluster.run_probe, tier.namespace, command, ctx.probe_image, ctx.settle_timeout)
    clients = ctx.outputs.clients_of(tier)
    for client, env in clients:
        pod = running_pod(ctx, client)
        if pod is not None:
            where = f"from pod {pod} ({client.key}, which calls it by {env})"
            attempt = partial(ctx.cluster.exec_in_pod, tier.namespace, pod, command)
            break
    else:
        if clients:  # its NetworkPolicy admits only them: a probe pod would prove nothing
            callers = ", ".join(client.key for client, _ in clients)
            return skipped(tier, "reach.inCluster", f"no running pod of {callers}, the tier(s) allowed to call it")
    ok, output = _until_reached(ctx, attempt)
    if ok is None:
        return skipped(tier, "reach.inCluster", output)
    return result(tier, "reach.inCluster", ok, f"{what} {where}: {success if ok else output[-200:]}")


def _reach(tier: TierExport, host: str, port: int) -> tuple[bool, str]:
    """GET an HTTP tier's URL, or open a TCP connection to any other, from this machine."""
    if _is_http(tier.urls.get("inCluster") or ""):
        url = f"http://{host}:{port}/"
        ok, status = http_get(url)
        return ok, f"GET {url}: {status}"
    ok, status = tcp_connect(host, port)
    return ok, f"TCP {host}:{port}: {status}"


def _node_ports(ctx: CheckContext, tier: TierExport, node_port: int) -> list[CheckResult]:
    results = []
    for node in ctx.cluster.nodes():
        name, address = node["metadata"]["name"], internal_ip(node)
        check = f"reach.nodePort[{name}]"
        if address is None:
            results.append(skipped(tier, check, f"node {name} has no InternalIP"))
            continue
        if is_simulated(node):
            results.append(
                skipped(
                    tier,
                    check,
                    f"{address}:{node_port}: node {name} is simulated (kwok), no kube-proxy serves node ports",
                )
            )
            continue
        if not node_is_ready(node):
            # A lost or stopped node serves nothing; the app's availability is what is verified.
            results.append(skipped(tier, check, f"{address}:{node_port}: node {name} is not Ready"))
            continue
        route = route_decision(address)
        if not route.local:
            results.append(skipped(tier, check, route.reason))
            continue
        ok, detail = _until_reached(ctx, partial(_reach, tier, address, node_port))
        results.append(result(tier, check, bool(ok), detail))
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
    ok, detail = _until_reached(ctx, partial(_reach, tier, address, tier.port))
    return result(tier, "reach.loadBalancer", bool(ok), detail)
