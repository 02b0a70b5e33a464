"""``make fleet-up``'s config: ``python -m deploy.fleet config STACK APPS DIR``.

Writes a copy of ``examples/fleet/Pulumi.<STACK>.yaml`` with ``fleet:apps`` set to APPS into DIR
and prints its path (``pulumi up --config-file``: the tracked stack file is never written). A bad
APPS is refused here, naming the key and the allowed values, before a cluster or the engine is
touched (exit 2).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Optional

from .projects import FLEET


def main(argv: Optional[list[str]] = None) -> int:
    """CLI entry point."""
    parser = argparse.ArgumentParser(prog="python -m deploy.fleet", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    config = commands.add_parser("config", help="a copy of the fleet's stack file with fleet:apps set")
    config.add_argument("stack")
    config.add_argument("apps")
    config.add_argument("directory", type=Path)
    options = parser.parse_args(argv)
    from examples.fleet.fleet import parse_apps

    apps, problems = parse_apps(options.apps)
    if problems:
        for problem in problems:
            print(f"APPS={options.apps}: {problem.key}: {problem.message}; nothing was deployed", file=sys.stderr)
        return 2
    if not FLEET.stack_file(options.stack).is_file():
        print(f"unknown fleet stack {options.stack!r}: no {FLEET.stack_file(options.stack)}", file=sys.stderr)
        return 2
    from .stack import config_copy

    print(config_copy(options.stack, options.directory, {"fleet:apps": apps}, FLEET))
    return 0


if __name__ == "__main__":
    sys.exit(main())
