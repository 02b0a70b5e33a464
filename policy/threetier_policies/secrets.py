"""Secret-looking env vars come from Secrets (``valueFrom.secretKeyRef``), never plain values."""

from __future__ import annotations

import re

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)

from .k8s import containers, describe, pod_spec

DEFAULT_PATTERN = r"(PASSWORD|PASSWD|TOKEN|SECRET|API_?KEY|PRIVATE_?KEY|CREDENTIALS?)"


def _validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    spec = pod_spec(args.resource_type, args.props)
    if spec is None:
        return
    pattern = re.compile(str(args.get_config().get("namePattern", DEFAULT_PATTERN)), re.IGNORECASE)
    for container in containers(spec):
        for item in container.get("env") or []:
            name = str(item.get("name", ""))
            if pattern.search(name) and "value" in item and item.get("value") is not None:
                report_violation(
                    f"{describe(args.resource_type, args.props)}, container {container.get('name')}: env {name} "
                    "holds a plain value. Fix: store it in a Secret and use valueFrom.secretKeyRef.",
                    args.urn,
                )


no_plaintext_secrets_in_env = ResourceValidationPolicy(
    name="no-plaintext-secrets-in-env",
    description="Env vars named like secrets (PASSWORD, TOKEN, SECRET, ...) must come from secretKeyRef.",
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
