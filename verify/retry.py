"""Wait for things that settle (endpoints, LB ingress) with a deadline, never a fixed sleep."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def eventually(probe: Callable[[], tuple[bool, T]], *, timeout: float, interval: float = 0.5) -> tuple[bool, T]:
    """Call ``probe`` until it reports success or ``timeout`` seconds pass; return the last result."""
    deadline = time.monotonic() + timeout
    while True:
        ok, value = probe()
        if ok or time.monotonic() >= deadline:
            return ok, value
        time.sleep(min(interval, max(0.0, deadline - time.monotonic())))
