"""What ``make up`` says when a CLI call fails: the CLI's own words, masked, and the way out.

The lock message below is the DIY backends' own format (pkg/backend/diy/lock.go in pulumi v3.259.0);
the integration tests (tests/integration/test_state_backend.py) meet it for real.
"""

from __future__ import annotations

import subprocess
from urllib.parse import urlunsplit

import pytest
from pulumi import automation as auto
from pulumi.automation._cmd import CommandResult
from pulumi.automation.errors import create_command_error

from deploy.cli_failure import masked, unshown_words, way_out
from deploy.stack import Backend

from .stack_files import ROOT

LOCKED_STDERR = (
    "error: the stack is currently locked by 1 lock(s). Either wait for the other process(es) to end or "
    "delete the lock file with `pulumi cancel`.\n"
    "  postgres://threetier_state@127.0.0.1:15432/pulumi_state/.pulumi/locks/organization/threetier/dev/"
    "4f1c.json: created by alice@laptop-7 (pid 4242) at 2026-12-03T04:10:11Z"
)


#: Stand-ins for what a URL and a stack may carry (made up here, built so no scanner takes them for real ones).
SAMPLE_PASSWORD = "sample-" + "pw"
SAMPLE_PASSPHRASE = "sample-" + "phrase"


def sample_url(password: str) -> str:
    """A PostgreSQL backend URL of user bob with ``password`` (assembled here, not a literal)."""
    return urlunsplit(("postgres", f"bob:{password}@db:5432", "/state", "", ""))


def failed(stdout: str, stderr: str) -> auto.CommandError:
    return create_command_error(CommandResult(stdout=stdout, stderr=stderr, code=255))


def test_a_lock_error_that_was_not_streamed_is_shown_whole_with_its_holder() -> None:
    error = failed("", LOCKED_STDERR)
    words = unshown_words(error, shown=["Updating (dev):"])
    assert any("created by alice@laptop-7 (pid 4242) at 2026-12-03T04:10:11Z" in line for line in words)
    assert any("the stack is currently locked by 1 lock(s)" in line for line in words)


def test_lines_already_printed_are_not_repeated() -> None:
    error = failed("Updating (dev):\n + created", "error: update failed")
    assert unshown_words(error, shown=["Updating (dev):", " + created"]) == ["error: update failed"]


def test_a_password_in_a_url_never_reaches_the_user() -> None:
    error = failed("", f"error: failed to ping PostgreSQL at {sample_url(SAMPLE_PASSWORD)}: refused")
    words = unshown_words(error, shown=[])
    assert words == [f"error: failed to ping PostgreSQL at {sample_url('****')}: refused"]
    assert masked("file:///tmp/state and postgres://u@h/db") == "file:///tmp/state and postgres://u@h/db"


def test_a_locked_stack_gets_the_way_to_clear_a_stale_lock_in_its_backend() -> None:
    advice = way_out("dev", LOCKED_STDERR, "postgres")
    assert "make state-unlock STACK=dev BACKEND=postgres" in advice
    assert "changed nothing" in advice
    assert "BACKEND" not in way_out("dev", LOCKED_STDERR, "local")


def test_a_state_server_gone_gets_the_way_back() -> None:
    words = "error: failed to save snapshot: dial tcp 127.0.0.1:15432: connect: connection refused"
    advice = way_out("staging", words, "postgres")
    assert advice.index("make state-up") < advice.index("make state-unlock STACK=staging") < advice.index("make up")
    assert way_out("staging", "error: resource failed", "postgres") == ""


def test_objects_the_state_lacks_get_the_way_to_adopt_them() -> None:
    words = (
        'error: resource "urn:pulumi:staging::threetier::kubernetes:apps/v1:Deployment::backend" was not successful: '
        'deployments.apps "backend" already exists'
    )
    advice = way_out("staging", words, "postgres")
    assert "ADOPT_EXISTING=1" in advice and "--adopt-existing" in advice
    assert "SKIP_CHECKPOINTS=1" in advice
    assert "already exists" not in way_out("staging", "error: resource failed", "local")


def test_a_backend_repr_shows_neither_password_nor_passphrase() -> None:
    shown = repr(Backend(sample_url(SAMPLE_PASSWORD), passphrase=SAMPLE_PASSPHRASE))
    assert SAMPLE_PASSWORD not in shown and SAMPLE_PASSPHRASE not in shown
    assert sample_url("****") in shown


@pytest.mark.parametrize("action", ["up", "down", "verify", "unlock"])
def test_an_unknown_backend_is_refused_naming_the_allowed_ones(action: str) -> None:
    completed = subprocess.run(
        ["hack/stack.sh", action, "dev"],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "HOME": "/nonexistent", "THREETIER_BACKEND": "s3"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode != 0
    assert "BACKEND=s3 is not valid; allowed values: local, postgres" in completed.stderr
