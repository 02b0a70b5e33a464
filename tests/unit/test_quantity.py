"""Kubernetes quantities: parsed exactly as the official client parses them, shown readably."""

from __future__ import annotations

from decimal import Decimal

import pytest
from kubernetes.utils import parse_quantity as client_parse_quantity

from components.quantity import format_quantity, parse_quantity

QUANTITIES = ["250m", "1", "1.5", "0.1", ".5", "2k", "3M", "1G", "64Mi", "1Gi", "512Ki", "2Ti", "100", "1500m", "7E"]


@pytest.mark.parametrize("value", QUANTITIES)
def test_parsed_like_the_kubernetes_client_parses_it(value: str) -> None:
    assert parse_quantity(value) == client_parse_quantity(value)  # type: ignore[no-untyped-call]


def test_sums_are_exact() -> None:
    assert parse_quantity("100m") * 3 == parse_quantity("300m") == Decimal("0.3")
    assert parse_quantity("64Mi") * 10 == parse_quantity("640Mi")


@pytest.mark.parametrize("value", ["", "lots", "1.2.3", "-1", "1Xi", "m"])
def test_malformed_quantities_are_refused(value: str) -> None:
    with pytest.raises(ValueError, match="not a Kubernetes quantity"):
        parse_quantity(value)


@pytest.mark.parametrize(
    ("value", "memory", "shown"),
    [
        ("300m", False, "300m"),
        ("2", False, "2"),
        ("1500m", False, "1500m"),
        ("640Mi", True, "640Mi"),
        ("3Gi", True, "3Gi"),
    ],
)
def test_shown_in_the_units_people_write(value: str, memory: bool, shown: str) -> None:
    assert format_quantity(parse_quantity(value), memory=memory) == shown
