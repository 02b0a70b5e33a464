"""Measure the project's speed and memory figures and write them to docs/benchmarks.md.

    .venv/bin/python hack/benchmark.py [--cluster]
    .venv/bin/python hack/benchmark.py scale [--apps 1,10,50,100,200] [--repeat 3] [--profile]

Offline: evaluating each stack under the mocks, rendering, the policy gate, `make test`.
With --cluster: `make cluster-up` from the toolchain cache (cold data dir), the idempotent
re-run, the cluster's resident memory, the app images' cold build, and the toolchain build log
of the cache. The engine's figures on the cluster (pulumi up vs kubectl apply, make up/verify per
stack, scaling under load, peak memory): hack/benchmark_engine.py.
`scale`: a program of N ThreeTierApps under offline's API-server mocks and under the SDK's plain
mocks, its table in its own section of docs/benchmarks.md and a plot (docs/benchmarks-scale.png).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any, Optional

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
        for pid_file in directory.rglob("*.pid"):  # (each real node's under run/threetier-node-K/)
            name = pid_file.stem if pid_file.parent == directory else f"{pid_file.parent.name}/{pid_file.stem}"
            by_pid.setdefault(int(pid_file.read_text().strip()), name)
    return {name: pid for pid, name in by_pid.items()}


def cluster_section() -> list[str]:
    """Markdown lines of the cluster figures (restarts the cluster)."""
    lines = ["## Local cluster (real control plane; node per THREETIER_NODE, default real)", ""]
    run(["make", "cluster-down"])
    up_cold = run(["make", "cluster-up"])
    up_again = run(["make", "cluster-up"])
    pids = cluster_pids()
    with tempfile.TemporaryDirectory() as scratch:
        images_cold = run(["env", f"THREETIER_CACHE={scratch}", "hack/build-images.sh"])
    lines += [
        f"- `make cluster-up` with the toolchain and images cached, fresh cluster data: {up_cold:.1f} s",
        f"- `make cluster-up` on a running cluster (idempotent, readiness canary included): {up_again:.2f} s",
        f"- app images built cold (empty cache, .debs downloaded): {images_cold:.1f} s",
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
    """The containerd shims of every real node and every process below them (the pods' containers)."""
    sockets = [str(path) for path in (ROOT / ".toolchain" / "node").glob("*/containerd/containerd.sock")]
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
        if "containerd-shim" in cmdline and any(socket in cmdline for socket in sockets):
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


# -- Scale scan (issue #13): N ThreeTierApps under offline's mocks and under the SDK's plain mocks -------------
# `hack/benchmark.py scale [--apps 1,10,50,100,200] [--repeat 3] [--samples FILE] [--profile]`: no cluster, no
# Pulumi CLI. Samples are saved to build/scale-samples.json (or --samples) and can be tabulated again from there.

SCALE_APPS = (1, 10, 50, 100, 200)
SCALE_MOCKS = {"apiserver": "offline.ApiServerMocks + recording monitor", "plain": "SDK's plain pulumi.runtime.Mocks"}
SCALE_BEGIN, SCALE_END = "<!-- scale: hack/benchmark.py scale -->", "<!-- /scale -->"
SCALE_PLOT = ROOT / "docs" / "benchmarks-scale.png"


def scale_program(apps: int) -> Callable[[], None]:
    """``apps`` ThreeTierApps (19 resources each), distinct names and namespaces, each exporting its outputs.

    Frontends alternate NodePort and LoadBalancer on allocated node ports (no clashes); two
    replicas on the stateless tiers, so each app has its PodDisruptionBudgets.
    """
    import pulumi

    from components import ServiceType, ThreeTierApp, ThreeTierAppArgs, TierArgs

    def program() -> None:
        for index in range(apps):
            frontend: ServiceType = "NodePort" if index % 2 == 0 else "LoadBalancer"
            args = ThreeTierAppArgs(
                namespace=f"scale-{index}",
                frontend=TierArgs(
                    image="threetier/frontend:1.0.0", port=80, target_port=8080, replicas=2, service_type=frontend
                ),
                backend=TierArgs(image="threetier/backend:1.0.0", port=8080, replicas=2),
                database=TierArgs(image="threetier/database:1.0.0", port=5432, health_path=None),
            )
            pulumi.export(f"app{index}", ThreeTierApp(f"app{index}", args).stack_outputs())

    return program


def scale_once(mocks: str, apps: int, profile: Optional[Path] = None) -> dict[str, float]:
    """Evaluate the ``apps``-app program once in this process: wall and CPU seconds, resources registered."""
    import pulumi

    from offline import evaluate_program

    class PlainMocks(pulumi.runtime.Mocks):
        """The SDK's plain mocks: a resource's state is its inputs (a password gets a result)."""

        def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
            extra = {"result": "p" * 32} if args.typ.startswith("random:") else {}
            return f"{args.name}-id", {**args.inputs, **extra}

        def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], None]:
            return {}, None

    program = scale_program(apps)
    if profile:
        import yappi

        yappi.set_clock_type("cpu")
        yappi.start(builtins=True)  # every thread: the SDK runs the mock monitor in executor threads
    wall, cpu = time.perf_counter(), time.process_time()
    if mocks == "apiserver":
        resources = len(evaluate_program(program, stack="scale", config={}, project="scale").resources)
    else:
        counted = PlainMocks()
        pulumi.runtime.set_mocks(counted, project="scale", stack="scale", preview=False)
        pulumi.runtime.test(program)()  # type: ignore[no-untyped-call]  # the SDK's way: run, then wait for every RPC and output
        resources = -1
    measured = {"wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu, "resources": resources}
    if profile:
        yappi.stop()
        yappi.get_func_stats().save(str(profile), type="pstat")
    return measured


def scale_measure(mocks: str, apps: int, profile: Optional[Path] = None) -> dict[str, float]:
    """:func:`scale_once` in a fresh interpreter (no state shared between measurements)."""
    command = [sys.executable, str(Path(__file__)), "scale", "--one", mocks, str(apps)]
    done = subprocess.run(
        [*command, *(["--profile-out", str(profile)] if profile else [])],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    return dict(json.loads(done.stdout.splitlines()[-1]))


Samples = dict[str, dict[int, list[dict[str, float]]]]


def scale_scan(apps: tuple[int, ...], repeat: int) -> Samples:
    """Wall and CPU seconds per mocks kind and app count, ``repeat`` fresh runs each (kinds alternate)."""
    samples: Samples = {kind: {n: [] for n in apps} for kind in SCALE_MOCKS}
    for round_ in range(repeat):
        for n in apps:
            for kind in sorted(SCALE_MOCKS, reverse=round_ % 2 == 1):
                load = os.getloadavg()[0]
                run = {**scale_measure(kind, n), "load": load}
                samples[kind][n].append(run)
                print(f"round {round_ + 1}/{repeat} N={n:>3} {kind:>9}: {run['wall']:.2f} s, cpu {run['cpu']:.2f} s")
    return samples


def median_of(samples: Samples, kind: str, n: int, clock: str) -> float:
    """Median ``clock`` (``wall`` or ``cpu``) seconds of ``kind`` at ``n`` apps."""
    return statistics.median(run[clock] for run in samples[kind][n])


def scale_table(samples: Samples) -> list[str]:
    """The markdown section: one row per app count, medians of the runs."""
    repeat = min(len(runs) for runs in samples["apiserver"].values())
    loads = [run.get("load", -1.0) for by_n in samples.values() for runs in by_n.values() for run in runs]
    load = f"{min(loads):.1f} to {max(loads):.1f}" if min(loads) >= 0 else "not recorded"
    lines = [
        SCALE_BEGIN,
        "## Scale: N apps under the mocks (no cluster)",
        "",
        f"`hack/benchmark.py scale` on {time.strftime('%Y-%m-%d')}: a program of N `ThreeTierApp`s (19 resources "
        f"each, every app's outputs exported). API-server mocks: {SCALE_MOCKS['apiserver']} "
        f"(`offline.evaluate_program`); plain: {SCALE_MOCKS['plain']} returning the inputs, run with "
        f"`pulumi.runtime.test`. Each figure is the median of {repeat} runs, each run a fresh interpreter, the two "
        f"mocks alternating. CPU is the process's CPU time (all threads), less disturbed than wall time by other "
        f"work on the machine (1-minute load average {load} on {os.cpu_count()} cores during the runs; other "
        "builds running make wall times swing up to 2x): the ratio and the per-app figures use CPU time.",
        "",
        "| N | resources | API-server mocks (wall, CPU) | plain mocks (wall, CPU) | ratio (CPU) | per app (API-server) "
        "| per app (plain) |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for n in samples["apiserver"]:
        ours, plain = (median_of(samples, kind, n, "cpu") for kind in ("apiserver", "plain"))
        walls = [median_of(samples, kind, n, "wall") for kind in ("apiserver", "plain")]
        lines.append(
            f"| {n} | {19 * n} | {walls[0]:.2f} s, {ours:.2f} s | {walls[1]:.2f} s, {plain:.2f} s | {ours / plain:.2f} "
            f"| {ours / n * 1000:.0f} ms | {plain / n * 1000:.0f} ms |"
        )
    lines += ["", f"![CPU seconds against N]({SCALE_PLOT.name})", "", SCALE_END]
    return lines


def scale_plot(samples: Samples, target: Path) -> None:
    """CPU seconds against N and CPU milliseconds per app against N, both mocks, as a small PNG."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    figure, (total, per_app) = pyplot.subplots(1, 2, figsize=(8, 3.2), dpi=90)
    for kind, label in SCALE_MOCKS.items():
        apps = sorted(samples[kind])
        seconds = [median_of(samples, kind, n, "cpu") for n in apps]
        total.plot(apps, seconds, marker="o", label=label)
        per_app.plot(apps, [s / n * 1000 for s, n in zip(seconds, apps, strict=True)], marker="o", label=label)
    total.set(xlabel="apps (N)", ylabel="CPU seconds", title="evaluation time")
    per_app.set(xlabel="apps (N, log scale)", ylabel="CPU ms per app", title="time per app", ylim=(0, None))
    per_app.set_xscale("log")
    total.legend(fontsize="small")
    total.grid(alpha=0.3)
    per_app.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(target, pil_kwargs={"optimize": True})


def scale_profile(low: int, high: int) -> list[str]:
    """Functions (every thread) whose call count grows faster than the app count from ``low`` to ``high`` apps."""
    import pstats
    import tempfile

    with tempfile.TemporaryDirectory() as scratch:
        stats = {}
        for n in (low, high):
            scale_measure("apiserver", n, Path(scratch) / f"{n}.pstat")
            stats[n] = pstats.Stats(str(Path(scratch) / f"{n}.pstat")).stats  # type: ignore[attr-defined]
    growth = high / low
    lines = [f"call counts growing faster than N ({low} -> {high} apps, x{growth:g}), API-server mocks:"]
    for function, row in sorted(stats[high].items(), key=lambda item: -item[1][1]):
        before = stats[low].get(function)
        if before and row[1] >= 1000 and row[1] / before[1] > growth * 1.2:
            where = f"{Path(function[0]).name}:{function[1]} {function[2]}"
            lines.append(f"  {where}: {before[1]} -> {row[1]} calls (x{row[1] / before[1]:.1f}), {row[3]:.2f} s cpu")
    if len(lines) == 1:
        lines.append("  none: every function's call count grows at most like N")
    return lines


def scale_write(section: list[str], target: Path) -> None:
    """Put the section in ``target`` between its markers (appended after the manual part the first time)."""
    text = target.read_text()
    block = "\n".join(section)
    if SCALE_BEGIN in text:
        before, rest = text.split(SCALE_BEGIN, 1)
        text = before + block + rest.split(SCALE_END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    target.write_text(text)


def scale_main(argv: list[str]) -> int:
    """``scale``: the scan, its table in docs/benchmarks.md and its plot; or one measurement (``--one``)."""
    parser = argparse.ArgumentParser(prog="hack/benchmark.py scale", description="N ThreeTierApps under both mocks")
    parser.add_argument("--apps", default=",".join(map(str, SCALE_APPS)), help="app counts, comma-separated")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", action="store_true", help="print the functions whose call count grows faster")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/ alone")
    parser.add_argument("--samples", type=Path, help="reuse these samples if the file exists, else save them there")
    parser.add_argument("--one", nargs=2, metavar=("MOCKS", "N"), help=argparse.SUPPRESS)
    parser.add_argument("--profile-out", type=Path, help=argparse.SUPPRESS)
    options = parser.parse_args(argv)
    if options.one:
        print(json.dumps(scale_once(options.one[0], int(options.one[1]), options.profile_out)))
        return 0
    apps = tuple(int(n) for n in options.apps.split(","))
    if options.profile:
        print("\n".join(scale_profile(min(n for n in apps if n >= 10), max(apps))))
        return 0
    if options.samples and options.samples.exists():
        raw = json.loads(options.samples.read_text())
        samples: Samples = {kind: {int(n): runs for n, runs in by_n.items()} for kind, by_n in raw.items()}
    else:
        samples = scale_scan(apps, options.repeat)
        saved = options.samples or ROOT / "build" / "scale-samples.json"
        saved.parent.mkdir(parents=True, exist_ok=True)
        saved.write_text(json.dumps(samples))
    section = scale_table(samples)
    print("\n".join(section))
    if not options.no_write:
        scale_plot(samples, SCALE_PLOT)
        scale_write(section, ROOT / "docs" / "benchmarks.md")
    return 0


def main() -> int:
    """Measure and write docs/benchmarks.md."""
    if sys.argv[1:2] == ["scale"]:
        return scale_main(sys.argv[2:])
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
