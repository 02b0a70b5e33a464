"""A bounded background loop of HTTP GETs, counting failures (for no-disruption checks).

Bounded in count and in time: it stops by itself after ``max_requests`` requests or
``max_seconds``, whichever comes first, or when :meth:`stop` is called. The address must route
locally (the verifier's route guard is asked once, before the first request).
"""

from __future__ import annotations

import threading
import time
import urllib.error
import urllib.request
from urllib.parse import urlsplit

from verify.network import route_decision


class ProbeLoop:
    """GET ``url`` every ``interval`` seconds in a thread; record every failed request."""

    def __init__(
        self, url: str, interval: float = 0.05, max_requests: int = 6000, max_seconds: float = 300, timeout: float = 3
    ) -> None:
        route = route_decision(urlsplit(url).hostname or "")
        if not route.local:
            raise ValueError(f"refusing to probe {url}: {route.reason}")
        self.url = url
        #: Seconds a request may wait for its answer before it counts as failed.
        self.timeout = timeout
        #: The longest a successful request took, seconds.
        self.slowest = 0.0
        self.interval = interval
        self.max_requests = max_requests
        self.max_seconds = max_seconds
        self.requests = 0
        self.failures: list[str] = []
        #: When each failed request was sent (``time.monotonic()``), in the order of ``failures``.
        self.failure_times: list[float] = []
        #: Set when the loop ended on its own bound (count or time) instead of :meth:`stop`.
        self.capped = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="probe-loop", daemon=True)

    def start(self) -> None:
        """Begin requesting in the background."""
        self._thread.start()

    def stop(self) -> None:
        """Stop and wait for the loop (idempotent)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def _run(self) -> None:
        deadline = time.monotonic() + self.max_seconds
        while not self._stop.is_set():
            if self.requests >= self.max_requests or time.monotonic() >= deadline:
                self.capped = True
                return
            self.requests += 1
            sent = time.monotonic()
            try:
                with urllib.request.urlopen(self.url, timeout=self.timeout) as response:
                    if response.status != 200:
                        self._failed(sent, f"HTTP {response.status}")
                    response.read()
                    self.slowest = max(self.slowest, time.monotonic() - sent)
            except (urllib.error.URLError, OSError) as error:
                self._failed(sent, f"{type(error).__name__}: {error}")
            self._stop.wait(self.interval)

    def _failed(self, sent: float, what: str) -> None:
        self.failures.append(f"#{self.requests}: {what}")
        self.failure_times.append(sent)

    def failures_after(self, moment: float) -> list[str]:
        """The failed requests sent after ``moment`` (``time.monotonic()``)."""
        return [failure for failure, sent in zip(self.failures, self.failure_times, strict=True) if sent > moment]
