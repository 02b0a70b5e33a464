"""First-free allocation from a fixed preference order in amortized O(1), as nothing is ever released.

The emulated API server hands out cluster IPs, node ports and load-balancer addresses. Scanning
the whole range from its start for every Service made a program with S Services cost O(S²)
(a /12 service CIDR holds a million addresses); the mocks never delete an object, so a value
passed over once (taken) stays taken and the scan can resume where it stopped.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Iterator
from typing import Generic, Optional, TypeVar

T = TypeVar("T", bound=Hashable)


class RangeExhaustedError(Exception):
    """Every value of the range is taken."""


class FirstFreeAllocator(Generic[T]):
    """Values of ``order``, first free one first; pinned values are reserved out of order.

    Equivalent to scanning ``order`` from its start for every allocation, because values are
    never released: the cursor only passes values that are taken for good.
    """

    def __init__(self, order: Iterable[T], reserved: Iterable[T] = ()) -> None:
        self._order: Iterator[T] = iter(order)
        #: Taken value -> its owner (e.g. the object id of the Service holding a node port).
        self._owners: dict[T, str] = {value: "reserved" for value in reserved}

    def owner(self, value: T) -> Optional[str]:
        """Who holds ``value``, or None when it is free."""
        return self._owners.get(value)

    def reserve(self, value: T, owner: str) -> None:
        """Take a pinned ``value`` for ``owner`` (the caller checked it is free)."""
        self._owners[value] = owner

    def allocate(self, owner: str) -> T:
        """The first free value in order, now held by ``owner``; :class:`RangeExhaustedError` when none is left."""
        for value in self._order:
            if value not in self._owners:
                self._owners[value] = owner
                return value
        raise RangeExhaustedError("range is full")
