"""Measure the PostgreSQL state backend against the file backend and write its section of docs/benchmarks.md.

    .venv/bin/python hack/benchmark_state.py [--repeat 3] [--apps 20] [--fleet-repeat 1]

Needs `make cluster-up`, `make state-up` and the engine (`python -m deploy`); dev's and the
fleet's namespaces must be absent. One run, same cluster, the backends interleaved round by round:
- dev as `make up`'s engine step runs it (`hack/stack.sh apply`): first `up`, a no-op `up`, then
  `pulumi destroy`, into a fresh file backend and into a fresh table of the PostgreSQL server;
- a fleet of ``--apps`` three-tier apps (``examples/fleet``, replicas 0: no pods, so the engine,
  the provider, the API server and the state backend are what is measured) deployed with a plain
  `pulumi up --skip-preview` and the policy pack, then destroyed, through both backends, and
  through PostgreSQL with what Pulumi offers to write less (``PULUMI_DIY_BACKEND_GZIP``,
  ``PULUMI_SKIP_CHECKPOINTS``);
- what each PostgreSQL `up` wrote: a trigger on the backend's table (installed by this script
  only, on its own scratch tables) records every row written and its size, and the server's WAL
  position before and after gives the bytes the server wrote for it (server-wide: run it alone).
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
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "hack")]

from benchmark_engine import KUBECONFIG, KUBECTL, engine_env, median, write  # type: ignore[import-not-found]  # noqa: E402

from deploy.stack import policy_config  # noqa: E402

BEGIN, END = "<!-- state: hack/benchmark_state.py -->", "<!-- /state -->"
FLEET = ROOT / "examples" / "fleet"
#: Row keys start with the URL's path, the database: pulumi_state/.pulumi/stacks/<project>/<stack>.json.
CHECKPOINT = "%/.pulumi/stacks/"


@dataclass
class Writes:
    """What one operation wrote to the PostgreSQL backend."""

    rows: int = 0
    row_bytes: int = 0
    checkpoint_rows: int = 0
    checkpoint_bytes: int = 0
    final_checkpoint: int = 0
    wal_bytes: int = 0


@dataclass
class Samples:
    """Seconds per operation, and (PostgreSQL) what each wrote."""

    seconds: dict[str, list[float]] = field(default_factory=dict)
    writes: dict[str, list[Writes]] = field(default_factory=dict)

    def add(self, operation: str, seconds: float, writes: Writes | None = None) -> None:
        """Record one run of ``operation``."""
        self.seconds.setdefault(operation, []).append(seconds)
        if writes is not None:
            self.writes.setdefault(operation, []).append(writes)


def state_url(table: str) -> str:
    """The URL of make state-up's server for ``table`` (hack/state-up.sh --url starts it when needed)."""
    env = {**os.environ, "THREETIER_STATE_TABLE": table}
    output = subprocess.run(
        [str(ROOT / "hack" / "state-up.sh"), "--url"], env=env, capture_output=True, text=True, check=True
    ).stdout
    return output.strip().splitlines()[-1].removeprefix("backend-url: ")


def psql(url: str, sql: str) -> list[str]:
    """``sql`` as the state role over the backend URL's connection (TLS, passfile); output lines."""
    conninfo = url.split("?", 1)
    query = dict(part.split("=", 1) for part in conninfo[1].split("&") if not part.startswith("table="))
    target = conninfo[0].removeprefix("postgres://")
    role, address = target.split("@", 1)
    hostport, database = address.split("/", 1)
    host, port = hostport.split(":")
    options = " ".join(f"{key}={value}" for key, value in query.items())
    dsn = f"host={host} port={port} dbname={database} user={role} {options}"
    completed = subprocess.run(
        ["psql", "-X", "-q", "-tA", "-v", "ON_ERROR_STOP=1", dsn],
        input=sql,
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise SystemExit(f"psql failed: {completed.stderr.strip()}")
    return [line for line in completed.stdout.splitlines() if line]


class Backend:
    """A fresh state backend: a scratch directory, or a scratch table of make state-up's server."""

    def __init__(self, kind: str, work: Path) -> None:
        self.kind = kind
        if kind == "file":
            directory = work / f"state-{secrets.token_hex(4)}"
            directory.mkdir(parents=True)
            self.url = f"file://{directory}"
            self.table = ""
        else:
            self.table = f"bench_{secrets.token_hex(4)}"
            self.url = state_url(self.table)

    def counting(self) -> None:
        """Record every row the backend writes (PostgreSQL: a trigger on its table, which must exist)."""
        if self.kind == "file":
            return
        psql(
            self.url,
            f"""
            CREATE TABLE IF NOT EXISTS bench_writes (tbl text, key text, bytes bigint);
            CREATE OR REPLACE FUNCTION bench_count() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              INSERT INTO bench_writes VALUES (TG_TABLE_NAME, NEW.key, octet_length(NEW.data::text));
              RETURN NEW;
            END $$;
            CREATE TRIGGER bench_count AFTER INSERT OR UPDATE ON {self.table}
              FOR EACH ROW EXECUTE FUNCTION bench_count();
            """,
        )

    @contextmanager
    def measured(self) -> Iterator[Writes]:
        """What the block wrote (filled in when it ends; PostgreSQL only)."""
        writes = Writes()
        if self.kind == "file":
            yield writes
            return
        psql(self.url, f"DELETE FROM bench_writes WHERE tbl = '{self.table}'")
        (start,) = psql(self.url, "SELECT pg_current_wal_lsn()")
        yield writes
        (wal,) = psql(self.url, f"SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '{start}')::bigint")
        for line in psql(
            self.url,
            f"SELECT key LIKE '{CHECKPOINT}%' AND key NOT LIKE '%.bak', "
            f"count(*), sum(bytes), max(bytes) FROM bench_writes WHERE tbl = '{self.table}' GROUP BY 1",
        ):
            is_checkpoint, count, total, largest = line.split("|")
            writes.rows += int(count)
            writes.row_bytes += int(total)
            if is_checkpoint == "t":
                writes.checkpoint_rows, writes.checkpoint_bytes = int(count), int(total)
                writes.final_checkpoint = int(largest)
        writes.wal_bytes = int(wal)

    def drop(self) -> None:
        """Drop the scratch table."""
        if self.kind != "file":
            psql(self.url, f"DROP TABLE IF EXISTS {self.table}; DELETE FROM bench_writes WHERE tbl = '{self.table}'")


class Bench:
    """Timed commands against the local cluster with a given backend."""

    def __init__(self, work: Path) -> None:
        self.work = work
        self.base = {
            **engine_env(),
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
        }

    def run(self, command: list[str], backend: Backend, cwd: Path = ROOT, **extra: str) -> float:
        """Run ``command`` with ``backend`` (fails loudly); its wall time in seconds."""
        env = {**self.base, "PULUMI_BACKEND_URL": backend.url, **extra}
        start = time.perf_counter()
        completed = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)
        if completed.returncode != 0:
            raise SystemExit(f"{' '.join(command)} failed:\n{completed.stdout[-3000:]}\n{completed.stderr[-3000:]}")
        return time.perf_counter() - start

    def require_absent(self, prefixes: tuple[str, ...]) -> None:
        """Stop unless no namespace starts with one of ``prefixes``: the runs deploy from scratch."""
        listed = subprocess.run(
            [str(KUBECTL), "--kubeconfig", str(KUBECONFIG), "get", "namespaces", "-o", "name"],
            capture_output=True, text=True, check=True,
        ).stdout.split()  # fmt: skip
        present = [name for name in listed if name.removeprefix("namespace/").startswith(prefixes)]
        if present:
            raise SystemExit(f"{', '.join(present)} exist: remove them before benchmarking")

    def dev_round(self, backend: Backend, samples: Samples) -> None:
        """The dev stack's first up, no-op up and destroy as make up's engine step runs them."""
        self.run(["pulumi", "stack", "init", "dev"], backend)
        backend.counting()
        apply = [str(ROOT / "hack" / "stack.sh"), "apply", "dev"]
        for operation in ("first", "noop"):
            with backend.measured() as writes:
                seconds = self.run(apply, backend)
            samples.add(operation, seconds, writes if backend.kind != "file" else None)
        with backend.measured() as writes:
            seconds = self.run(["pulumi", "destroy", "--yes", "--stack", "dev"], backend)
        samples.add("destroy", seconds, writes if backend.kind != "file" else None)

    def fleet_round(self, backend: Backend, apps: int, samples: Samples, **extra: str) -> None:
        """The fleet's first up, then its destroy."""
        config = self.work / f"Pulumi.bench-{secrets.token_hex(4)}.yaml"
        settings = yaml.safe_load((FLEET / "Pulumi.bench.yaml").read_text())
        settings["config"]["fleet:apps"] = apps
        config.write_text(yaml.safe_dump(settings))
        fleet = {"PYTHONPATH": str(ROOT), **extra}
        self.run(["pulumi", "stack", "init", "bench"], backend, cwd=FLEET, **fleet)
        backend.counting()
        up = ["pulumi", "up", "--yes", "--skip-preview", "--stack", "bench", "--config-file", str(config)]
        up += ["--policy-pack", str(ROOT / "policy"), "--policy-pack-config", str(policy_config("dev"))]
        with backend.measured() as writes:
            seconds = self.run(up, backend, cwd=FLEET, **fleet)
        samples.add("up", seconds, writes if backend.kind != "file" else None)
        destroy = ["pulumi", "destroy", "--yes", "--stack", "bench", "--config-file", str(config)]
        with backend.measured() as writes:
            seconds = self.run(destroy, backend, cwd=FLEET, **fleet)
        samples.add("destroy", seconds, writes if backend.kind != "file" else None)


FLEET_VARIANTS: dict[str, dict[str, str]] = {
    "postgres": {},
    "postgres, PULUMI_DIY_BACKEND_GZIP=true": {"PULUMI_DIY_BACKEND_GZIP": "true"},
    "postgres, PULUMI_SKIP_CHECKPOINTS=true": {"PULUMI_SKIP_CHECKPOINTS": "true"},
}


def mib(count: float) -> str:
    """Bytes as MiB, one decimal."""
    return f"{count / 2**20:.1f} MiB"


def writes_cell(writes: list[Writes]) -> str:
    """The median run's writes: rows (checkpoint rows), bytes, WAL."""
    middle = sorted(writes, key=lambda w: w.row_bytes)[len(writes) // 2]
    return (
        f"{middle.rows} rows ({middle.checkpoint_rows} checkpoint writes, "
        f"up to {middle.final_checkpoint // 1024} KiB), "
        f"{mib(middle.row_bytes)}; WAL {mib(middle.wal_bytes)}"
    )


def ratio(samples: dict[str, Samples], kind: str, operation: str) -> str:
    """Median of ``kind`` over the file backend's median for ``operation``."""
    base = statistics.median(samples["file"].seconds[operation])
    return f"{statistics.median(samples[kind].seconds[operation]) / base:.2f} x"


def section(repeat: int, apps: int, fleet_repeat: int) -> list[str]:
    """Measure and return the markdown lines."""
    with tempfile.TemporaryDirectory(prefix="threetier-bench-state-") as scratch:
        bench = Bench(Path(scratch))
        bench.require_absent(("threetier-dev", "fleet-"))
        dev: dict[str, Samples] = {"file": Samples(), "postgres": Samples()}
        for _ in range(repeat):
            for kind in ("postgres", "file") if _ % 2 else ("file", "postgres"):
                backend = Backend(kind, bench.work)
                try:
                    bench.dev_round(backend, dev[kind])
                finally:
                    backend.drop()
        fleet: dict[str, Samples] = {"file": Samples(), **{name: Samples() for name in FLEET_VARIANTS}}
        for _ in range(fleet_repeat):
            for name in fleet:
                backend = Backend("file" if name == "file" else "postgres", bench.work)
                try:
                    bench.fleet_round(backend, apps, fleet[name], **FLEET_VARIANTS.get(name, {}))
                finally:
                    backend.drop()
    lines = [
        BEGIN,
        "## The shared state backend: PostgreSQL against the file backend",
        "",
        f"Measured by `hack/benchmark_state.py` on {time.strftime('%Y-%m-%d')}: dev {repeat} rounds, the backends "
        f"interleaved (median, min-max); the fleet of {apps} apps {fleet_repeat} run(s) per backend. "
        "PostgreSQL is make state-up's server (TLS, scram-sha-256, loopback), a fresh table per run; the file "
        "backend a fresh directory.",
        "",
        "| dev, as `make up`'s engine step | file backend | PostgreSQL | ratio | goal | written to PostgreSQL |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for operation, label in (("first", "first up"), ("noop", "no-op up"), ("destroy", "destroy")):
        lines.append(
            f"| {label} | {median(dev['file'].seconds[operation])} | {median(dev['postgres'].seconds[operation])} "
            f"| {ratio(dev, 'postgres', operation)} | ≤ 1.2 x | {writes_cell(dev['postgres'].writes[operation])} |"
        )
    lines += [
        "",
        f"| fleet of {apps} apps (`pulumi up --skip-preview`, the pack) | up | destroy | up vs file "
        "| written by the up |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name, samples in fleet.items():
        written = writes_cell(samples.writes["up"]) if name != "file" else ""
        lines.append(
            f"| {name} | {median(samples.seconds['up'])} | {median(samples.seconds['destroy'])} "
            f"| {ratio(fleet, name, 'up')} | {written} |"
        )
    lines += ["", END]
    return lines


def main() -> int:
    """Measure and write the state backend section of docs/benchmarks.md."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--apps", type=int, default=20)
    parser.add_argument("--fleet-repeat", type=int, default=1)
    options = parser.parse_args()
    lines = section(options.repeat, options.apps, options.fleet_repeat)
    write(lines, ROOT / "docs" / "benchmarks.md", BEGIN, END)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
