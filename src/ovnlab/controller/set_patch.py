"""lflow.c lflow_handle_addr_set_update: the OpenFlow flows of the members a set gained
or lost, without compiling the whole set again. The set is an address set, or an inline
`{...}` set of a logical flow whose match northd rewrote in place (written here as an
address set named INLINE_SET).

The logical flow is compiled once with two placeholder addresses standing for the set
(the expression keeps the shape it has for the whole set: a set of one would not produce
conjunctions). The flows that hold a placeholder are the flows of one member: the flows
of a member that came or went are those, with the member's address in the placeholder's
place. When the two placeholders' flows do not mirror each other (the member is not in
a field of its own), each side is compiled instead, with the changed members plus the
placeholders, and the placeholders' own flows subtracted.

A port group whose local ports came or went is patched the same way, with placeholder
ports (keys no real port has) in the logical port registers (port_group_moves).
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Callable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

from ovnlab.controller.expr import Const, parse_address
from ovnlab.controller.lflow import (
    Compiled,
    LflowEnv,
    pinned_port,
    port_register,
    related_only,
)
from ovnlab.controller.lflow_cache import SharedCompiles
from ovnlab.flows import Flow
from ovnlab.interning import Interner
from ovnlab.ovsdb import Row

INLINE_SET = "_inline_set"  # the address set name an inline set is patched under
_shared_flow: Interner[Flow] = Interner()


@dataclass(frozen=True, slots=True)
class SetDelta:
    """An address set that gained and lost addresses, with two placeholder addresses of
    its family that it does not hold."""

    name: str
    removed: tuple[str, ...]
    added: tuple[str, ...]
    placeholders: tuple[str, ...]
    family: str  # "ipv4", "ipv6" or "mac"

    @classmethod
    @functools.lru_cache(maxsize=64)  # every chassis sees the same change
    def of(cls, name: str, before: tuple[str, ...],
           after: tuple[str, ...]) -> SetDelta | None:
        if len(before) < 2 or len(after) < 2:
            return None  # a set of 0 or 1 compiles to another shape
        old, new = set(before), set(after)
        if len(old) != len(before) or len(new) != len(after):
            return None
        found = _family(old | new)
        if found is None:
            return None
        family, placeholders = found
        return cls(name, tuple(a for a in before if a not in new),
                   tuple(a for a in after if a not in old), placeholders, family)


def member_flows(base: set[Flow], delta: SetDelta) -> tuple[set[Flow], set[Flow]] | None:
    """(the flows of the removed members, those of the added ones), from `base`: the
    flows the placeholders alone compile to. None: the placeholders' flows do not
    mirror each other, compile the members instead."""
    fields, full = _FIELDS[delta.family]
    p1, p2 = (parse_address(p).value for p in delta.placeholders)
    return substitute(base, fields, full, (p1, p2),
                      [parse_address(a) for a in delta.removed],
                      [parse_address(a) for a in delta.added])


# A port group's members in the flows: the port's key in the logical in/out port register.
PORT_FIELDS = frozenset(("reg14", "reg15"))
PORT_PLACEHOLDERS = ("_port_placeholder_1", "_port_placeholder_2")
PORT_PLACEHOLDER_KEYS = (0x1FFFE, 0x1FFFF)  # above every real key (16 bits)


def port_group_moves(compiles: SharedCompiles, lf: Row, env: LflowEnv,
                     refs: AbstractSet[str], short: str, before: tuple[str, ...],
                     after: tuple[str, ...]) -> tuple[set[Flow], set[Flow]] | None:
    """A port group whose local ports came or went, named once in the lflow's match
    (`outport == @pg && ip4.src == $as`, a remote-group ACL): (the flows of the ports
    that went, those of the ports that came), from a compile with two placeholder ports
    for the group and two placeholder addresses for each address set: the same on every
    chassis, so compiled once. The sets keep their shape: two or more members each.
    `refs`: what the lflow's compile depends on. None: recompile it."""
    if len(before) < 2 or len(after) < 2 or sum(1 for r in refs if r.startswith("@")) != 1 \
            or len(re.findall(re.escape("@" + short) + r"(?![\w.-])", lf["match"])) != 1:
        return None
    sets: dict[str, tuple[str, ...]] = {}
    for ref in refs:
        if ref.startswith("$"):
            found = placeholders_of(tuple(env.address_sets.get(ref[1:], ())))
            if found is None:
                return None
            sets[ref[1:]] = found
    stand_in = dict(zip(PORT_PLACEHOLDERS, PORT_PLACEHOLDER_KEYS, strict=True))
    real = env.lookup_port
    sub = dataclasses.replace(
        env, address_sets=sets, port_groups={short: PORT_PLACEHOLDERS},
        lookup_port=lambda n: stand_in[n] if n in stand_in else real(n))
    base = compiles.compile(lf, sub, template=lf["match"])
    if base.error or any(holds_placeholder(f) for f in base.flows
                         if _holds(f, PORT_FIELDS, 0xFFFFFFFF, PORT_PLACEHOLDER_KEYS[0])):
        return None  # a port's flows carry addresses: the sets cross-multiply

    def ports(names: set[str]) -> list[Const]:  # a port unknown here has no flows
        return [Const(k) for k in map(real, names) if k is not None]

    moved = substitute(set(base.flows), PORT_FIELDS, 0xFFFFFFFF, PORT_PLACEHOLDER_KEYS,
                       ports(set(before) - set(after)), ports(set(after) - set(before)))
    if moved is None:
        return None
    reg = port_register(lf["pipeline"] == "ingress")

    def local(flows: set[Flow]) -> set[Flow]:  # related_only, on the ports' real keys
        fs = list(flows)
        pinned = tuple(pinned_port(f.get(reg)) for f in fs)
        return set(related_only(Compiled(fs, frozenset(), ports=pinned), env).flows)

    return local(moved[0]), local(moved[1])


def substitute(base: set[Flow], fields: frozenset[str], full: int, marks: tuple[int, int],
               removed: list[Const], added: list[Const]) -> tuple[set[Flow], set[Flow]] | None:
    """The flows of the `removed` and the `added` members: those of `base` (compiled with
    the two placeholders `marks` for the whole set, in `fields`) that hold the first
    placeholder, with each member in its place. None when the second placeholder's flows
    do not mirror the first's, or a member's flow also holds an address placeholder."""
    p1, p2 = marks
    with_p1 = [f for f in base if _holds(f, fields, full, p1)]
    with_p2 = [f for f in base if _holds(f, fields, full, p2)]
    if not with_p1 or len(with_p1) != len(with_p2) or \
            {_put(f, fields, full, p1, None) for f in with_p1} != \
            {_put(f, fields, full, p2, None) for f in with_p2}:
        return None

    def flows_of(members: list[Const]) -> set[Flow]:
        return {_put(f, fields, full, p1, c) for c in members for f in with_p1}

    return flows_of(removed), flows_of(added)


def holds_placeholder(f: Flow) -> bool:
    """Whether `f` matches one of the address placeholders (of any family)."""
    return any(n in fields and m == full and v in _PLACEHOLDER_VALUES[family]
               for family, (fields, full) in _FIELDS.items() for n, v, m in f.match)


def _holds(f: Flow, fields: frozenset[str], full: int, value: int) -> bool:
    return any(n in fields and v == value and m == full for n, v, m in f.match)


def _put(f: Flow, fields: frozenset[str], full: int, value: int, c: Const | None) -> Flow:
    """`f` with the address `c` (None: a mark) where it matches the placeholder `value`.
    A member's flow is the same object on every chassis that patches it."""
    mask = full if c is None or c.mask is None else c.mask
    new = -1 if c is None else c.value & mask
    flow = Flow(f.table, f.priority, f.cookie, tuple(
        (n, new, mask) if n in fields and v == value and m == full else (n, v, m)
        for n, v, m in f.match), f.actions)
    return flow if c is None else _shared_flow(flow)


def placeholders_of(addresses: tuple[str, ...]) -> tuple[str, ...] | None:
    """Two placeholder addresses for a set of two or more (the shape the whole set
    compiles to); None for a smaller set or one that is not addresses of one family."""
    if len(addresses) < 2:
        return None
    found = _family(set(addresses))
    return None if found is None else found[1]


def one_set_moved(before: str, after: str) -> tuple[str, tuple[str, ...], tuple[str, ...]] | None:
    """Two matches that differ only in the members of one inline set: the match with
    that set written as `$_inline_set`, and the set's members before and after. Found
    from the common prefix and suffix (a set of 10k FIP MACs is 200 kB of match)."""
    if "$" in after or before == after:
        return None  # an address set: the patch compiles with this one set alone
    p = _common_length(before, after, lambda n: before[:n] == after[:n])
    rest = min(len(before), len(after)) - p
    q = _common_length(before, after, lambda n: before[len(before) - n:]
                       == after[len(after) - n:], rest)
    start = before.rfind("{", 0, p)
    end_b, end_a = len(before) - q, len(after) - q
    close_b, close_a = before.find("}", end_b), after.find("}", end_a)
    if start < 0 or close_b < 0 or "}" in before[start:p] or any(
            c in text for c in "{}" for text in (before[p:end_b], after[p:end_a],
                                                 before[end_b:close_b])):
        return None
    template = after[:start] + "$" + INLINE_SET + after[close_a + 1:]
    return (template, _members(before[start + 1:close_b]), _members(after[start + 1:close_a]))


def _common_length(a: str, b: str, same: Callable[[int], bool], most: int | None = None) -> int:
    """The longest n ≤ `most` for which same(n) holds (it holds for every shorter n),
    by halving: each test compares slices in C."""
    lo, hi = 0, min(len(a), len(b)) if most is None else most
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if same(mid):
            lo = mid
        else:
            hi = mid - 1
    return lo


def _members(inner: str) -> tuple[str, ...]:
    # An address has no blank in it; a member that is not an address is refused later.
    return tuple([m for m in inner.replace(" ", "").split(",") if m])


def _family(addresses: set[str]) -> tuple[str, tuple[str, str]] | None:
    """The set's family and two addresses of it that the set does not hold; None when
    two members spell one address (their flows coincide) or a member is not an
    address."""
    if _CANONICAL_MACS.fullmatch(",".join(addresses)):
        # one spelling per MAC: distinct texts are distinct addresses (a FIP MAC set)
        mac = _PLACEHOLDERS["mac"]
        return None if addresses.intersection(mac) else ("mac", mac)
    try:
        parsed = {parse_address(a) for a in addresses}
    except ValueError:
        return None
    family = next(iter(parsed)).fmt
    found = _PLACEHOLDERS.get(family)
    if len(parsed) != len(addresses) or found is None \
            or {parse_address(a) for a in found} & parsed \
            or any(c.fmt != family for c in parsed):
        return None
    return family, found


_CANONICAL_MACS = re.compile(r"[0-9a-f]{2}(?::[0-9a-f]{2}){5}(?:,[0-9a-f]{2}(?::[0-9a-f]{2}){5})*")
_PLACEHOLDERS = {"ipv4": ("0.0.0.1", "0.0.0.2"), "ipv6": ("100::1", "100::2"),
                 "mac": ("00:00:00:00:00:01", "00:00:00:00:00:02")}
# the OpenFlow fields an address of each family is matched in, and their full mask
_FIELDS = {
    "ipv4": (frozenset(("nw_src", "nw_dst", "arp_spa", "arp_tpa", "ct_nw_src",
                        "ct_nw_dst")), (1 << 32) - 1),
    "ipv6": (frozenset(("ipv6_src", "ipv6_dst", "nd_target", "ct_ipv6_src",
                        "ct_ipv6_dst")), (1 << 128) - 1),
    "mac": (frozenset(("dl_src", "dl_dst", "arp_sha", "arp_tha", "nd_sll", "nd_tll")),
            (1 << 48) - 1),
}
_PLACEHOLDER_VALUES = {family: {parse_address(p).value for p in pair}
                       for family, pair in _PLACEHOLDERS.items()}
