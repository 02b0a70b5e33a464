"""``python -m deploy``: the Pulumi engine on this machine, and ``make up``'s engine step.

- ``python -m deploy``: report the engine (exit 2 when a part is missing);
- ``python -m deploy --path``: the PATH the engine runs with (for ``hack/stack.sh``), or the
  report of what is missing (exit 2);
- ``python -m deploy up STACK [--project fleet] [--skip-checkpoints] [--adopt-existing]``: the
  policy-gated ``pulumi up`` of STACK (the app's, or the fleet's: ``examples/fleet``), program
  inline (see :mod:`deploy.stack`; the two flags: :mod:`deploy.up_options`); exit 1 when the gate
  refuses it (nothing deployed) or the ``up`` fails, after the CLI's own words and the way out (a
  locked stack, a state backend gone, objects that exist but the state lacks);
- ``python -m deploy adopt-pending STACK``: make the state of STACK whole again after an
  interrupted ``up`` (:mod:`deploy.pending`; ``up`` does it first anyway);
- ``python -m deploy migrate STACK --from URL``: move STACK from the backend at URL to
  ``$PULUMI_BACKEND_URL`` (:mod:`deploy.migrate`).

STACK lives in ``$PULUMI_BACKEND_URL`` with passphrase ``$PULUMI_CONFIG_PASSPHRASE``; the cluster
is ``$KUBECONFIG``'s unless the stack configures its own.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

# Light imports only up here: `up` starts the policy gate before the SDK is loaded (deploy.stack).
from .backend_watch import BackendWatch, grace_seconds, watching_backend
from .cli_failure import unshown_words, way_out
from .engine import find_engine, main
from .gate import OfflineGate, PolicyRefusedError
from .projects import APP, PROJECTS, Project
from .up_options import UpOptions, up_options

if TYPE_CHECKING:
    from .stack import Backend


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m deploy", description=__doc__.split("\n")[0])
    parser.add_argument("--path", action="store_true", help="print the PATH the engine runs with")
    commands = parser.add_subparsers(dest="command")
    up = commands.add_parser("up", help="policy-gated pulumi up of STACK (program inline)")
    up.add_argument("stack")
    up.add_argument("--config-file", type=Path, help="the stack's config from this copy of its stack file")
    up.add_argument("--project", choices=sorted(PROJECTS), default=APP.name, help="the project (default threetier)")
    up.add_argument(
        "--parallel",
        type=int,
        help="resource operations at once, 1-256 (pulumi up --parallel; CLI default: 4 per core)",
    )
    up.add_argument(
        "--skip-checkpoints", action="store_true", help="write the state once, at the end (PULUMI_SKIP_CHECKPOINTS)"
    )
    up.add_argument(
        "--adopt-existing",
        action="store_true",
        help="take over objects that already exist (PULUMI_K8S_UPSERT_EXISTING_OBJECTS): after a killed up",
    )
    adopt = commands.add_parser("adopt-pending", help="adopt the pending creates of an interrupted up")
    adopt.add_argument("stack")
    migrate = commands.add_parser("migrate", help="move STACK from the backend at --from to $PULUMI_BACKEND_URL")
    migrate.add_argument("stack")
    migrate.add_argument("--from", dest="source", required=True, help="the backend URL the stack is in now")
    migrate.add_argument("--backup-dir", type=Path, help="where to keep the moved state (secrets stay encrypted)")
    return parser


def _backend() -> Backend:
    from .stack import DEFAULT_PASSPHRASE, Backend

    return Backend(
        url=os.environ["PULUMI_BACKEND_URL"],
        passphrase=os.environ.get("PULUMI_CONFIG_PASSPHRASE", DEFAULT_PASSPHRASE),
    )


def _up(
    stack: str,
    config_file: Path | None = None,
    project: Project = APP,
    flags: UpOptions | None = None,
) -> int:
    try:
        grace_seconds()  # bad input stops here, before anything runs
        options = up_options(os.environ, flags or UpOptions())
    except ValueError as error:
        print(error, file=sys.stderr)
        return 2
    os.environ.update(options.environment())  # the CLI and the providers it starts inherit them
    for notice in options.notices():
        print(notice, flush=True)
    offline = OfflineGate(stack, config_file, project)  # first: it runs while the SDK loads and the engine starts
    engine = find_engine()
    if not engine.complete:
        offline.stop()
        print(f"the Pulumi engine is incomplete; nothing was deployed:\n{engine.report()}", file=sys.stderr)
        return 2
    from pulumi import automation as auto

    from .stack import make_up_engine_step

    shown: list[str] = []  # every line printed, so a failure adds only what the CLI said unseen

    def show(line: str, stream: TextIO = sys.stdout) -> None:
        shown.append(line)
        print(line, file=stream, flush=True)

    backend = _backend()
    watch: BackendWatch | None = None
    try:
        with watching_backend(backend.url, engine.cli) as watch:
            make_up_engine_step(
                stack,
                engine,
                backend,
                on_output=show,
                on_error=lambda line: show(line, sys.stderr),
                offline=offline,
                config_file=config_file,
                project=project,
                parallel=options.parallel,
            )
    except PolicyRefusedError as refused:
        print(f"{refused}\n\nstack {stack} refused by the policy pack: nothing was deployed", file=sys.stderr)
        return 1
    except auto.CommandError as error:
        words = unshown_words(error, shown)
        for line in words:
            print(line, file=sys.stderr)
        lost = watch is not None and watch.lost_after is not None
        advice = way_out(
            stack, "\n".join([*shown, *words]), os.environ.get("THREETIER_BACKEND", "local"), backend_gone=lost
        )
        print(f"\npulumi up of stack {stack} failed (the CLI's words are above)", file=sys.stderr)
        if watch is not None and watch.lost_after is not None:
            host, port = watch.address
            print(
                f"the state server at {host}:{port} did not answer for {watch.lost_after:.0f} s, so the up was "
                "interrupted instead of waiting out the CLI's retries (minutes; THREETIER_STATE_GRACE sets the wait)",
                file=sys.stderr,
            )
        if advice:
            print(advice, file=sys.stderr)
        return 1
    finally:
        offline.stop()  # when the up failed before it asked for the verdict
    return 0


def _adopt_pending(stack: str) -> int:
    from .stack import open_stack

    adopting = open_stack(stack, find_engine(), _backend(), on_output=lambda line: print(line, flush=True))
    adopting.adopt_pending_creates()  # prints what it adopted
    return 0


def _migrate(stack: str, source: str, backup_dir: Path | None) -> int:
    from .migrate import MigrationError, migrate_environment
    from .stack import Backend

    target = _backend()
    try:
        migrate_environment(
            stack,
            find_engine(),
            Backend(source, target.passphrase),
            target,
            backup_dir=backup_dir,
            on_output=lambda line: print(line, flush=True),
        )
    except MigrationError as error:
        print(f"make state-migrate STACK={stack}: {error}", file=sys.stderr)
        return 1
    return 0


def _path() -> int:
    engine = find_engine()
    if not engine.complete:
        print(f"the Pulumi engine is incomplete:\n{engine.report()}", file=sys.stderr)
        return 2
    print(engine.path())
    return 0


arguments = _parser().parse_args()
if arguments.path:
    sys.exit(_path())
if arguments.command == "up":
    sys.exit(
        _up(
            arguments.stack,
            arguments.config_file,
            PROJECTS[arguments.project],
            UpOptions(arguments.skip_checkpoints, arguments.adopt_existing, arguments.parallel),
        )
    )
if arguments.command == "adopt-pending":
    sys.exit(_adopt_pending(arguments.stack))
if arguments.command == "migrate":
    sys.exit(_migrate(arguments.stack, arguments.source, arguments.backup_dir))
sys.exit(main())
