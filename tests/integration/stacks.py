"""The project's stacks deployed through the real Pulumi engine, once per test session.

``dev`` is deployed the way users deploy it, ``make up STACK=dev`` (its platform stack first, as
it does not exist yet; policy pack, ``pulumi up``, then the verification table); ``staging`` and
``prod`` through the Automation API (:mod:`deploy.stack`: their platform stacks first, then
staging's program through the language host, as a plain ``pulumi up`` runs it, prod's inline, as
``make up`` runs it); all three side by side, into a state backend of the session's own: a table of
its own on the shared PostgreSQL server (``make state-up``), as a team keeps its stacks, dropped at
the end; the app stacks' StackReferences resolve there. Tests that change a deployment put it back.
The session destroys what is still deployed at its end, app stacks first, then their platform
stacks (a disruptive test tears ``dev`` down with ``make down`` and ``make platform-down`` first).
Without the whole engine, every test that needs a deployment reports *skipped*, naming the
missing parts.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from deploy import Backend, Engine, ProjectStack, find_engine, open_stack
from deploy.projects import APP, PLATFORM, Project
from deploy.stack import PROJECT, config_copy

from .conftest import ROOT, TOOLCHAIN, kubeconfig_path, probe_image, unexpected_skips
from .state_server import StateServer, session_table
from .teardown import SessionTeardown

STACKS = ("dev", "staging", "prod")
#: The stack ``make up`` deploys in the session (the others go through the Automation API).
MAKE_UP_STACK = "dev"
#: The stack whose ``up`` runs ``__main__.py`` through the language host, as a plain ``pulumi up``
#: does (the others run the program inline, as ``make up`` does).
LANGUAGE_HOST_STACK = "staging"


@dataclass
class Deployed:
    """One stack deployed by the engine in this session."""

    name: str
    stack: ProjectStack
    #: ``pulumi stack output --json`` of the stack (secrets shown as ``[secret]``).
    outputs: dict[str, Any]
    #: Wall time of the first ``up`` (for ``dev``: the whole ``make up``, verification included).
    seconds: float
    #: What ``make up`` printed (dev), else empty.
    make_output: str = ""

    @property
    def namespace(self) -> str:
        return str(self.outputs["namespace"])

    def refresh_outputs(self) -> dict[str, Any]:
        """Read the outputs again (after an ``up``)."""
        self.outputs = self.stack.outputs()
        return self.outputs


@dataclass
class Deployments:
    """The session's deployments: deployed on first use, all three at once, destroyed at the end."""

    engine: Engine
    backend: Backend
    work: Path
    #: The PostgreSQL server the backend lives on, and the session's table there.
    state: StateServer
    table: str
    #: Everything the CLI printed in this session (make up, up, preview, destroy), for secret checks.
    output: list[str] = field(default_factory=list)
    _deployed: dict[str, Deployed] = field(default_factory=dict)
    #: Every stack an ``up`` was started for and not torn down since, deployed or not: destroyed at the end.
    _started: dict[str, ProjectStack] = field(default_factory=dict)
    #: The platform stacks of the session's environments, destroyed after the app stacks.
    platforms: dict[str, ProjectStack] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _started_lock: threading.Lock = field(default_factory=threading.Lock)

    def env(self) -> dict[str, str]:
        """Environment for ``make up/down/verify`` and ``pulumi`` against this session's backend."""
        return {
            **os.environ,
            **self.engine.env(),
            "PULUMI_BACKEND_URL": self.backend.url,
            "PULUMI_CONFIG_PASSPHRASE": self.backend.passphrase,
            "KUBECONFIG": str(kubeconfig_path()),
            # `make ... BACKEND=postgres` without PULUMI_BACKEND_URL lands in the same table
            "THREETIER_STATE_TABLE": self.table,
        }

    def open(
        self, name: str, backend: Backend | None = None, *, inline: bool = True, project: Project = APP
    ) -> ProjectStack:
        """Stack ``name`` of ``project`` in this session's backend (or ``backend``), its CLI output recorded.

        ``inline``: its ``up`` runs the program in this process, as ``make up`` does; else
        ``__main__.py`` through the language host, as a plain ``pulumi up`` does.
        """
        return open_stack(
            name,
            self.engine,
            backend or self.backend,
            kubeconfig=kubeconfig_path(),
            on_output=self.output.append,
            inline=inline,
            project=project,
        )

    def make(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        """Run ``make ARGS`` in the repo against this session's backend; its output is recorded."""
        return self.run("make", "--no-print-directory", *args, timeout=timeout)

    def run(self, *command: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        """Run ``command`` in the repo against this session's backend; its output is recorded."""
        completed = subprocess.run(
            list(command),
            cwd=ROOT,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        self.output.append(completed.stdout + completed.stderr)
        return completed

    def platform(self, name: str, backend: Backend | None = None) -> ProjectStack:
        """Platform stack ``name`` in this session's backend (or ``backend``), its CLI output recorded."""
        return self.open(name, backend, project=PLATFORM)

    def platform_elsewhere(self, name: str, backend: Backend, namespace: str, work: Path) -> ProjectStack:
        """Platform stack ``name`` deployed into ``backend`` with its namespace renamed ``namespace`` (a test's own)."""
        platform = self.platform(name, backend)
        overrides = {"threetier-platform:namespace": namespace}
        platform.up(config_file=config_copy(name, work / "platform-config", overrides, project=PLATFORM))
        return platform

    def get(self, name: str) -> Deployed:
        """Stack ``name``, deployed (with the other stacks, side by side) if it is not yet."""
        with self._lock:
            missing = [stack for stack in STACKS if stack not in self._deployed]
            if name in missing:
                with ThreadPoolExecutor(max_workers=len(missing)) as pool:
                    deploying = [pool.submit(self._deploy, stack) for stack in missing]
                # Every stack that deployed is recorded before a failure of another one is raised.
                for done in deploying:
                    if done.exception() is None:
                        self._deployed[done.result().name] = done.result()
                for done in deploying:
                    done.result()
            if name not in self._deployed:
                pytest.fail(f"stack {name} was torn down earlier in this session")
            return self._deployed[name]

    def interrupt_create(self, name: str, urn: str) -> None:
        """Leave ``urn`` of stack ``name`` as an ``up`` killed mid-create does: a pending create.

        The object stays in the cluster; the state forgets the resource and records only that its
        create was sent. Edits the checkpoint's row in the session's table (``stack import`` clears
        pending operations, so there is no CLI way to write one).
        """
        key = self.state.key(f".pulumi/stacks/{PROJECT}/{name}.json")
        checkpoint = json.loads(self.state.files(self.table)[key])
        latest = checkpoint["checkpoint"]["latest"]
        (done,) = [r for r in latest["resources"] if r["urn"] == urn]
        latest["resources"] = [r for r in latest["resources"] if r["urn"] != urn]
        sent = {key: value for key, value in done.items() if key not in ("id", "outputs")}
        latest["pending_operations"] = [
            *(latest.get("pending_operations") or []),
            {"resource": sent, "type": "creating"},
        ]
        self.state.write_file(self.table, key, json.dumps(checkpoint, indent=4).encode())

    def forget(self, name: str, *, platform: bool = False) -> None:
        """``name`` (``platform``: and its platform stack) was torn down by a test: nothing to destroy at the end."""
        with self._lock:
            self._deployed.pop(name, None)
            self._started.pop(name, None)
            if platform:
                self.platforms.pop(name, None)

    def _deploy(self, name: str) -> Deployed:
        start = time.monotonic()
        platform = self.platform(name)
        stack = self.open(name, inline=name != LANGUAGE_HOST_STACK)
        with self._started_lock:
            self._started[name] = stack
            self.platforms[name] = platform
        printed = ""
        if name == MAKE_UP_STACK:  # make up deploys the platform stack itself: it does not exist yet
            completed = self.make("up", f"STACK={name}")
            printed = completed.stdout + completed.stderr
            if completed.returncode != 0:
                pytest.fail(f"make up STACK={name} exited {completed.returncode}:\n{printed[-3000:]}")
        else:
            platform.up()
            stack.up()
        return Deployed(name, stack, stack.outputs(), time.monotonic() - start, printed)

    def teardown(self) -> None:
        """Destroy and remove (``--preserve-config``) every stack still deployed, side by side; then their platforms.

        Half-deployed ones too (an ``up`` that failed): nothing of the session stays behind.
        """

        def destroy(stack: ProjectStack) -> None:
            stack.destroy()
            stack.remove()

        with ThreadPoolExecutor(max_workers=len(STACKS)) as pool:
            list(pool.map(destroy, self._started.values()))
            list(pool.map(destroy, self.platforms.values()))
        self._deployed.clear()
        self._started.clear()
        self.platforms.clear()


@pytest.fixture(scope="session")
def engine() -> Engine:
    """The Pulumi engine on this machine; the tests that need it are skipped, naming what is missing."""
    found = find_engine()
    if not found.complete:
        pytest.skip(found.skip_reason())
    return found


@pytest.fixture(scope="session")
def deployments(
    engine: Engine,
    tmp_path_factory: pytest.TempPathFactory,
    api_client: Any,
    state_server: StateServer,
    session_teardown: SessionTeardown,
) -> Deployments:
    """The session's stacks (deployed on first use) in a table of their own on the state server.

    Destroyed at the session's end beside its other deployments; the table is dropped once all of
    them are gone (the fleet keeps its stack in it too), and kept when the destroy failed.
    """
    work = tmp_path_factory.mktemp("engine")
    table = session_table()
    deployed = Deployments(engine, Backend(state_server.url(table)), work, state_server, table)
    if engine.complete:
        # The first CLI to open the backend creates its table (CREATE TABLE IF NOT EXISTS, which
        # PostgreSQL does not make safe against itself: the stacks' CLIs started side by side on a
        # new table failed with "duplicate key value violates unique constraint
        # pg_type_typname_nsp_index"). One CLI opens it first.
        stack_names(deployed.env())
    session_teardown.add(
        "the shipped stacks and their platforms", deployed.teardown, then=lambda: state_server.drop(table)
    )
    return deployed


@pytest.fixture(scope="session")
def state_server() -> StateServer:
    """The shared state server: ``make state-up`` (idempotent) once per session."""
    return StateServer.start()


def stack_names(env: Mapping[str, str]) -> dict[str, set[str]]:
    """The stacks of each project (app, platform) in the backend ``env`` names (``pulumi stack ls``)."""
    names = {}
    for project in (APP, PLATFORM):
        listed = subprocess.run(
            ["pulumi", "stack", "ls", "--json"],
            cwd=project.directory,
            env=dict(env),
            capture_output=True,
            text=True,
            check=True,
        )
        names[project.name] = {stack["name"] for stack in json.loads(listed.stdout)}
    return names


def verify_outputs(
    stack: str, outputs: Mapping[str, Any], work: Path, timeout: float = 60, *, env: Mapping[str, str]
) -> tuple[int, dict[str, Any]]:
    """Run ``python -m verify`` (the CLI users run) on ``outputs``; (exit status, JSON report).

    ``env``: the environment of the stacks' backend (``Deployments.env()``): the access checks read
    the deployer's kubeconfig from the platform stack the outputs name.
    """
    outputs_file = work / f"{stack}-outputs.json"
    outputs_file.write_text(json.dumps(outputs))
    dns_server = (TOOLCHAIN / "dns-server").read_text().strip()
    completed = subprocess.run(
        [
            str(ROOT / ".venv" / "bin" / "python"),
            "-m",
            "verify",
            "--stack",
            stack,
            "--outputs",
            str(outputs_file),
            "--kubeconfig",
            str(kubeconfig_path()),
            "--dns-server",
            dns_server,
            "--timeout",
            str(timeout),
            "--probe-image",
            probe_image(),
            "--json",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=dict(env),
        check=False,
    )
    if not completed.stdout.strip():
        pytest.fail(f"python -m verify printed no report (exit {completed.returncode}): {completed.stderr[-2000:]}")
    return completed.returncode, json.loads(completed.stdout)


def assert_verified(status: int, report: Mapping[str, Any], real_traffic: bool) -> None:
    """The verifier's report: nothing failed (exit 0) and, on a real node, nothing skipped.

    Simulated nodes carry no traffic: those checks are skipped with that reason, never passed.
    """
    failed = [r for r in report["results"] if r["status"] == "failed"]
    assert failed == [], failed
    assert status == 0
    skipped = unexpected_skips(report["results"])  # placement on one node is skipped, with that reason
    if real_traffic:
        assert skipped == [], skipped
    else:  # simulated nodes carry no traffic: skipped with that reason, never passed
        assert skipped and all("simulated" in r["detail"] for r in skipped), skipped


def results_by_check(report: Mapping[str, Any]) -> dict[tuple[str, str], dict[str, str]]:
    """The report's results keyed by (tier, check)."""
    return {(item["tier"], item["check"]): item for item in report["results"]}


def kubectl(*args: str) -> str:
    """Run kubectl against the test cluster; its stdout."""
    completed = subprocess.run(
        [str(TOOLCHAIN / "bin" / "kubectl"), "--kubeconfig", str(kubeconfig_path()), *args],
        capture_output=True,
        text=True,
        check=True,
    )
    return completed.stdout
