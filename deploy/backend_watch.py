"""Watch a PostgreSQL state backend while an ``up`` runs, and cut the wait when its server is gone.

When the server stops answering, the CLI's DIY backend retries each checkpoint write 11 times with
a backoff of 1 s x 1.2^n (pkg/backend/diy/state.go in v3.259.0, not configurable: ~32 s a write),
under one mutex, so the writes queued behind it each wait their turn: an ``up`` whose server was
stopped 8 s in failed only after 2 min 14 s. Nothing more can be saved meanwhile, so waiting buys
nothing once the server is really gone. :class:`BackendWatch` connects to the server every second;
when no connection succeeded for ``grace`` seconds (``$THREETIER_STATE_GRACE``, 10 by default: a
restart shorter than that is ridden out by the CLI's own retries), it interrupts the CLI as a
user's Ctrl-C twice would (SIGTERM: cancel; SIGTERM again after a few seconds: terminate). What
was saved before the server went stays in the database; the lock and the pending operations the
CLI could not clear are what ``make state-unlock`` and the next ``make up`` deal with.
"""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Optional
from urllib.parse import parse_qs, urlsplit

DEFAULT_GRACE_SECONDS = 10.0
#: After the first SIGTERM (cancel), how long the CLI gets before the second one (terminate).
CANCEL_SECONDS = 3.0


def postgres_address(url: str) -> Optional[tuple[str, int]]:
    """(host, port) of a ``postgres://`` backend URL (libpq's defaults and PGHOST/PGPORT), else ``None``."""
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql"):
        return None
    query = parse_qs(parts.query)
    host = parts.hostname or (query.get("host") or [os.environ.get("PGHOST", "localhost")])[0]
    if host.startswith("/"):  # a Unix socket: not watched
        return None
    port = parts.port or int((query.get("port") or [os.environ.get("PGPORT", "5432")])[0])
    return host, port


def grace_seconds() -> float:
    """``$THREETIER_STATE_GRACE`` (seconds without a connection before the up is interrupted)."""
    configured = os.environ.get("THREETIER_STATE_GRACE", "")
    try:
        return float(configured) if configured else DEFAULT_GRACE_SECONDS
    except ValueError:
        message = f"THREETIER_STATE_GRACE={configured!r} is not valid; allowed values: a number of seconds, e.g. 10"
        raise ValueError(message) from None


class BackendWatch:
    """A thread that connects to the state server every ``interval`` s while the CLI runs."""

    def __init__(self, address: tuple[str, int], cli: Path, grace: float, interval: float = 1.0) -> None:
        self.address = address
        self.cli = cli
        self.grace = grace
        self.interval = interval
        #: Seconds the server had been silent when the CLI was interrupted (``None``: it never was).
        self.lost_after: Optional[float] = None
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="state-backend-watch", daemon=True)

    def start(self) -> None:
        """Start watching."""
        self._thread.start()

    def stop(self) -> None:
        """Stop watching (the CLI has ended)."""
        self._stopped.set()
        self._thread.join()

    def _answers(self) -> bool:
        try:
            with socket.create_connection(self.address, timeout=self.interval):
                return True
        except OSError:
            return False

    def _watch(self) -> None:
        last_answer = time.monotonic()
        while not self._stopped.wait(self.interval):
            if self._answers():
                last_answer = time.monotonic()
            elif time.monotonic() - last_answer >= self.grace:
                self.lost_after = time.monotonic() - last_answer
                self._interrupt_cli()
                return

    def _interrupt_cli(self) -> None:
        """SIGTERM the CLI processes this one started (cancel), then once more (terminate)."""
        for attempt in range(2):
            running = cli_children(self.cli)
            for pid in running:
                with suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGTERM)
            if attempt == 0 and self._stopped.wait(CANCEL_SECONDS):
                return  # the cancelled CLI ended by itself


def cli_children(cli: Path, parent: Optional[int] = None) -> list[int]:
    """Pids of the children of ``parent`` (default: this process) that run ``cli``."""
    found = []
    target = cli.resolve()
    parent = os.getpid() if parent is None else parent
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            if ppid == parent and (entry / "exe").resolve() == target:
                found.append(int(entry.name))
        except (OSError, ValueError, IndexError):
            continue
    return found


@contextmanager
def watching_backend(url: str, cli: Optional[Path]) -> Iterator[Optional[BackendWatch]]:
    """Watch the PostgreSQL server of ``url`` while the block runs (nothing for other backends)."""
    address = postgres_address(url)
    if address is None or cli is None:
        yield None
        return
    watch = BackendWatch(address, cli, grace_seconds())
    watch.start()
    try:
        yield watch
    finally:
        watch.stop()
