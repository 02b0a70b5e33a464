"""Measure what the platform stack costs through the real engine and write its section of docs/benchmarks.md.

    .venv/bin/python hack/benchmark_platform.py [--repeat 5]

Needs `make cluster-up` (real node) and the engine (`python -m deploy`); dev's namespace must not
exist. Into a scratch state backend, each round, one after the other:
- the platform stack's first `up` and a no-op one (`make platform-up`'s engine step:
  `python -m deploy.platform up dev`, offline gate + `pulumi up --skip-preview` with the pack);
- `python -m deploy.platform ensure dev` with the platform deployed: what every later `make up`
  pays for it;
- the app's first and no-op `up` through the deployer (`make up`'s engine step, `hack/stack.sh apply
  dev`: the StackReference read, the quota check, the deployer's provider);
- `make up STACK=dev` from nothing (cluster check, platform stack first, app, verification) and a
  second, no-op `make up`; then `make down` and `make platform-down` (timed).
Every figure is the median of ``--repeat`` runs (min and max shown).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "hack")]

from benchmark_engine import KUBECONFIG, KUBECTL, PY, Bench, median, section_main  # type: ignore[import-not-found]  # noqa: E402

BEGIN, END = "<!-- platform: hack/benchmark_platform.py -->", "<!-- /platform -->"
SAMPLES = (
    "platform-first",
    "platform-noop",
    "ensure",
    "app-first",
    "app-noop",
    "make-up-first",
    "make-up-noop",
    "make-down",
    "make-platform-down",
)


def require_no_namespace() -> None:
    """Stop unless dev's namespace is absent: the runs create it from scratch."""
    found = subprocess.run(
        [str(KUBECTL), "--kubeconfig", str(KUBECONFIG), "get", "namespace", "threetier-dev"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if found.returncode == 0:
        raise SystemExit("namespace threetier-dev exists: `make down STACK=dev && make platform-down STACK=dev` first")


def measure(bench: Any, repeat: int) -> dict[str, list[float]]:
    """Every sample, ``repeat`` rounds."""
    samples: dict[str, list[float]] = {key: [] for key in SAMPLES}
    platform = (PY, "-m", "deploy.platform")
    for _ in range(repeat):
        samples["platform-first"].append(bench.run(*platform, "up", "dev"))
        samples["platform-noop"].append(bench.run(*platform, "up", "dev"))
        samples["ensure"].append(bench.run(*platform, "ensure", "dev"))
        samples["app-first"].append(bench.run(str(ROOT / "hack" / "stack.sh"), "apply", "dev"))
        samples["app-noop"].append(bench.run(str(ROOT / "hack" / "stack.sh"), "apply", "dev"))
        bench.run("make", "down", "STACK=dev")
        bench.run("make", "platform-down", "STACK=dev")
        samples["make-up-first"].append(bench.run("make", "up", "STACK=dev"))
        samples["make-up-noop"].append(bench.run("make", "up", "STACK=dev"))
        samples["make-down"].append(bench.run("make", "down", "STACK=dev"))
        samples["make-platform-down"].append(bench.run("make", "platform-down", "STACK=dev"))
    return samples


def section(repeat: int) -> list[str]:
    """Markdown lines of every platform figure."""
    with tempfile.TemporaryDirectory(prefix="threetier-bench-platform-") as scratch:
        bench = Bench(Path(scratch))
        require_no_namespace()
        s = measure(bench, repeat)
    m = {key: statistics.median(values) for key, values in s.items()}
    return [
        BEGIN,
        "## Platform stacks: what the extra stack costs",
        "",
        f"Measured by `hack/benchmark_platform.py` on {time.strftime('%Y-%m-%d')}, {repeat} runs each "
        "(median, min-max), dev on the local cluster's real node, one after the other, into a scratch backend.",
        "",
        "| what (dev) | time |",
        "| --- | --- |",
        f"| platform stack, first up (`make platform-up`'s engine step: offline gate, `pulumi up --skip-preview` "
        f"with the pack; 9 resources, the token awaited) | {median(s['platform-first'])} |",
        f"| platform stack, no-op up | {median(s['platform-noop'])} |",
        f"| `python -m deploy.platform ensure dev`, platform deployed (what every later `make up` pays) "
        f"| {median(s['ensure'])} |",
        f"| app, first up through the deployer (`make up`'s engine step) | {median(s['app-first'])} |",
        f"| app, no-op up (the StackReference read and the quota check included) | {median(s['app-noop'])} |",
        f"| `make up STACK=dev` from nothing (cluster check, platform first, app, verification) "
        f"| {median(s['make-up-first'])} |",
        f"| `make up STACK=dev` again, nothing to change | {median(s['make-up-noop'])} |",
        f"| `make down STACK=dev` (the app; the namespace stays) | {median(s['make-down'])} |",
        f"| `make platform-down STACK=dev` (namespace, quota, deployer) | {median(s['make-platform-down'])} |",
        "",
        f"The extra stack costs a newcomer's first `make up` {m['platform-first']:.1f} s (the platform's own up) "
        f"and every later `make up` {m['ensure']:.1f} s (the `ensure` look-up); the platform's no-op up, when "
        f"the platform team runs it, {m['platform-noop']:.1f} s.",
        "",
        END,
    ]


def main() -> int:
    """Measure and write the platform section of docs/benchmarks.md."""
    return int(section_main(section, BEGIN, END, 5, __doc__.splitlines()[0]))


if __name__ == "__main__":
    sys.exit(main())
