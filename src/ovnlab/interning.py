"""One shared object per distinct immutable value: the chassis of a big lab build equal
tuples (matches, flow keys, classifier signatures) each for itself, and a lab holds
millions of them. Bounded: when full it begins again (sharing lost, nothing else)."""

from __future__ import annotations

from collections.abc import Hashable
from typing import Generic, TypeVar

T = TypeVar("T", bound=Hashable)


class Interner(Generic[T]):
    __slots__ = ("_shared", "_limit")

    def __init__(self, limit: int = 1 << 18) -> None:
        self._shared: dict[T, T] = {}
        self._limit = limit

    def __call__(self, value: T) -> T:
        shared = self._shared.get(value)
        if shared is not None:
            return shared
        if len(self._shared) >= self._limit:
            self._shared.clear()
        self._shared[value] = value
        return value
