"""Measure the project's speed and memory figures and write them to docs/benchmarks.md.

    .venv/bin/python hack/benchmark.py [--cluster]

Offline: evaluating each stack under the mocks, rendering, the policy gate, `make test`.
With --cluster: `make cluster-up` from the toolchain cache (cold data dir), the idempotent
re-run, the cluster's resident memory, and the toolchain build log of the cache; on the real
node also: the app images' cold build, time from deploying dev to all its pods Ready, the
frontend scaled 1 -> 5 -> 1 under a bounded probe loop (failed requests), and the peak memory
of the whole cluster (control plane, node, containers) over that run.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from offline import evaluate_stack  # noqa: E402
from offline.policy_check import check_stack  # noqa: E402
from offline.render import manifests  # noqa: E402

STACKS = ("dev", "staging", "prod")
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "threetier" / "toolchain"


def timed(action: Callable[[], object], repeat: int) -> tuple[float, float]:
    """(median, min) seconds over ``repeat`` runs."""
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples), min(samples)


def run(command: list[str]) -> float:
    """Run a command in the repo; its wall time in seconds."""
    start = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def offline_section(repeat: int) -> list[str]:
    """Markdown lines of the offline figures."""
    lines = ["## Offline (no cluster, no Pulumi CLI)", "", "| what | median | min |", "| --- | --- | --- |"]
    for stack in STACKS:
        median, low = timed(partial(evaluate_stack, stack), repeat)
        lines.append(
            f"| evaluate stack `{stack}` under the API-server mocks | {median * 1000:.0f} ms | {low * 1000:.0f} ms |"
        )
    median, low = timed(lambda: manifests(evaluate_stack("prod")), repeat)
    lines.append(f"| render `prod` (evaluate + manifests) | {median * 1000:.0f} ms | {low * 1000:.0f} ms |")
    for stack in STACKS:
        median, low = timed(partial(check_stack, stack), 3)
        lines.append(
            f"| policy gate `{stack}` (pack process start + analyze) | {median * 1000:.0f} ms | {low * 1000:.0f} ms |"
        )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    lines += ["", f"Peak RSS of this benchmark process (all of the above): {peak:.0f} MiB.", ""]
    make_test = run(["make", "test"])
    lines += [f"`make test` (warm venv): {make_test:.1f} s.", ""]
    return lines


def rss_of(pids: list[int]) -> int:
    """Summed resident memory of ``pids``, MiB."""
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total // 1024


def cluster_pids() -> dict[str, int]:
    """Pids of every process the local cluster runs, by name (each process once)."""
    by_pid: dict[int, str] = {}
    for directory in (ROOT / ".toolchain" / "kwok" / "clusters" / "threetier" / "pids", ROOT / ".toolchain" / "run"):
        for pid_file in directory.glob("*.pid"):
            by_pid.setdefault(int(pid_file.read_text().strip()), pid_file.stem)
    return {name: pid for pid, name in by_pid.items()}


def cluster_section() -> list[str]:
    """Markdown lines of the cluster figures (restarts the cluster)."""
    lines = ["## Local cluster (real control plane; node per THREETIER_NODE, default real)", ""]
    run(["make", "cluster-down"])
    up_cold = run(["make", "cluster-up"])
    up_again = run(["make", "cluster-up"])
    pids = cluster_pids()
    lines += [
        f"- `make cluster-up` with the toolchain and images cached, fresh cluster data: {up_cold:.1f} s",
        f"- `make cluster-up` on a running cluster (idempotent): {up_again:.2f} s",
        f"- resident memory of the cluster's processes right after start: {rss_of(list(pids.values()))} MiB "
        f"({', '.join(f'{name} {rss_of([pid])}' for name, pid in sorted(pids.items()))} MiB)",
        "",
    ]
    log = CACHE / "build-times.tsv"
    if log.exists():
        lines += [
            "Toolchain builds recorded in the cache (cold GOCACHE unless noted):",
            "",
            "| when | tool | time | max RSS |",
            "| --- | --- | --- | --- |",
        ]
        for row in log.read_text().splitlines():
            when, tool, seconds, rss = row.split("\t")
            memory = (
                f"{int(rss.removesuffix('KiB')) // 1024} MiB" if rss.removesuffix("KiB").isdigit() else "not recorded"
            )
            lines.append(f"| {when} | {tool} | {seconds} | {memory} |")
        lines.append("")
    return lines


def shim_tree_pids() -> list[int]:
    """The containerd shims of the real node and every process below them (the pods' containers)."""
    socket = str(ROOT / ".toolchain" / "node" / "containerd" / "containerd.sock")
    parents: dict[int, int] = {}
    shims: list[int] = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":\t", 1) for line in status.read_text().splitlines() if ":\t" in line)
            cmdline = (status.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        pid = int(status.parent.name)
        parents[pid] = int(fields.get("PPid", "0"))
        if "containerd-shim" in cmdline and socket in cmdline:
            shims.append(pid)
    tree = set(shims)
    changed = True
    while changed:
        below = {pid for pid, parent in parents.items() if parent in tree} - tree
        tree |= below
        changed = bool(below)
    return sorted(tree)


class PeakMemory:
    """Samples the summed RSS of the cluster and its containers in a thread; keeps the peak."""

    def __init__(self) -> None:
        import threading

        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_of([*cluster_pids().values(), *shim_tree_pids()]))
            self._stop.wait(0.5)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def real_node_section() -> list[str]:
    """Markdown lines of the real node's figures (the cluster must be up with THREETIER_NODE=real)."""
    import tempfile

    import yaml
    from kubernetes import client, config

    from tests.integration.conftest import node_addresses
    from tests.integration.deploy import deploy, exported_outputs
    from tests.integration.probe_loop import ProbeLoop

    with tempfile.TemporaryDirectory() as scratch:
        images_cold = run(["env", f"THREETIER_CACHE={scratch}", "hack/build-images.sh"])
    os.environ.setdefault("KUBECONFIG", str(ROOT / ".toolchain" / "kubeconfig"))
    core = client.CoreV1Api(config.new_client_from_config(config_file=os.environ["KUBECONFIG"]))  # type: ignore[no-untyped-call]
    work = Path(tempfile.mkdtemp())
    with PeakMemory() as memory:
        start = time.perf_counter()
        outputs = exported_outputs(deploy("dev", work / "dev"), core)
        ready = time.perf_counter() - start
        frontend = yaml.safe_load((ROOT / "stacks" / "Pulumi.dev.yaml").read_text())["config"]["threetier:frontend"]
        node_ip = next(iter(node_addresses(core).values()))
        loop = ProbeLoop(f"http://{node_ip}:{outputs['frontend']['nodePort']}/")
        loop.start()
        scale_start = time.perf_counter()
        for replicas in (5, 1):
            deploy("dev", work / f"dev-{replicas}", {"threetier:frontend": {**frontend, "replicas": replicas}})
        scaled = time.perf_counter() - scale_start
        time.sleep(2 * 5)  # the drain window of the last terminating pods, still under load
        loop.stop()
    run(["env", f"KUBECONFIG={os.environ['KUBECONFIG']}", ".toolchain/bin/kubectl", "delete", "ns", "threetier-dev"])
    return [
        "## Real node (kubelet + containerd + CNI bridge + kube-proxy in a network namespace)",
        "",
        f"- app images built cold (empty cache, .debs downloaded): {images_cold:.1f} s",
        f"- deploy dev (rendered manifests, `kubectl apply`) until every pod is Ready: {ready:.1f} s",
        f"- frontend 1 -> 5 -> 1 through the stack config, each step until rolled out: {scaled:.1f} s; "
        f"bounded probe loop on the node port meanwhile: {loop.requests} requests, {len(loop.failures)} failed",
        f"- peak resident memory of the whole cluster (control plane, DNS, LB, node, containers) during "
        f"that run: {memory.peak} MiB",
        "",
    ]


def main() -> int:
    """Measure and write docs/benchmarks.md."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cluster", action="store_true", help="also measure the local cluster")
    parser.add_argument("--repeat", type=int, default=5)
    options = parser.parse_args()
    lines = [
        "# Benchmarks",
        "",
        f"Measured by `hack/benchmark.py` on {time.strftime('%Y-%m-%d')}: {platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}.",
        "",
        *offline_section(options.repeat),
    ]
    if options.cluster:
        lines += cluster_section()
        if os.environ.get("THREETIER_NODE", "real") == "real":
            lines += real_node_section()
    target = ROOT / "docs" / "benchmarks.md"
    manual = (
        target.read_text().split("<!-- manual -->", 1)[1]
        if target.exists() and "<!-- manual -->" in target.read_text()
        else ""
    )
    target.write_text("\n".join(lines) + "\n<!-- manual -->" + (manual or "\n"))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
