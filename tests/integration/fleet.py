"""The fleet (``examples/fleet``) of :data:`APPS` apps on the simulated nodes, deployed once per session.

Deployed the way users deploy it, ``make fleet-up APPS=10`` (the policy-gated ``pulumi up`` of
``python -m deploy up --project fleet``, then ``make fleet-verify``), into the session's state
backend (``Deployments.env()``: its table on the shared PostgreSQL server); destroyed at the end
of the session with ``make fleet-down``. Its pods need the cluster's simulated nodes: ``make
cluster-up KWOK_NODES=K`` (``.ci/run`` and ``make integration`` start the cluster with them); without
them ``make fleet-up`` stops before deploying anything and the tests fail, naming that.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import pytest

from .stacks import Deployments
from .teardown import SessionTeardown

#: The fleet's size in the integration run (issue #24).
APPS = 10
#: ``make fleet-up PARALLEL=...``: a value of its own, so that the run shows it reaches the CLI.
PARALLEL = 6
#: The fleet's stack (examples/fleet/Pulumi.kwok.yaml).
STACK = "kwok"


@dataclass
class Fleet:
    """The fleet deployed in this session."""

    #: ``pulumi stack output --json`` of the fleet: one app's outputs per key (secrets as ``[secret]``).
    outputs: dict[str, Any]
    #: What ``make fleet-up`` printed (the up, then the verification table).
    make_output: str
    #: Wall time of ``make fleet-up`` (up and verification).
    seconds: float


@pytest.fixture(scope="session")
def fleet(deployments: Deployments, session_teardown: SessionTeardown) -> Fleet:
    """``make fleet-up APPS=10`` once; ``make fleet-down`` at the session's end (also after a failed up),
    beside the session's other teardowns."""

    def down() -> None:
        completed = deployments.make("fleet-down", f"FLEET_STACK={STACK}", timeout=900)
        assert completed.returncode == 0, (completed.stdout + completed.stderr)[-3000:]

    session_teardown.add("the fleet (make fleet-down)", down)
    start = time.monotonic()
    completed = deployments.make(
        "fleet-up", f"APPS={APPS}", f"FLEET_STACK={STACK}", f"PARALLEL={PARALLEL}", timeout=900
    )
    printed = completed.stdout + completed.stderr
    if completed.returncode != 0:
        pytest.fail(f"make fleet-up APPS={APPS} exited {completed.returncode}:\n{printed[-4000:]}")
    seconds = time.monotonic() - start
    listed = deployments.run(
        "pulumi", "-C", "examples/fleet", "stack", "output", "--json", "--stack", STACK, timeout=120
    )
    assert listed.returncode == 0, listed.stderr
    return Fleet(json.loads(listed.stdout), printed, seconds)
