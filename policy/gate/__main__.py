"""CLI: ``python -m policy.gate --resources resources.json --config policy/config/prod.json``.

``resources.json`` is a list of ``{"type", "urn", "name", "props"}``. Exit 1 on any
mandatory violation, 2 on an invalid config.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .analyzer import GateResource, run_gate
from .report import gate_exit_status


def main(argv: list[str] | None = None) -> int:
    """Run the gate over a JSON list of resources."""
    parser = argparse.ArgumentParser(prog="python -m policy.gate", description=__doc__.splitlines()[0])
    parser.add_argument("--resources", type=Path, required=True)
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--stack", default="stack")
    options = parser.parse_args(argv)
    try:
        resources = [
            GateResource(type=r["type"], urn=r["urn"], name=r["name"], props=r["props"], parent=r.get("parent", ""))
            for r in json.loads(options.resources.read_text())
        ]
    except (OSError, json.JSONDecodeError, KeyError, TypeError) as error:
        print(
            f"{options.resources}: expected a JSON list of {{type, urn, name, props}} objects ({error!r})",
            file=sys.stderr,
        )
        return 2
    return gate_exit_status(lambda: run_gate(resources, options.config), options.stack)


if __name__ == "__main__":
    sys.exit(main())
