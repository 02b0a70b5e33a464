"""Kubernetes resource quantities (``250m``, ``128Mi``, ``2``) as exact numbers, to add and compare them.

The grammar is the one :func:`components.validation.check_quantity` accepts (a decimal number and
an optional SI or binary suffix); values are :class:`~decimal.Decimal`, so ``0.1 + 0.2`` CPUs and
``3 x 100m`` compare exactly as the API server's quota accounting does.
"""

from __future__ import annotations

from decimal import Decimal

#: Suffix -> multiplier (decimal SI and binary), as in k8s.io/apimachinery's resource.Quantity.
_SUFFIXES: dict[str, Decimal] = {
    "m": Decimal("0.001"),
    "": Decimal(1),
    "k": Decimal(10) ** 3,
    "M": Decimal(10) ** 6,
    "G": Decimal(10) ** 9,
    "T": Decimal(10) ** 12,
    "P": Decimal(10) ** 15,
    "E": Decimal(10) ** 18,
    "Ki": Decimal(2) ** 10,
    "Mi": Decimal(2) ** 20,
    "Gi": Decimal(2) ** 30,
    "Ti": Decimal(2) ** 40,
    "Pi": Decimal(2) ** 50,
    "Ei": Decimal(2) ** 60,
}


def parse_quantity(value: str | int) -> Decimal:
    """``"250m"`` -> ``Decimal("0.250")``, ``"128Mi"`` -> ``Decimal(134217728)``; ValueError when malformed."""
    text = str(value).strip()
    for suffix in sorted(_SUFFIXES, key=len, reverse=True):
        if suffix and text.endswith(suffix):
            number, multiplier = text[: -len(suffix)], _SUFFIXES[suffix]
            break
    else:
        number, multiplier = text, Decimal(1)
    if not number or not number.replace(".", "", 1).isdigit():
        raise ValueError(f"{value!r} is not a Kubernetes quantity such as '250m' or '128Mi'")
    return Decimal(number) * multiplier


def format_quantity(value: Decimal, *, memory: bool) -> str:
    """A readable quantity: CPU in cores or millicores (``1.5``, ``300m``), memory in Mi/Gi (``640Mi``)."""
    if memory:
        for suffix in ("Gi", "Mi", "Ki"):
            scaled = value / _SUFFIXES[suffix]
            if scaled >= 1 and scaled == scaled.to_integral_value():
                return f"{int(scaled)}{suffix}"
        return str(int(value)) if value == value.to_integral_value() else str(value)
    if value == value.to_integral_value():
        return str(int(value))
    millis = value * 1000
    return f"{int(millis)}m" if millis == millis.to_integral_value() else str(value.normalize())
