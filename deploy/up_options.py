"""The engine settings a team chooses for one ``up``: checkpoints, adoption, operations at once.

Checkpoints at the end only, adopting what exists, and how many resource operations run at once.

- ``SKIP_CHECKPOINTS=1`` (``make up`` / ``make fleet-up``; ``python -m deploy up --skip-checkpoints``)
  runs the CLI with ``PULUMI_SKIP_CHECKPOINTS=true``: the DIY backends write the whole state after
  every resource step (the square of a stack's size in bytes: 31.8 GiB for a 1,200-object fleet,
  docs/benchmarks.md); with it the state is written once, at the end. The price: an ``up`` killed
  midway records nothing of what it created, so the next ``up`` meets objects that already exist.
- ``ADOPT_EXISTING=1`` (``--adopt-existing``) is the way back: ``PULUMI_K8S_UPSERT_EXISTING_OBJECTS=true``
  makes the kubernetes provider take over an object that already exists instead of failing on it
  (server-side apply over it), ``PULUMI_K8S_ENABLE_PATCH_FORCE=true`` lets that apply take the fields
  the killed ``up``'s field manager holds (every create gets a manager of its own). A
  ``RandomPassword`` the killed ``up`` made is made anew: its Secret is updated (a forced field)
  and the tiers that read it roll.

- ``PARALLEL=P`` (``--parallel P``) runs ``pulumi up --parallel P``: at most P resource steps at
  once (the CLI's default is 4 per core). On this project's 2-core machine 32 gave nothing over 8
  for a fleet of 100 apps (the first ``up`` is bound by the machine's CPU, the API server's
  included: docs/benchmarks.md); a larger machine is where a team would raise it.

The first two are off unless asked for; a value other than ``1`` (or empty, ``0``) is refused before
anything runs, as is a ``PARALLEL`` that is not a whole number from 1 to 256.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass

#: The engine's variable (sdk/go/common/env: SKIP_CHECKPOINTS) and the kubernetes provider's.
SKIP_CHECKPOINTS = "PULUMI_SKIP_CHECKPOINTS"
UPSERT_EXISTING = "PULUMI_K8S_UPSERT_EXISTING_OBJECTS"
#: With it, the provider's server-side apply takes the fields other field managers hold: the killed
#: up's own manager (each create gets a fresh one), e.g. a Secret's password made again.
PATCH_FORCE = "PULUMI_K8S_ENABLE_PATCH_FORCE"
#: What ``make`` passes (``SKIP_CHECKPOINTS=1`` -> ``THREETIER_SKIP_CHECKPOINTS=1``).
MAKE_VARIABLES = {"skip_checkpoints": "THREETIER_SKIP_CHECKPOINTS", "adopt_existing": "THREETIER_ADOPT_EXISTING"}
_ALLOWED = {"": False, "0": False, "1": True}
#: ``PARALLEL=P`` -> ``THREETIER_PARALLEL=P``: ``pulumi up --parallel P``, P from 1 to MAX_PARALLEL.
PARALLEL_VARIABLE = "THREETIER_PARALLEL"
MAX_PARALLEL = 256


@dataclass(frozen=True)
class UpOptions:
    """The settings of one ``up`` (off, and the CLI's ``--parallel``, by default)."""

    skip_checkpoints: bool = False
    adopt_existing: bool = False
    #: ``pulumi up --parallel``; None: the CLI's default (4 per core).
    parallel: int | None = None

    def environment(self) -> dict[str, str]:
        """What the CLI (and the providers it starts) must see in its environment."""
        added = {}
        if self.skip_checkpoints:
            added[SKIP_CHECKPOINTS] = "true"
        if self.adopt_existing:
            added[UPSERT_EXISTING] = "true"
            added[PATCH_FORCE] = "true"
        return added

    def notices(self) -> list[str]:
        """One line per setting turned on, said before the ``up`` starts."""
        lines = []
        if self.skip_checkpoints:
            lines.append(
                f"checkpoints: the state is written once, at the end ({SKIP_CHECKPOINTS}=true); if this up is "
                "killed midway it records nothing of what it created: then `make state-unlock`, and the next up "
                "with ADOPT_EXISTING=1"
            )
        if self.adopt_existing:
            lines.append(
                f"adopting existing objects ({UPSERT_EXISTING}=true, {PATCH_FORCE}=true): an object of this program "
                "that already exists in the cluster is taken over (server-side apply, forced) instead of refused"
            )
        if self.parallel is not None:
            lines.append(f"resource operations at once: {self.parallel} (pulumi up --parallel {self.parallel})")
        return lines


def up_options(environ: Mapping[str, str], flags: UpOptions) -> UpOptions:
    """The ``up``'s settings: the command's ``flags``, plus those ``make``'s variables in ``environ`` turn on.

    Raises ValueError naming the variable and the allowed values when one holds anything else.
    """
    chosen = {"skip_checkpoints": flags.skip_checkpoints, "adopt_existing": flags.adopt_existing}
    for field, variable in MAKE_VARIABLES.items():
        value = environ.get(variable, "").strip()
        if value not in _ALLOWED:
            make_name = variable.removeprefix("THREETIER_")
            raise ValueError(
                f"{make_name}={value!r} is not valid ({variable}); allowed values: 1 (on), 0 or empty (off); "
                "nothing was deployed"
            )
        chosen[field] = chosen[field] or _ALLOWED[value]
    given = str(flags.parallel) if flags.parallel is not None else environ.get(PARALLEL_VARIABLE, "")
    parallel = parallel_from(given)
    return UpOptions(chosen["skip_checkpoints"], chosen["adopt_existing"], parallel)


def parallel_from(value: str) -> int | None:
    """``PARALLEL``'s (or ``--parallel``'s) value as a number of operations (empty: None, the CLI's default).

    Raises ValueError naming the variable and the allowed values for anything but 1..MAX_PARALLEL.
    """
    value = value.strip()
    if not value:
        return None
    if not (value.isascii() and value.isdigit()) or not 1 <= int(value) <= MAX_PARALLEL:
        raise ValueError(
            f"PARALLEL={value!r} is not valid ({PARALLEL_VARIABLE}, --parallel); allowed values: "
            f"a whole number from 1 to {MAX_PARALLEL} (resource operations at once), or empty (the CLI's default); "
            "nothing was deployed"
        )
    return int(value)


def main() -> int:
    """``python -m deploy.up_options``: exit 2 naming the variable when make's values are not valid (0 else)."""
    try:
        up_options(os.environ, UpOptions())
    except ValueError as error:
        print(error, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
