"""Measure the second real node's cost and prod through a drain and a lost node (docs/benchmarks.md).

    .venv/bin/python hack/benchmark_nodes.py [--repeat 3] [--scenarios 1]

Needs root, the toolchain and images cached (`make toolchain`, `make images`), the state server
(`make state-up`) and the engine (`python -m deploy`). It restarts the local cluster:
- `--repeat` rounds of: `make cluster-down`, `make cluster-up NODES=1` (cold), the resident memory
  of node 1's processes (kubelet, containerd, kube-proxy, kube-router), `make cluster-up NODES=2`
  (adds node 2 to the running cluster) and node 2's memory, `make cluster-down`, `make cluster-up`
  (the default, two nodes, cold);
- then, `--scenarios` times, the two scenarios of tests/features/node_failure.feature through
  pytest (prod deployed by the engine, a drain and a lost node under probe loops), whose steps
  record their figures (requests, failed requests, seconds) in $THREETIER_NODE_FIGURES.
Every figure is the median of its runs (min and max shown). The cluster is left up, two nodes.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "hack")]

from benchmark import rss_of  # type: ignore[import-not-found]  # noqa: E402
from benchmark_engine import write  # type: ignore[import-not-found]  # noqa: E402

BEGIN, END = "<!-- nodes: hack/benchmark_nodes.py -->", "<!-- /nodes -->"
NODE_PROCESSES = ("kubelet", "containerd", "kube-proxy", "kube-router")
LOG = ROOT / "build" / "benchmark_nodes.log"


def run(*command: str, env: dict[str, str] | None = None, must_pass: bool = True) -> float:
    """Run ``command`` in the repo; its wall time.

    Its output goes to build/benchmark_nodes.log; a failure stops the benchmark (``must_pass``) or
    is reported and measured all the same.
    """
    start = time.perf_counter()
    completed = subprocess.run(list(command), cwd=ROOT, capture_output=True, text=True, env=env, check=False)
    LOG.parent.mkdir(parents=True, exist_ok=True)
    with LOG.open("a", encoding="utf-8") as log:
        log.write(f"$ {' '.join(command)} (exit {completed.returncode})\n{completed.stdout}\n{completed.stderr}\n")
    if completed.returncode != 0:
        message = f"{' '.join(command)} failed (exit {completed.returncode}; whole output: {LOG})"
        if must_pass:
            raise SystemExit(message)
        print(message, file=sys.stderr)
    return time.perf_counter() - start


def node_rss(index: int) -> int:
    """Resident memory of real node ``index``'s processes, MiB."""
    run_dir = ROOT / ".toolchain" / "run" / f"threetier-node-{index}"
    return int(rss_of([int((run_dir / f"{name}.pid").read_text()) for name in NODE_PROCESSES]))


def spread(samples: list[float], unit: str = "s", digits: int = 1) -> str:
    """``median (min-max)`` of ``samples``."""
    if not samples:
        return "not measured"
    return f"{statistics.median(samples):.{digits}f} {unit} ({min(samples):.{digits}f}-{max(samples):.{digits}f})"


def cluster_cost(repeat: int) -> dict[str, list[float]]:
    """Cold cluster-up times with one and two nodes, adding the second, each node's memory."""
    figures: dict[str, list[float]] = {}
    for _ in range(repeat):
        run("make", "cluster-down")
        figures.setdefault("up1", []).append(run("make", "cluster-up", "NODES=1"))
        figures.setdefault("rss1", []).append(node_rss(1))
        figures.setdefault("add2", []).append(run("make", "cluster-up", "NODES=2"))
        figures.setdefault("rss2", []).append(node_rss(2))
        run("make", "cluster-down")
        figures.setdefault("up2", []).append(run("make", "cluster-up"))
    return figures


def scenarios(times: int) -> list[dict[str, Any]]:
    """The figures the node_failure scenarios recorded, one JSON record a line, over ``times`` runs."""
    records: list[dict[str, Any]] = []
    for _ in range(times):
        with tempfile.NamedTemporaryFile("r", suffix=".jsonl") as out:
            env = {**os.environ, "THREETIER_NODE_FIGURES": out.name, "THREETIER_REQUIRE_CLUSTER": "1"}
            command = [str(ROOT / ".venv" / "bin" / "pytest"), "-q", "-m", "integration"]
            command += ["tests/integration/test_features.py", "-k", "drain or losing"]
            run(*command, env=env, must_pass=False)  # a failed step still leaves the figures it measured
            records += [json.loads(line) for line in Path(out.name).read_text().splitlines()]
    return records


#: The figures node_steps records ("what"), by scenario.
DRAIN_SECONDS = "drain seconds"
LB_DURING_DRAIN = "requests to the load-balancer address"
BACKEND_DURING_DRAIN = "requests to the backend Service from a frontend pod"
NOT_READY = "seconds to NotReady"
ENDPOINTS_LEFT = "seconds until the frontend's endpoints left the lost node"
FORWARDING_STOPPED = "seconds until the node left forwarded nothing to the lost node's frontend pods"
BACK_ON_OTHER_NODE = "seconds until every tier was back on the other node"
LB_DURING_LOSS = "requests to the load-balancer address during the loss"
NODE_BACK = "seconds for the lost node to come back Ready"


def values(records: list[dict[str, Any]], scenario: str, what: str, key: str | None = None) -> list[float]:
    """Every run's figure ``what`` of ``scenario`` (its ``key`` when the figure is a map)."""
    found = [r["value"] for r in records if r["scenario"] == scenario and r["what"] == what]
    return [float(v[key] if key else v) for v in found]


def failed_of(records: list[dict[str, Any]], scenario: str, what: str) -> str:
    """``F of N`` failed requests over every run."""
    requests, failed = values(records, scenario, what, "requests"), values(records, scenario, what, "failed")
    return f"{sum(failed):.0f} of {sum(requests):.0f}" if requests else "not measured"


def section(cost: dict[str, list[float]], records: list[dict[str, Any]], repeat: int, times: int) -> list[str]:
    """The markdown section (between BEGIN and END)."""
    before = values(records, "loss", LB_DURING_LOSS, "failed before the endpoints left")
    between = values(records, "loss", LB_DURING_LOSS, "failed after the endpoints left, before every tier was back")
    after = values(records, "loss", LB_DURING_LOSS, "failed after every tier was back")
    cluster_rows = [
        ("`make cluster-up NODES=1`, cold (toolchain and images cached)", spread(cost.get("up1", []))),
        ("`make cluster-up NODES=2` on that one-node cluster (adds node 2)", spread(cost.get("add2", []))),
        ("`make cluster-up` (two nodes), cold", spread(cost.get("up2", []))),
        ("node 1's kubelet, containerd, kube-proxy and kube-router, resident", spread(cost.get("rss1", []), "MiB", 0)),
        ("node 2's, resident: what the second node adds", spread(cost.get("rss2", []), "MiB", 0)),
    ]
    prod_rows = [
        (
            "drain of the node holding most of prod's pods (PDBs waited for)",
            spread(values(records, "drain", DRAIN_SECONDS)),
        ),
        ("failed requests to the load-balancer address during the drain", failed_of(records, "drain", LB_DURING_DRAIN)),
        (
            "failed requests to the backend's Service from a frontend pod, drain",
            failed_of(records, "drain", BACKEND_DURING_DRAIN),
        ),
        ("lost node (every process SIGKILLed, links down): NotReady after", spread(values(records, "loss", NOT_READY))),
        ("... the frontend's endpoints off the lost node after", spread(values(records, "loss", ENDPOINTS_LEFT))),
        (
            "... kube-proxy on the node left forwarding nothing to them after",
            spread(values(records, "loss", FORWARDING_STOPPED)),
        ),
        (
            "... every tier at its replica count on the other node after",
            spread(values(records, "loss", BACK_ON_OTHER_NODE)),
        ),
        (
            "failed requests to the load-balancer address during the loss",
            f"{failed_of(records, 'loss', LB_DURING_LOSS)}: {sum(before):.0f} before the endpoints left, "
            f"{sum(between):.0f} after them and before every tier was back (goal: 0), {sum(after):.0f} after",
        ),
        (
            "slowest answer at the load-balancer address during the loss (a request fails after 10 s)",
            spread(values(records, "loss", LB_DURING_LOSS, "slowest answer, s")),
        ),
        ("the lost node back Ready (`hack/node-up.sh K`)", spread(values(records, "loss", NODE_BACK))),
    ]
    return [
        BEGIN,
        "## Two real nodes: what the second costs, and prod through a drain and a lost node",
        "",
        f"Measured by `hack/benchmark_nodes.py` on {time.strftime('%Y-%m-%d')}: the cluster figures {repeat} "
        f"round(s), the node_failure scenarios {times} run(s) each (median, min-max).",
        "",
        "| the cluster | figure |",
        "| --- | --- |",
        *(f"| {label} | {value} |" for label, value in cluster_rows),
        "",
        "| prod (3 frontends behind a LoadBalancer, 3 backends, 1 database) | figure |",
        "| --- | --- |",
        *(f"| {label} | {value} |" for label, value in prod_rows),
        "",
        END,
    ]


def main() -> int:
    """Measure, print and write the section."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="rounds of the cluster figures")
    parser.add_argument("--scenarios", type=int, default=1, help="runs of the drain and loss scenarios")
    options = parser.parse_args()
    cost = cluster_cost(options.repeat)
    records = scenarios(options.scenarios)
    lines = section(cost, records, options.repeat, options.scenarios)
    write(lines, ROOT / "docs" / "benchmarks.md", BEGIN, END)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
