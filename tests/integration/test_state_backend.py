"""A team's shared state: stacks in PostgreSQL (``make state-up``), locking, faults that lose nothing.

Every test here keeps its stacks in a table of its own on the real server (never the users'
``pulumi_state``), deploys config copies into namespaces of its own on the real cluster (each
owned by the environment's platform stack, deployed into the same table with its namespace
renamed), and removes both at the end. Each ``up`` is ``make up``'s engine step (``python -m deploy up``) in a
process of its own, as two engineers' laptops, or a laptop and CI, run it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client

from deploy import Backend, Engine, ProjectStack, config_copy, open_stack
from deploy.backend_watch import CANCEL_SECONDS, DEFAULT_GRACE_SECONDS, cli_children
from deploy.migrate import comparable
from deploy.projects import PLATFORM

from .conftest import ROOT, delete_namespace, kubeconfig_path, unexpected_skips, wait_until
from .stacks import stack_names, verify_outputs
from .state_server import StateServer, session_table
from .test_cluster_restart import objects_in, objects_in_state

pytestmark = pytest.mark.integration

PY = str(ROOT / ".venv" / "bin" / "python")
#: Rounds of two ``up``s of one stack started together.
RACE_ROUNDS = 10
TIERS = ("frontend", "backend", "database")


@dataclass
class TeamStack:
    """A stack of this project in a state table of the test's own, with a config copy of its own."""

    name: str
    namespace: str
    config: Path
    backend: Backend
    table: str
    engine: Engine
    work: Path

    def env(self, **extra: str) -> dict[str, str]:
        """The environment ``make`` and ``python -m deploy`` run with against this stack's table."""
        return {
            **os.environ,
            **self.engine.env(),
            "PULUMI_BACKEND_URL": self.backend.url,
            "PULUMI_CONFIG_PASSPHRASE": self.backend.passphrase,
            "THREETIER_BACKEND": "postgres" if self.backend.url.startswith("postgres") else "local",
            "THREETIER_STATE_TABLE": self.table,
            "KUBECONFIG": str(kubeconfig_path()),
            **extra,
        }

    def start_up(self, config: Path | None = None, **extra: str) -> subprocess.Popen[str]:
        """``python -m deploy up`` (make up's engine step) in a process of its own (``extra``: its environment)."""
        command = [PY, "-m", "deploy", "up", self.name, "--config-file", str(config or self.config)]
        return subprocess.Popen(
            command, cwd=ROOT, env=self.env(**extra), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )

    def up(self, config: Path | None = None, **extra: str) -> subprocess.CompletedProcess[str]:
        """An ``up`` to its end."""
        return finish(self.start_up(config, **extra))

    def make(self, *args: str, with_url: bool = True) -> subprocess.CompletedProcess[str]:
        """``make ARGS STACK=name``; ``with_url=False``: BACKEND=postgres builds the URL itself."""
        env = self.env()
        if not with_url:
            del env["PULUMI_BACKEND_URL"]
        return run_make([*args, f"STACK={self.name}"], env)

    def stack(self) -> ProjectStack:
        """The stack through the Automation API (export, outputs, preview, destroy)."""
        return open_stack(self.name, self.engine, self.backend, kubeconfig=kubeconfig_path())

    def platform(self) -> ProjectStack:
        """The environment's platform stack in the same backend (where the app's StackReference resolves)."""
        return open_stack(self.name, self.engine, self.backend, kubeconfig=kubeconfig_path(), project=PLATFORM)

    def deploy_platform(self) -> None:
        """The platform stack, its namespace renamed this stack's: the environment the app deploys into."""
        overrides = {"threetier-platform:namespace": self.namespace}
        self.platform().up(config_file=config_copy(self.name, self.work / "platform", overrides, project=PLATFORM))

    def state(self) -> dict[str, Any]:
        """``pulumi stack export``, parsed (secrets as ciphertext)."""
        return self.stack().export_state()

    def with_frontend_replicas(self, replicas: int, label: str) -> Path:
        """A copy of this stack's config with ``replicas`` frontend pods."""
        document = yaml.safe_load(self.config.read_text())
        document["config"]["threetier:frontend"]["replicas"] = replicas
        path = self.work / label / self.config.name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(document, sort_keys=False))
        return path

    def verifies(self) -> None:
        """The stack's outputs hold on the live cluster: 0 failed, 0 skipped (but placement on one node)."""
        status, report = verify_outputs(self.name, self.stack().outputs(), self.work, env=self.env())
        assert status == 0, [r for r in report["results"] if r["status"] != "passed"]
        assert unexpected_skips(report["results"]) == []

    def matches_the_cluster(self, api: client.ApiClient) -> None:
        """Exactly the state's objects live in the namespace: none orphaned, none twice."""
        deployment = validate(self.state())
        assert objects_in(api, self.namespace) == objects_in_state({"resources": deployment}, self.namespace)


def run_make(args: list[str], env: dict[str, str], timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """``make ARGS`` in the repo with ENV, its output captured."""
    return subprocess.run(
        ["make", "--no-print-directory", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def finish(process: subprocess.Popen[str], timeout: float = 600) -> subprocess.CompletedProcess[str]:
    stdout, stderr = process.communicate(timeout=timeout)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def small_config(stack: str, directory: Path) -> Path:
    """``stack``'s config, at most two pods per tier (prod's policy asks two of a
    stateless tier), every Service a ClusterIP, small CPU requests.

    (No pinned node port, no LoadBalancer address and 10m CPU a pod: it never competes with the
    session's stacks, whose requests already hold most of the node's two cores.)
    """
    tracked = yaml.safe_load((ROOT / "stacks" / f"Pulumi.{stack}.yaml").read_text())["config"]
    tiers = {}
    for tier in TIERS:
        settings = {k: v for k, v in tracked.get(f"threetier:{tier}", {}).items() if k != "nodePort"}
        replicas = min(int(settings.get("replicas", 1)), 2)
        small = {"requests": {"cpu": "10m", "memory": "32Mi"}, "limits": {"cpu": "500m", "memory": "256Mi"}}
        tiers[f"threetier:{tier}"] = {**settings, "replicas": replicas, "serviceType": "ClusterIP", "resources": small}
    # The namespace is the platform stack's (deploy_platform renames it): the app's config leaves it
    # unset, as the shipped stacks do, so the offline gate (its mocks serve the tracked platform
    # config) and the real StackReference agree.
    return config_copy(stack, directory, tiers)


def validate(state: dict[str, Any]) -> list[dict[str, Any]]:
    """What a team relies on after any fault: the state parses, one entry per URN, nothing pending."""
    deployment = state["deployment"]
    urns = [resource["urn"] for resource in deployment.get("resources", [])]
    assert len(urns) == len(set(urns)), f"a resource twice in the state: {sorted(urns)}"
    assert not deployment.get("pending_operations"), deployment.get("pending_operations")
    return list(deployment.get("resources", []))


class Team:
    """Stacks of the test in tables of their own; destroyed, their namespaces and tables removed at the end."""

    def __init__(
        self, engine: Engine, server: StateServer, work: Path, api: client.ApiClient, reaped: list[str]
    ) -> None:
        self.engine, self.server, self.work, self.api = engine, server, work, api
        #: The session's namespaces deleted without waiting (it waits for them at its end).
        self.reaped = reaped
        self.stacks: list[TeamStack] = []
        self.tables: list[str] = []

    def new_table(self) -> str:
        table = session_table()
        self.tables.append(table)
        return table

    def stack(self, name: str, purpose: str, table: str | None = None, *, platform: bool = True) -> TeamStack:
        """Stack ``name`` in ``table`` (default: a new one), its platform stack deployed there (``platform``)."""
        table = table or self.new_table()
        namespace = f"threetier-{purpose}-{name}"
        directory = self.work / purpose / name
        config = small_config(name, directory)
        backend = Backend(self.server.url(table))
        stack = TeamStack(name, namespace, config, backend, table, self.engine, directory)
        self.stacks.append(stack)
        if platform:
            stack.deploy_platform()
        return stack

    def teardown(self) -> None:
        def destroy(stack: TeamStack) -> None:
            try:
                for project_stack in (stack.stack(), stack.platform()):  # the app first, then its environment
                    if project_stack.export_state().get("deployment", {}).get("resources"):
                        project_stack.stack.cancel()  # a lock a failed test left (pulumi cancel)
                        project_stack.destroy()
                    project_stack.remove()
            finally:
                # Emptied by the platform's destroy; what a failed test left drains while the next tests run.
                delete_namespace(stack.namespace, client.CoreV1Api(self.api), wait=False)
                self.reaped.append(stack.namespace)

        self.server.start_again()
        if self.stacks:
            with ThreadPoolExecutor(max_workers=len(self.stacks)) as pool:
                list(pool.map(destroy, self.stacks))
        for table in self.tables:
            self.server.drop(table)


@pytest.fixture(scope="module")
def team(
    engine: Engine,
    state_server: StateServer,
    tmp_path_factory: pytest.TempPathFactory,
    api_client: client.ApiClient,
    namespaces_to_reap: list[str],
) -> Iterator[Team]:
    """The module's stacks; everything they left is removed at the end, whatever failed."""
    made = Team(engine, state_server, tmp_path_factory.mktemp("team"), api_client, namespaces_to_reap)
    yield made
    made.teardown()


@pytest.fixture(scope="module")
def shared(team: Team) -> dict[str, TeamStack]:
    """dev's and staging's shapes in one table, as a team shares one backend."""
    table = team.new_table()
    return {name: team.stack(name, "team", table) for name in ("dev", "staging")}


def test_state_up_serves_one_role_on_loopback_over_tls_and_never_prints_its_password(
    state_server: StateServer,
) -> None:
    again = subprocess.run(["make", "--no-print-directory", "state-up"], cwd=ROOT, capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    assert state_server.password not in again.stdout + again.stderr
    assert "password" not in state_server.url("pulumi_state").lower().split("passfile=")[0]
    for secret in ("password", "pgpass"):
        assert (state_server.directory / secret).stat().st_mode & 0o077 == 0, f"{secret} is readable by others"
    listening = subprocess.run(["ss", "-Hltn", f"sport = :{state_server.port}"], capture_output=True, text=True)
    assert [line.split()[3] for line in listening.stdout.splitlines()] == [f"127.0.0.1:{state_server.port}"]
    role = state_server.psql("SELECT rolsuper, rolcreatedb, rolcreaterole FROM pg_roles WHERE rolname = current_user")
    assert role == [["f", "f", "f"]]
    assert state_server.psql("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()") == [["t"]]
    refused = {
        "no TLS": f"host=127.0.0.1 port={state_server.port} dbname={state_server.database} "
        f"user={state_server.role} sslmode=disable passfile={state_server.directory / 'pgpass'}",
        "another database": f"host=127.0.0.1 port={state_server.port} dbname=postgres "
        f"user={state_server.role} sslmode=require passfile={state_server.directory / 'pgpass'}",
        "a wrong password": f"host=127.0.0.1 port={state_server.port} dbname={state_server.database} "
        f"user={state_server.role} sslmode=require password=not-the-one",
    }
    for what, conninfo in refused.items():
        attempt = subprocess.run(["psql", "-X", "-tAc", "SELECT 1", conninfo], capture_output=True, text=True)
        assert attempt.returncode != 0, f"{what} was let in"


def test_two_stacks_deploy_at_once_from_two_processes_and_both_verify(shared: dict[str, TeamStack]) -> None:
    processes = {name: stack.start_up() for name, stack in shared.items()}
    results = {name: finish(process) for name, process in processes.items()}
    for name, completed in results.items():
        assert completed.returncode == 0, (name, completed.stderr[-3000:])
    for stack in shared.values():
        validate(stack.state())
        stack.verifies()


def test_two_ups_of_one_stack_at_once_never_both_write(
    shared: dict[str, TeamStack], apps: client.AppsV1Api, state_server: StateServer
) -> None:
    """A config change and a no-op started together, 10 times: one deploys, the other is refused by
    the lock naming its holder and changes nothing (or, when both locked at the very same moment,
    both are refused and nothing is written); the state stays whole every time."""
    dev = shared["dev"]
    if not dev.state()["deployment"].get("resources"):
        assert dev.up().returncode == 0
    replicas = 1
    winners = []
    updates = len(history(state_server, dev))
    for round_ in range(RACE_ROUNDS):
        change = dev.with_frontend_replicas(3 - replicas, f"change-{round_}")
        same = dev.with_frontend_replicas(replicas, f"same-{round_}")
        contenders = {"change": dev.start_up(change), "no-op": dev.start_up(same)}
        outcome = {name: finish(process) for name, process in contenders.items()}
        won = [name for name, completed in outcome.items() if completed.returncode == 0]
        assert len(won) <= 1, {name: (c.returncode, c.stderr[-1500:]) for name, c in outcome.items()}
        if not won:
            # Both wrote their lock at the same moment and each saw the other's (the CLI checks,
            # writes, checks again: pkg/backend/diy/lock.go): two losers, never two writers. Nothing
            # was written; the next round starts from the same state.
            for completed in outcome.values():
                assert "the stack is currently locked" in completed.stderr, completed.stderr[-3000:]
            assert len(history(state_server, dev)) == updates
            validate(dev.state())
            winners.append("none")
            continue
        (loser,) = set(outcome) - set(won)
        refused = outcome[loser].stderr
        assert "the stack is currently locked by 1 lock(s)" in refused, refused[-3000:]
        assert "created by" in refused and "(pid " in refused, refused[-3000:]
        assert "make state-unlock STACK=dev BACKEND=postgres" in refused
        assert "Traceback" not in refused
        winners.append(won[0])
        if won[0] == "change":
            replicas = 3 - replicas
        validate(dev.state())
        updates += 1
        assert len(history(state_server, dev)) == updates, (
            f"the refused up wrote an update of its own: {state_server.keys(dev.table)}"
        )
        live = apps.read_namespaced_deployment("frontend", dev.namespace).spec.replicas
        assert live == replicas, f"round {round_}: {won[0]} won, yet the cluster runs {live} frontend pods"
    print(f"winners of {RACE_ROUNDS} rounds: {winners}")
    assert winners.count("none") < RACE_ROUNDS // 2, winners  # a stale lock would make every round lose
    # The next up with the last winner's config changes nothing.
    dev.stack().preview(config_file=dev.with_frontend_replicas(replicas, "after"), expect_no_changes=True)


def history(server: StateServer, stack: TeamStack) -> list[str]:
    """The stack's update records in its table (one per ``up`` that ran, none for a refused one)."""
    prefix = server.key(f".pulumi/history/threetier/{stack.name}/")
    return [key for key in server.keys(stack.table) if key.startswith(prefix) and key.endswith(".history.json")]


def test_make_verify_reads_the_outputs_through_the_postgres_backend(shared: dict[str, TeamStack]) -> None:
    staging = shared["staging"]
    if not staging.state()["deployment"].get("resources"):
        assert staging.up().returncode == 0
    completed = staging.make("verify", "BACKEND=postgres", "VERIFY_TIMEOUT=30", with_url=False)
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-2000:]
    assert "0 failed" in completed.stdout


def wait_for_deployments(stack: TeamStack, process: subprocess.Popen[str], apps: client.AppsV1Api) -> None:
    """Wait until the up creates the stack's Deployments; if it ends or stalls first, fail with its output."""
    wait_for_up(stack, process, lambda: pods_created(stack, apps))


def wait_for_up(stack: TeamStack, process: subprocess.Popen[str], started: Callable[[], bool]) -> None:
    """Wait until ``started`` holds; if the up ends or stalls first, fail with its output."""
    deadline = time.monotonic() + 180
    while not started():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            stdout, stderr = process.communicate()
            pytest.fail(
                f"the up of {stack.name} got nowhere (exit {process.returncode}):\n{stdout[-3000:]}\n{stderr[-3000:]}"
            )
        time.sleep(0.2)


def pods_created(stack: TeamStack, apps: client.AppsV1Api) -> bool:
    """The up is mid-way: its Deployments are being created."""
    try:
        return len(apps.list_namespaced_deployment(stack.namespace).items) >= 1
    except client.ApiException:
        return False


def test_a_killed_cli_leaves_a_lock_that_names_itself_and_the_documented_recovery_converges(
    team: Team, apps: client.AppsV1Api, api_client: client.ApiClient
) -> None:
    staging = team.stack("staging", "killed")
    process = staging.start_up()
    wait_for_deployments(staging, process, apps)
    (cli,) = wait_until("the pulumi CLI under the up", lambda: cli_children_of(process.pid, staging.engine), 10)
    os.kill(cli, signal.SIGKILL)
    finish(process)

    refused = staging.up()
    assert refused.returncode != 0
    assert f"(pid {cli})" in refused.stderr, refused.stderr[-3000:]
    assert "make state-unlock STACK=staging BACKEND=postgres" in refused.stderr
    assert "Traceback" not in refused.stderr

    unlocked = staging.make("state-unlock", "BACKEND=postgres", with_url=False)
    assert unlocked.returncode == 0, unlocked.stdout[-2000:] + unlocked.stderr[-2000:]
    rerun = staging.up()
    assert rerun.returncode == 0, rerun.stdout[-3000:] + rerun.stderr[-3000:]
    staging.matches_the_cluster(api_client)
    staging.verifies()


def test_a_killed_up_without_checkpoints_records_nothing_and_adopting_the_existing_objects_converges(
    team: Team, apps: client.AppsV1Api, api_client: client.ApiClient
) -> None:
    """SKIP_CHECKPOINTS=1 (the engine writes the state once, at the end), the CLI killed midway.

    The state keeps nothing of what the up created (no pending create to adopt): after the lock is
    cleared the next up meets objects that exist and says the way out; ADOPT_EXISTING=1 converges.
    """
    staging = team.stack("staging", "nockpt")
    before = [r["urn"] for r in staging.state()["deployment"].get("resources", [])]
    process = staging.start_up(THREETIER_SKIP_CHECKPOINTS="1")
    wait_for_deployments(staging, process, apps)
    (cli,) = wait_until("the pulumi CLI under the up", lambda: cli_children_of(process.pid, staging.engine), 10)
    os.kill(cli, signal.SIGKILL)
    killed = finish(process)
    assert "the state is written once, at the end" in killed.stdout

    unlocked = staging.make("state-unlock", "BACKEND=postgres", with_url=False)
    assert unlocked.returncode == 0, unlocked.stdout[-2000:] + unlocked.stderr[-2000:]
    assert [r["urn"] for r in staging.state()["deployment"].get("resources", [])] == before  # nothing recorded
    assert len(apps.list_namespaced_deployment(staging.namespace).items) >= 1  # yet objects exist

    refused = staging.up()
    assert refused.returncode != 0
    assert "already exist in the cluster but not in the state" in refused.stderr, refused.stderr[-3000:]
    assert "ADOPT_EXISTING=1" in refused.stderr
    assert "Traceback" not in refused.stderr

    adopted = staging.up(THREETIER_ADOPT_EXISTING="1")
    assert adopted.returncode == 0, adopted.stdout[-3000:] + adopted.stderr[-3000:]
    assert "adopting existing objects" in adopted.stdout
    staging.matches_the_cluster(api_client)
    staging.verifies()
    assert staging.up().returncode == 0  # and from now on a plain up (checkpoints on) keeps it


def cli_children_of(pid: int, engine: Engine) -> list[int]:
    """The ``pulumi up`` CLI processes ``pid`` started (not its quick ``stack select``/``export`` runs)."""
    assert engine.cli is not None
    return [cli for cli in cli_children(engine.cli, parent=pid) if b"\0up\0" in _cmdline(cli)]


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def test_the_state_server_stopped_mid_up_fails_fast_and_clearly_and_loses_nothing(
    team: Team, apps: client.AppsV1Api, api_client: client.ApiClient
) -> None:
    prod = team.stack("prod", "pgstop")
    process = prod.start_up()
    core = client.CoreV1Api(api_client)
    # Early (its first Service or Deployment: the namespace is the platform stack's, there before the
    # up), so most of the up, and of its checkpoint writes, is still to come.
    wait_for_up(
        prod,
        process,
        lambda: bool(
            core.list_namespaced_service(prod.namespace).items or apps.list_namespaced_deployment(prod.namespace).items
        ),
    )
    saved = {resource["urn"] for resource in validate_loosely(prod.state())}
    team.server.stop("immediate")
    stopped = time.monotonic()
    try:
        failed = finish(process, timeout=300)
        failed_after = time.monotonic() - stopped
    finally:
        team.server.start_again()
    print(f"the up failed {failed_after:.1f} s after the state server stopped")
    assert failed.returncode != 0, failed.stdout[-3000:] + failed.stderr[-3000:]
    # The grace (10 s), a cancel and a terminate (3 s each), then the kill: not the CLI's minutes of retries.
    assert failed_after < DEFAULT_GRACE_SECONDS + 2 * CANCEL_SECONDS + 10, failed.stderr[-3000:]
    assert "Traceback" not in failed.stderr, failed.stderr[-3000:]
    assert "the state server at 127.0.0.1" in failed.stderr, failed.stderr[-3000:]
    assert "make state-up" in failed.stderr and "make state-unlock STACK=prod BACKEND=postgres" in failed.stderr

    # What was saved before the fault is still there and readable.
    assert saved <= {resource["urn"] for resource in validate_loosely(prod.state())}
    unlocked = prod.make("state-unlock", "BACKEND=postgres")
    assert unlocked.returncode == 0, unlocked.stdout[-2000:] + unlocked.stderr[-2000:]
    rerun = prod.up()
    assert rerun.returncode == 0, rerun.stdout[-3000:] + rerun.stderr[-3000:]
    prod.matches_the_cluster(api_client)
    prod.verifies()


def validate_loosely(state: dict[str, Any]) -> list[dict[str, Any]]:
    """The state parses and holds each URN once (an interrupted up may leave operations pending)."""
    resources = list(state["deployment"].get("resources", []))
    urns = [resource["urn"] for resource in resources]
    assert len(urns) == len(set(urns)), sorted(urns)
    return resources


def test_state_migrate_moves_a_stack_from_the_file_backend_and_the_next_up_changes_nothing(
    team: Team, tmp_path: Path, api_client: client.ApiClient
) -> None:
    dev = team.stack("dev", "migrate", platform=False)
    files = tmp_path / "file-backend"
    local = TeamStack(dev.name, dev.namespace, dev.config, Backend.local(files), dev.table, dev.engine, dev.work)
    local.deploy_platform()  # the environment in the file backend too: it moves with the app
    platform_before = validate(local.platform().export_state())
    deployed = local.up()
    assert deployed.returncode == 0, deployed.stderr[-3000:]
    before = validate(local.state())

    env = {**dev.env(THREETIER_LOCAL_STATE=str(files))}
    del env["PULUMI_BACKEND_URL"]  # BACKEND=postgres: the URL of make state-up's server, THREETIER_STATE_TABLE's table
    moved = run_make(["state-migrate", "STACK=dev"], env)
    assert moved.returncode == 0, moved.stdout[-3000:] + moved.stderr[-3000:]
    # The platform stack first (the app's StackReference must resolve where the app now lives), then the app.
    platform_moved = f"moved platform stack dev ({len(platform_before)} resources"
    assert platform_moved in moved.stdout, moved.stdout[-3000:]
    assert moved.stdout.index(platform_moved) < moved.stdout.index(f"moved stack dev ({len(before)} resources")
    after = validate(dev.state())
    # Every resource and output kept; a secret's ciphertext differs (re-encrypted, new nonce), its value not.
    assert {r["urn"]: comparable(r.get("outputs")) for r in after} == {
        r["urn"]: comparable(r.get("outputs")) for r in before
    }
    platform_after = validate(dev.platform().export_state())
    assert {r["urn"] for r in platform_after} == {r["urn"] for r in platform_before}
    assert stack_names(local.env()) == {"threetier": set(), "threetier-platform": set()}, "the file backend kept some"
    tracked = ["stacks", "platform/stacks"]
    assert subprocess.run(["git", "diff", "--quiet", "--", *tracked], cwd=ROOT, check=False).returncode == 0

    # make up's engine step through PostgreSQL: the secrets still decrypt, nothing changes.
    again = dev.up()
    assert again.returncode == 0, again.stderr[-3000:]
    providers = [r for r in before if r["type"].startswith("pulumi:providers:")]  # the summary leaves them out
    assert resource_summary(again.stdout) == {"unchanged": len(before) - len(providers)}, again.stdout[-2000:]
    dev.matches_the_cluster(api_client)


def resource_summary(printed: str) -> dict[str, int]:
    """The CLI's ``Resources:`` block, e.g. ``{"unchanged": 18}``."""
    lines = printed.splitlines()
    start = max(index for index, line in enumerate(lines) if line.strip() == "Resources:")
    summary: dict[str, int] = {}
    for line in lines[start + 1 :]:
        words = line.split()
        if len(words) < 2 or not words[-2].isdigit():
            break
        summary[words[-1]] = int(words[-2])
    return summary
