"""A fleet of three-tier apps: ``fleet:apps`` ThreeTierApps, each in a namespace of its own.

A platform team's program of the kind the engine's scale figures are measured with
(docs/benchmarks.md, docs/fleet.md): the same ``components`` as the threetier stacks, every app's
settings from ``fleet:app`` (validated like a stack's config, errors naming ``fleet:app.<key>``),
every app's outputs exported under its namespace's name.

Its pods run on the cluster's *simulated* nodes (``make cluster-up KWOK_NODES=K``): every tier
selects the label :data:`SIMULATED_NODE_LABEL` and tolerates the taint :data:`SIMULATED_NODE_TAINT`
(hack/kwok-nodes.sh puts both on the kwok nodes, and on nothing else) unless ``fleet:app`` sets the
tier's own ``nodeSelector`` / ``tolerations`` (``{}`` / ``[]``: any node, e.g. the real one).

It depends on the ``threetier`` library like any platform engineer's program (a ``pip install``
of the wheel; from the repo, ``PYTHONPATH`` names the clone, as ``make fleet-up`` does).
"""

from __future__ import annotations

from typing import Any, Optional

import pulumi

from components import ThreeTierApp
from components.config import parse_settings
from components.errors import Problem, raise_if_any

MAX_APPS = 500
NAMESPACE_PREFIX = "fleet"
TIERS = ("frontend", "backend", "database")
#: The label of the simulated nodes (hack/kwok-nodes.sh) every tier selects by default.
SIMULATED_NODE_LABEL = {"threetier.dev/node": "kwok"}
#: The taint of the simulated nodes every tier tolerates by default (no other node carries it).
SIMULATED_NODE_TAINT = {"key": "threetier.dev/simulated", "operator": "Equal", "value": "true", "effect": "NoSchedule"}


def on_simulated_nodes(shared: dict[str, Any]) -> dict[str, Any]:
    """``fleet:app`` with each tier's ``nodeSelector``/``tolerations`` defaulting to the simulated nodes.

    A tier's own ``nodeSelector`` or ``tolerations`` (even empty) wins; other keys are untouched.
    """
    placed = dict(shared)
    for tier in TIERS:
        settings = shared.get(tier, {})
        if not isinstance(settings, dict):
            continue  # parse_settings names the key and the allowed values
        placed[tier] = {"nodeSelector": SIMULATED_NODE_LABEL, "tolerations": [SIMULATED_NODE_TAINT], **settings}
    return placed


def parse_apps(raw: Optional[str]) -> tuple[int, list[Problem]]:
    """``fleet:apps`` as given (a string, or None when unset: 1) -> (count, problems naming the key)."""
    if raw is None:
        return 1, []
    if not raw.strip().isdigit() or not 1 <= int(raw) <= MAX_APPS:
        return 0, [Problem("fleet:apps", f"{raw!r} is not valid; allowed values: an integer from 1 to {MAX_APPS}")]
    return int(raw), []


def fleet_settings(config: pulumi.Config) -> tuple[int, dict[str, Any]]:
    """(apps, the settings every app gets), validated before anything is registered."""
    apps, problems = parse_apps(config.get("apps"))
    try:
        shared = config.get_object("app") or {}
    except pulumi.ConfigTypeError:
        shared = {}
        problems.append(Problem("fleet:app", f"{config.get('app')!r} is not valid; allowed values: a JSON object"))
    if isinstance(shared, dict) and "namespace" in shared:
        problems.append(Problem("fleet:app.namespace", "not settable: each app gets fleet-NNN"))
    raise_if_any(problems)
    return apps, dict(shared)


def app_name(index: int) -> str:
    """The name (and namespace) of the fleet's app number ``index``."""
    return f"{NAMESPACE_PREFIX}-{index:03d}"


def parse_overrides(config: pulumi.Config, apps: int) -> dict[str, dict[str, Any]]:
    """``fleet:overrides``: apps' own settings over ``fleet:app``: ``{"fleet-007": {"backend": {"replicas": 2}}}``."""
    try:
        overrides = config.get_object("overrides") or {}
    except pulumi.ConfigTypeError:
        overrides = None
    allowed = f"app names {app_name(0)}..{app_name(apps - 1)}" if apps > 1 else f"the app name {app_name(0)}"
    if not isinstance(overrides, dict):
        raise_if_any(
            [
                Problem(
                    "fleet:overrides",
                    f"{config.get('overrides')!r} is not valid; allowed values: a JSON object of {allowed}",
                )
            ]
        )
        return {}
    names = {app_name(index) for index in range(apps)}
    problems = [
        Problem(f"fleet:overrides.{name}", f"is not an app of the fleet; allowed values: {allowed}")
        for name in overrides
        if name not in names
    ]
    problems += [
        Problem(f"fleet:overrides.{name}", f"{value!r} is not valid; allowed values: an object of the fleet:app keys")
        for name, value in overrides.items()
        if name in names and not isinstance(value, dict)
    ]
    raise_if_any(problems)
    return dict(overrides)


def merged(shared: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """``override`` over ``shared``, tier objects merged key by key."""
    result = {**shared, **override}
    for tier in TIERS:
        if isinstance(shared.get(tier), dict) and isinstance(override.get(tier), dict):
            result[tier] = {**shared[tier], **override[tier]}
    return result


def fleet_program() -> list[ThreeTierApp]:
    """Read the config, build every app (each validated first), export each app's outputs."""
    config = pulumi.Config()
    apps, shared = fleet_settings(config)
    overrides = parse_overrides(config, apps)
    settings = []
    for index in range(apps):
        name = app_name(index)
        raw = on_simulated_nodes(merged(shared, overrides.get(name, {})))
        prefix = f"fleet:overrides.{name}." if name in overrides else "fleet:app."
        settings.append(parse_settings({**raw, "namespace": name}, prefix=prefix))
    built = []
    for index, app in enumerate(settings):
        name = app_name(index)
        built.append(ThreeTierApp(name, app.app))
        pulumi.export(name, built[-1].stack_outputs())
    return built
