"""Run every check over every exported tier, tiers side by side, and the stack-wide checks."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Optional

from .access import AccessReviewer
from .checks import STACK_CHECKS, TIER_CHECKS
from .cluster import ClusterView
from .context import CheckContext
from .model import CheckResult, StackOutputs, TierExport

#: Checks wait on the cluster (API calls, execs, connection deadlines), not on this CPU.
MAX_WORKERS = 8


@dataclass(frozen=True)
class VerifyOptions:
    """How to verify: where DNS is, how long to wait, which probe image to run."""

    dns_server: Optional[str] = None
    settle_timeout: float = 60.0
    probe_image: str = "busybox:1.36.1"
    #: Namespace of the probe pod that stands for "a pod outside the stack's namespace".
    outside_namespace: str = "default"


def verify(
    outputs: StackOutputs,
    cluster: ClusterView,
    options: VerifyOptions = VerifyOptions(),
    *,
    deployer: Optional[AccessReviewer] = None,
    deployer_unavailable: Optional[str] = None,
) -> list[CheckResult]:
    """Every check's result: per tier (tier, then check order), then the stack-wide checks.

    Independent checks run concurrently, each with its own deadline; probe pods the checks
    created are removed before this returns. ``cluster`` reads with the verifier's own (admin)
    credentials; the access checks ask as ``deployer`` (or report ``deployer_unavailable``).
    """
    ctx = CheckContext(
        outputs=outputs,
        cluster=cluster,
        dns_server=options.dns_server,
        settle_timeout=options.settle_timeout,
        probe_image=options.probe_image,
        outside_namespace=options.outside_namespace,
        deployer=deployer,
        deployer_unavailable=deployer_unavailable,
    )

    def tier_results(tier: TierExport) -> list[CheckResult]:
        return [result for check in TIER_CHECKS for result in check(ctx, tier)]

    try:
        with ThreadPoolExecutor(max_workers=MAX_WORKERS, thread_name_prefix="verify") as pool:
            per_tier = [pool.submit(tier_results, tier) for tier in outputs.tiers.values()]
            stack_wide = [pool.submit(check, ctx) for check in STACK_CHECKS]
            return [result for future in [*per_tier, *stack_wide] for result in future.result()]
    finally:
        cluster.close()
