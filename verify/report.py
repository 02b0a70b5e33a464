"""Show results: a readable table (rich) or JSON."""

from __future__ import annotations

import json
import sys
from collections import Counter

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from .model import CheckResult, Status

_STYLE = {Status.PASSED: "green", Status.FAILED: "bold red", Status.SKIPPED: "yellow"}


def summary(results: list[CheckResult]) -> dict[str, int]:
    """Counts by status."""
    counts = Counter(result.status for result in results)
    return {status.value: counts.get(status, 0) for status in Status}


def print_table(stack: str, results: list[CheckResult], console: Console | None = None) -> None:
    """The verification table, one row per check, then the totals."""
    # In a log (not a terminal) each check stays on one line, whatever the detail's length.
    console = console or Console(width=None if sys.stdout.isatty() else 220)
    table = Table(title=f"verification of stack {stack}", show_lines=False)
    table.add_column("tier")
    table.add_column("check")
    table.add_column("status")
    table.add_column("detail", overflow="fold")
    for item in results:
        table.add_row(
            escape(item.tier), escape(item.check), f"[{_STYLE[item.status]}]{item.status.value}[/]", escape(item.detail)
        )
    console.print(table)
    counts = summary(results)
    console.print(f"{counts['passed']} passed, {counts['failed']} failed, {counts['skipped']} skipped")


def to_json(stack: str, results: list[CheckResult]) -> str:
    """The report as JSON: stack, summary, results."""
    return json.dumps(
        {"stack": stack, "summary": summary(results), "results": [item.as_dict() for item in results]}, indent=2
    )
