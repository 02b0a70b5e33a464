"""A fleet's verification: every app's outputs (one stack output per app, ``examples/fleet``) verified.

Each app is verified as a stack of its own (every check of :func:`verify.runner.verify`), a few
apps side by side; each result's tier is named ``<app>/<tier>`` (``fleet-003/backend``). The
apps are deployed as admin, by no platform's deployer: the access checks are skipped with that
reason. On simulated nodes the traffic checks are skipped with theirs (:mod:`verify.context`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

from .cluster import ClusterView
from .model import CheckResult, StackOutputs
from .runner import VerifyOptions, verify

#: Apps verified side by side (each runs its own checks concurrently too: runner.MAX_WORKERS).
APP_WORKERS = 4
NO_DEPLOYER = "a fleet's app is deployed by whoever runs pulumi up (standalone), by no platform's deployer"


def fleet_outputs(stack: str, outputs: Mapping[str, Any]) -> dict[str, StackOutputs]:
    """Every output that is an app's outputs (a map holding tier maps), by app name; ValueError if none."""
    apps = {
        name: StackOutputs.from_json(f"{stack}/{name}", value)
        for name, value in sorted(outputs.items())
        if isinstance(value, Mapping)
        and any(isinstance(item, Mapping) and "serviceName" in item for item in value.values())
    }
    if not apps:
        raise ValueError(f"stack {stack}: no app outputs found (maps of tier maps with serviceName and dnsNames)")
    return apps


def verify_fleet(
    apps: Mapping[str, StackOutputs], connect: Callable[[], ClusterView], options: VerifyOptions
) -> list[CheckResult]:
    """Every app's results, apps in name order; ``connect`` gives each app's verification its cluster view."""

    def one(name: str) -> list[CheckResult]:
        results = verify(apps[name], connect(), options, deployer_unavailable=NO_DEPLOYER)
        return [replace(item, tier=f"{name}/{item.tier}") for item in results]

    with ThreadPoolExecutor(max_workers=APP_WORKERS, thread_name_prefix="fleet") as pool:
        return [item for results in pool.map(one, sorted(apps)) for item in results]
