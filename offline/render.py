"""Write a stack's Kubernetes manifests, like ``helm template``: no cluster, no Pulumi CLI.

One YAML file per object, from the same program ``pulumi up`` runs, evaluated under the
API-server mocks. Manifests hold what the program asks for (inputs), never what the mocks
invented (cluster IPs, uids, status). Secret values are redacted: they are generated at
deploy time and never written to disk.

Usage: ``python -m offline.render --stack dev [--project-dir DIR] [--out DIR] [--stack-config COPY]``: the project
defaults to the working directory's (this repository's when run from it); the output to
``<project>/build/manifests/<stack>``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

from .manifests import REDACTED, manifest_of, manifests, write_manifests
from .project import PulumiProject, find_project

__all__ = ["REDACTED", "main", "manifest_of", "manifests", "write_manifests"]


def main(argv: list[str] | None = None) -> int:
    """CLI entry point: render one stack's manifests."""
    parser = argparse.ArgumentParser(prog="python -m offline.render", description=__doc__.splitlines()[0])
    parser.add_argument("--stack", required=True, help="stack name, e.g. dev (its Pulumi.<stack>.yaml is read)")
    parser.add_argument("--project-dir", type=Path, help="directory of Pulumi.yaml (default: found from the cwd)")
    parser.add_argument("--out", type=Path, help="output directory (default <project>/build/manifests/<stack>)")
    parser.add_argument(
        "--stack-config", type=Path, help="a copy of the stack file to take the config from (`pulumi up --config-file`)"
    )
    options = parser.parse_args(argv)
    try:
        project = PulumiProject.load(options.project_dir) if options.project_dir else find_project()
        overrides = (
            (yaml.safe_load(options.stack_config.read_text()) or {}).get("config") if options.stack_config else None
        )
        objects = manifests(project.evaluate(options.stack, overrides))
    except Exception as error:
        print(f"render failed for stack {options.stack}: {error}", file=sys.stderr)
        return 1
    out_dir = options.out or project.directory / "build" / "manifests" / options.stack
    paths = write_manifests(objects, out_dir)
    kinds: dict[str, int] = {}
    for obj in objects:
        kinds[obj["kind"]] = kinds.get(obj["kind"], 0) + 1
    summary = ", ".join(f"{count} {kind}" for kind, count in kinds.items())
    print(f"stack {options.stack}: wrote {len(paths)} manifests to {out_dir} ({summary})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
