"""Reconcile a ``--policy-pack-config`` file with the pack's declared policies, as the engine does.

For each policy: its declared enforcement level and the defaults of its config schema, then
the pack's initial config, then the file (``"all"`` applies to every policy). Values are
validated against the policy's JSON schema; an unknown policy name or a bad value is an error.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jsonschema
from google.protobuf import json_format
from pulumi.runtime.proto import analyzer_pb2

LEVELS = {
    "advisory": analyzer_pb2.ADVISORY,
    "mandatory": analyzer_pb2.MANDATORY,
    "disabled": analyzer_pb2.DISABLED,
    "remediate": analyzer_pb2.REMEDIATE,
}


class PolicyConfigError(ValueError):
    """The policy pack config file is invalid (unknown policy, bad level, value against the schema)."""


def load_config_file(path: Path) -> dict[str, Any]:
    """Read a ``--policy-pack-config`` JSON file."""
    try:
        loaded = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise PolicyConfigError(f"{path}: {error}") from error
    if not isinstance(loaded, dict):
        raise PolicyConfigError(f"{path}: expected a JSON object of policy name -> level or settings")
    return loaded


def _split(value: Any, where: str) -> tuple[int | None, dict[str, Any]]:
    if isinstance(value, str):
        if value not in LEVELS:
            raise PolicyConfigError(f"{where}: enforcement level {value!r}; allowed: {', '.join(LEVELS)}")
        return LEVELS[value], {}
    if isinstance(value, Mapping):
        properties = {k: v for k, v in value.items() if k != "enforcementLevel"}
        level = value.get("enforcementLevel")
        if level is None:
            return None, properties
        return _split(level, where)[0], properties
    raise PolicyConfigError(f"{where}: expected an enforcement level or an object")


def reconcile(info: analyzer_pb2.AnalyzerInfo, file_config: Mapping[str, Any]) -> analyzer_pb2.ConfigureAnalyzerRequest:
    """The ``Configure`` request the engine would send for ``file_config``."""
    names = {policy.name for policy in info.policies}
    unknown = sorted(set(file_config) - names - {"all"})
    if unknown:
        raise PolicyConfigError(
            f"unknown policies in config: {', '.join(unknown)}; the pack has {', '.join(sorted(names))}"
        )
    all_level, _ = _split(file_config["all"], "all") if "all" in file_config else (None, {})
    request = analyzer_pb2.ConfigureAnalyzerRequest()
    for policy in info.policies:
        schema = json_format.MessageToDict(policy.configSchema.properties) if policy.HasField("configSchema") else {}
        required = list(policy.configSchema.required) if policy.HasField("configSchema") else []
        level: int = policy.enforcementLevel
        properties = {key: spec["default"] for key, spec in schema.items() if "default" in spec}
        if policy.name in info.initialConfig:
            initial = info.initialConfig[policy.name]
            level = initial.enforcementLevel or level
            properties.update(json_format.MessageToDict(initial.properties))
        if all_level is not None:
            level = all_level
        if policy.name in file_config:
            file_level, file_properties = _split(file_config[policy.name], policy.name)
            level = file_level if file_level is not None else level
            properties.update(file_properties)
        if schema:
            try:
                jsonschema.validate(properties, {"type": "object", "properties": schema, "required": required})
            except jsonschema.ValidationError as error:
                raise PolicyConfigError(f"{policy.name}: {error.message}") from error
        elif properties:
            raise PolicyConfigError(f"{policy.name}: takes no settings, got {', '.join(properties)}")
        config = analyzer_pb2.PolicyConfig(enforcementLevel=level)  # type: ignore[arg-type]
        config.properties.update(properties)
        request.policyConfig[policy.name].CopyFrom(config)
    return request
