"""The component package's schema as the provider serves it (``pulumi package get-schema ./package``), and a checker.

The schema is inferred in this process by the same provider ``package/__main__.py`` starts
(:class:`components.package.PackageProvider`), so ``make test`` needs no engine; the
integration suite compares it with what ``pulumi package get-schema`` prints.
"""

from __future__ import annotations

import json
import tomllib
from functools import cache
from typing import Any

from components.package import PackageProvider

from .stack_files import ROOT

_SCALARS: dict[str, type | tuple[type, ...]] = {"string": str, "integer": int, "number": (int, float), "boolean": bool}


def project_version() -> str:
    """The library's version (pyproject.toml), which the package carries."""
    return str(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"])


@cache
def schema() -> dict[str, Any]:
    """The package's schema, as the provider's GetSchema answers."""
    provider = PackageProvider(project_version())
    assert provider.schema is not None
    document: dict[str, Any] = json.loads(provider.schema)
    return document


def resolve(prop: dict[str, Any]) -> dict[str, Any]:
    """``prop``, or the object type its ``$ref`` names."""
    ref = prop.get("$ref")
    if ref is None:
        return prop
    resolved: dict[str, Any] = schema()["types"][ref.removeprefix("#/types/")]
    return resolved


def problems(value: Any, prop: dict[str, Any], path: str) -> list[str]:
    """Where ``value`` does not fit the schema property ``prop``: a missing or extra key, a wrong type."""
    prop = resolve(prop)
    kind = prop.get("type")
    if kind in _SCALARS:
        fits = isinstance(value, _SCALARS[kind]) and not (kind != "boolean" and isinstance(value, bool))
        return [] if fits else [f"{path}: {value!r} is not {kind}"]
    if kind == "array":
        if not isinstance(value, list):
            return [f"{path}: {value!r} is not an array"]
        return [found for i, item in enumerate(value) for found in problems(item, prop["items"], f"{path}[{i}]")]
    if kind != "object" or not isinstance(value, dict):
        return [f"{path}: {value!r} is not {kind}"]
    if "additionalProperties" in prop:
        return [
            found
            for key, item in value.items()
            for found in problems(item, prop["additionalProperties"], f"{path}.{key}")
        ]
    properties: dict[str, Any] = prop.get("properties", {})
    found = [f"{path}.{key}: not in the schema" for key in value if key not in properties]
    found += [f"{path}.{key}: missing" for key in prop.get("required", []) if value.get(key) is None]
    for key, item in value.items():
        if key in properties and item is not None:
            found += problems(item, properties[key], f"{path}.{key}")
    return found
