"""Measure the project's speed and memory figures and write them to docs/benchmarks.md.

    .venv/bin/python hack/benchmark.py [--cluster]

Offline: evaluating each stack under the mocks, rendering, the policy gate, `make test`.
With --cluster: `make cluster-up` from the toolchain cache (cold data dir), the idempotent
re-run, the cluster's resident memory, and the toolchain build log of the cache.
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
    lines = ["## Local cluster (kwok + real control plane)", ""]
    run(["make", "cluster-down"])
    up_cold = run(["make", "cluster-up"])
    up_again = run(["make", "cluster-up"])
    pids = cluster_pids()
    lines += [
        f"- `make cluster-up` with the toolchain cached, fresh cluster data: {up_cold:.1f} s",
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
            lines.append(f"| {when} | {tool} | {seconds} | {int(rss.removesuffix('KiB')) // 1024} MiB |")
        lines.append("")
    return lines


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
