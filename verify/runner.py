"""Run every check over every exported tier."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from .checks import ALL_CHECKS
from .cluster import ClusterView
from .context import CheckContext
from .model import CheckResult, StackOutputs


@dataclass(frozen=True)
class VerifyOptions:
    """How to verify: where DNS is, how long to wait, which probe image to run."""

    dns_server: Optional[str] = None
    settle_timeout: float = 60.0
    probe_image: str = "busybox:1.36.1"


def verify(outputs: StackOutputs, cluster: ClusterView, options: VerifyOptions = VerifyOptions()) -> list[CheckResult]:
    """Every check's result for every tier, in tier then check order."""
    ctx = CheckContext(
        outputs=outputs,
        cluster=cluster,
        dns_server=options.dns_server,
        settle_timeout=options.settle_timeout,
        probe_image=options.probe_image,
    )
    results: list[CheckResult] = []
    for tier in outputs.tiers.values():
        for check in ALL_CHECKS:
            results.extend(check(ctx, tier))
    return results
