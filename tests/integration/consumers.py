"""The component package's consumers deployed through the real engine, once per test session.

``examples/yaml-app`` (Pulumi YAML) and ``examples/ts-app`` (TypeScript, where the Node.js
language host is installed) each deploy the package's ThreeTierApp into a namespace of their own,
with the project's policy pack (``policy/config/standalone.json``), side by side on first use,
into a table of their own on the shared PostgreSQL state server (``make state-up``), as the
session's stacks are; the session destroys them at its end and drops the table. The package's
venv is made first (``make package``: neither ``pulumi up`` nor ``pulumi package add`` makes it),
and the TypeScript SDK is generated (``make ts-sdk``: ``pulumi package add``, then ``npm ci``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from pulumi import automation as auto

from deploy import Backend, Engine
from deploy.engine import ROOT, required_cli_version
from deploy.stack import POLICY_PACK, InstalledCli, policy_config

from .conftest import kubeconfig_path
from .state_server import StateServer, session_table
from .teardown import SessionTeardown

#: The consumers, by their language host: (example directory, make target that prepares it).
CONSUMERS = {"yaml": (ROOT / "examples" / "yaml-app", "package"), "nodejs": (ROOT / "examples" / "ts-app", "ts-sdk")}
#: The stack each consumer deploys (its stack file carries the local passphrase's salt).
STACK = "dev"
#: The policy configuration the consumers are judged by: standalone programs' (dev's, NodePort and
#: ClusterIP Services; they create their namespace with the default provider: warnings, docs/policy.md).
POLICY_CONFIG = "standalone"


@dataclass
class Consumer:
    """One consumer deployed in this session."""

    language: str
    stack: auto.Stack
    #: ``pulumi stack output --json`` (secrets shown as ``[secret]``).
    outputs: dict[str, Any]
    #: Wall time of its first ``up``.
    seconds: float


@dataclass
class ConsumerDeployments:
    """The consumers the engine can run here: deployed on first use, side by side; destroyed at the end."""

    engine: Engine
    backend: Backend
    work: Path
    #: Everything the CLI printed (for secret checks and failure messages).
    output: list[str] = field(default_factory=list)
    _deployed: dict[str, Consumer] = field(default_factory=dict)
    _started: dict[str, auto.Stack] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def env(self) -> dict[str, str]:
        """What the engine needs on top of the process's environment: this session's backend, the test cluster."""
        return {
            **self.engine.env(),
            "PULUMI_BACKEND_URL": self.backend.url,
            "PULUMI_CONFIG_PASSPHRASE": self.backend.passphrase,
            "KUBECONFIG": str(kubeconfig_path()),
        }

    def stack(self, directory: Path, name: str = STACK) -> auto.Stack:
        """Stack ``name`` of the Pulumi project in ``directory``, in this session's backend."""
        assert self.engine.cli is not None
        workspace = auto.LocalWorkspace(
            work_dir=str(directory),
            env_vars=self.env(),
            pulumi_command=InstalledCli(self.engine.cli, required_cli_version()),
        )
        return auto.Stack.create_or_select(name, workspace)

    def up(self, stack: auto.Stack, **options: Any) -> auto.UpResult:
        """``pulumi up`` with the project's policy pack (standalone programs' configuration)."""
        return stack.up(
            color="never",
            on_output=self.output.append,
            policy_packs=[str(POLICY_PACK)],
            policy_pack_configs=[str(policy_config(POLICY_CONFIG))],
            **options,
        )

    def get(self, language: str) -> Consumer:
        """The consumer in ``language`` deployed (with every other one that can run here, side by side)."""
        reason = self.engine.consumer_skip_reason(language)
        if reason:
            pytest.skip(reason)
        with self._lock:
            runnable = [name for name in CONSUMERS if not self.engine.consumer_skip_reason(name)]
            missing = [name for name in runnable if name not in self._deployed]
            if language in missing:
                with ThreadPoolExecutor(max_workers=len(missing)) as pool:
                    deploying = [pool.submit(self._deploy, name) for name in missing]
                for done in deploying:
                    if done.exception() is None:
                        self._deployed[done.result().language] = done.result()
                for done in deploying:
                    done.result()
            return self._deployed[language]

    def make(self, target: str) -> None:
        """``make TARGET`` in the repo (the package's venv, the TypeScript SDK); fails the test on error."""
        completed = subprocess.run(
            ["make", "--no-print-directory", target],
            cwd=ROOT,
            env={**os.environ, **self.env()},
            capture_output=True,
            text=True,
        )
        if completed.returncode != 0:
            pytest.fail(
                f"make {target} exited {completed.returncode}:\n{completed.stdout[-3000:]}{completed.stderr[-3000:]}"
            )

    def _deploy(self, language: str) -> Consumer:
        directory, target = CONSUMERS[language]
        self.make(target)
        stack = self.stack(directory)
        self._started[language] = stack
        start = time.monotonic()
        self.up(stack)
        seconds = time.monotonic() - start
        outputs = {key: "[secret]" if value.secret else value.value for key, value in stack.outputs().items()}
        return Consumer(language, stack, outputs, seconds)

    def teardown(self) -> None:
        """Destroy and remove every consumer stack an ``up`` was started for, side by side."""

        def destroy(stack: auto.Stack) -> None:
            stack.destroy(color="never", on_output=self.output.append)
            stack.workspace.remove_stack(stack.name, preserve_config=True)

        if self._started:
            with ThreadPoolExecutor(max_workers=len(self._started)) as pool:
                list(pool.map(destroy, self._started.values()))
        self._deployed.clear()
        self._started.clear()


@pytest.fixture(scope="session")
def consumers(
    engine: Engine,
    tmp_path_factory: pytest.TempPathFactory,
    api_client: Any,
    state_server: StateServer,
    session_teardown: SessionTeardown,
) -> ConsumerDeployments:
    """The component package's consumers (deployed on first use) in a table of their own on the state server.

    Destroyed at the session's end beside its other deployments; a failed destroy keeps the table
    (the state of what is left to destroy).
    """
    work = tmp_path_factory.mktemp("consumers")
    table = session_table()
    deployed = ConsumerDeployments(engine, Backend(state_server.url(table)), work)
    session_teardown.add("the package's consumers", deployed.teardown, then=lambda: state_server.drop(table))
    return deployed


def program_copy(example: Path, directory: Path, replacements: dict[str, str]) -> Path:
    """A copy of ``example``'s ``Pulumi.yaml`` (and stack file) in ``directory``: its text edited, the package by
    absolute path."""
    directory.mkdir(parents=True, exist_ok=True)
    shutil.copy(example / f"Pulumi.{STACK}.yaml", directory)
    text = (example / "Pulumi.yaml").read_text().replace("../../package", str(ROOT / "package"))
    for old, new in replacements.items():
        assert old in text, f"{old!r} is not in {example / 'Pulumi.yaml'}"
        text = text.replace(old, new)
    (directory / "Pulumi.yaml").write_text(text)
    return directory
