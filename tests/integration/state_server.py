"""The shared state backend (``make state-up``'s PostgreSQL server) as the integration tests use it.

The session keeps its stacks in a table of its own (``THREETIER_STATE_TABLE``), never in the
users' ``pulumi_state`` table, and drops it at the end. The tests read and write that table's rows
as Pulumi's postgres backend stores them: one row per file, ``data`` = ``{"data": base64}``.
Everything goes through ``psql`` as the state role (TLS, password from the pgpass file), the way
any client of the server does.
"""

from __future__ import annotations

import base64
import os
import re
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STATE_UP = ROOT / "hack" / "state-up.sh"
STATE_DOWN = ROOT / "hack" / "state-down.sh"
_TABLE_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")


def _state_env() -> dict[str, str]:
    """Facts of hack/state-env.sh (the same defaults and overrides as make state-up)."""
    script = f"source {ROOT / 'hack' / 'state-env.sh'}; " + "; ".join(
        f'echo "{name}=${name}"' for name in ("STATE_DIR", "STATE_HOST", "STATE_PORT", "STATE_DATABASE", "STATE_ROLE")
    )
    completed = subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=True)
    return dict(line.split("=", 1) for line in completed.stdout.splitlines())


@dataclass(frozen=True)
class StateServer:
    """The running state server, as make state-up left it."""

    directory: Path
    host: str
    port: int
    database: str
    role: str

    @classmethod
    def start(cls) -> StateServer:
        """``make state-up`` (idempotent), then the server's facts."""
        completed = subprocess.run([str(STATE_UP)], capture_output=True, text=True, check=False)
        if completed.returncode != 0:
            raise RuntimeError(f"hack/state-up.sh failed:\n{completed.stdout}{completed.stderr}")
        facts = _state_env()
        return cls(
            Path(facts["STATE_DIR"]),
            facts["STATE_HOST"],
            int(facts["STATE_PORT"]),
            facts["STATE_DATABASE"],
            facts["STATE_ROLE"],
        )

    def start_again(self) -> None:
        """``make state-up`` (after a test stopped the server; a no-op when it runs)."""
        StateServer.start()

    @property
    def password(self) -> str:
        """The state role's password (for the tests that look for it where it must not be)."""
        return (self.directory / "password").read_text().strip()

    def url(self, table: str) -> str:
        """The backend URL of ``table`` (what ``make up BACKEND=postgres`` logs in with)."""
        env = {**os.environ, "THREETIER_STATE_TABLE": table}
        completed = subprocess.run([str(STATE_UP), "--url"], env=env, capture_output=True, text=True, check=True)
        return completed.stdout.strip()

    def psql(self, sql: str, *variables: tuple[str, str]) -> list[list[str]]:
        """Run ``sql`` as the state role; rows of tab-separated fields."""
        conninfo = (
            f"host={self.host} port={self.port} dbname={self.database} user={self.role} sslmode=verify-full "
            f"sslrootcert={self.directory / 'server.crt'} passfile={self.directory / 'pgpass'}"
        )
        command = ["psql", "-X", "-q", "-tA", "-F", "\t", "-v", "ON_ERROR_STOP=1", conninfo]
        # Variables through stdin (\\set), not argv: a checkpoint's base64 outgrows one argument's limit.
        settings = "".join(f"\\set {name} '{_quotable(value)}'\n" for name, value in variables)
        completed = subprocess.run(command, input=settings + sql, capture_output=True, text=True, check=False)
        if completed.returncode != 0:
            raise RuntimeError(f"psql failed: {completed.stderr.strip()}")
        return [line.split("\t") for line in completed.stdout.splitlines() if line]

    def keys(self, table: str) -> list[str]:
        """The key (path) of every file Pulumi keeps in ``table``."""
        return [row[0] for row in self.psql(f"SELECT key FROM {_checked(table)} ORDER BY key")]

    def files(self, table: str) -> dict[str, bytes]:
        """Every file Pulumi keeps in ``table``, decoded: key -> content."""
        rows = self.psql(f"SELECT key, data->>'data' FROM {_checked(table)} ORDER BY key")
        return {key: base64.b64decode(data) for key, data in rows}

    def write_file(self, table: str, key: str, content: bytes) -> None:
        """Replace the file ``key`` of ``table`` (as the backend's writer does)."""
        encoded = base64.b64encode(content).decode()
        self.psql(
            f"UPDATE {_checked(table)} SET data = json_build_object('data', :'content'::text), updated_at = now() "
            "WHERE key = :'key'",
            ("content", encoded),
            ("key", key),
        )

    def drop(self, table: str) -> None:
        """Drop ``table`` (the session's own; never the users' ``pulumi_state``)."""
        assert table != "pulumi_state"
        self.psql(f"DROP TABLE IF EXISTS {_checked(table)}")

    def stop(self, mode: str = "fast") -> None:
        """``make state-down`` (``immediate``: as a crash)."""
        env = {**os.environ, "STATE_STOP_MODE": mode}
        subprocess.run([str(STATE_DOWN)], env=env, capture_output=True, text=True, check=True)


def session_table() -> str:
    """A table name of this session's own."""
    return f"pulumi_state_it_{uuid.uuid4().hex[:10]}"


def _quotable(value: str) -> str:
    if "'" in value or "\\" in value or "\n" in value:
        raise ValueError("a psql variable here holds base64 or a file key: no quote, backslash or newline")
    return value


def _checked(table: str) -> str:
    if not _TABLE_NAME.match(table):
        raise ValueError(f"not a plain table name: {table!r}")
    return table
