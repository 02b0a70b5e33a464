"""The offline policy gate of an ``up``: ``make policy`` over the stack, in a process of its own.

Started as early as possible (``python -m deploy up`` starts it before it imports the SDK), so it
runs while the engine starts; the inline program waits for its verdict before it registers
anything. Its own process: the evaluation runs under the Pulumi SDK's process-wide mock settings.
This module imports nothing heavy.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Optional

from .engine import ROOT
from .projects import APP, Project


class PolicyRefusedError(RuntimeError):
    """The offline gate found mandatory violations: nothing was deployed."""


class OfflineGate:
    """``make policy``'s gate over a stack, started at once in a process of its own.

    Its own process: the evaluation runs under the Pulumi SDK's process-wide mock settings.
    """

    def __init__(self, stack: str, config_file: Optional[Path] = None, project: Project = APP) -> None:
        command = [sys.executable, "-m", "offline.policy_check", "--stack", stack, *project.gate_args(stack)]
        if config_file is not None:
            command += ["--stack-config", str(config_file)]
        self._started = time.monotonic()
        self._process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self._lock = threading.Lock()
        self._output: Optional[str] = None
        #: Seconds from the gate's start to its verdict, and those the caller of :meth:`wait` spent waiting.
        self.seconds: Optional[float] = None
        self.waited: Optional[float] = None

    @property
    def output(self) -> str:
        """What the gate printed (once it has ended; empty before)."""
        return (self._output or "").strip()

    @property
    def refused(self) -> bool:
        """The gate ended with a mandatory violation (or could not run)."""
        return self._output is not None and self._process.returncode != 0

    def wait(self) -> None:
        """Wait for the verdict; raise :class:`PolicyRefusedError` unless the stack passed."""
        with self._lock:
            if self._output is None:
                asked = time.monotonic()
                self._output, _ = self._process.communicate()
                now = time.monotonic()
                self.seconds, self.waited = now - self._started, now - asked
        if self._process.returncode != 0:
            raise PolicyRefusedError(self.output)

    def stop(self) -> None:
        """End the gate if it still runs (the ``up`` failed before asking for its verdict)."""
        if self._process.poll() is None:
            self._process.kill()
            self._process.wait()


def offline_gate(stack: str, config_file: Optional[Path] = None, project: Project = APP) -> None:
    """``make policy``'s gate over ``stack`` (or the config in ``config_file``); raise on a mandatory violation."""
    OfflineGate(stack, config_file, project).wait()
