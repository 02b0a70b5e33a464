"""Secret values as they travel between a Pulumi program and its monitor (here: the mocks)."""

from __future__ import annotations

from typing import Any

# How the SDK marks a secret value on the wire (pulumi.runtime.rpc).
_SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d"
_SECRET_SIG_VALUE = "1b47061264138c4ac30d75fd1eb44270"


def is_secret_value(value: Any) -> bool:
    """True for a value Pulumi marked secret (as it arrives in mock inputs)."""
    return isinstance(value, dict) and value.get(_SECRET_SIG_KEY) == _SECRET_SIG_VALUE


def unwrap_secret(value: Any) -> Any:
    """The plain value inside a secret wrapper (or ``value`` itself)."""
    return value["value"] if is_secret_value(value) else value


def wrap_secret(value: Any) -> dict[str, Any]:
    """``value`` marked secret, as a monitor returns a secret property to the program."""
    return {_SECRET_SIG_KEY: _SECRET_SIG_VALUE, "value": value}
