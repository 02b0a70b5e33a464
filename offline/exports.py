"""A stack export's plain value, resolved leaf by leaf instead of through ``Output.from_input`` of the whole.

``Output.from_input`` of a nested export builds an Output (and its tasks) for every dict, list
and key; for a stack that exports one map per app that cost ~7% of an evaluation. Walking the
value and awaiting only its Outputs gives the same result for what stacks export (dicts,
lists, tuples, scalars, Outputs); anything else goes through ``Output.from_input``.
"""

from __future__ import annotations

from typing import Any

import pulumi

_SCALARS = (str, int, float, bool, type(None))


async def resolve_export(value: Any) -> tuple[Any, bool]:
    """``(plain value, secret)``: ``value`` with every Output awaited, and whether any part of it is secret.

    An unknown part (at preview) resolves to None, as ``Output.future()`` gives it.
    """
    if isinstance(value, _SCALARS):
        return value, False
    if isinstance(value, dict) and all(isinstance(key, _SCALARS) for key in value):
        items = [(key, await resolve_export(item)) for key, item in value.items()]
        return {key: plain for key, (plain, _) in items}, any(secret for _, (_, secret) in items)
    if isinstance(value, (list, tuple)):
        resolved = [await resolve_export(item) for item in value]
        plains = [plain for plain, _ in resolved]
        return (tuple(plains) if isinstance(value, tuple) else plains), any(secret for _, secret in resolved)
    output = value if isinstance(value, pulumi.Output) else pulumi.Output.from_input(value)
    inner, secret = await output.future(), await output.is_secret()
    if isinstance(inner, (dict, list, tuple, pulumi.Output)):  # an Output's value may hold more Outputs
        inner, inner_secret = await resolve_export(inner)
        secret = secret or inner_secret
    return inner, secret
