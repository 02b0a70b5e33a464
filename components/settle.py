"""Let a large program's registrations finish in time linear in its outputs.

When a Python program's top-level code returns, the SDK waits for every output still pending
(``pulumi.runtime.stack.wait_for_rpcs``, v3.259.0 to at least v3.272.0) with
``asyncio.wait(all_pending, return_when=FIRST_COMPLETED)`` in a loop: after *each* completion it
hooks a callback onto every pending output again and unhooks it. A ThreeTierApp leaves about 240
outputs pending (one per property of each of its objects), and under the engine they complete a
few at a time, as each object is created or diffed: at 100 apps that loop is 24,000 outputs times
about 1,500 wake-ups on the program's one event loop, the same loop that serializes and sends the
registrations (docs/benchmarks.md, "The fleet: what grows faster than N").

:func:`settle_outputs_at_end` has the program itself wait for them first, through the SDK's public
async entrypoint (``pulumi.run``): one callback per output for the whole wait, so when the SDK's
loop starts nothing is pending. Errors are not swallowed: a failed output stays where the SDK's
own wait finds it and raises it, as before.
"""

from __future__ import annotations

import asyncio

import pulumi
from pulumi.runtime.settings import SETTINGS  # the SDK's set of pending outputs (the SDK is pinned)


def pending_outputs() -> list[asyncio.Future[object]]:
    """The outputs the SDK tracks that have not completed yet (a snapshot)."""
    with SETTINGS.lock:
        return [output for output in SETTINGS.outputs if not output.done()]


async def outputs_settled() -> None:
    """Return once no output of the program is pending, waiting on each output once per round.

    Outputs created while waiting (an ``apply`` whose input just resolved) are waited for in the
    next round; a round costs one callback per pending output, not one per output per completion.
    """
    while pending := pending_outputs():
        await asyncio.wait(pending)


def settle_outputs_at_end() -> None:
    """Have the program wait for its own outputs (:func:`outputs_settled`) after its top-level code.

    Call it once, last, in a program run by the engine (``__main__.py``, or an inline program of
    the Automation API): the SDK runs the entrypoint ``pulumi.run`` registers after the program's
    code and before its own wait. Nothing is exported.
    """
    pulumi.run(outputs_settled)
