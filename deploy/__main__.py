"""``python -m deploy``: the Pulumi engine on this machine, and ``make up``'s engine step.

- ``python -m deploy``: report the engine (exit 2 when a part is missing);
- ``python -m deploy --path``: the PATH the engine runs with (for ``hack/stack.sh``), or the
  report of what is missing (exit 2);
- ``python -m deploy up STACK``: the policy-gated ``pulumi up`` of STACK, program inline (see
  :mod:`deploy.stack`); exit 1 when the gate refuses it (nothing deployed) or the ``up`` fails;
- ``python -m deploy adopt-pending STACK``: make the state of STACK whole again after an
  interrupted ``up`` (:mod:`deploy.pending`; ``up`` does it first anyway).

STACK lives in ``$PULUMI_BACKEND_URL`` with passphrase ``$PULUMI_CONFIG_PASSPHRASE``; the cluster
is ``$KUBECONFIG``'s unless the stack configures its own.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING

# Light imports only up here: `up` starts the policy gate before the SDK is loaded (deploy.stack).
from .engine import find_engine, main
from .gate import OfflineGate, PolicyRefusedError

if TYPE_CHECKING:
    from .stack import Backend


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m deploy", description=__doc__.split("\n")[0])
    parser.add_argument("--path", action="store_true", help="print the PATH the engine runs with")
    commands = parser.add_subparsers(dest="command")
    up = commands.add_parser("up", help="policy-gated pulumi up of STACK (program inline)")
    up.add_argument("stack")
    adopt = commands.add_parser("adopt-pending", help="adopt the pending creates of an interrupted up")
    adopt.add_argument("stack")
    return parser


def _backend() -> Backend:
    from .stack import DEFAULT_PASSPHRASE, Backend

    return Backend(
        url=os.environ["PULUMI_BACKEND_URL"],
        passphrase=os.environ.get("PULUMI_CONFIG_PASSPHRASE", DEFAULT_PASSPHRASE),
    )


def _up(stack: str) -> int:
    offline = OfflineGate(stack)  # first: it runs while the SDK loads and the engine starts
    engine = find_engine()
    if not engine.complete:
        offline.stop()
        print(f"the Pulumi engine is incomplete; nothing was deployed:\n{engine.report()}", file=sys.stderr)
        return 2
    from pulumi import automation as auto

    from .stack import make_up_engine_step

    try:
        make_up_engine_step(
            stack,
            engine,
            _backend(),
            on_output=lambda line: print(line, flush=True),
            on_error=lambda line: print(line, file=sys.stderr, flush=True),
            offline=offline,
        )
    except PolicyRefusedError as refused:
        print(f"{refused}\n\nstack {stack} refused by the policy pack: nothing was deployed", file=sys.stderr)
        return 1
    except auto.CommandError:
        print(f"pulumi up of stack {stack} failed (its output is above)", file=sys.stderr)
        return 1
    finally:
        offline.stop()  # when the up failed before it asked for the verdict
    return 0


def _adopt_pending(stack: str) -> int:
    from .stack import open_stack

    adopting = open_stack(stack, find_engine(), _backend(), on_output=lambda line: print(line, flush=True))
    adopting.adopt_pending_creates()  # prints what it adopted
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
    sys.exit(_up(arguments.stack))
if arguments.command == "adopt-pending":
    sys.exit(_adopt_pending(arguments.stack))
sys.exit(main())
