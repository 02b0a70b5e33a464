"""CLI: ``python -m verify --stack dev [--outputs file.json] [--kubeconfig PATH] [--json] [--dns-server host:port]``.

``--fleet``: the outputs are a fleet's (``examples/fleet``: one output per app, each an app's
outputs); every app is verified (:mod:`verify.fleet`).

``--kubeconfig`` is what the verifier reads the cluster with (the admin's, by default
``$KUBECONFIG``); the ``access`` checks ask as the environment's deployer, whose kubeconfig comes
from ``--deployer-kubeconfig PATH`` or else from the secret ``kubeconfig`` output of the platform
stack the stack names (``platformStack``), read into memory through ``pulumi stack output``.

Exit status 0 only when no check failed (skipped checks are shown with their reason); 2 on bad
input (missing outputs, unusable kubeconfig).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any, Optional

import yaml

from .access import (
    NO_PLATFORM_STACK,
    AccessReviewer,
    DeployerKubeconfigError,
    LiveAccessReviewer,
    deployer_kubeconfig_from_stack,
)
from .cluster import LiveCluster
from .fleet import fleet_outputs, verify_fleet
from .model import StackOutputs, Status
from .report import print_table, to_json
from .runner import VerifyOptions, verify


class UsageError(Exception):
    """Something the user can fix: a missing file, no pulumi, an unreadable kubeconfig."""


def read_outputs(stack: str, outputs_file: Optional[Path]) -> dict[str, Any]:
    """Stack outputs from a JSON file, or from ``pulumi stack output --json``."""
    try:
        if outputs_file is not None:
            loaded: dict[str, Any] = json.loads(outputs_file.read_text())
            return loaded
        completed = subprocess.run(
            ["pulumi", "stack", "output", "--json", "--stack", stack], capture_output=True, text=True, check=False
        )
    except FileNotFoundError as error:
        raise UsageError(f"{error.filename}: not found (pass --outputs FILE, or put pulumi on PATH)") from error
    except json.JSONDecodeError as error:
        raise UsageError(f"{outputs_file}: not JSON ({error})") from error
    if completed.returncode != 0:
        raise UsageError(f"pulumi stack output failed for stack {stack}: {completed.stderr.strip()}")
    parsed: dict[str, Any] = json.loads(completed.stdout)
    return parsed


def connect(kubeconfig: Optional[str], context: Optional[str]) -> LiveCluster:
    """The live cluster, or a UsageError naming what is wrong with the kubeconfig."""
    from kubernetes.config.config_exception import ConfigException

    try:
        return LiveCluster(kubeconfig, context)
    except (ConfigException, OSError) as error:
        raise UsageError(f"cannot use kubeconfig {kubeconfig or '$KUBECONFIG/~/.kube/config'}: {error}") from error


def deployer_identity(
    outputs: StackOutputs, kubeconfig_file: Optional[Path]
) -> tuple[Optional[AccessReviewer], Optional[str]]:
    """The deployer to ask as (access checks), or None and why there is none."""
    try:
        if kubeconfig_file is not None:
            return LiveAccessReviewer(yaml.safe_load(kubeconfig_file.read_text())), None
        if outputs.platform_stack:
            return LiveAccessReviewer(deployer_kubeconfig_from_stack(outputs.platform_stack)), None
    except (DeployerKubeconfigError, OSError, yaml.YAMLError, ValueError, TypeError) as error:
        return None, f"cannot read the deployer's kubeconfig: {error}"
    return None, NO_PLATFORM_STACK


def main(argv: Optional[list[str]] = None) -> int:
    """Verify one deployed stack; print a table or JSON; exit 1 on any failed check."""
    parser = argparse.ArgumentParser(prog="python -m verify", description="Post-deploy verification of a stack.")
    parser.add_argument("--stack", required=True)
    parser.add_argument("--outputs", type=Path, help="JSON file of stack outputs (default: pulumi stack output --json)")
    parser.add_argument("--kubeconfig", help="kubeconfig path (default: $KUBECONFIG or ~/.kube/config)")
    parser.add_argument("--context", help="kubeconfig context")
    parser.add_argument("--dns-server", help="host:port of the cluster DNS to query directly (e.g. 127.0.0.1:1053)")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for endpoints / LB ingress")
    parser.add_argument("--probe-image", default="busybox:1.36.1", help="image of the short-lived probe pods")
    parser.add_argument(
        "--outside-namespace",
        default="default",
        help="namespace of the probe pod that stands for a pod outside the stack (isolation checks)",
    )
    parser.add_argument(
        "--deployer-kubeconfig",
        type=Path,
        help="kubeconfig of the environment's deployer for the access checks (default: the platform stack's output)",
    )
    parser.add_argument("--json", action="store_true", help="print a JSON report instead of the table")
    parser.add_argument("--fleet", action="store_true", help="the outputs are a fleet's: verify every app")
    options = parser.parse_args(argv)
    verify_options = VerifyOptions(
        dns_server=options.dns_server,
        settle_timeout=options.timeout,
        probe_image=options.probe_image,
        outside_namespace=options.outside_namespace,
    )

    try:
        raw = read_outputs(options.stack, options.outputs)
        if options.fleet:
            apps = fleet_outputs(options.stack, raw)
        else:
            outputs = StackOutputs.from_json(options.stack, raw)
        cluster = connect(options.kubeconfig, options.context)
    except (UsageError, ValueError) as error:
        print(f"verify: {error}", file=sys.stderr)
        return 2
    if options.fleet:
        cluster.close()  # each app's verification connects on its own
        results = verify_fleet(apps, lambda: connect(options.kubeconfig, options.context), verify_options)
    else:
        deployer, deployer_unavailable = deployer_identity(outputs, options.deployer_kubeconfig)
        results = verify(outputs, cluster, verify_options, deployer=deployer, deployer_unavailable=deployer_unavailable)
    if options.json:
        print(to_json(options.stack, results))
    else:
        print_table(options.stack, results)
    return 1 if any(item.status is Status.FAILED for item in results) else 0


if __name__ == "__main__":
    sys.exit(main())
