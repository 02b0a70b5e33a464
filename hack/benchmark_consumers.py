"""Measure the component package's YAML consumer against the Python stack and write its section of docs/benchmarks.md.

    .venv/bin/python hack/benchmark_consumers.py [--repeat 3]

Needs `make cluster-up` (real node), the engine and the YAML language host (`python -m deploy`),
and neither of the two namespaces it deploys to. Into a scratch backend, first dev's platform stack
(`platform/`, untimed) with a namespace of its own, threetier-bench-python, so that the shared
cluster's threetier-dev is left alone; then each round, one after the other: the dev stack
(`__main__.py` through the Python language host, platform mode: that namespace and its deployer,
read by StackReference; frontend on node port 30190) with the policy pack's dev configuration,
and `examples/yaml-app` (the YAML program, the package's provider started by the Python language
host; standalone, it creates threetier-yaml) with the standalone programs' configuration
(policy/config/standalone.json), each with `pulumi up --yes --skip-preview`: a first `up`, a
second one that changes nothing, then `pulumi destroy`. The platform stack is destroyed last.
Figures are medians of ``--repeat`` rounds (min and max shown).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "hack")]

from benchmark_engine import KUBECONFIG, KUBECTL, Bench, median, section_main  # type: ignore[import-not-found]  # noqa: E402

from deploy import config_copy, find_engine  # noqa: E402
from deploy.projects import PLATFORM  # noqa: E402
from deploy.stack import policy_config  # noqa: E402

YAML_APP = ROOT / "examples" / "yaml-app"
BEGIN, END = "<!-- consumers: hack/benchmark_consumers.py -->", "<!-- /consumers -->"
#: Where each program runs: the repo root's project (stack dev) and the YAML consumer's.
PROGRAMS = {"python": ROOT, "yaml": YAML_APP}
#: The policy configuration each program is judged by: dev's app stack, a standalone program (docs/policy.md).
POLICY_CONFIGS = {"python": "dev", "yaml": "standalone", "platform": "platform"}
#: The Python stack's namespace and frontend node port here (dev's own are the shared cluster's).
PYTHON_NAMESPACE, PYTHON_NODE_PORT = "threetier-bench-python", 30190
NAMESPACES = (PYTHON_NAMESPACE, "threetier-yaml")


def up(bench: Bench, program: str, directory: Path, *extra: str) -> float:
    """`pulumi up --yes --skip-preview` of ``program`` in ``directory``, the pack with its configuration; timed."""
    seconds: float = bench.run(
        "pulumi", "up", "--yes", "--skip-preview", "--stack", "dev", "--policy-pack", str(ROOT / "policy"),
        "--policy-pack-config", str(policy_config(POLICY_CONFIGS[program])), *extra, cwd=directory,
    )  # fmt: skip
    return seconds


def require_free_namespaces() -> None:
    """Stop if a namespace the rounds deploy into exists (they create it from scratch)."""
    listed = subprocess.run(
        [str(KUBECTL), "--kubeconfig", str(KUBECONFIG), "get", "namespaces", "-o", "name"],
        capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    present = [name for name in NAMESPACES if f"namespace/{name}" in listed]
    if present:
        raise SystemExit(f"{', '.join(present)} exist: destroy what is deployed there before benchmarking")


def rounds(bench: Bench, repeat: int) -> dict[str, dict[str, list[float]]]:
    """First and no-op ``up`` of each program, ``repeat`` times, one after the other."""
    frontend = yaml.safe_load((ROOT / "stacks" / "Pulumi.dev.yaml").read_text())["config"]["threetier:frontend"]
    python_config = config_copy(
        "dev",
        bench.work / "python",
        {"threetier:namespace": PYTHON_NAMESPACE, "threetier:frontend": {**frontend, "nodePort": PYTHON_NODE_PORT}},
    )
    extra = {"python": ("--config-file", str(python_config)), "yaml": ()}
    platform = ("--config-file", str(platform_config(bench)))
    bench.run("pulumi", "stack", "init", "dev", cwd=PLATFORM.directory)
    up(bench, "platform", PLATFORM.directory, *platform)
    samples: dict[str, dict[str, list[float]]] = {program: {"first": [], "noop": []} for program in PROGRAMS}
    for _ in range(repeat):
        for program, directory in PROGRAMS.items():
            bench.run("pulumi", "stack", "init", "dev", cwd=directory)
            samples[program]["first"].append(up(bench, program, directory, *extra[program]))
            samples[program]["noop"].append(up(bench, program, directory, *extra[program]))
            bench.run("pulumi", "destroy", "--yes", "--stack", "dev", *extra[program], cwd=directory)
            bench.run("pulumi", "stack", "rm", "--yes", "--preserve-config", "dev", cwd=directory)
    bench.run("pulumi", "destroy", "--yes", "--stack", "dev", *platform, cwd=PLATFORM.directory)
    bench.run("pulumi", "stack", "rm", "--yes", "--preserve-config", "dev", cwd=PLATFORM.directory)
    return samples


def platform_config(bench: Bench) -> Path:
    """A copy of dev's platform stack config whose namespace is the Python stack's here."""
    copy: Path = config_copy(
        "dev", bench.work / "platform", {"threetier-platform:namespace": PYTHON_NAMESPACE}, project=PLATFORM
    )
    return copy


def section(repeat: int) -> list[str]:
    """Markdown lines of the consumer figures."""
    engine = find_engine()
    if engine.consumer_skip_reason("yaml"):
        raise SystemExit(engine.consumer_skip_reason("yaml"))
    subprocess.run(["make", "--no-print-directory", "package"], cwd=ROOT, check=True)
    with tempfile.TemporaryDirectory(prefix="threetier-bench-") as scratch:
        bench = Bench(Path(scratch))
        require_free_namespaces()
        samples = rounds(bench, repeat)
    python, yaml = samples["python"], samples["yaml"]

    def ratio(key: str) -> str:
        return f"{statistics.median(yaml[key]) / statistics.median(python[key]):.2f} x"

    return [
        BEGIN,
        "## The component package from YAML against the Python stack (real engine, real node)",
        "",
        f"Measured by `hack/benchmark_consumers.py` on {time.strftime('%Y-%m-%d')}, {repeat} rounds "
        "(median, min-max), same cluster, one after the other; both `pulumi up --yes --skip-preview` with the "
        "policy pack, the same app (NodePort frontend, one replica per tier): the Python stack with dev's config "
        f"and policy configuration, through the deployer of a platform stack whose namespace is {PYTHON_NAMESPACE}; "
        "the YAML consumer standalone (it creates its namespace), with the standalone programs' policy "
        "configuration.",
        "",
        "| `pulumi up` | Python stack dev (`__main__.py`, Python language host) | "
        "YAML consumer (`examples/yaml-app`: YAML host + the package's provider) | YAML / Python |",
        "| --- | --- | --- | --- |",
        f"| first (creates the app) | {median(python['first'])} | {median(yaml['first'])} | {ratio('first')} |",
        f"| second, no change | {median(python['noop'])} | {median(yaml['noop'])} | {ratio('noop')} |",
        "",
        END,
    ]


def main() -> int:
    """Measure and write the consumers' section of docs/benchmarks.md."""
    return int(section_main(section, BEGIN, END, 3, __doc__.splitlines()[0]))


if __name__ == "__main__":
    sys.exit(main())
