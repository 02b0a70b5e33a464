"""Violations grouped by enforcement level, printed like ``pulumi preview`` does."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field

from pulumi.runtime.proto import analyzer_pb2

from .config import PolicyConfigError

LEVEL_NAMES = {
    analyzer_pb2.ADVISORY: "advisory",
    analyzer_pb2.MANDATORY: "mandatory",
    analyzer_pb2.REMEDIATE: "remediate",
}


@dataclass(frozen=True)
class Violation:
    """One diagnostic of the pack: which policy, how serious, about what, and the message."""

    policy: str
    level: str
    urn: str
    resource: str
    message: str


@dataclass
class GateReport:
    """Everything the pack reported for a stack."""

    pack: str
    version: str
    violations: list[Violation] = field(default_factory=list)
    resources: int = 0

    def at_level(self, level: str) -> list[Violation]:
        """Violations of one enforcement level."""
        return [v for v in self.violations if v.level == level]

    @property
    def mandatory(self) -> int:
        """Number of mandatory violations: any one blocks a deployment."""
        return len(self.at_level("mandatory"))

    def summary(self) -> set[tuple[str, str, str]]:
        """(policy, level, resource) of each violation: what tests compare."""
        return {(v.policy, v.level, v.resource) for v in self.violations}


def format_report(report: GateReport, stack: str) -> str:
    """Human-readable report, mandatory violations first."""
    lines = [f"Policy pack {report.pack}@v{report.version}: {report.resources} resources of stack {stack} analyzed"]
    for level in ("mandatory", "advisory"):
        found = report.at_level(level)
        if not found:
            continue
        lines.append("")
        lines.append(f"{level.capitalize()} policy violations ({len(found)}):")
        for violation in found:
            lines.append(f"    [{level}]  {violation.policy}  ({violation.resource})")
            lines.extend(f"        {line}" for line in violation.message.splitlines())
    lines.append("")
    advisory = len(report.at_level("advisory"))
    verdict = "BLOCKED" if report.mandatory else "passed"
    lines.append(f"{report.mandatory} mandatory, {advisory} advisory violation(s): {verdict}")
    return "\n".join(lines)


def gate_exit_status(produce: Callable[[], GateReport], stack: str) -> int:
    """Run a gate and print its report; the CLI's exit status.

    0 passed, 1 a mandatory violation blocks, 2 the policy config is invalid.
    """
    try:
        report = produce()
    except PolicyConfigError as error:
        print(f"invalid policy config: {error}", file=sys.stderr)
        return 2
    print(format_report(report, stack))
    return 1 if report.mandatory else 0
