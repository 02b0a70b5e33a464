"""2. Endpoints: the Deployment is Available; the Service's EndpointSlices hold a ready address per desired replica."""

from __future__ import annotations

from ..cluster import Obj, pod_is_ready
from ..context import CheckContext, result
from ..model import CheckResult, TierExport
from ..retry import eventually


def check_endpoints(ctx: CheckContext, tier: TierExport) -> list[CheckResult]:
    """Ready endpoint count equals the Deployment's desired replicas; they are the selected pods."""
    deployment = ctx.cluster.deployment(tier.namespace, tier.deployment_name or tier.service_name)
    if deployment is None:
        return [
            result(
                tier, "endpoints.deployment", False, f"Deployment {tier.namespace}/{tier.service_name} does not exist"
            )
        ]
    desired = int((deployment.get("spec") or {}).get("replicas", 1))
    results = []
    if tier.replicas is not None:
        results.append(
            result(
                tier,
                "endpoints.replicas",
                desired == tier.replicas,
                f"desired replicas: exported {tier.replicas}, live {desired}",
            )
        )

    def probe() -> tuple[bool, tuple[set[str], set[str]]]:
        ready_targets = _ready_pod_names(ctx.cluster.endpoint_slices(tier.namespace, tier.service_name))
        selected = {
            pod["metadata"]["name"] for pod in ctx.cluster.pods(tier.namespace, tier.selector) if pod_is_ready(pod)
        }
        return len(ready_targets) == desired and ready_targets == selected, (ready_targets, selected)

    results.append(_available(ctx, tier, deployment, desired))
    ok, (ready_targets, selected) = eventually(probe, timeout=ctx.settle_timeout)
    if ok:
        detail = f"{len(ready_targets)} ready endpoint(s) = {desired} desired, all selected pods"
    elif len(ready_targets) != desired:
        detail = f"{len(ready_targets)} ready endpoint(s), {desired} desired (after {ctx.settle_timeout:.0f}s)"
    else:
        detail = f"endpoints {sorted(ready_targets)} are not the selected ready pods {sorted(selected)}"
    results.append(result(tier, "endpoints.ready", ok, detail))
    return results


def _available(ctx: CheckContext, tier: TierExport, deployment: Obj, desired: int) -> CheckResult:
    """The Deployment's condition Available is True and every desired replica is available."""

    def probe(live: Obj) -> tuple[bool, str]:
        status = live.get("status") or {}
        available = int(status.get("availableReplicas") or 0)
        condition: Obj = next((c for c in status.get("conditions") or [] if c.get("type") == "Available"), {})
        ok = condition.get("status") == "True" and available >= desired
        return ok, f"{available} available replica(s) of {desired}, condition Available={condition.get('status')}"

    name = tier.deployment_name or tier.service_name

    def again() -> tuple[bool, str]:
        live = ctx.cluster.deployment(tier.namespace, name)
        return (False, f"Deployment {tier.namespace}/{name} is gone") if live is None else probe(live)

    ok, detail = probe(deployment)
    if not ok:
        ok, detail = eventually(again, timeout=ctx.settle_timeout)
    return result(tier, "endpoints.available", ok, detail + ("" if ok else f" (after {ctx.settle_timeout:.0f}s)"))


def _ready_pod_names(slices: list[Obj]) -> set[str]:
    names = set()
    for endpoint_slice in slices:
        for endpoint in endpoint_slice.get("endpoints") or []:
            ready = (endpoint.get("conditions") or {}).get("ready")
            target = endpoint.get("targetRef") or {}
            if ready and target.get("kind") == "Pod":
                names.add(str(target["name"]))
    return names
