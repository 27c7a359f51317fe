"""Sorted aggregates kept current by diffs, so that a set column of N members (a multicast
group, a port group, an address set) is rewritten in O(changes · log N) Python steps plus a
C-speed copy, not re-sorted from scratch on every change."""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Callable, Iterable, Set


class SortedView:
    """key → value (values unique among keys), with `values` kept sorted."""

    __slots__ = ("of", "values")

    def __init__(self) -> None:
        self.of: dict[str, str] = {}
        self.values: list[str] = []

    def put(self, key: str, value: str) -> None:
        old = self.of.get(key)
        if old == value:
            return
        if old is not None:
            del self.values[bisect.bisect_left(self.values, old)]
        self.of[key] = value
        bisect.insort(self.values, value)

    def discard(self, key: str) -> None:
        old = self.of.pop(key, None)
        if old is not None:
            del self.values[bisect.bisect_left(self.values, old)]

    def sync(self, keys: Set[str], value_of: Callable[[str], str | None],
             dirty: Iterable[str] = ()) -> None:
        """Make the view hold exactly `keys` (re-reading the `dirty` ones)."""
        if not self.of:
            for k in keys:
                v = value_of(k)
                if v is not None:
                    self.of[k] = v
            self.values = sorted(self.of.values())
            return
        for k in self.of.keys() - keys:
            self.discard(k)
        for k in keys - self.of.keys():
            v = value_of(k)
            if v is not None:
                self.put(k, v)
        for k in dirty:
            if k in keys:
                v = value_of(k)
                if v is None:
                    self.discard(k)
                else:
                    self.put(k, v)


class SortedBag:
    """key → several values (shared between keys), the distinct values kept sorted."""

    __slots__ = ("of", "count", "values")

    def __init__(self) -> None:
        self.of: dict[str, tuple[str, ...]] = {}
        self.count: Counter[str] = Counter()
        self.values: list[str] = []

    def _inc(self, vs: tuple[str, ...]) -> None:
        for v in vs:
            self.count[v] += 1
            if self.count[v] == 1:
                bisect.insort(self.values, v)

    def _dec(self, vs: tuple[str, ...]) -> None:
        for v in vs:
            self.count[v] -= 1
            if self.count[v] <= 0:
                del self.count[v]
                del self.values[bisect.bisect_left(self.values, v)]

    def sync(self, keys: Set[str], values_of: Callable[[str], tuple[str, ...]],
             dirty: Iterable[str] = ()) -> None:
        for k in self.of.keys() - keys:
            self._dec(self.of.pop(k))
        for k in keys - self.of.keys():
            vs = values_of(k)
            self.of[k] = vs
            self._inc(vs)
        for k in dirty:
            if k in keys:
                vs = values_of(k)
                if vs != self.of[k]:
                    self._dec(self.of[k])
                    self.of[k] = vs
                    self._inc(vs)
