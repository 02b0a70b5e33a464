"""The session's deployments torn down side by side when the session ends.

The stacks of the session (the three shipped stacks and their platforms, the fleet, the package's
consumers) were destroyed one fixture after the other: each destroy waits mostly for the cluster
(pods to terminate, namespaces to empty), so one after the other they took about 90 s at the end of
every run. Each fixture now hands its teardown to :class:`SessionTeardown`, which runs them all at
once at the session's end, then the work that must wait for all of them (dropping a state table
that another deployment's stack shares), then reports how long each took in the run's summary.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import pytest

#: What the last session's teardown took, for the terminal summary (name -> seconds or the error).
TIMES: dict[str, str] = {}


@dataclass
class _Job:
    name: str
    run: Callable[[], None]
    #: Run after every job has ended, and only when this one succeeded (e.g. drop its state table).
    then: Callable[[], None] | None = None


@dataclass
class SessionTeardown:
    """Teardowns registered by the session's fixtures, run side by side at its end."""

    _jobs: list[_Job] = field(default_factory=list)

    def add(self, name: str, run: Callable[[], None], *, then: Callable[[], None] | None = None) -> None:
        """Run ``run`` at the session's end beside the others; ``then`` once all of them have ended, if it succeeded."""
        self._jobs.append(_Job(name, run, then))

    def run_all(self) -> None:
        """Every job at once, then every ``then`` of a job that succeeded; one error naming each failure."""
        failures: dict[str, BaseException] = {}
        start = time.monotonic()

        def timed(job: _Job) -> None:
            began = time.monotonic()
            try:
                job.run()
            except (Exception, pytest.fail.Exception) as error:  # pytest.fail's is no Exception
                failures[job.name] = error
                TIMES[job.name] = f"failed after {time.monotonic() - began:.1f} s: {error}"
                return
            TIMES[job.name] = f"{time.monotonic() - began:.1f} s"

        if self._jobs:
            with ThreadPoolExecutor(max_workers=len(self._jobs)) as pool:
                list(pool.map(timed, self._jobs))
        for job in self._jobs:
            if job.then is not None and job.name not in failures:
                try:
                    job.then()
                except (Exception, pytest.fail.Exception) as error:
                    failures[f"{job.name} (after)"] = error
        TIMES["side by side, in all"] = f"{time.monotonic() - start:.1f} s"
        self._jobs.clear()
        if failures:
            raise AssertionError(
                "the session's teardown failed (what it could not remove stays; its state table is kept): "
                + "; ".join(f"{name}: {error}" for name, error in failures.items())
            )


@pytest.fixture(scope="session")
def session_teardown() -> Iterator[SessionTeardown]:
    """Where the session's deployments register their teardown; all run side by side at the end."""
    teardown = SessionTeardown()
    yield teardown
    teardown.run_all()


def summary_lines() -> list[str]:
    """The last teardown's times, one line per job (empty when none ran)."""
    return [f"session teardown: {name}: {took}" for name, took in TIMES.items()]
