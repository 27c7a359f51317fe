"""Building a match by intersecting constraints, as a compiler of flows needs (OVN's
expr-to-match, physical.c's `match_set_*`): each constraint lands in the flow key's slots
(a register-spanning field in several, ip_dscp in part of nw_tos), and two constraints
that disagree on a bit make the conjunction match nothing (`Conflict`).
"""

from __future__ import annotations

from collections.abc import Mapping

from ovnlab.flows.fields import SLOTS, Field
from ovnlab.flows.model import Match, canonical_match


class Conflict(Exception):
    """Two constraints on the same bits disagree: the conjunction matches nothing."""


class MatchBuilder:
    """A match under construction: slot → (value, mask), values already masked."""

    __slots__ = ("slots", "_hash")

    def __init__(self, slots: Mapping[str, tuple[int, int]] | None = None) -> None:
        self.slots: dict[str, tuple[int, int]] = dict(slots or {})
        self._hash: int | None = None

    def copy(self) -> MatchBuilder:
        return MatchBuilder(self.slots)

    def set(self, slot: str, value: int, mask: int) -> None:
        """Intersect with `slot & mask == value`; raises Conflict if impossible."""
        value &= mask
        self._hash = None
        old = self.slots.get(slot)
        if old is not None:
            ov, om = old
            if (ov ^ value) & om & mask:
                raise Conflict(slot)
            value, mask = ov | value, om | mask
        self.slots[slot] = (value, mask)

    def set_field(self, field: Field, value: int, mask: int | None = None) -> None:
        """Intersect with `field & mask == value` (mask None: the whole field)."""
        if mask is None:
            mask = (1 << field.width) - 1
        shift = field.slot_shift
        for slot, ofs, nbits in field.segments:
            bits = (1 << nbits) - 1
            m = (mask >> ofs) & bits
            if m:
                self.set(SLOTS[slot], ((value >> ofs) & bits) << shift, m << shift)

    def match(self) -> Match:
        """The flow model's canonical match (OVS's printing order)."""
        return canonical_match(self.slots)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, MatchBuilder) and self.slots == other.slots

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = hash(frozenset(self.slots.items()))
        return self._hash

