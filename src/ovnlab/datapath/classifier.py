"""Tuple-space-search classifier: flows grouped by the set of (slot, mask) they match.

Each group (a *subtable*) is a dict from the masked key values to its flows, best first,
so a lookup costs one hash probe per subtable, and subtables are visited in order of their
best flow so the search stops as soon as no remaining subtable can win. Ties between
different matches at one priority are broken by a stable hash of the match, so the result
does not depend on the order flows were added in.
"""

from __future__ import annotations

import functools
import zlib
from collections.abc import Callable, Iterator
from typing import Any

from ovnlab.flows.fields import SLOT, SLOT_WIDTH
from ovnlab.flows.fields import SLOTS as SLOT_NAMES
from ovnlab.flows.model import Flow
from ovnlab.interning import Interner

Key = list[int]
Signature = tuple[tuple[int, int], ...]


def flow_rank(flow: Flow) -> int:
    """Priority first; a deterministic tie-break among equal priorities."""
    return (flow.priority << 32) | _match_hash(flow.match)


@functools.lru_cache(maxsize=1 << 16)
def _match_hash(match: Any) -> int:
    # every chassis installs the same flows: each match is hashed once for all of them
    return zlib.crc32(repr(match).encode())


_shared_signature: Interner[Signature] = Interner(1 << 16)


def signature(flow: Flow) -> Signature:
    """The (slot, mask) set a flow matches on; match tuples are canonically ordered, so
    flows over the same fields and masks share one signature (and one tuple)."""
    return _shared_signature(tuple((SLOT[name], mask) for name, _v, mask in flow.match))


def _values(flow: Flow) -> Any:
    match = flow.match
    if not match:
        return None
    if len(match) == 1:
        return match[0][1]
    return tuple(value for _n, value, _m in match)


@functools.lru_cache(maxsize=65536)
def compile_extractor(sig: Signature) -> Callable[[Key], Any]:
    """A precompiled `key -> masked values` function for one subtable. Subtables with
    the same signature share it, in every table of every bridge: a packet crossing 100
    br-ints then runs a few hundred hot functions, not one per subtable per bridge (a
    cold lookup's cost is mostly CPU cache misses)."""
    if not sig:
        return lambda key: None
    terms = []
    for slot, mask in sig:
        full = (1 << SLOT_WIDTH[SLOT_NAMES[slot]]) - 1
        terms.append(f"k[{slot}]" if mask == full else f"k[{slot}] & {mask:#x}")
    body = terms[0] if len(terms) == 1 else "(" + ", ".join(terms) + ",)"
    fn: Callable[[Key], Any] = eval(f"lambda k: {body}", {"__builtins__": {}})  # noqa: S307
    return fn


class Entry:
    """An installed flow with its counters (mutable, owned by one table)."""

    __slots__ = ("flow", "rank", "program", "n_packets", "n_bytes", "created", "modified",
                 "used", "sig", "values")

    def __init__(self, flow: Flow, program: Any, now: float) -> None:
        self.flow = flow
        self.rank = flow_rank(flow)
        self.sig = signature(flow)
        self.values = _values(flow)
        self.program = program
        self.n_packets = 0
        self.n_bytes = 0
        self.created = now
        self.modified = now
        self.used = now


class Subtable:
    __slots__ = ("sig", "extract", "buckets", "max_rank", "count")

    def __init__(self, sig: Signature) -> None:
        self.sig = sig
        self.extract = compile_extractor(sig)
        # masked values → the entry there, or a list of them by rank (the same match at
        # several priorities; rare, so a lone entry is held without a list)
        self.buckets: dict[Any, Entry | list[Entry]] = {}
        self.max_rank = -1
        self.count = 0


class Classifier:
    def __init__(self) -> None:
        self._subtables: dict[Signature, Subtable] = {}
        self._order: list[Subtable] = []
        self._dirty = False
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[Entry]:
        for st in self._subtables.values():
            for bucket in st.buckets.values():
                if isinstance(bucket, Entry):
                    yield bucket
                else:
                    yield from bucket

    def insert(self, entry: Entry) -> None:
        sig = entry.sig
        st = self._subtables.get(sig)
        if st is None:
            st = self._subtables[sig] = Subtable(sig)
        bucket = st.buckets.get(entry.values)
        if bucket is None:
            st.buckets[entry.values] = entry
        else:
            entries = [bucket] if isinstance(bucket, Entry) else bucket
            entries.append(entry)
            entries.sort(key=lambda e: -e.rank)
            st.buckets[entry.values] = entries
        st.count += 1
        self._count += 1
        if entry.rank > st.max_rank:
            st.max_rank = entry.rank
        self._dirty = True

    def remove(self, entry: Entry) -> None:
        sig = entry.sig
        st = self._subtables[sig]
        values = entry.values
        bucket = st.buckets[values]
        if isinstance(bucket, Entry):
            del st.buckets[values]
        else:
            bucket.remove(entry)
            if len(bucket) == 1:
                st.buckets[values] = bucket[0]
        st.count -= 1
        self._count -= 1
        if not st.count:
            del self._subtables[sig]
        elif entry.rank == st.max_rank:
            st.max_rank = max(_first(b).rank for b in st.buckets.values())
        self._dirty = True

    def _resort(self) -> None:
        self._order = sorted(self._subtables.values(), key=lambda s: -s.max_rank)
        self._dirty = False

    def lookup(self, key: Key) -> Entry | None:
        if self._dirty:
            self._resort()
        best: Entry | None = None
        best_rank = -1
        for st in self._order:
            if st.max_rank <= best_rank:
                break
            bucket = st.buckets.get(st.extract(key))
            if bucket is not None:
                e = bucket if isinstance(bucket, Entry) else bucket[0]
                if e.rank > best_rank:
                    best = e
                    best_rank = e.rank
        return best

    def lookup_all(self, key: Key, min_rank: int = -1) -> list[Entry]:
        """Every entry matching `key` with rank above `min_rank` (for conjunctions)."""
        if self._dirty:
            self._resort()
        out: list[Entry] = []
        for st in self._order:
            if st.max_rank <= min_rank:
                break
            bucket = st.buckets.get(st.extract(key))
            if isinstance(bucket, Entry):
                if bucket.rank > min_rank:
                    out.append(bucket)
            elif bucket is not None:
                out.extend(e for e in bucket if e.rank > min_rank)
        return out

    @property
    def n_subtables(self) -> int:
        return len(self._subtables)


def _first(bucket: Entry | list[Entry]) -> Entry:
    return bucket if isinstance(bucket, Entry) else bucket[0]


def matches(flow: Flow, key: Key) -> bool:
    """The plain definition of a match (the linear-scan oracle)."""
    return all(key[SLOT[name]] & mask == value for name, value, mask in flow.match)
