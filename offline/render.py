"""Write a stack's Kubernetes manifests, like ``helm template``: no cluster, no Pulumi CLI.

One YAML file per object, from the same program ``pulumi up`` runs, evaluated under the
API-server mocks. Manifests hold what the program asks for (inputs), never what the mocks
invented (cluster IPs, uids, status). Secret values are redacted: they are generated at
deploy time and never written to disk.

Usage: ``python -m offline.render --stack dev [--out build/manifests/dev]``
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path
from typing import Any

import yaml

from .apiserver_mocks import is_secret_value
from .evaluate import PROJECT_ROOT, Evaluation, RegisteredResource, evaluate_stack

REDACTED = "<redacted: secret, generated at deploy time>"
_FIRST_KEYS = ("apiVersion", "kind", "metadata")


def manifest_of(resource: RegisteredResource) -> dict[str, Any]:
    """The Kubernetes manifest a resource's inputs describe (secrets redacted, ints as ints)."""
    body = _clean(resource.inputs)
    if not isinstance(body, dict):
        raise TypeError(f"{resource.urn}: inputs are not an object")
    group_version, kind = resource.type.removeprefix("kubernetes:").rsplit(":", 1)
    group, version = group_version.split("/")
    body.setdefault("apiVersion", version if group == "core" else f"{group}/{version}")
    body.setdefault("kind", kind)
    ordered = {key: body[key] for key in _FIRST_KEYS if key in body}
    ordered.update((key, value) for key, value in body.items() if key not in ordered)
    return ordered


def manifests(evaluation: Evaluation) -> list[dict[str, Any]]:
    """Every Kubernetes object of an evaluation as a manifest, in registration order."""
    return [manifest_of(resource) for resource in evaluation.kubernetes_objects()]


def write_manifests(objects: list[dict[str, Any]], out_dir: Path) -> list[Path]:
    """Write one ``NN-kind-namespace-name.yaml`` per object into a fresh ``out_dir``."""
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    paths = []
    for index, obj in enumerate(objects, start=1):
        meta = obj.get("metadata", {})
        parts = [f"{index:02d}", obj["kind"].lower(), meta.get("namespace"), meta.get("name")]
        path = out_dir / ("-".join(str(part) for part in parts if part) + ".yaml")
        path.write_text(yaml.safe_dump(obj, sort_keys=False, default_flow_style=False))
        paths.append(path)
    return paths


def _clean(value: Any) -> Any:
    if is_secret_value(value):
        return _redact(value["value"])
    if isinstance(value, dict):
        # Stable, readable order: "name" first, then alphabetical (protobuf maps lose order).
        keys = sorted(value, key=lambda key: (key != "name", key))
        return {key: _clean(value[key]) for key in keys if value[key] is not None}
    if isinstance(value, list):
        return [_clean(item) for item in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _redact(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _redact(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_redact(item) for item in value]
    return REDACTED


def main(argv: list[str] | None = None) -> int:
    """CLI entry point: render one stack's manifests."""
    parser = argparse.ArgumentParser(prog="python -m offline.render", description=__doc__.splitlines()[0])
    parser.add_argument("--stack", required=True, help="stack name: dev, staging or prod")
    parser.add_argument("--out", type=Path, help="output directory (default build/manifests/<stack>)")
    options = parser.parse_args(argv)
    out_dir = options.out or PROJECT_ROOT / "build" / "manifests" / options.stack
    try:
        objects = manifests(evaluate_stack(options.stack))
    except Exception as error:
        print(f"render failed for stack {options.stack}: {error}", file=sys.stderr)
        return 1
    paths = write_manifests(objects, out_dir)
    kinds: dict[str, int] = {}
    for obj in objects:
        kinds[obj["kind"]] = kinds.get(obj["kind"], 0) + 1
    summary = ", ".join(f"{count} {kind}" for kind, count in kinds.items())
    print(f"stack {options.stack}: wrote {len(paths)} manifests to {out_dir} ({summary})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
