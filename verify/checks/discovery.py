"""4. Discovery wiring: env vars carry the exported DNS names; Kubernetes' service env vars exist."""

from __future__ import annotations

from ..cluster import Obj
from ..context import CheckContext, result, skipped, terminating
from ..model import CheckResult, TierExport
from ..retry import eventually


def check_discovery(ctx: CheckContext, tier: TierExport) -> list[CheckResult]:
    """Each wiring env var in every pod equals the exported FQDN of the tier it calls."""
    results: list[CheckResult] = []
    # Pods being deleted (a rollout's old ones draining) are on their way out: not the tier's state.
    pods = [pod for pod in ctx.cluster.pods(tier.namespace, tier.selector) if not terminating(pod)]
    for env_name, target in sorted(tier.wiring.items()):
        callee = ctx.outputs.tier_by_service(tier.namespace, target["service"])
        if callee is None:
            results.append(
                result(tier, "discovery.env", False, f"{env_name}: no exported tier for Service {target['service']}")
            )
            continue
        wanted = callee.dns_names.get("fqdn")
        wrong = [
            f"{pod['metadata']['name']}={_env_value(pod, env_name)!r}"
            for pod in pods
            if _env_value(pod, env_name) != wanted
        ]
        if not pods:
            results.append(result(tier, "discovery.env", False, f"{env_name}: no pods to inspect"))
        elif wrong:
            results.append(result(tier, "discovery.env", False, f"{env_name} should be {wanted}: {', '.join(wrong)}"))
        else:
            results.append(result(tier, "discovery.env", True, f"{env_name}={wanted} in {len(pods)} pod(s)"))
    if tier.wiring:
        results.append(_service_env_vars(ctx, tier, pods))
    return results


def _service_env_vars(ctx: CheckContext, tier: TierExport, pods: list[Obj]) -> CheckResult:
    """Pods created after a Service see ``<SVC>_SERVICE_HOST``/``_PORT`` (needs a running container).

    A pod that cannot be exec'ed into (it started terminating since it was listed) is looked at
    again on a fresh listing, until the settle timeout.
    """
    reason = ctx.data_plane_reason() or ctx.simulated_pods_reason(tier)
    if reason:
        return skipped(tier, "discovery.serviceEnv", f"container environment not observable: {reason}")

    def inspect() -> tuple[bool, tuple[bool | None, str]]:
        missing: list[str] = []
        current = [pod for pod in ctx.cluster.pods(tier.namespace, tier.selector) if not terminating(pod)]
        for pod in current or pods:
            name = pod["metadata"]["name"]
            ok, output = ctx.cluster.exec_in_pod(tier.namespace, name, ["env"])
            if ok is None:
                return True, (None, output)
            if not ok:
                return False, (False, f"cannot read the environment of {name}: {output.strip()[-200:]}")
            names = {line.partition("=")[0] for line in output.splitlines() if "=" in line}
            for target in tier.wiring.values():
                prefix = target["service"].upper().replace("-", "_")
                missing += [
                    f"{name}: {prefix}{suffix}"
                    for suffix in ("_SERVICE_HOST", "_SERVICE_PORT")
                    if f"{prefix}{suffix}" not in names
                ]
        if missing:  # a pod's environment never changes: no point in asking again
            return True, (False, "missing " + ", ".join(missing))
        return True, (True, "present")

    ok, detail = eventually(inspect, timeout=ctx.settle_timeout)[1]
    if ok is None:
        return skipped(tier, "discovery.serviceEnv", detail)
    return result(tier, "discovery.serviceEnv", ok, detail)


def _env_value(pod: Obj, name: str) -> object:
    for container in (pod.get("spec") or {}).get("containers") or []:
        for item in container.get("env") or []:
            if item.get("name") == name:
                return item.get("value")
    return None
