"""Ask the API server what an identity may do, as that identity: SelfSubjectAccessReview (``kubectl auth can-i``).

The ``access`` checks run with the deployer's kubeconfig (the platform stack's secret output),
read into memory only: the token is never written to disk or printed.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Optional, Protocol

#: Why a standalone program's stack (no platform stack) has no deployer to ask as.
NO_PLATFORM_STACK = "the stack names no platform stack (platformStack) and no --deployer-kubeconfig was given"


@dataclass(frozen=True)
class Access:
    """One question: may the identity ``verb`` ``group/resource`` (``name``) in ``namespace`` ("": cluster-wide)."""

    verb: str
    group: str
    resource: str
    namespace: str = ""
    name: str = ""

    def describe(self) -> str:
        """``create apps/deployments in threetier-dev``, as a reader says it."""
        what = f"{self.group}/{self.resource}" if self.group else self.resource
        if self.name:
            what += f" {self.name}"
        return f"{self.verb} {what} " + (f"in {self.namespace}" if self.namespace else "cluster-wide")


class AccessReviewer(Protocol):
    """Answers :class:`Access` questions for one identity."""

    identity: str

    def can_i(self, access: Access) -> tuple[bool, str]:
        """(allowed, the API server's reason)."""


class LiveAccessReviewer:
    """SelfSubjectAccessReviews through the ``kubernetes`` client, authenticated by a kubeconfig held in memory."""

    def __init__(self, kubeconfig: Mapping[str, Any]) -> None:
        from kubernetes import client, config

        configuration = client.Configuration()  # type: ignore[no-untyped-call]
        config.load_kube_config_from_dict(dict(kubeconfig), client_configuration=configuration)  # type: ignore[no-untyped-call]
        self._api = client.AuthorizationV1Api(client.ApiClient(configuration))  # type: ignore[no-untyped-call]
        context: Mapping[str, Any] = next(
            (c for c in kubeconfig.get("contexts") or [] if c.get("name") == kubeconfig.get("current-context")), {}
        )
        self.identity = str((context.get("context") or {}).get("user") or "the kubeconfig's user")

    def can_i(self, access: Access) -> tuple[bool, str]:
        """Create a SelfSubjectAccessReview for ``access``; the API server's verdict."""
        from kubernetes import client

        attributes = client.V1ResourceAttributes(  # type: ignore[no-untyped-call]
            verb=access.verb,
            group=access.group,
            resource=access.resource,
            namespace=access.namespace or None,
            name=access.name or None,
        )
        spec = client.V1SelfSubjectAccessReviewSpec(resource_attributes=attributes)  # type: ignore[no-untyped-call]
        review = self._api.create_self_subject_access_review(client.V1SelfSubjectAccessReview(spec=spec))  # type: ignore[no-untyped-call]
        status = review.status
        if status is None:
            return False, "the API server returned no status"
        return bool(status.allowed), str(status.reason or status.evaluation_error or "")


class DeployerKubeconfigError(Exception):
    """The deployer's kubeconfig could not be read (the platform stack's output)."""


def deployer_kubeconfig_from_stack(
    platform_stack: str, *, cwd: Optional[str] = None, env: Optional[Mapping[str, str]] = None
) -> dict[str, Any]:
    """The ``kubeconfig`` secret output of ``platform_stack``, parsed, held in memory only.

    ``pulumi stack output --json --show-secrets`` prints it to our pipe, never to a terminal.
    ``env``: the CLI's environment (backend, passphrase), default this process's.
    """
    import yaml

    try:
        completed = subprocess.run(
            ["pulumi", "stack", "output", "--json", "--show-secrets", "--stack", platform_stack],
            capture_output=True,
            text=True,
            check=False,
            cwd=cwd,
            env=dict(env) if env is not None else None,
        )
    except FileNotFoundError as error:
        raise DeployerKubeconfigError(f"{error.filename}: not found (put pulumi on PATH)") from error
    if completed.returncode != 0:
        raise DeployerKubeconfigError(f"pulumi stack output --stack {platform_stack}: {completed.stderr.strip()}")
    kubeconfig = json.loads(completed.stdout or "{}").get("kubeconfig")
    if not isinstance(kubeconfig, str):
        raise DeployerKubeconfigError(f"platform stack {platform_stack} exports no kubeconfig")
    loaded: dict[str, Any] = yaml.safe_load(kubeconfig)
    return loaded
