"""An evaluation's Kubernetes objects as manifests, like ``helm template``: what the program asks for.

Manifests hold the registered inputs, never what the mocks invented (cluster IPs, uids,
status). Secret values are redacted: they are generated at deploy time and never written to
disk. Numbers Pulumi hands over as floats are written as integers when they are whole.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import yaml

from .apiserver_mocks import is_secret_value
from .recording import Evaluation, RegisteredResource

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
    """Write one ``NN-kind-namespace-name.yaml`` per object into a fresh ``out_dir``.

    ``NN`` is the object's place, zero-padded to the count's width (at least two digits), so the
    files' lexical order (``kubectl apply -f DIR``'s) is the program's: a Namespace before its objects.
    """
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    paths = []
    width = max(2, len(str(len(objects))))
    for index, obj in enumerate(objects, start=1):
        meta = obj.get("metadata", {})
        parts = [f"{index:0{width}d}", obj["kind"].lower(), meta.get("namespace"), meta.get("name")]
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
