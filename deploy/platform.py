"""``python -m deploy.platform up|down|ensure|kubeconfig STACK``: an environment's platform stack.

The platform stack (``platform/``, project ``threetier-platform``) holds what the platform team
owns for one environment: its namespace, ResourceQuota, LimitRange and the deployer the app stack
deploys with. It runs with admin credentials (``$KUBECONFIG``, or its ``kubeconfig`` key).

- ``up``: the policy-gated ``pulumi up`` of the platform stack, program inline, like ``make up``'s
  engine step (the offline gate over the platform program with ``policy/config/platform.json``).
  First it checks that ``threetier-platform:apiServer`` (written into the deployer's kubeconfig)
  is the server of the admin kubeconfig it deploys with.
- ``ensure``: ``up`` only when the stack does not exist yet (or holds nothing): ``make up`` runs it
  first, so a newcomer's ``make up STACK=dev`` works from nothing.
- ``down``: refused while an app stack still deploys through this platform stack (destroying it
  would delete the namespace under the app and orphan its state); else ``pulumi destroy`` and
  ``pulumi stack rm --preserve-config``.
- ``kubeconfig``: the admin kubeconfig path the stack configures (empty: ``$KUBECONFIG``), for
  ``hack/stack.sh``.

Exit status: 0 done, 1 refused or failed (the CLI's own words above), 2 the engine is incomplete
or the configuration is wrong (nothing touched).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

import yaml

from .engine import find_engine
from .gate import OfflineGate, PolicyRefusedError
from .projects import APP, PLATFORM, Project

if TYPE_CHECKING:
    from .engine import Engine
    from .stack import Backend

#: The key of the API server written into the deployer's kubeconfig.
API_SERVER_KEY = f"{PLATFORM.name}:apiServer"
KUBECONFIG_KEY = f"{PLATFORM.name}:kubeconfig"


def platform_config(stack: str) -> dict[str, Any]:
    """The platform stack's config as the engine resolves it: ``Pulumi.yaml`` defaults, then the stack file."""
    project = yaml.safe_load((PLATFORM.directory / "Pulumi.yaml").read_text())
    values = {
        f"{PLATFORM.name}:{key}": declaration.get("default")
        for key, declaration in (project.get("config") or {}).items()
    }
    stack_file = PLATFORM.directory / "stacks" / f"Pulumi.{stack}.yaml"
    if stack_file.exists():
        values.update((yaml.safe_load(stack_file.read_text()) or {}).get("config") or {})
    return values


def configured_kubeconfig(stack: str) -> str:
    """The admin kubeconfig path the platform stack names (``threetier-platform:kubeconfig``); empty: none."""
    return str(platform_config(stack).get(KUBECONFIG_KEY) or "")


def api_server_mismatch(stack: str, kubeconfig: Optional[str]) -> Optional[str]:
    """Why the configured ``apiServer`` is not the admin kubeconfig's server (None when it is, or unknown)."""
    configured = str(platform_config(stack).get(API_SERVER_KEY) or "")
    path = configured_kubeconfig(stack) or kubeconfig
    if not path or not Path(path).is_file():
        return None
    document = yaml.safe_load(Path(path).read_text()) or {}
    contexts = {c["name"]: c.get("context") or {} for c in document.get("contexts") or []}
    context = str(platform_config(stack).get(f"{PLATFORM.name}:kubeContext") or document.get("current-context") or "")
    cluster_name = contexts.get(context, {}).get("cluster")
    servers = {c["name"]: (c.get("cluster") or {}).get("server") for c in document.get("clusters") or []}
    server = servers.get(cluster_name)
    if server is None or server == configured:
        return None
    return (
        f"{API_SERVER_KEY} is {configured!r} but the kubeconfig the platform deploys with ({path}, context "
        f"{context!r}) reaches the cluster at {server!r}: the deployer's kubeconfig would point elsewhere. Set "
        f"{API_SERVER_KEY} to {server!r} in platform/stacks/Pulumi.{stack}.yaml (or a copy: --config-file)"
    )


def _backend() -> Backend:
    from .stack import DEFAULT_PASSPHRASE, Backend

    return Backend(
        url=os.environ["PULUMI_BACKEND_URL"],
        passphrase=os.environ.get("PULUMI_CONFIG_PASSPHRASE", DEFAULT_PASSPHRASE),
    )


def stack_resources(project: Project, engine: Engine, backend: Backend) -> dict[str, int]:
    """Stack name -> resource count (0 when never deployed) of every stack of ``project`` in ``backend``."""
    from .stack import _workspace

    workspace = _workspace(engine, backend, project=project)
    return {summary.name.rsplit("/", 1)[-1]: summary.resource_count or 0 for summary in workspace.list_stacks()}


def dependents(stack: str, engine: Engine, backend: Backend) -> list[str]:
    """The app stacks that deploy through platform stack ``stack`` and still hold resources."""
    from components.platform_reference import default_platform_stack

    from .stack import _run_cli, _workspace

    name = default_platform_stack(stack)
    workspace = _workspace(engine, backend)
    found = []
    for app_stack, resources in stack_resources(APP, engine, backend).items():
        if resources == 0:
            continue
        outputs = yaml.safe_load(_run_cli(workspace, "stack", "output", "--json", "--stack", app_stack) or "{}") or {}
        # No outputs yet (an up that failed half-way): it names its default platform stack.
        if outputs.get("platformStack", default_platform_stack(app_stack)) == name:
            found.append(f"{app_stack} ({resources} resources)")
    return found


def up(stack: str, *, print_line: Callable[[str], None] = print) -> int:
    """The policy-gated ``pulumi up`` of platform stack ``stack`` (program inline); the exit status."""
    offline = OfflineGate(stack, project=PLATFORM)  # first: it runs while the SDK loads and the engine starts
    try:
        engine = find_engine()
        if not engine.complete:
            print(f"the Pulumi engine is incomplete; nothing was deployed:\n{engine.report()}", file=sys.stderr)
            return 2
        mismatch = api_server_mismatch(stack, os.environ.get("KUBECONFIG", "").split(os.pathsep)[0] or None)
        if mismatch:
            print(f"platform stack {stack}: {mismatch}; nothing was deployed", file=sys.stderr)
            return 2
        from pulumi import automation as auto

        from .stack import make_up_engine_step

        try:
            make_up_engine_step(
                stack,
                engine,
                _backend(),
                on_output=lambda line: print_line(line),
                on_error=lambda line: print(line, file=sys.stderr, flush=True),
                offline=offline,
                project=PLATFORM,
            )
        except PolicyRefusedError as refused:
            print(
                f"{refused}\n\nplatform stack {stack} refused by the policy pack: nothing was deployed", file=sys.stderr
            )
            return 1
        except auto.CommandError:
            print(f"pulumi up of platform stack {stack} failed (its output is above)", file=sys.stderr)
            return 1
        return 0
    finally:
        offline.stop()


def ensure(stack: str) -> int:
    """``up`` when platform stack ``stack`` does not exist yet or holds nothing; else nothing (exit 0)."""
    engine = find_engine()
    if not engine.complete:
        print(f"the Pulumi engine is incomplete:\n{engine.report()}", file=sys.stderr)
        return 2
    resources = stack_resources(PLATFORM, engine, _backend()).get(stack, 0)
    if resources:
        print(f"platform stack {stack}: deployed ({resources} resources); make platform-up STACK={stack} updates it")
        return 0
    print(f"platform stack {stack} is not deployed yet: deploying it first (make platform-up STACK={stack})")
    return up(stack)


def down(stack: str) -> int:
    """Destroy and remove platform stack ``stack``, unless an app stack still deploys through it."""
    engine = find_engine()
    if not engine.complete:
        print(f"the Pulumi engine is incomplete; nothing was destroyed:\n{engine.report()}", file=sys.stderr)
        return 2
    backend = _backend()
    if stack not in stack_resources(PLATFORM, engine, backend):
        print(f"no platform stack '{stack}' in {backend.url}: nothing to destroy")
        return 0
    using = dependents(stack, engine, backend)
    if using:
        print(
            f"refusing to destroy platform stack {stack}: app stack {', '.join(using)} still deploys through it. "
            f"Destroying it would delete namespace, quota and deployer under the app and orphan the app's state. "
            f"Run make down STACK=<app stack> first; nothing was destroyed.",
            file=sys.stderr,
        )
        return 1
    from .stack import open_stack

    platform = open_stack(stack, engine, backend, on_output=lambda line: print(line, flush=True), project=PLATFORM)
    platform.destroy()
    platform.remove()
    return 0


def main(argv: Optional[list[str]] = None) -> int:
    """CLI entry point (see the module's docstring)."""
    parser = argparse.ArgumentParser(prog="python -m deploy.platform", description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=["up", "down", "ensure", "kubeconfig"])
    parser.add_argument("stack")
    options = parser.parse_args(argv)
    if options.command == "kubeconfig":
        print(configured_kubeconfig(options.stack))
        return 0
    commands: dict[str, Callable[[str], int]] = {"up": up, "down": down, "ensure": ensure}
    try:
        return commands[options.command](options.stack)
    except Exception as error:  # the CLI's own words (auto.CommandError carries its stderr)
        print(f"{options.command} of platform stack {options.stack} failed: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
