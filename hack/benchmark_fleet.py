"""Measure the fleet (examples/fleet) through the engine against kubectl and write its section of docs/benchmarks.md.

    nice -n 10 .venv/bin/python hack/benchmark_fleet.py [--apps 1,10,50,100] [--repeat 3] [--repeat-large 3]
        [--parallel P] [--engine-env KEY=VALUE ...] [--samples build/fleet-samples.json]
        [--tabulate] [--compare OTHER-SAMPLES.json]
    .venv/bin/python hack/benchmark_fleet.py --investigate KEY=VALUE ... --samples FILE   # the engine alone

Needs a cluster with simulated nodes (`make cluster-up KWOK_NODES=3`: the fleet's pods land there)
and the engine (`python -m deploy`); no fleet namespace may exist. For each N, each round:
- the baseline: the fleet's rendered manifests (`make fleet-render APPS=N`, a fresh password in
  each Secret) through `kubectl apply --server-side`, then `kubectl wait --for=condition=Available`
  on every Deployment; then `kubectl delete namespace --wait` of the N namespaces;
- the offline gate alone (`python -m offline.policy_check` over the fleet);
- `make fleet-up`'s engine step (`python -m deploy up kwok --project fleet`: the offline policy
  gate beside the engine's start, the program inline held until it passed, `pulumi up
  --skip-preview` with the pack and `policy/config/standalone.json`) into a fresh file backend,
  with ``--engine-env`` added to its environment (e.g. `PULUMI_SKIP_CHECKPOINTS=true`, what
  `make fleet-up SKIP_CHECKPOINTS=1` sets): the first up, a no-op up, an up changing one app's
  backend replicas (`fleet:overrides`), then `pulumi destroy`. Meanwhile, sampled every 0.2 s
  from /proc: the peak resident memory of each part of the engine (the CLI, the kubernetes
  provider, the program's process, the policy pack with its language host, the offline gate) and
  of all of them at one moment, what the CLI wrote, the CPU seconds of each part per up; and what
  the gate cost (its line in the up's output).
Rounds above 10 apps repeat ``--repeat-large`` times (the others ``--repeat``); every figure is the
median (min-max). Samples are saved (``--samples``) and can be tabulated again (``--tabulate``);
``--compare`` shows another run's engine figures (other settings) beside, with its goals.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "hack")]

from benchmark_engine import KUBECONFIG, KUBECTL, PY, engine_env, write  # type: ignore[import-not-found]  # noqa: E402

from deploy.projects import FLEET  # noqa: E402
from deploy.stack import GATE_LINE, config_copy  # noqa: E402
from offline import PulumiProject  # noqa: E402
from offline.render import REDACTED, manifests, write_manifests  # noqa: E402

BEGIN, END = "<!-- fleet: hack/benchmark_fleet.py -->", "<!-- /fleet -->"
PLOT = ROOT / "docs" / "benchmarks-fleet.png"
STACK = "kwok"
OPERATIONS = ("kubectl", "first", "noop", "change", "destroy", "ns-delete", "gate", "gate-alone", "waited")
#: Process roles whose peak resident memory is reported: (role, what it is).
ROLES = {
    "cli": "pulumi CLI",
    "kubernetes": "kubernetes provider",
    "program": "program (python -m deploy, inline)",
    "pack": "policy pack (+ its language host)",
    "gate": "offline gate",
    "other": "other plugins",
}
Samples = dict[str, dict[str, list[float]]]
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def role(command: str) -> str:
    """Which part of the engine a process of the up's tree is, from its command line (NUL-separated)."""
    argv = command.split("\0")
    executable = Path(argv[0]).name
    if executable == "pulumi":  # (its arguments name the pack's directory too)
        return "cli"
    if executable.startswith("pulumi-resource-kubernetes"):
        return "kubernetes"
    if executable.startswith("pulumi-language-python") or "pulumi.policy" in argv:
        return "pack"
    if "offline.policy_check" in argv:
        return "gate"
    if argv[1:3] == ["-m", "deploy"]:
        return "program"
    return "other"


def process_tree(root: int) -> list[int]:
    """``root`` and every process descending from it."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            parents.setdefault(ppid, []).append(int(entry.name))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo += parents.get(pid, [])
    return tree


def written_mib(pid: int) -> float:
    """What ``pid`` has written so far (``wchar``: files, pipes, sockets), in MiB (0 when it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/io").read_text().splitlines():
            if line.startswith("wchar:"):
                return int(line.split()[1]) / 2**20
    except OSError:
        pass
    return 0.0


def cpu_seconds(pid: int) -> float:
    """CPU time ``pid`` has used so far (user + system), in seconds (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def rss_mib(pid: int) -> float:
    """Resident memory of ``pid`` in MiB (0 when it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


@contextmanager
def peak_memory(root: Callable[[], int | None]) -> Iterator[dict[str, float]]:
    """The peak summed RSS (MiB) of each role in ``root()``'s process tree, sampled every 0.2 s.

    Also, under ``cpu:<role>``: the CPU seconds each role's processes used (as last sampled: a
    process's last 0.2 s can be missed).
    """
    peaks = dict.fromkeys(ROLES, 0.0)
    cpu: dict[int, tuple[str, float]] = {}
    #: Not a role: the most the CLI had written at a sample (its checkpoints go to the backend through it).
    peaks["cli-written"] = 0.0
    #: Not a role: the most all the parts held at one sample (the parts peak at different times).
    peaks["together"] = 0.0
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.2):
            pid = root()
            if pid is None:
                continue
            now = dict.fromkeys(ROLES, 0.0)
            for member in process_tree(pid):
                try:
                    command = Path(f"/proc/{member}/cmdline").read_text()
                except OSError:
                    continue
                if not command:  # an ended process not yet waited for (a zombie): its last role stays
                    if member in cpu:
                        cpu[member] = (cpu[member][0], max(cpu_seconds(member), cpu[member][1]))
                    continue
                now[role(command)] += rss_mib(member)
                cpu[member] = (role(command), max(cpu_seconds(member), cpu.get(member, ("", 0.0))[1]))
                if role(command) == "cli":
                    peaks["cli-written"] = max(peaks["cli-written"], written_mib(member))
            for name, value in now.items():
                peaks[name] = max(peaks[name], value)
            peaks["together"] = max(peaks["together"], sum(now.values()))

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield peaks
    finally:
        done.set()
        thread.join()
        for name in ROLES:
            peaks[f"cpu:{name}"] = sum(seconds for part, seconds in cpu.values() if part == name)


class Recorded(dict[str, list[float]]):
    """Seconds per operation of one N, each printed as it is measured (``N=10: first 31.3``: --from-log reads it)."""

    def __init__(self, apps: int) -> None:
        super().__init__({key: [] for key in OPERATIONS})
        self.apps = apps

    def add(self, operation: str, seconds: float) -> None:
        """Record and print one figure."""
        self[operation].append(seconds)
        print(f"N={self.apps}: {operation} {seconds:.1f}", flush=True)


class Bench:
    """Timed commands against the cluster, a scratch file backend per round."""

    def __init__(self, work: Path, parallel: int | None, extra_env: dict[str, str] | None = None) -> None:
        self.work = work
        self.parallel = parallel
        self.env = {**engine_env(), "PULUMI_SKIP_UPDATE_CHECK": "true", **(extra_env or {})}
        self.env["PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION"] = "true"

    def run(self, command: list[str], cwd: Path = ROOT, **extra: str) -> tuple[float, str]:
        """Run ``command`` (fails loudly): (wall seconds, its output)."""
        start = time.perf_counter()
        completed = subprocess.run(
            command, cwd=cwd, env={**self.env, **extra}, capture_output=True, text=True, check=False
        )
        if completed.returncode != 0:
            raise SystemExit(f"{' '.join(command)} failed:\n{completed.stdout[-3000:]}\n{completed.stderr[-3000:]}")
        return time.perf_counter() - start, completed.stdout + completed.stderr

    def kubectl(self, *args: str) -> float:
        """``kubectl ARGS`` against the cluster, timed."""
        return self.run([str(KUBECTL), "--kubeconfig", str(KUBECONFIG), *args])[0]

    def cluster(self) -> str:
        """The cluster's nodes, as the section describes them (``2 real nodes, 3 simulated (kwok)``)."""
        listed = subprocess.run(
            [str(KUBECTL), "--kubeconfig", str(KUBECONFIG), "get", "nodes", "-o",
             "jsonpath={range .items[*]}{.metadata.annotations.kwok\\.x-k8s\\.io/node}{'\\n'}{end}"],
            capture_output=True, text=True, check=True,
        ).stdout.splitlines()  # fmt: skip
        simulated = sum(1 for line in listed if line == "fake")
        return f"{len(listed) - simulated} real node(s), {simulated} simulated (kwok)"

    def namespaces(self) -> list[str]:
        """The fleet's namespaces that exist."""
        listed = subprocess.run(
            [str(KUBECTL), "--kubeconfig", str(KUBECONFIG), "get", "namespaces", "-o", "name"],
            capture_output=True, text=True, check=True,
        ).stdout.split()  # fmt: skip
        return [name.removeprefix("namespace/") for name in listed if name.startswith("namespace/fleet-")]

    def render(self, apps: int) -> Path:
        """The fleet's manifests for ``apps`` apps (what make fleet-render writes), a fresh password per Secret."""
        out = self.work / f"manifests-{apps}"
        if not out.exists():
            objects = manifests(PulumiProject.load(FLEET.directory).evaluate(STACK, {"apps": apps}))
            for manifest in objects:
                if manifest["kind"] == "Secret":
                    manifest["stringData"] = {
                        key: secrets.token_urlsafe(24) if value == REDACTED else value
                        for key, value in manifest.get("stringData", {}).items()
                    }
            write_manifests(objects, out)
        return out

    def kubectl_round(self, apps: int, samples: Recorded) -> None:
        """Apply the rendered fleet, wait for every Deployment to be Available; then delete its namespaces."""
        manifests_dir = self.render(apps)
        start = time.perf_counter()
        self.kubectl("apply", "--server-side", "-f", str(manifests_dir))
        self.kubectl(
            "wait", "--for=condition=Available", "deployment", "--all-namespaces",
            "-l", "app.kubernetes.io/part-of=threetier", "--timeout=900s",
        )  # fmt: skip
        samples.add("kubectl", time.perf_counter() - start)
        samples.add("ns-delete", self.kubectl("delete", "namespace", *self.namespaces(), "--wait=true"))

    def up(
        self, config: Path, backend: str, peaks: dict[str, float] | None = None, cpu: dict[str, float] | None = None
    ) -> tuple[float, str]:
        """``python -m deploy up kwok --project fleet``: (seconds, output).

        The peak memory into ``peaks`` (the most of each figure over the ups given it), the CPU
        seconds of each part into ``cpu``.
        """
        command = [PY, "-m", "deploy", "up", STACK, "--project", "fleet", "--config-file", str(config)]
        if self.parallel is not None:
            command += ["--parallel", str(self.parallel)]
        env = {**self.env, "PULUMI_BACKEND_URL": backend}
        start = time.perf_counter()
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        with peak_memory(lambda: process.pid) as peak:
            output, _ = process.communicate()
        seconds = time.perf_counter() - start
        if process.returncode != 0:
            raise SystemExit(f"{' '.join(command)} failed:\n{output[-4000:]}")
        if peaks is not None:
            for name, value in peak.items():
                if not name.startswith("cpu:"):
                    peaks[name] = max(peaks.get(name, 0.0), value)
        if cpu is not None:
            cpu.update({name.removeprefix("cpu:"): value for name, value in peak.items() if name.startswith("cpu:")})
        return seconds, output

    def engine_round(
        self, apps: int, samples: Recorded, memory: dict[str, list[float]], cpu: dict[str, dict[str, list[float]]]
    ) -> None:
        """First up, no-op up, one app's replicas changed, destroy; into a fresh file backend.

        ``cpu``: per up (first, noop, change), the CPU seconds of each part of the engine.
        """
        state = self.work / f"state-{secrets.token_hex(4)}"
        state.mkdir()
        backend = f"file://{state}"
        config = config_copy(STACK, self.work / f"config-{apps}", {"fleet:apps": apps}, FLEET)
        changed = config_copy(
            STACK,
            self.work / f"config-{apps}-changed",
            {"fleet:apps": apps, "fleet:overrides": {"fleet-000": {"backend": {"replicas": 2}}}},
            FLEET,
        )
        samples.add(
            "gate-alone",
            self.run(
                [
                    PY,
                    "-m",
                    "offline.policy_check",
                    "--stack",
                    STACK,
                    *FLEET.gate_args(STACK),
                    "--stack-config",
                    str(config),
                ]
            )[0],
        )
        peaks: dict[str, float] = {}
        used: dict[str, dict[str, float]] = {"first": {}, "noop": {}, "change": {}}
        seconds, output = self.up(config, backend, peaks, used["first"])
        samples.add("first", seconds)
        gate = re.search(rf"{GATE_LINE} ([0-9.]+) s; the program waited ([0-9.]+) s", output)
        if gate is None:
            raise SystemExit(f"no '{GATE_LINE}' line in the up's output:\n{output[-2000:]}")
        samples.add("gate", float(gate.group(1)))
        samples.add("waited", float(gate.group(2)))
        samples.add("noop", self.up(config, backend, peaks, used["noop"])[0])
        samples.add("change", self.up(changed, backend, peaks, used["change"])[0])
        for operation, parts in used.items():
            for name, value in parts.items():
                cpu.setdefault(operation, {}).setdefault(name, []).append(value)
            print(f"N={apps} CPU s {operation}: " + ", ".join(f"{k} {v:.1f}" for k, v in parts.items()), flush=True)
        for name, value in peaks.items():
            memory.setdefault(name, []).append(value)
        print(f"N={apps} MiB: " + ", ".join(f"{k} {v[-1]:.0f}" for k, v in memory.items()), flush=True)
        pulumi = {"PULUMI_BACKEND_URL": backend}
        samples.add(
            "destroy", self.run(["pulumi", "destroy", "--yes", "--stack", STACK], cwd=FLEET.directory, **pulumi)[0]
        )
        self.run(["pulumi", "stack", "rm", "--yes", "--preserve-config", STACK], cwd=FLEET.directory, **pulumi)


def measure(
    apps_list: list[int],
    repeat: int,
    repeat_large: int,
    parallel: int | None,
    extra_env: dict[str, str] | None = None,
    baseline: bool = True,
) -> dict[str, Any]:
    """Every round of every N; the samples (seconds, and peak MiB per role).

    ``extra_env``: the engine's environment added to (e.g. ``PULUMI_SKIP_CHECKPOINTS=true``);
    ``baseline``: False skips kubectl's rounds (an investigation of the engine alone).
    """
    result: dict[str, Any] = {
        "seconds": {}, "memory": {}, "cpu": {}, "parallel": parallel, "env": extra_env or {},
        "date": time.strftime("%Y-%m-%d"),
    }  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="threetier-bench-fleet-") as scratch:
        bench = Bench(Path(scratch), parallel, extra_env)
        if bench.namespaces():
            raise SystemExit(f"{', '.join(bench.namespaces())} exist: make fleet-down (or delete them) first")
        result["cluster"] = bench.cluster()
        for apps in apps_list:
            seconds = Recorded(apps)
            memory: dict[str, list[float]] = {}
            cpu: dict[str, dict[str, list[float]]] = {}
            for _ in range(repeat if apps <= 10 else repeat_large):
                if baseline:
                    bench.kubectl_round(apps, seconds)
                bench.engine_round(apps, seconds, memory, cpu)
            result["seconds"][str(apps)] = seconds
            result["memory"][str(apps)] = memory
            result["cpu"][str(apps)] = cpu
    return result


def from_log(text: str, parallel: int | None, date: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Samples rebuilt from the per-round lines a run printed (``N=10: kubectl 9.7``, ``N=10 MiB: ...``, CPU).

    ``parallel`` and ``env``: the settings that run had (its lines do not say).
    """
    result: dict[str, Any] = {
        "seconds": {}, "memory": {}, "cpu": {}, "parallel": parallel, "env": env or {}, "date": date,
    }  # fmt: skip
    for line in text.splitlines():
        used = re.match(r"N=(\d+) CPU s (\w+): (.*)$", line)
        if used is not None:
            parts = result["cpu"].setdefault(used.group(1), {}).setdefault(used.group(2), {})
            for item in used.group(3).split(", "):
                key, value = item.rsplit(" ", 1)
                parts.setdefault(key, []).append(float(value))
            continue
        found = re.match(r"N=(\d+)( MiB)?: (.*)$", line)
        if found is None:
            continue
        kind = "memory" if found.group(2) else "seconds"
        samples = result[kind].setdefault(found.group(1), {} if kind == "memory" else {k: [] for k in OPERATIONS})
        for item in found.group(3).split(", "):
            key, value = item.rsplit(" ", 1)
            samples.setdefault(key, []).append(float(value))
    return result


def med(values: list[float]) -> float:
    """The median."""
    return statistics.median(values)


def cell(values: list[float]) -> str:
    """``median s (min-max)``, or the one value, or ``-`` (not measured: an interrupted run)."""
    if not values:
        return "not measured"
    if len(values) == 1:
        return f"{values[0]:.1f} s"
    return f"{med(values):.1f} s ({min(values):.1f}-{max(values):.1f})"


def goals(seconds: Samples, memory: dict[str, dict[str, list[float]]]) -> list[tuple[str, str, bool | None]]:
    """(goal, measured, met) of issue #24; met None when a figure is missing."""
    rows: list[tuple[str, str, bool | None]] = []

    def ratio(apps: int, operation: str, base: str) -> float | None:
        figures = seconds.get(str(apps))
        if not figures or not figures[operation] or not figures[base]:
            return None
        return med(figures[operation]) / med(figures[base])

    for apps, limit in ((1, 1.5), (100, 1.3)):
        value = ratio(apps, "first", "kubectl")
        rows.append(
            (f"first up at N = {apps} ≤ {limit} x kubectl apply + rollout", f"{value:.2f} x" if value else "-",
             None if value is None else value <= limit)
        )  # fmt: skip
    for operation in ("first", "noop", "change", "destroy", "kubectl"):
        high, low = seconds.get("100", {}).get(operation), seconds.get("50", {}).get(operation)
        growth = med(high) / med(low) if high and low else None
        rows.append(
            (f"{operation}: t(100) / t(50) ≤ 2.1 (linear)", f"{growth:.2f}" if growth else "-",
             None if growth is None else growth <= 2.1)
        )  # fmt: skip
    for operation, limit in (("noop", 0.25), ("change", 0.2)):
        value = ratio(100, operation, "first")
        rows.append(
            (f"{operation} up at N = 100 ≤ {limit} x the first up", f"{value:.2f} x" if value else "-",
             None if value is None else value <= limit)
        )  # fmt: skip
    peaks = memory.get("100")
    total = total_memory(peaks) if peaks else None
    rows.append(
        ("the whole engine's peak memory at N = 100 ≤ 1.5 GiB", f"{total:.0f} MiB" if total else "-",
         None if total is None else total <= 1536)
    )  # fmt: skip
    return rows


def plot(seconds: Samples, target: Path) -> None:
    """Seconds against N for each operation (left) and the first up over kubectl (right), as a small PNG."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    apps = sorted(int(n) for n in seconds)
    figure, (times, ratios) = pyplot.subplots(1, 2, figsize=(8, 3.2), dpi=90)
    labels = {
        "kubectl": "kubectl apply + rollout",
        "first": "first up",
        "noop": "no-op up",
        "change": "one app changed",
        "destroy": "destroy",
    }
    for operation, label in labels.items():
        measured = [n for n in apps if seconds[str(n)].get(operation)]
        times.plot(measured, [med(seconds[str(n)][operation]) for n in measured], marker="o", label=label)
    both = [n for n in apps if seconds[str(n)].get("first") and seconds[str(n)].get("kubectl")]
    ratios.plot(
        both, [med(seconds[str(n)]["first"]) / med(seconds[str(n)]["kubectl"]) for n in both], marker="o", color="C1"
    )
    ratios.axhline(1.3, color="grey", linestyle="--", linewidth=0.8)
    times.set(xlabel="apps (N)", ylabel="seconds", title="time per operation")
    ratios.set(xlabel="apps (N)", ylabel="first up / kubectl", title="engine over kubectl", ylim=(0, None))
    times.legend(fontsize="small")
    times.grid(alpha=0.3)
    ratios.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(target, pil_kwargs={"optimize": True})


def settings(result: dict[str, Any]) -> str:
    """The engine's settings of a run: ``--parallel P`` and the environment it added (``PULUMI_...=...``)."""
    parallel = result.get("parallel") or "8 (the CLI's default)"
    added = ", ".join(f"`{key}={value}`" for key, value in sorted(result.get("env", {}).items()))
    return f"`--parallel {parallel}`" + (f", {added}" if added else ", every other setting the CLI's default")


def total_memory(peaks: dict[str, list[float]]) -> float:
    """The whole engine's peak (MiB): what all its parts held at one moment (median of the rounds).

    Samples without that figure (before it was sampled): every part's own peak, summed (more than
    the engine ever held at once: the gate has ended before the CLI holds the most).
    """
    if peaks.get("together"):
        return med(peaks["together"])
    return sum(med(values) for name, values in peaks.items() if name in ROLES)


def comparison(result: dict[str, Any], other: dict[str, Any]) -> list[str]:
    """Markdown lines: the engine's figures of ``result`` beside those of ``other`` (another setting)."""
    lines = [
        "",
        "The same engine rounds with other settings (engine only; runs per N in brackets):",
        "",
        "| N | settings | first up | no-op up | one app changed | destroy | CLI peak MiB | engine peak MiB "
        "| written by the CLI |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for n in sorted({int(n) for n in result["seconds"]} | {int(n) for n in other["seconds"]}):
        for run in (result, other):
            s, m = run["seconds"].get(str(n)), run["memory"].get(str(n))
            if not s or not s.get("first"):
                continue
            written = f"{med(m['cli-written']):.0f} MiB" if m and m.get("cli-written") else "-"
            peaks = f"{med(m['cli']):.0f} | {total_memory(m):.0f}" if m else "- | -"
            lines.append(
                f"| {n} [{len(s['first'])}] | {settings(run)} | {cell(s['first'])} | {cell(s['noop'])} | "
                f"{cell(s['change'])} | {cell(s['destroy'])} | {peaks} | {written} |"
            )
    return lines


def with_baseline(engine_only: Samples, measured: Samples) -> Samples:
    """``engine_only``'s figures, with ``measured``'s kubectl rounds where it has none (an engine-only run)."""
    merged: Samples = {}
    for n, figures in engine_only.items():
        merged[n] = dict(figures)
        if not figures.get("kubectl") and measured.get(n, {}).get("kubectl"):
            merged[n]["kubectl"] = measured[n]["kubectl"]
    return merged


def cpu_table(cpu: dict[str, dict[str, dict[str, list[float]]]]) -> list[str]:
    """Markdown lines: CPU seconds of each part of the engine per up (none without such samples)."""
    if not cpu:
        return []
    lines = [
        "",
        "CPU seconds each part used during the up (median; the machine has 2 cores, so an up of t seconds has at "
        "most 2t to give):",
        "",
        "| N | up | " + " | ".join(ROLES.values()) + " | all |",
        "| --- | --- | " + " | ".join("---" for _ in ROLES) + " | --- |",
    ]
    for n in sorted(cpu, key=int):
        for operation, parts in cpu[n].items():
            values = [med(parts.get(name, [0.0])) for name in ROLES]
            lines.append(
                f"| {n} | {operation} | " + " | ".join(f"{value:.1f}" for value in values) + f" | {sum(values):.1f} |"
            )
    return lines


def section(result: dict[str, Any], other: dict[str, Any] | None = None) -> list[str]:
    """Markdown lines of the fleet section (``other``: a run with other settings, shown beside)."""
    seconds: Samples = result["seconds"]
    memory: dict[str, dict[str, list[float]]] = result["memory"]
    apps = sorted(int(n) for n in seconds)
    cluster = result.get("cluster", "a kwok-only control plane")
    lines = [
        BEGIN,
        "## The fleet through the engine: N apps against kubectl (issue #24)",
        "",
        f"Measured by `hack/benchmark_fleet.py` on {result['date']}; cluster: {cluster}; the fleet's pods all sit "
        "on simulated nodes: no container runs, so both sides wait for the API server, the controllers and kwok, "
        f"not for images or processes; 2 cores; engine: {settings(result)}; runs per N in brackets; median (min-max).",
        "",
        "| N (Kubernetes objects) | kubectl apply --server-side + wait Available | first up | no-op up | one app's "
        "replicas changed | destroy | `kubectl delete namespace` | offline gate (alone / in the up / the program "
        "waited) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]

    def times(values: list[float], base: list[float]) -> str:
        return f" ({med(values) / med(base):.2f} x)" if values and base else ""

    def gate_cell(values: list[float]) -> str:
        return f"{med(values):.1f}" if values else "-"

    for n in apps:
        s = {key: seconds[str(n)].get(key, []) for key in OPERATIONS}
        lines.append(
            f"| {n} ({n * 12}) [{len(s['first'])}] | {cell(s['kubectl'])} | {cell(s['first'])}"
            f"{times(s['first'], s['kubectl'])} | {cell(s['noop'])}{times(s['noop'], s['first'])} | "
            f"{cell(s['change'])}{times(s['change'], s['first'])} | {cell(s['destroy'])} | {cell(s['ns-delete'])} "
            f"| {gate_cell(s['gate-alone'])} / {gate_cell(s['gate'])} / {gate_cell(s['waited'])} s |"
        )
    lines += [
        "",
        "Peak resident memory during the ups (MiB, the median round's peak; each part summed over its processes):",
        "",
        "| N | " + " | ".join(ROLES.values()) + " | the parts' peaks summed | all parts at one moment "
        "| written by the CLI (checkpoints...) |",
        "| --- | " + " | ".join("---" for _ in ROLES) + " | --- | --- | --- |",
    ]
    for n in apps:
        if str(n) not in memory:
            continue
        peaks = memory[str(n)]
        values = [med(peaks.get(name, [0.0])) for name in ROLES]
        written = f"{med(peaks['cli-written']):.0f} MiB" if peaks.get("cli-written") else "-"
        together = f"{med(peaks['together']):.0f}" if peaks.get("together") else "-"
        lines.append(
            f"| {n} | "
            + " | ".join(f"{value:.0f}" for value in values)
            + f" | {sum(values):.0f} | {together} | {written} |"
        )
    lines += cpu_table(result.get("cpu", {}))
    if other is not None:
        lines += comparison(result, other)
    verdicts = [goals(seconds, memory)] + (
        [goals(with_baseline(other["seconds"], seconds), other["memory"])] if other else []
    )
    if other and all(met is None for _, _, met in verdicts[1]):
        other = None  # the other run measured none of the goals' figures: no column of "not measured"
    header = "| goal | measured | met |" + (
        " other settings (kubectl from this run): measured | met |" if other else ""
    )
    lines += ["", header, "| --- | --- | --- |" + (" --- | --- |" if other else "")]

    def verdict(met: bool | None) -> str:
        return "not measured" if met is None else ("met" if met else "**not met**")

    for index, (goal, measured, met) in enumerate(verdicts[0]):
        row = f"| {goal} | {measured} | {verdict(met)} |"
        if other:
            _, measured_other, met_other = verdicts[1][index]
            row += f" {measured_other} | {verdict(met_other)} |"
        lines.append(row)
    lines += ["", f"![seconds against N, and the first up over kubectl]({PLOT.name})", "", END]
    return lines


def key_values(items: list[str]) -> dict[str, str]:
    """``["KEY=VALUE", ...]`` as a dict (an item without ``=`` adds nothing: ``--investigate NONE``)."""
    return dict(item.split("=", 1) for item in items if "=" in item)


def main() -> int:
    """Measure (or tabulate saved samples) and write the fleet section of docs/benchmarks.md and its plot."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--apps", default="1,10,50,100")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--repeat-large", type=int, default=3, help="rounds for N above 10")
    parser.add_argument("--parallel", type=int, help="pulumi up --parallel (default: the CLI's, 8)")
    parser.add_argument("--samples", type=Path, default=ROOT / "build" / "fleet-samples.json")
    parser.add_argument("--tabulate", action="store_true", help="write the section from --samples, measure nothing")
    parser.add_argument(
        "--from-log", type=Path, help="write the section from the per-round lines of an interrupted run's output"
    )
    parser.add_argument(
        "--investigate",
        metavar="KEY=VALUE",
        action="append",
        default=None,
        help="the engine alone (no kubectl rounds) with this added to its environment; samples only, no docs",
    )
    parser.add_argument(
        "--engine-env",
        metavar="KEY=VALUE",
        action="append",
        default=[],
        help="added to the engine's environment in a full run (recorded with the samples)",
    )
    parser.add_argument("--compare", type=Path, help="samples of a run with other settings, shown beside")
    options = parser.parse_args()
    apps = [int(item) for item in options.apps.split(",")]
    if options.investigate is not None:
        extra = key_values(options.investigate)
        result = measure(apps, options.repeat, options.repeat_large, options.parallel, extra, baseline=False)
        options.samples.parent.mkdir(parents=True, exist_ok=True)
        options.samples.write_text(json.dumps(result, indent=1))
        print(json.dumps({n: {k: med(v) for k, v in s.items() if v} for n, s in result["seconds"].items()}))
        print(json.dumps({n: {k: med(v) for k, v in s.items() if v} for n, s in result["memory"].items()}))
        return 0
    if options.from_log is not None:
        stamp = time.strftime("%Y-%m-%d", time.localtime(options.from_log.stat().st_mtime))
        extra = key_values(options.engine_env)
        result = from_log(options.from_log.read_text(), options.parallel, stamp, extra)
        result["cluster"] = Bench(ROOT, None).cluster()  # the cluster it ran on is the one here, still
    elif options.tabulate:
        result = json.loads(options.samples.read_text())
    else:
        extra = key_values(options.engine_env)
        result = measure(apps, options.repeat, options.repeat_large, options.parallel, extra)
    if not options.tabulate:
        options.samples.parent.mkdir(parents=True, exist_ok=True)
        options.samples.write_text(json.dumps(result, indent=1))
    plot(result["seconds"], PLOT)
    lines = section(result, json.loads(options.compare.read_text()) if options.compare else None)
    write(lines, ROOT / "docs" / "benchmarks.md", BEGIN, END)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
