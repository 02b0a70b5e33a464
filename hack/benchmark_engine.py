"""Measure the real Pulumi engine on the local cluster and write its section of docs/benchmarks.md.

    .venv/bin/python hack/benchmark_engine.py [--repeat 3]

Needs `make cluster-up` (real node) and the engine (`python -m deploy`). One run, same cluster:
- dev through `kubectl apply --server-side` of its rendered manifests (the platform stack's, then
  the app's) + `kubectl rollout status`, then `kubectl delete namespace --wait` (the baseline);
- dev through `make up`'s engine step (`hack/stack.sh apply`: `python -m deploy up`, the
  program inline, held until the policy pack has passed over it offline, `pulumi up
  --skip-preview` with the pack) into a fresh backend, a second (no-op) one, then
  `pulumi destroy`; and the same with a plain `pulumi up` (its own preview with the pack, then
  the update); ratios to the baseline. The app deploys through dev's platform stack, deployed
  before (untimed; hack/benchmark_platform.py measures it) and destroyed after;
- `make up STACK=s` from nothing (cluster check, platform stack, up, verification) and `make verify
  STACK=s` for each stack, `make down STACK=s` and `make platform-down STACK=s` after;
- the frontend scaled 1 -> 5 -> 1 through a copy of the stack file and `pulumi up`, under a
  bounded probe loop on the node port (failed requests), and the cluster's peak memory meanwhile.
Every figure is the median of ``--repeat`` runs (min and max shown).
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "hack")]

from benchmark import PeakMemory  # type: ignore[import-not-found]  # noqa: E402

from deploy import config_copy, find_engine  # noqa: E402
from deploy.stack import DEFAULT_PASSPHRASE, policy_config  # noqa: E402
from offline import PulumiProject, evaluate_stack  # noqa: E402
from offline.render import REDACTED, manifests, write_manifests  # noqa: E402

KUBECONFIG = ROOT / ".toolchain" / "kubeconfig"
KUBECTL = ROOT / ".toolchain" / "bin" / "kubectl"
PY = str(ROOT / ".venv" / "bin" / "python")
STACKS = ("dev", "staging", "prod")
BEGIN, END = "<!-- engine: hack/benchmark_engine.py -->", "<!-- /engine -->"


def engine_env() -> dict[str, str]:
    """The environment the engine runs with against the local cluster (stops when the engine is incomplete)."""
    engine = find_engine()
    if not engine.complete:
        raise SystemExit("the engine is incomplete:\n" + engine.report())
    return {
        **os.environ,
        **engine.env(),
        "KUBECONFIG": str(KUBECONFIG),
        "PULUMI_CONFIG_PASSPHRASE": DEFAULT_PASSPHRASE,
    }


class Bench:
    """Commands against the local cluster and a scratch state backend, timed."""

    def __init__(self, work: Path) -> None:
        self.work = work
        self.env = {**engine_env(), "PULUMI_BACKEND_URL": f"file://{work / 'state'}"}
        (work / "state").mkdir(parents=True, exist_ok=True)

    def run(self, *command: str, cwd: Path = ROOT) -> float:
        """Run ``command`` in the repo (or ``cwd``; fails loudly); its wall time in seconds."""
        start = time.perf_counter()
        completed = subprocess.run(command, cwd=cwd, env=self.env, capture_output=True, text=True, check=False)
        if completed.returncode != 0:
            raise SystemExit(f"{' '.join(command)} failed:\n{completed.stdout[-3000:]}\n{completed.stderr[-3000:]}")
        return time.perf_counter() - start

    def kubectl(self, *args: str) -> float:
        """``kubectl ARGS`` against the local cluster, timed."""
        return self.run(str(KUBECTL), "--kubeconfig", str(KUBECONFIG), *args)

    def require_no_namespaces(self) -> None:
        """Stop unless the stacks' namespaces are absent: the runs deploy into them from scratch."""
        listed = subprocess.run(
            [str(KUBECTL), "--kubeconfig", str(KUBECONFIG), "get", "namespaces", "-o", "name"],
            capture_output=True, text=True, check=True,
        ).stdout.split()  # fmt: skip
        present = [name for name in listed if name.startswith("namespace/threetier")]
        if present:
            raise SystemExit(f"{', '.join(present)} exist: `make down STACK=s` (or delete them) before benchmarking")

    def pulumi(self, *args: str) -> float:
        """``pulumi ARGS`` with the scratch backend, timed."""
        return self.run("pulumi", *args)

    def kubectl_deploy(self, stack: str) -> float:
        """Apply the stack's rendered manifests (a fresh password in the Secret) and wait for every rollout.

        The platform stack's manifests first (namespace, quota, limits, deployer), then the app's.
        """
        evaluation = evaluate_stack(stack)
        platform = self.work / f"manifests-platform-{stack}"
        write_manifests(manifests(PulumiProject.load(ROOT / "platform").evaluate(stack)), platform)
        out = self.work / f"manifests-{stack}"
        write_manifests(manifests(evaluation), out)
        for path in out.glob("*secret*.yaml"):
            manifest = yaml.safe_load(path.read_text())
            manifest["stringData"] = {
                key: secrets.token_urlsafe(24) if value == REDACTED else value
                for key, value in manifest.get("stringData", {}).items()
            }
            path.write_text(yaml.safe_dump(manifest))
        namespace = str(evaluation.outputs["namespace"])
        start = time.perf_counter()
        self.kubectl("apply", "--server-side", "-f", str(platform))
        self.kubectl("apply", "--server-side", "-f", str(out))
        for tier in ("frontend", "backend", "database"):
            self.kubectl("rollout", "status", f"deployment/{tier}", "-n", namespace, "--timeout=180s")
        return time.perf_counter() - start

    def pulumi_up(self, stack: str, *extra: str) -> float:
        """`pulumi up` with the policy pack (add ``--skip-preview`` for make up's form)."""
        return self.pulumi(
            "up", "--yes", "--stack", stack, "--policy-pack", "policy",
            "--policy-pack-config", str(policy_config(stack)), *extra,
        )  # fmt: skip

    def make_up_engine_step(self, stack: str) -> float:
        """What make up runs between the cluster check and the verification (``hack/stack.sh apply``).

        ``python -m deploy up``: the state exported (for an interrupted up's pending creates), then
        ``pulumi up --skip-preview`` with the pack, the program inline, the offline gate run
        beside the engine's start and awaited by the program before it registers anything.
        """
        return self.run(str(ROOT / "hack" / "stack.sh"), "apply", stack)


def median(samples: list[float]) -> str:
    """``median s (min-max)``."""
    return f"{statistics.median(samples):.1f} s ({min(samples):.1f}-{max(samples):.1f})"


ENGINE_SAMPLES = ("apply", "ns-delete", "first", "noop", "destroy", "first-preview", "noop-preview")


def engine_vs_kubectl(bench: Bench, repeat: int) -> dict[str, list[float]]:
    """dev: kubectl apply + rollout vs first up; no-op up; destroy vs namespace delete.

    Each round: the kubectl baseline; make up's engine step (inline program held by the offline
    gate, ``up --skip-preview``) twice, destroy; plain ``pulumi up`` (its own preview with the
    pack, then the update) twice, destroy.
    """
    samples: dict[str, list[float]] = {key: [] for key in ENGINE_SAMPLES}
    for _ in range(repeat):
        samples["apply"].append(bench.kubectl_deploy("dev"))
        samples["ns-delete"].append(bench.kubectl("delete", "namespace", "threetier-dev", "--wait=true"))
        bench.run(PY, "-m", "deploy.platform", "up", "dev")  # the environment, untimed
        bench.pulumi("stack", "init", "dev")
        samples["first"].append(bench.make_up_engine_step("dev"))
        samples["noop"].append(bench.make_up_engine_step("dev"))
        samples["destroy"].append(bench.pulumi("destroy", "--yes", "--stack", "dev"))
        samples["first-preview"].append(bench.pulumi_up("dev"))
        samples["noop-preview"].append(bench.pulumi_up("dev"))
        bench.pulumi("destroy", "--yes", "--stack", "dev")
        bench.pulumi("stack", "rm", "--yes", "--preserve-config", "dev")
        bench.run(PY, "-m", "deploy.platform", "down", "dev")
    return samples


def make_figures(bench: Bench, repeat: int) -> dict[str, dict[str, list[float]]]:
    """Make up / make verify / make down per stack."""
    figures: dict[str, dict[str, list[float]]] = {}
    for stack in STACKS:
        figure = figures[stack] = {"up": [], "verify": [], "down": [], "platform-down": []}
        for _ in range(repeat):
            figure["up"].append(bench.run("make", "up", f"STACK={stack}"))
            figure["verify"].append(bench.run("make", "verify", f"STACK={stack}"))
            figure["down"].append(bench.run("make", "down", f"STACK={stack}"))
            figure["platform-down"].append(bench.run("make", "platform-down", f"STACK={stack}"))
    return figures


def scaling_under_load(bench: Bench) -> tuple[float, int, int, int]:
    """Dev's frontend 1 -> 5 -> 1 through the stack config and `pulumi up`: (seconds, requests, failed, peak MiB)."""
    from tests.integration.probe_loop import ProbeLoop

    bench.run("make", "up", "STACK=dev")
    frontend = yaml.safe_load((ROOT / "stacks" / "Pulumi.dev.yaml").read_text())["config"]["threetier:frontend"]
    five = config_copy("dev", bench.work / "scale", {"threetier:frontend": {**frontend, "replicas": 5}})
    node = subprocess.run(
        [
            str(KUBECTL),
            "--kubeconfig",
            str(KUBECONFIG),
            "get",
            "nodes",
            "-l",
            "threetier.dev/node=real",
            "-o",
            "jsonpath={.items[0].status.addresses[0].address}",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()  # any real node: the node port forwards to the frontend's pods wherever they run
    loop = ProbeLoop(f"http://{node}:30080/")
    with PeakMemory() as memory:
        loop.start()
        start = time.perf_counter()
        bench.pulumi_up("dev", "--config-file", str(five))
        bench.pulumi_up("dev")
        seconds = time.perf_counter() - start
        wait_for(lambda: frontend_pods() == 1, 120)
        loop.stop()
    bench.run("make", "down", "STACK=dev")
    bench.run("make", "platform-down", "STACK=dev")
    return seconds, loop.requests, len(loop.failures), memory.peak


def frontend_pods() -> int:
    """How many frontend pods exist in threetier-dev (terminating ones included)."""
    listed = subprocess.run(
        [str(KUBECTL), "--kubeconfig", str(KUBECONFIG), "get", "pods", "-n", "threetier-dev", "-o", "name",
         "-l", "app.kubernetes.io/component=frontend"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return len(listed.stdout.split())


def wait_for(condition: Callable[[], bool], timeout: float) -> None:
    """Poll ``condition`` until it holds; give up after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out after {timeout:.0f}s")
        time.sleep(0.5)


def section(repeat: int) -> list[str]:
    """Markdown lines of every engine figure."""
    with tempfile.TemporaryDirectory(prefix="threetier-bench-") as scratch:
        bench = Bench(Path(scratch))
        bench.require_no_namespaces()
        ratio = engine_vs_kubectl(bench, repeat)
        stacks = make_figures(bench, repeat)
        seconds, requests, failed, peak = scaling_under_load(bench)
    first, apply = statistics.median(ratio["first"]), statistics.median(ratio["apply"])
    noop, destroy, delete = (statistics.median(ratio[key]) for key in ("noop", "destroy", "ns-delete"))
    first_preview, noop_preview = statistics.median(ratio["first-preview"]), statistics.median(ratio["noop-preview"])
    lines = [
        BEGIN,
        "## The real Pulumi engine on the local cluster (real node)",
        "",
        f"Measured by `hack/benchmark_engine.py` on {time.strftime('%Y-%m-%d')}, {repeat} runs each "
        "(median, min-max), same cluster, one after the other.",
        "",
        "| what (dev) | time | ratio | goal |",
        "| --- | --- | --- | --- |",
        f"| `kubectl apply --server-side` of the rendered manifests + `rollout status` | {median(ratio['apply'])} "
        "| 1 | |",
        f"| first up as `make up` runs it (`pulumi up --skip-preview` with the pack, the program inline, "
        "held by the offline policy gate) "
        f"| {median(ratio['first'])} | {first / apply:.2f} x apply | ≤ 1.5 x |",
        f"| second up, no change (the same) | {median(ratio['noop'])} | {noop / first:.2f} x first up | ≤ 0.2 x |",
        f"| first plain `pulumi up` (its preview with the pack, then the update) | {median(ratio['first-preview'])} "
        f"| {first_preview / apply:.2f} x apply | |",
        f"| second plain `pulumi up`, no change | {median(ratio['noop-preview'])} | "
        f"{noop_preview / first_preview:.2f} x first plain up | |",
        f"| `kubectl delete namespace --wait` | {median(ratio['ns-delete'])} | 1 | |",
        f"| `pulumi destroy` | {median(ratio['destroy'])} | {destroy / delete:.2f} x namespace delete | ≤ 1.5 x |",
        "",
        "| stack | `make up` from nothing (cluster check, platform stack, up, verification) | `make verify` "
        "| `make down` | `make platform-down` |",
        "| --- | --- | --- | --- | --- |",
    ]
    for stack, figure in stacks.items():
        lines.append(
            f"| {stack} | {median(figure['up'])} | {median(figure['verify'])} | {median(figure['down'])} "
            f"| {median(figure['platform-down'])} |"
        )
    lines += [
        "",
        f"- dev's frontend 1 -> 5 -> 1 through a copy of the stack file and two `pulumi up`: {seconds:.1f} s; "
        f"a bounded probe loop on the node port meanwhile: {requests} requests, {failed} failed",
        f"- peak resident memory of the whole cluster (control plane, DNS, LB, node with kube-router, "
        f"containers) during that run: {peak} MiB",
        "",
        END,
    ]
    return lines


def section_main(section: Callable[[int], list[str]], begin: str, end: str, repeat: int, description: str) -> int:
    """A benchmark script's main: measure ``--repeat`` times, write and print its section.

    The section goes between ``begin`` and ``end`` in docs/benchmarks.md.
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--repeat", type=int, default=repeat)
    options = parser.parse_args()
    lines = section(options.repeat)
    write(lines, ROOT / "docs" / "benchmarks.md", begin, end)
    print("\n".join(lines))
    return 0


def write(lines: list[str], target: Path, begin: str = BEGIN, end: str = END) -> None:
    """Replace the section of ``target`` between ``begin`` and ``end`` (this script's by default), or append it."""
    text = target.read_text() if target.exists() else "# Benchmarks\n"
    block = "\n".join(lines)
    if begin in text and end in text:
        before, rest = text.split(begin, 1)
        text = before + block + rest.split(end, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    target.write_text(text)


def main() -> int:
    """Measure and write the engine section of docs/benchmarks.md."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    options = parser.parse_args()
    lines = section(options.repeat)
    write(lines, ROOT / "docs" / "benchmarks.md")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
