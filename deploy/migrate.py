"""Move a stack from one state backend to another: ``make state-migrate STACK=s`` (file -> PostgreSQL).

``pulumi stack export`` from the source (secrets stay ciphertext), ``stack init`` + ``stack import``
in the target (the tracked stack file keeps the secrets provider's salt and the config, so the
ciphertext stays readable and nothing is re-encrypted), a check that the target holds exactly the
source's resources, a backup of the moved state, then ``stack rm --force --preserve-config`` in the
source: afterwards the stack lives in one backend only, and ``make up`` there changes nothing.

:func:`migrate_environment` moves an environment: its platform stack first (``threetier-platform``,
when the source has one), then the app stack, whose ``StackReference`` must resolve in the backend
it lives in.

Refused, with nothing changed: a source stack that is locked (an ``up`` running) or holds pending
operations (an interrupted ``up``: ``make up`` adopts them first), and a target that already has
the stack with resources.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from pulumi import automation as auto

from .cli_failure import cli_output, masked
from .engine import Engine
from .projects import APP, PLATFORM, Project
from .stack import Backend, _run_cli, _workspace


class MigrationError(RuntimeError):
    """The stack could not be moved; nothing was changed."""


@dataclass(frozen=True)
class Migrated:
    """What :func:`migrate_stack` did."""

    #: Resources in the moved state (the stack itself included); 0 when there was nothing to move.
    resources: int
    #: The moved state, as exported from the source (secrets encrypted), when a backup was asked for.
    backup: Optional[Path]


def migrate_stack(
    stack: str,
    engine: Engine,
    source: Backend,
    target: Backend,
    *,
    backup_dir: Optional[Path] = None,
    on_output: Optional[Callable[[str], None]] = None,
    project: Project = APP,
) -> Migrated:
    """Move ``stack`` of ``project`` from ``source`` to ``target`` (see the module's docstring)."""
    say = on_output or (lambda _line: None)
    if source.url == target.url:
        raise MigrationError(f"the source and the target are the same backend ({masked(source.url)})")
    source_ws = _workspace(engine, source, project=project)
    target_ws = _workspace(engine, target, project=project)
    what = "stack" if project is APP else "platform stack"
    moving = _state(source_ws, stack)
    present = _state(target_ws, stack)
    where, there = masked(source.url), masked(target.url)
    if moving is None:
        if present is not None:
            say(f"{what} {stack} is not in {where} but already in {there} ({len(_resources(present))} resources)")
            return Migrated(0, None)
        raise MigrationError(f"no {what} {stack} in {where}: nothing to migrate")
    if _locks(source, stack, project):
        raise MigrationError(
            f"{what} {stack} is locked in {where} ({', '.join(_locks(source, stack, project))}): an up is running; "
            "migrate once it has ended (a stale lock: `make state-unlock STACK=...`)"
        )
    if (moving.get("deployment") or {}).get("pending_operations"):
        raise MigrationError(
            f"{what} {stack} has pending operations of an interrupted up in {where}: "
            f"`make up STACK={stack}` adopts them first; nothing was moved"
        )
    if present is not None and len(_resources(present)) > 0:
        raise MigrationError(
            f"{there} already has {what} {stack} with {len(_resources(present))} resources; nothing was moved. "
            f"Keep that one (`make up STACK={stack} BACKEND=postgres`), or remove it first "
            f"(`make down STACK={stack} BACKEND=postgres` destroys what it deployed)"
        )
    if present is None:
        _cli(target_ws, "stack", "init", stack)
    _import(target_ws, stack, moving)
    moved = _state(target_ws, stack)
    if moved is None or _by_urn(moved) != _by_urn(moving):
        raise MigrationError(
            f"the state imported into {there} differs from the one exported from {where}; the source is left "
            f"as it was (remove the copy with `pulumi stack rm {stack} --force --preserve-config` there)"
        )
    label = stack if project is APP else f"platform-{stack}"
    backup = _backup(backup_dir, label, moving) if backup_dir is not None else None
    _cli(source_ws, "stack", "rm", "--force", "--yes", "--preserve-config", stack)
    count = len(_resources(moving))
    say(f"moved {what} {stack} ({count} resources, secrets still encrypted) from {where} to {there}")
    if backup is not None:
        say(f"its state as it was exported is kept in {backup} (mode 0600)")
    return Migrated(count, backup)


def migrate_environment(
    stack: str,
    engine: Engine,
    source: Backend,
    target: Backend,
    *,
    backup_dir: Optional[Path] = None,
    on_output: Optional[Callable[[str], None]] = None,
) -> list[Migrated]:
    """Move environment ``stack``: its platform stack (when ``source`` has one), then its app stack.

    The platform goes first: were it left behind, the app's next ``up`` in ``target`` could not
    read it. A source with no platform stack (a standalone app) moves the app alone.
    """
    moved = []
    if _state(_workspace(engine, source, project=PLATFORM), stack) is not None:
        moved.append(
            migrate_stack(stack, engine, source, target, backup_dir=backup_dir, on_output=on_output, project=PLATFORM)
        )
    moved.append(migrate_stack(stack, engine, source, target, backup_dir=backup_dir, on_output=on_output))
    return moved


def _cli(workspace: auto.Workspace, *args: str) -> str:
    try:
        return _run_cli(workspace, *args)
    except auto.CommandError as error:
        stdout, stderr = cli_output(error)
        raise MigrationError(f"pulumi {' '.join(args)} failed: {masked((stderr or stdout).strip())}") from error


def _state(workspace: auto.Workspace, stack: str) -> Optional[dict[str, Any]]:
    """The stack's exported state, or ``None`` when the backend has no such stack."""
    try:
        return dict(json.loads(_run_cli(workspace, "stack", "export", "--stack", stack)))
    except auto.CommandError as error:
        if "no stack named" in str(error):
            return None
        stdout, stderr = cli_output(error)
        raise MigrationError(f"pulumi stack export {stack} failed: {masked((stderr or stdout).strip())}") from error


def _import(workspace: auto.Workspace, stack: str, state: dict[str, Any]) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "state.json"
        path.write_text(json.dumps(state))
        _cli(workspace, "stack", "import", "--stack", stack, "--file", str(path))


def _resources(state: dict[str, Any]) -> list[dict[str, Any]]:
    return list((state.get("deployment") or {}).get("resources") or [])


#: The key Pulumi marks a secret value with in a state file (its "signature").
SECRET_SIG = "4dabf18193072939515e22adb298388d"


def comparable(value: Any) -> Any:
    """``value`` with every secret's ciphertext blanked.

    An import encrypts each secret anew (a new nonce), so two copies of one state differ there and only there.
    """
    if isinstance(value, dict):
        if SECRET_SIG in value:
            return {SECRET_SIG: value[SECRET_SIG], "ciphertext": "..."}
        return {key: comparable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [comparable(item) for item in value]
    return value


def _by_urn(state: dict[str, Any]) -> dict[str, Any]:
    return {str(r["urn"]): comparable([r.get("id"), r.get("inputs"), r.get("outputs")]) for r in _resources(state)}


def _locks(backend: Backend, stack: str, project: Project = APP) -> list[str]:
    """Lock files of ``stack`` of ``project`` in a file backend (other backends: the CLI checks them itself)."""
    if not backend.url.startswith("file://"):
        return []
    directory = Path(backend.url.removeprefix("file://")) / ".pulumi" / "locks" / "organization" / project.name / stack
    return sorted(path.name for path in directory.glob("*.json")) if directory.is_dir() else []


def _backup(directory: Path, stack: str, state: dict[str, Any]) -> Path:
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = directory / f"{stack}-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}.json"
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as backup:
        json.dump(state, backup)
    return path
