"""The integration session's teardown (tests/integration/teardown.py): side by side, then what waits for all."""

from __future__ import annotations

import threading
from functools import partial

import pytest

from tests.integration.teardown import TIMES, SessionTeardown


def test_the_jobs_run_side_by_side_and_each_then_after_all_of_them() -> None:
    teardown = SessionTeardown()
    together = threading.Barrier(3, timeout=5)  # broken (an error) unless all three run at once
    events: list[str] = []

    def job(name: str) -> None:
        together.wait()
        events.append(f"{name} done")

    for name in ("stacks", "fleet", "consumers"):
        teardown.add(name, partial(job, name), then=partial(events.append, f"{name} table dropped"))
    teardown.run_all()
    assert sorted(events[:3]) == ["consumers done", "fleet done", "stacks done"]
    assert sorted(events[3:]) == ["consumers table dropped", "fleet table dropped", "stacks table dropped"]
    assert set(TIMES) >= {"stacks", "fleet", "consumers", "side by side, in all"}


def test_a_failed_job_keeps_its_table_fails_the_teardown_naming_it_and_the_others_still_run() -> None:
    teardown = SessionTeardown()
    dropped: list[str] = []

    def refuse() -> None:
        pytest.fail("fleet-down exited 255")

    teardown.add("fleet", refuse, then=lambda: dropped.append("fleet"))
    teardown.add("stacks", lambda: None, then=lambda: dropped.append("stacks"))
    with pytest.raises(AssertionError, match=r"teardown failed .*fleet: fleet-down exited 255"):
        teardown.run_all()
    assert dropped == ["stacks"]
    assert TIMES["fleet"].startswith("failed after")
