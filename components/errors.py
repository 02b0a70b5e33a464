"""The one error type the components raise for bad input."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One invalid setting: the config key it came from and what is wrong with it."""

    key: str
    message: str

    def __str__(self) -> str:
        return f"{self.key}: {self.message}"


class ConfigError(ValueError):
    """Invalid configuration, raised before any resource is registered.

    ``problems`` lists every invalid key with its allowed values, so a user fixes
    them all in one go rather than one per run.
    """

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        lines = "\n".join(f"  - {problem}" for problem in self.problems)
        super().__init__(f"invalid configuration ({len(self.problems)} problem(s)):\n{lines}")

    @property
    def keys(self) -> list[str]:
        """The config keys named by the problems, in order."""
        return [problem.key for problem in self.problems]


def raise_if_any(problems: Sequence[Problem]) -> None:
    """Raise :class:`ConfigError` when ``problems`` is not empty."""
    if problems:
        raise ConfigError(problems)
