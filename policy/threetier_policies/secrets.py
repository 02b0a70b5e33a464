"""Secrets stay out of env vars: no plain values, and Secrets only as mounted files.

No plain value in a secret-looking variable, and Secrets reach containers as mounted files
(never ``secretKeyRef``/``envFrom``), where env dumps, process listings and
``kubectl describe``-level debugging cannot show them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)

from .k8s import containers, describe, dig, pod_spec

DEFAULT_PATTERN = r"(PASSWORD|PASSWD|TOKEN|SECRET|API_?KEY|PRIVATE_?KEY|CREDENTIALS?)"


def _names_a_file(name: str, value: object) -> bool:
    """``DB_PASSWORD_FILE=/etc/secrets/...``: the variable carries a mounted file's path, not a secret."""
    return name.upper().endswith("_FILE") and isinstance(value, str) and value.startswith("/")


def _validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    spec = pod_spec(args.resource_type, args.props)
    if spec is None:
        return
    pattern = re.compile(str(args.get_config().get("namePattern", DEFAULT_PATTERN)), re.IGNORECASE)
    for container in containers(spec):
        for item in container.get("env") or []:
            name = str(item.get("name", ""))
            value = item.get("value")
            if pattern.search(name) and value is not None and not _names_a_file(name, value):
                report_violation(
                    f"{describe(args.resource_type, args.props)}, container {container.get('name')}: env {name} "
                    "holds a plain value. Fix: store it in a Secret, mount it as a read-only file and pass the "
                    "file's path (e.g. DB_PASSWORD_FILE).",
                    args.urn,
                )


no_plaintext_secrets_in_env = ResourceValidationPolicy(
    name="no-plaintext-secrets-in-env",
    description="Env vars named like secrets (PASSWORD, TOKEN, SECRET, ...) never hold plain values.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=_validate,
    config_schema=PolicyConfigSchema(
        properties={
            "namePattern": {
                "type": "string",
                "default": DEFAULT_PATTERN,
                "description": "Case-insensitive regex of env var names that hold secrets.",
            }
        }
    ),
)


def _secret_env_sources(container: Mapping[str, Any]) -> list[str]:
    """How a container takes Secrets into its environment: ``env NAME``/``envFrom SECRET`` entries."""
    found = [
        f"env {item.get('name')} (secretKeyRef {dig(item, 'valueFrom', 'secretKeyRef', 'name')})"
        for item in container.get("env") or []
        if dig(item, "valueFrom", "secretKeyRef") is not None
    ]
    found += [
        f"envFrom secretRef {dig(item, 'secretRef', 'name')}"
        for item in container.get("envFrom") or []
        if dig(item, "secretRef") is not None
    ]
    return found


def _validate_files(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    spec = pod_spec(args.resource_type, args.props)
    if spec is None:
        return
    for container in containers(spec):
        sources = _secret_env_sources(container)
        if sources:
            report_violation(
                f"{describe(args.resource_type, args.props)}, container {container.get('name')}: "
                f"{', '.join(sources)} puts a Secret into the environment. Fix: mount the Secret as a "
                "read-only volume and pass the file's path in an env var (e.g. DB_PASSWORD_FILE).",
                args.urn,
            )


secrets_as_files = ResourceValidationPolicy(
    name="secrets-as-files",
    description="Containers read Secrets from mounted files, never from env vars (secretKeyRef, envFrom).",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=_validate_files,
)
