"""A failed CLI call told to the user in the CLI's own words, with the way out of what it names.

``make up``'s engine step streams the ``pulumi up`` it runs, but the calls around it (``stack
select``, ``stack import`` when pending creates are adopted, ``refresh``) run quietly: when one of
them fails, :func:`unshown_words` gives what the CLI said that was not printed yet, and
:func:`way_out` the next step for the failures a team meets (a stack locked by another ``up``, or
by one that was killed; a state backend that stopped answering; objects that exist but the state
lacks, after an interrupted ``up`` that kept no checkpoints).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

#: The DIY backends' lock message (pkg/backend/diy/lock.go), and the SDK's marker for it.
LOCKED = "the stack is currently locked by"
#: What lib/pq and the CLI say when the PostgreSQL state server does not answer.
BACKEND_GONE = re.compile(r"failed to ping PostgreSQL|failed to save snapshot|connection refused|bad connection")
#: The kubernetes provider refusing to create an object that exists (a create the state does not record).
ALREADY_EXISTS = "already exists"
_URL_PASSWORD = re.compile(r"\b([a-z][a-z0-9+.-]*://[^:/@\s]*):[^@/\s]+@")


def masked(text: str) -> str:
    """``text`` with the password of every URL in it replaced by ``****``."""
    return _URL_PASSWORD.sub(r"\1:****@", text)


def cli_output(error: BaseException) -> tuple[str, str]:
    """(stdout, stderr) of a failed CLI call, from the Automation API's ``CommandError``."""
    text = str(error)
    head, _, stderr = text.rpartition("\n stderr: ")
    _, _, stdout = head.partition("\n stdout: ")
    return stdout, stderr


def unshown_words(error: BaseException, shown: Iterable[str]) -> list[str]:
    """The lines the failed call printed (stderr, then stdout) that are not among ``shown``, masked."""
    already = {line.strip() for line in shown}
    stdout, stderr = cli_output(error)
    lines = [line for line in (stderr + "\n" + stdout).splitlines() if line.strip()]
    return [masked(line) for line in dict.fromkeys(lines) if line.strip() not in already]


def way_out(stack: str, words: str, backend: str, *, backend_gone: bool = False) -> str:
    """The next step for a failure whose words are ``words`` (empty when there is nothing specific).

    ``backend_gone``: the state server was seen gone during the ``up`` (:mod:`deploy.backend_watch`).
    """
    make_backend = f" BACKEND={backend}" if backend != "local" else ""
    if LOCKED in words:
        return (
            f"stack {stack} is locked by the process named above: another `up` of it is running, so this one "
            "changed nothing. If that process is gone (killed, its machine down), clear its stale lock with "
            f"`make state-unlock STACK={stack}{make_backend}`, then `make up STACK={stack}{make_backend}` "
            "adopts what the interrupted up left."
        )
    if backend_gone or (BACKEND_GONE.search(words) and backend == "postgres"):
        return (
            "the PostgreSQL state backend stopped answering. The state saved before it went stays in the "
            f"database. Next: `make state-up` (starts it again), `make state-unlock STACK={stack}{make_backend}` "
            f"(the lock this up could not remove), then `make up STACK={stack}{make_backend}` (adopts the "
            "objects the interrupted up created)."
        )
    if ALREADY_EXISTS in words:
        return (
            "objects of this program already exist in the cluster but not in the state of stack "
            f"{stack}. If an up of this stack that kept no checkpoints (SKIP_CHECKPOINTS=1) was interrupted "
            "after it created them, run the up again with ADOPT_EXISTING=1 (`make up ... ADOPT_EXISTING=1`, "
            "`make fleet-up ... ADOPT_EXISTING=1`, or `python -m deploy up --adopt-existing`): the provider takes "
            "them over. If they are another stack's or someone's, do not adopt them (this stack would then own "
            "and delete them): remove them, or rename this stack's objects."
        )
    return ""
