"""A fleet of three-tier apps: ``fleet:apps`` ThreeTierApps, each in a namespace of its own.

A platform team's program of the kind the engine's scale figures are measured with
(docs/benchmarks.md): the same ``components`` as the threetier stacks, every app's settings from
``fleet:app`` (validated like a stack's config, errors naming ``fleet:app.<key>``), every app's
outputs exported under its namespace's name.

It depends on the ``threetier`` library like any platform engineer's program (a ``pip install``
of the wheel; from the repo, ``PYTHONPATH`` names the clone, as ``hack/benchmark_state.py`` does).
"""

from __future__ import annotations

from typing import Any

import pulumi

from components import ThreeTierApp
from components.config import parse_settings
from components.errors import Problem, raise_if_any

MAX_APPS = 500
NAMESPACE_PREFIX = "fleet"


def fleet_settings(config: pulumi.Config) -> tuple[int, dict[str, Any]]:
    """(apps, the settings every app gets), validated before anything is registered."""
    problems = []
    try:
        apps = config.get_int("apps")
    except pulumi.ConfigTypeError:
        apps = None
        problems.append(Problem("fleet:apps", f"{config.get('apps')!r} is not valid; allowed values: 1-{MAX_APPS}"))
    apps = 1 if apps is None and not problems else apps
    if apps is not None and not 1 <= apps <= MAX_APPS:
        problems.append(Problem("fleet:apps", f"{apps} is not valid; allowed values: 1-{MAX_APPS}"))
    try:
        shared = config.get_object("app") or {}
    except pulumi.ConfigTypeError:
        shared = {}
        problems.append(Problem("fleet:app", f"{config.get('app')!r} is not valid; allowed values: a JSON object"))
    if isinstance(shared, dict) and "namespace" in shared:
        problems.append(Problem("fleet:app.namespace", "not settable: each app gets fleet-NNN"))
    raise_if_any(problems)
    assert apps is not None
    return apps, dict(shared)


def fleet_program() -> list[ThreeTierApp]:
    """Read the config, build every app (each validated first), export each app's outputs."""
    apps, shared = fleet_settings(pulumi.Config())
    settings = [
        parse_settings({**shared, "namespace": f"{NAMESPACE_PREFIX}-{index:03d}"}, prefix="fleet:app.")
        for index in range(apps)
    ]
    built = []
    for index, app in enumerate(settings):
        name = f"{NAMESPACE_PREFIX}-{index:03d}"
        built.append(ThreeTierApp(name, app.app))
        pulumi.export(name, built[-1].stack_outputs())
    return built


fleet_program()
