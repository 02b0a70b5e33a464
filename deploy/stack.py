"""The project's stacks through the real Pulumi engine: the Automation API over the installed CLI.

What ``make up`` runs (``python -m deploy up``), and a library for the integration tests and the
benchmark: a local file backend, the passphrase secrets provider, every ``pulumi up`` gated by the
policy pack with the stack's ``policy/config/<stack>.json``.

The program runs *inline* by default (:func:`components.program.three_tier_program` in this
process, the CLI connected to it): the language host's start-up is spared (it runs ``pip list``
and two more Python processes before the program starts), and the offline policy gate runs while
the engine starts, the program waiting for its verdict before it registers anything.
``inline=False`` runs ``__main__.py`` through the language host, as a plain ``pulumi up`` does.

The tracked ``stacks/Pulumi.<stack>.yaml`` files are never written: they carry the
``encryptionsalt`` of the local passphrase (so ``stack init`` leaves them as they are), stacks are
removed with ``--preserve-config``, and a config change goes through a *copy* of the stack file
(``config_file=``), as ``pulumi up --config-file`` does.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Optional, TypeVar

import yaml
from pulumi import automation as auto
from semver import VersionInfo

from components.settle import settle_outputs_at_end

from .cli_failure import masked
from .engine import ROOT, Engine, required_cli_version
from .gate import OfflineGate, PolicyRefusedError
from .inline import run_inline
from .pending import PendingCreate, adopt_pending_creates, pending_creates
from .projects import APP, Project

#: Passphrase of local stacks (README, "Commands"): their stack files carry its salt.
DEFAULT_PASSPHRASE = "threetier-local"
POLICY_PACK = ROOT / "policy"
PROJECT = "threetier"
#: How an ``up`` is gated before the engine deploys anything (see :meth:`ProjectStack.up`).
Gate = Literal["offline", "preview"]
_Result = TypeVar("_Result")
#: The start of the line an inline program prints once its offline gate passed.
GATE_LINE = "offline policy gate passed in"


def policy_config(stack: str) -> Path:
    """The policy pack's configuration for ``stack`` (``policy/config/<stack>.json``)."""
    return POLICY_PACK / "config" / f"{stack}.json"


@dataclass(frozen=True)
class Backend:
    """Where stacks keep their state, and the passphrase that encrypts their secrets.

    Its ``repr`` (in tracebacks, test reports) shows neither a password in the URL nor the passphrase.
    """

    url: str
    passphrase: str = field(default=DEFAULT_PASSPHRASE, repr=False)

    def __repr__(self) -> str:
        return f"Backend(url={masked(self.url)!r})"

    @classmethod
    def local(cls, state_dir: Path, passphrase: Optional[str] = None) -> Backend:
        """A file backend in ``state_dir`` (created)."""
        state_dir.mkdir(parents=True, exist_ok=True)
        return cls(url=f"file://{state_dir}", passphrase=passphrase or DEFAULT_PASSPHRASE)


@dataclass
class ProjectStack:
    """One stack of this project, deployed through the engine."""

    name: str
    stack: auto.Stack
    #: Receives every line the CLI prints (default: nothing is printed).
    on_output: Optional[Callable[[str], None]] = None
    #: ``up`` runs the program in this process (see the module's docstring), not ``__main__.py``.
    inline: bool = True
    #: The project the stack belongs to (the app, or the platform).
    project: Project = APP

    def up(
        self,
        *,
        policy: bool = True,
        gate: Gate = "offline",
        config_file: Optional[Path] = None,
        **options: Any,
    ) -> auto.UpResult:
        """``pulumi up`` with the policy pack, gated before anything is created.

        The Automation API runs ``up --skip-preview``, where the pack judges each resource only as
        it is about to be created, after the ones before it. So a gate comes first: ``"offline"``
        (what ``make up`` does: the same pack over the same program under the API-server mocks;
        raises :class:`PolicyRefusedError`) or ``"preview"`` (what a plain ``pulumi up`` does: a
        preview with the pack; raises ``auto.CommandError``). With an inline program the offline
        gate runs while the engine starts, and the program registers nothing until it has passed.
        Before the ``up``, the pending creates of an interrupted ``up`` are adopted
        (:meth:`adopt_pending_creates`), as ``make up`` does.
        """
        if policy:
            options.setdefault("policy_packs", [str(POLICY_PACK)])
            options.setdefault("policy_pack_configs", [str(self.project.policy_config(self.name))])

        def automation_up(program: Optional[Callable[[], None]]) -> auto.UpResult:
            return self.stack.up(
                color="never",
                on_output=self.on_output,
                config_file=str(config_file) if config_file else None,
                program=program,
                **options,
            )

        return self._gated(
            automation_up, policy=policy, gate=gate, config_file=config_file, inline=self.inline, options=options
        )

    def apply(
        self,
        *,
        config_file: Optional[Path] = None,
        on_error: Optional[Callable[[str], None]] = None,
        exported: Optional[dict[str, Any]] = None,
        offline: Optional[OfflineGate] = None,
        parallel: Optional[int] = None,
    ) -> None:
        """``make up``'s engine step: :meth:`up` gated offline, the program inline, nothing read back.

        The same ``pulumi up --skip-preview`` with the policy pack, without the Automation API's
        ``stack output`` and ``stack history`` runs after it (see :mod:`deploy.inline`).
        ``exported``: the state as :meth:`export_state` gave it just before (else exported here);
        ``offline``: the stack's gate, already started (else started here).
        """
        workspace = self.stack.workspace
        assert isinstance(workspace, auto.LocalWorkspace)
        command, work_dir = workspace.pulumi_command, workspace.work_dir
        assert command is not None
        assert work_dir is not None
        args = ["up", "--yes", "--skip-preview", "--stack", self.name, "--color", "never"]
        args += ["--policy-pack", str(POLICY_PACK), "--policy-pack-config", str(self.project.policy_config(self.name))]
        if config_file is not None:
            args += ["--config-file", str(config_file)]
        if parallel is not None:  # the CLI's default: 8 resource operations at once
            args += ["--parallel", str(parallel)]

        def lean_up(program: Optional[Callable[[], None]]) -> None:
            assert program is not None
            run_inline(
                command,
                args,
                program=program,
                cwd=work_dir,
                env=dict(workspace.env_vars or {}),
                on_output=self.on_output,
                on_error=on_error,
            )

        self._gated(
            lean_up,
            policy=True,
            gate="offline",
            config_file=config_file,
            inline=True,
            options={},
            exported=exported,
            offline=offline,
        )

    def _gated(
        self,
        run_up: Callable[[Optional[Callable[[], None]]], _Result],
        *,
        policy: bool,
        gate: Gate,
        config_file: Optional[Path],
        inline: bool,
        options: Mapping[str, Any],
        exported: Optional[dict[str, Any]] = None,
        offline: Optional[OfflineGate] = None,
    ) -> _Result:
        """Gate, adopt pending creates, then ``run_up(program)`` (``None``: ``__main__.py``)."""
        if offline is None and policy and gate == "offline":
            offline = OfflineGate(self.name, config_file, self.project)
        try:
            with ThreadPoolExecutor(max_workers=1) as pool:
                # The state is exported meanwhile (unless it just was), for an interrupted up's pending creates.
                exporting = pool.submit(self.export_state if exported is None else lambda: exported)
                if policy and gate == "preview":
                    self.preview(
                        config_file=config_file,
                        policy_packs=options["policy_packs"],
                        policy_pack_configs=options["policy_pack_configs"],
                        replace=options.get("replace"),
                        refresh=options.get("refresh"),
                        expect_no_changes=options.get("expect_no_changes"),
                    )
                if offline is not None and not inline:
                    offline.wait()
                self.adopt_pending_creates(config_file=config_file, exported=exporting.result())
            return run_up(gated_program(offline, self.project) if inline else None)
        except auto.CommandError as error:
            if offline is not None and offline.refused:
                raise PolicyRefusedError(offline.output) from error
            raise
        finally:
            if offline is not None:
                offline.stop()

    def adopt_pending_creates(
        self, *, config_file: Optional[Path] = None, exported: Optional[dict[str, Any]] = None
    ) -> list[PendingCreate]:
        """Make the state whole after an interrupted ``up`` (see :mod:`deploy.pending`).

        The pending creates of Kubernetes objects become resources with their object IDs, then a
        refresh keeps those whose objects exist and drops the others (which the next ``up``
        creates). Returns what was adopted; does nothing but a ``stack export`` (or read
        ``exported``, one taken just before) when the last operation ended cleanly.
        """
        exported = exported or self.export_state()
        if not pending_creates(exported.get("deployment") or {}):
            return []
        deployment, adopted = adopt_pending_creates(exported.get("deployment") or {})
        # `stack import` clears every pending operation: the creates not adopted are dropped.
        self.import_state({**exported, "deployment": deployment})
        if adopted:
            self.stack.refresh(
                color="never",
                on_output=self.on_output,
                config_file=str(config_file) if config_file else None,
                show_secrets=False,
                suppress_outputs=True,
            )
        if self.on_output is not None:
            for create in adopted:
                self.on_output(
                    f"adopted the pending create of {create.urn} as {create.object_id} (kept if the refresh found it)"
                )
        return adopted

    def export_state(self) -> dict[str, Any]:
        """``pulumi stack export``: the state with its secrets as ciphertext.

        (The Automation API's ``export_stack`` asks for them in plaintext, and its ``import_stack``
        writes them so to a temporary file.)
        """
        return _export_state(self.stack.workspace, self.name)

    def import_state(self, state: Mapping[str, Any]) -> None:
        """``pulumi stack import`` of a state from :meth:`export_state` (pending operations cleared)."""
        with tempfile.TemporaryDirectory() as directory:
            path = Path(directory) / "state.json"
            path.write_text(json.dumps(state))
            self._cli("stack", "import", "--stack", self.name, "--file", str(path))

    def _cli(self, *args: str) -> str:
        """Run the stack's CLI in its workspace; its stdout."""
        return _run_cli(self.stack.workspace, *args)

    def preview(self, *, config_file: Optional[Path] = None, **options: Any) -> auto.PreviewResult:
        """``pulumi preview`` (same policy gate as ``up``)."""
        options.setdefault("policy_packs", [str(POLICY_PACK)])
        options.setdefault("policy_pack_configs", [str(self.project.policy_config(self.name))])
        return self.stack.preview(
            color="never",
            on_output=self.on_output,
            config_file=str(config_file) if config_file else None,
            **options,
        )

    def destroy(self, **options: Any) -> auto.DestroyResult:
        """``pulumi destroy``."""
        return self.stack.destroy(color="never", on_output=self.on_output, **options)

    def remove(self) -> None:
        """``pulumi stack rm --preserve-config``: the tracked stack file stays."""
        self.stack.workspace.remove_stack(self.name, preserve_config=True)

    def outputs(self) -> dict[str, Any]:
        """The stack's outputs as ``pulumi stack output --json`` gives them: secrets as ``[secret]``."""
        return {key: "[secret]" if value.secret else value.value for key, value in self.stack.outputs().items()}

    def urn_of(self, resource_type: str, name: str) -> str:
        """The URN of one of the stack's resources (e.g. ``random:index/randomPassword:RandomPassword``)."""
        for resource in self.export_state().get("deployment", {}).get("resources", []):
            if resource["type"] == resource_type and str(resource["urn"]).endswith(f"::{name}"):
                return str(resource["urn"])
        raise KeyError(f"stack {self.name} has no {resource_type} named {name}")


def gated_program(gate: Optional[OfflineGate], project: Project = APP) -> Callable[[], None]:
    """The project's program, inline, registering nothing before ``gate`` (if any) has passed.

    Like each ``__main__.py``, it waits for its own outputs at the end (:mod:`components.settle`).
    """
    run = project.load_program()

    def program() -> None:
        if gate is not None:
            gate.wait()
            # One line for the record (hack/benchmark_fleet.py reads it): the gate's cost to the up.
            line = f"{GATE_LINE} {gate.seconds:.2f} s; the program waited {gate.waited:.2f} s"
            print(line, file=sys.stderr, flush=True)
        run()
        settle_outputs_at_end()

    return program


def _run_cli(workspace: auto.Workspace, *args: str) -> str:
    """Run the workspace's CLI with ``args`` in its directory and environment; its stdout."""
    assert isinstance(workspace, auto.LocalWorkspace)
    assert workspace.pulumi_command is not None
    assert workspace.work_dir is not None
    return workspace.pulumi_command.run(list(args), workspace.work_dir, dict(workspace.env_vars or {})).stdout


def _export_state(workspace: auto.Workspace, stack: str) -> dict[str, Any]:
    """``pulumi stack export`` of ``stack`` (secrets as ciphertext), parsed."""
    return dict(json.loads(_run_cli(workspace, "stack", "export", "--stack", stack)))


class InstalledCli(auto.PulumiCommand):
    """The CLI the engine lookup found, at the version it checked.

    ``auto.PulumiCommand(root)`` runs ``pulumi version`` once more (0.16 s here); this one knows it.
    """

    def __init__(self, cli: Path, version: str) -> None:  # no super().__init__(): it runs the CLI
        self.command = str(cli)
        self.version = VersionInfo.parse(version.lstrip("v"))


def _workspace(
    engine: Engine,
    backend: Backend,
    kubeconfig: Optional[Path] = None,
    extra_env: Optional[Mapping[str, str]] = None,
    project: Project = APP,
) -> auto.LocalWorkspace:
    """The project's workspace in ``backend``, run by the engine's CLI."""
    if engine.cli is None:
        raise RuntimeError(engine.skip_reason())
    env = {
        **engine.env(),
        "PULUMI_BACKEND_URL": backend.url,
        "PULUMI_CONFIG_PASSPHRASE": backend.passphrase,
        **(extra_env or {}),
    }
    if kubeconfig is not None:
        env["KUBECONFIG"] = str(kubeconfig)
    return auto.LocalWorkspace(
        work_dir=str(project.directory), env_vars=env, pulumi_command=InstalledCli(engine.cli, required_cli_version())
    )


def open_stack(
    name: str,
    engine: Engine,
    backend: Backend,
    *,
    kubeconfig: Optional[Path] = None,
    extra_env: Optional[Mapping[str, str]] = None,
    on_output: Optional[Callable[[str], None]] = None,
    inline: bool = True,
    project: Project = APP,
) -> ProjectStack:
    """Select (or create) stack ``name`` of ``project`` (the app by default) in ``backend``; the engine's CLI runs it.

    ``inline``: ``up`` runs the program in this process (the default), else ``__main__.py``
    through the language host.
    """
    stack = auto.Stack.create_or_select(name, _workspace(engine, backend, kubeconfig, extra_env, project))
    return ProjectStack(name, stack, on_output, inline, project)


def make_up_engine_step(
    name: str,
    engine: Engine,
    backend: Backend,
    *,
    on_output: Optional[Callable[[str], None]] = None,
    on_error: Optional[Callable[[str], None]] = None,
    offline: Optional[OfflineGate] = None,
    config_file: Optional[Path] = None,
    project: Project = APP,
    parallel: Optional[int] = None,
) -> None:
    """``make up``'s engine step for stack ``name`` (:meth:`ProjectStack.apply`), from a cold start.

    The state is exported while the stack is selected (or created: then there is nothing to
    export yet, and it is exported after), one CLI run's time saved before the ``up``.
    ``offline``: the stack's gate, already started (else started here); ``config_file``: a copy of
    the stack file to take the config from (``pulumi up --config-file``); ``project``: the app, or
    the platform (``make platform-up``).
    """
    workspace = _workspace(engine, backend, project=project)
    with ThreadPoolExecutor(max_workers=1) as pool:
        exporting = pool.submit(_export_state, workspace, name)
        stack = ProjectStack(name, auto.Stack.create_or_select(name, workspace), on_output, project=project)
        try:
            exported: Optional[dict[str, Any]] = exporting.result()
        except auto.CommandError:  # no such stack before create_or_select
            exported = None
    stack.apply(on_error=on_error, exported=exported, offline=offline, config_file=config_file, parallel=parallel)


def config_copy(stack: str, directory: Path, overrides: Mapping[str, Any], project: Project = APP) -> Path:
    """A copy of ``project``'s ``Pulumi.<stack>.yaml`` with ``overrides`` (full keys), for ``config_file=``.

    The copy keeps the ``encryptionsalt``; the tracked file is left as it is.
    """
    document = yaml.safe_load(project.stack_file(stack).read_text())
    document.setdefault("config", {}).update(overrides)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"Pulumi.{stack}.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    os.chmod(path, 0o600)
    return path
