"""components.settle: a program waits for its own outputs, each output hooked once per round.

The SDK's own wait (``wait_for_rpcs``) re-hooks every pending output after each completion; under
the engine outputs complete a few at a time, so that is outputs x completions. These tests count
what ``asyncio.wait`` is handed, not time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pulumi
import pytest
from pulumi.runtime.settings import SETTINGS

from components.settle import outputs_settled, pending_outputs
from deploy.projects import FLEET
from deploy.stack import gated_program
from offline import evaluate_program

OUTPUTS = 1_000


@pytest.fixture(autouse=True)
def no_outputs_tracked() -> Iterator[None]:
    SETTINGS.outputs.clear()
    yield
    SETTINGS.outputs.clear()


def run(coroutine: Any) -> Any:
    """Run ``coroutine`` on a fresh event loop left current (the SDK's outputs look for one)."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    return loop.run_until_complete(coroutine)


class CountingWait:
    """``asyncio.wait`` that records how many awaitables each call was handed."""

    def __init__(self) -> None:
        self.handed: list[int] = []
        self._wait = asyncio.wait

    async def __call__(self, awaitables: Any, **kwargs: Any) -> Any:
        self.handed.append(len(awaitables))
        return await self._wait(awaitables, **kwargs)


def outputs_resolved_one_by_one(count: int) -> tuple[list[pulumi.Output[Any]], Any]:
    """``count`` outputs of futures, and a coroutine resolving them one per event-loop turn."""
    loop = asyncio.get_running_loop()
    futures: list[asyncio.Future[int]] = [loop.create_future() for _ in range(count)]
    outputs: list[pulumi.Output[Any]] = [pulumi.Output.from_input(future) for future in futures]

    async def resolve() -> None:
        for index, future in enumerate(futures):
            await asyncio.sleep(0)
            future.set_result(index)

    return outputs, resolve()


def test_it_returns_once_every_output_has_completed_including_those_made_while_waiting() -> None:
    async def scenario() -> list[int]:
        outputs, resolve = outputs_resolved_one_by_one(OUTPUTS)
        doubled = lambda value: pulumi.Output.from_input(value * 2)  # noqa: E731 (an apply made while waiting)
        chained: list[pulumi.Output[Any]] = [output.apply(doubled) for output in outputs[:10]]
        resolver = asyncio.ensure_future(resolve)
        await outputs_settled()
        assert resolver.done()
        assert pending_outputs() == []
        return [await output.future() for output in chained]  # type: ignore[misc]

    assert run(scenario()) == [2 * index for index in range(10)]


def test_each_output_is_hooked_once_per_round_not_once_per_completion(monkeypatch: pytest.MonkeyPatch) -> None:
    counting = CountingWait()
    monkeypatch.setattr(asyncio, "wait", counting)

    async def scenario() -> None:
        _, resolve = outputs_resolved_one_by_one(OUTPUTS)
        resolver = asyncio.ensure_future(resolve)
        await outputs_settled()
        await resolver

    run(scenario())
    # The SDK's loop would hand over about OUTPUTS²/2 (500,500) here; rounds are few.
    assert len(counting.handed) <= 3
    assert sum(counting.handed) <= 2 * OUTPUTS


def test_a_failed_output_is_left_for_the_sdk_to_raise() -> None:
    async def scenario() -> list[asyncio.Future[object]]:
        future = asyncio.get_running_loop().create_future()
        pulumi.Output.from_input(future)
        future.set_exception(RuntimeError("registration failed"))
        await outputs_settled()
        with SETTINGS.lock:
            return [output for output in SETTINGS.outputs if output.done() and output.exception() is not None]

    failed = run(scenario())
    assert failed, "the failed output is no longer where the SDK's wait_for_rpcs raises it"
    assert all("registration failed" in str(output.exception()) for output in failed)


def test_the_inline_program_waits_for_its_outputs_before_the_sdk_does(monkeypatch: pytest.MonkeyPatch) -> None:
    counting = CountingWait()
    monkeypatch.setattr(asyncio, "wait", counting)
    program = gated_program(None, FLEET)
    evaluation = evaluate_program(program, stack="kwok", project="fleet", config={"fleet:apps": "3"})
    assert "fleet-002" in evaluation.outputs
    assert counting.handed, "the program registered no entrypoint waiting for its outputs"
    assert pending_outputs() == []
