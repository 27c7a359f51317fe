"""Actions compiled once per flow into small closures over the flow key.

Each op is `op(x, key) -> bool | None`; returning True stops the current action list (as
OVS's `dec_ttl` does when the TTL expires). Field writes are precomputed per key slot, so
`load:0x1->NXM_NX_REG13[]` costs one masked assignment at run time.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ovnlab.datapath import key as K
from ovnlab.flows.actions import (
    Action,
    Bundle,
    CheckPktLarger,
    Clone,
    Conjunction,
    Controller,
    Ct,
    CtClear,
    DecTtl,
    Load,
    Mod,
    Move,
    Nat,
    Note,
    Output,
    OutputReg,
    Pop,
    Push,
    Resubmit,
    SetField,
    StripVlan,
    SubField,
)
from ovnlab.flows.fields import (
    FIELDS,
    OFPP_ALL,
    OFPP_CONTROLLER,
    OFPP_FLOOD,
    OFPP_IN_PORT,
    OFPP_NORMAL,
    OFPP_TABLE,
)

if TYPE_CHECKING:
    from ovnlab.datapath.pipeline import Xlate

MAX_DEPTH = 64  # OVS's resubmit depth limit
MAX_RESUBMITS = 4096  # ... and its limit on resubmits per packet

Op = Callable[["Xlate", K.Key], "bool | None"]
Program = tuple[Op, ...]

# (slot, keep-mask, shift) pieces for writing `nbits` bits at field offset `ofs`.
Pieces = tuple[tuple[int, int, int, int], ...]  # slot, keep, value_shift, value_mask


def _pieces(field: str, ofs: int, nbits: int) -> Pieces:
    """How bits [ofs, ofs+nbits) of a field map onto key slots."""
    out = []
    f = FIELDS[field]
    for slot, seg_ofs, seg_bits in f.segments:
        lo = max(ofs, seg_ofs)
        hi = min(ofs + nbits, seg_ofs + seg_bits)
        if lo >= hi:
            continue
        width = hi - lo
        slot_shift = lo - seg_ofs + f.slot_shift  # where these bits sit inside the slot
        value_shift = lo - ofs  # where they sit inside the written value
        slot_mask = ((1 << width) - 1) << slot_shift
        out.append((slot, ~slot_mask, value_shift - slot_shift, slot_mask))
    return tuple(out)


def writer(sf: SubField) -> Callable[[K.Key, int], None]:
    pieces = _pieces(sf.field, sf.ofs, sf.nbits)
    if len(pieces) == 1:
        slot, keep, shift, smask = pieces[0]
        if shift >= 0:
            def w1(key: K.Key, value: int) -> None:
                key[slot] = (key[slot] & keep) | ((value >> shift) & smask)
        else:
            def w1(key: K.Key, value: int) -> None:
                key[slot] = (key[slot] & keep) | ((value << -shift) & smask)
        return w1

    def wn(key: K.Key, value: int) -> None:
        for slot, keep, shift, smask in pieces:
            v = value >> shift if shift >= 0 else value << -shift
            key[slot] = (key[slot] & keep) | (v & smask)
    return wn


def reader(sf: SubField) -> Callable[[K.Key], int]:
    pieces = _pieces(sf.field, sf.ofs, sf.nbits)
    if len(pieces) == 1:
        slot, _keep, shift, smask = pieces[0]
        if shift >= 0:
            return lambda key: (key[slot] & smask) << shift
        return lambda key: (key[slot] & smask) >> -shift

    def rn(key: K.Key) -> int:
        v = 0
        for slot, _keep, shift, smask in pieces:
            part = key[slot] & smask
            v |= part << shift if shift >= 0 else part >> -shift
        return v
    return rn


def _load(sf: SubField, value: int) -> Op:
    pieces = _pieces(sf.field, sf.ofs, sf.nbits)
    if len(pieces) == 1:
        slot, keep, shift, smask = pieces[0]
        bits = ((value >> shift) if shift >= 0 else (value << -shift)) & smask

        def load1(x: Xlate, key: K.Key) -> None:
            key[slot] = (key[slot] & keep) | bits
        return load1
    w = writer(sf)

    def loadn(x: Xlate, key: K.Key) -> None:
        w(key, value)
    return loadn


def _move(src: SubField, dst: SubField) -> Op:
    r, w = reader(src), writer(dst)

    def move(x: Xlate, key: K.Key) -> None:
        w(key, r(key))
    return move


_MOD_SLOT = {"dl_src": K.DL_SRC, "dl_dst": K.DL_DST, "nw_src": K.NW_SRC, "nw_dst": K.NW_DST,
             "tp_src": K.TP_SRC, "tp_dst": K.TP_DST}


def _mod(field: str, value: int) -> Op:
    if field == "vlan_vid":
        def mod_vid(x: Xlate, key: K.Key) -> None:
            key[K.VLAN_TCI] = (key[K.VLAN_TCI] & 0xE000) | 0x1000 | value
        return mod_vid
    if field == "vlan_pcp":
        def mod_pcp(x: Xlate, key: K.Key) -> None:
            key[K.VLAN_TCI] = (key[K.VLAN_TCI] & 0x0FFF) | 0x1000 | value << 13
        return mod_pcp
    if field == "nw_tos":
        def mod_tos(x: Xlate, key: K.Key) -> None:
            if key[K.DL_TYPE] in _IP_TYPES:
                key[K.NW_TOS] = (key[K.NW_TOS] & 0x03) | (value & 0xFC)
        return mod_tos
    slot = _MOD_SLOT[field]
    if field in ("nw_src", "nw_dst"):
        def mod_nw(x: Xlate, key: K.Key) -> None:  # OpenFlow 1.0: ignored unless IPv4
            if key[K.DL_TYPE] == 0x0800:
                key[slot] = value
        return mod_nw
    if field in ("tp_src", "tp_dst"):
        def mod_tp(x: Xlate, key: K.Key) -> None:  # ignored unless TCP/UDP/SCTP
            if key[K.DL_TYPE] in _IP_TYPES and key[K.NW_PROTO] in (6, 17, 132):
                key[slot] = value
        return mod_tp

    def mod(x: Xlate, key: K.Key) -> None:
        key[slot] = value
    return mod


_IP_TYPES = (0x0800, 0x86DD)


@dataclass(frozen=True, slots=True)
class CtSpec:
    action: Ct
    zone_reader: Callable[[K.Key], int] | None
    nat: Nat | None
    exec_program: Program
    mark_mask: int
    label_mask: int


def _ct(ct: Ct) -> Op:
    mark_mask = label_mask = 0
    for a in ct.exec_actions:
        dst = a.dst if isinstance(a, Load | Move) else None
        if isinstance(a, SetField):
            dst = SubField(a.field, 0, FIELDS[a.field].width)
        if dst is None:
            continue
        bits = ((1 << dst.nbits) - 1) << dst.ofs
        if dst.field == "ct_mark":
            mark_mask |= bits
        elif dst.field == "ct_label":
            label_mask |= bits
    spec = CtSpec(ct, reader(ct.zone_src) if ct.zone_src else None, ct.nat,
                  compile_actions(ct.exec_actions), mark_mask, label_mask)

    def ct_op(x: Xlate, key: K.Key) -> None:
        x.ct(key, spec)
    return ct_op


def _output(port: int) -> Op:
    if port == OFPP_NORMAL:
        return lambda x, key: x.normal(key)
    if port in (OFPP_FLOOD, OFPP_ALL):
        return lambda x, key: x.flood(key)
    if port == OFPP_IN_PORT:
        return lambda x, key: x.output(key, key[K.IN_PORT], True)
    if port == OFPP_CONTROLLER:
        ctl = Controller()
        return lambda x, key: x.packet_in(key, ctl)
    if port == OFPP_TABLE:
        return lambda x, key: x.resubmit(key, None, 0)
    return lambda x, key: x.output(key, port, False)


def _resubmit(port: int | None, table: int | None) -> Op:
    if port is not None or table is None:
        return lambda x, key: x.resubmit(key, port, table)

    def resubmit(x: Xlate, key: K.Key) -> None:  # the common `resubmit(,N)`, inlined
        if x.depth >= MAX_DEPTH or x.resubmits >= MAX_RESUBMITS:
            x.limit_exceeded(table)
        deepens = int(table <= x.table)  # see Xlate.resubmit
        x.resubmits += 1
        x.depth += deepens
        x.run_table(key, table)
        x.depth -= deepens
    return resubmit


def _clone(actions: tuple[Action, ...]) -> Op:
    program = program_for(actions)

    def clone(x: Xlate, key: K.Key) -> None:
        x.clone(key, program, actions)
    return clone


def _dec_ttl(ids: tuple[int, ...] | None) -> Op:
    def dec_ttl(x: Xlate, key: K.Key) -> bool:
        if key[K.DL_TYPE] not in (0x0800, 0x86DD):
            return False  # OVS: a no-op on non-IP packets
        ttl = key[K.NW_TTL]
        if ttl > 1:
            key[K.NW_TTL] = ttl - 1
            return False
        x.ttl_expired(key, ids)
        return True
    return dec_ttl


def _ct_clear(x: Xlate, key: K.Key) -> None:
    key[K.CT_STATE] = key[K.CT_ZONE] = key[K.CT_MARK] = key[K.CT_LABEL] = 0


def _strip_vlan(x: Xlate, key: K.Key) -> None:
    key[K.VLAN_TCI] = 0


def _noop(x: Xlate, key: K.Key) -> None:
    return None


def _push(sf: SubField) -> Op:
    r = reader(sf)

    def push(x: Xlate, key: K.Key) -> None:
        x.stack.append(r(key))
    return push


def _pop(sf: SubField) -> Op:
    w = writer(sf)

    def pop(x: Xlate, key: K.Key) -> None:
        if x.stack:
            w(key, x.stack.pop())
    return pop


def _check_pkt_larger(pkt_len: int, dst: SubField) -> Op:
    """odp_execute's check_pkt_len: the frame as the datapath holds it, L2 header included."""
    w = writer(dst)

    def check(x: Xlate, key: K.Key) -> None:
        w(key, 1 if x.size > pkt_len else 0)
    return check


def compile_action(a: Action) -> Op:
    if isinstance(a, Output):
        return _output(a.port)
    if isinstance(a, Bundle):
        members, algorithm = a.members, a.algorithm
        return lambda x, key: x.bundle(key, members, algorithm)
    if isinstance(a, OutputReg):
        r = reader(a.src)
        return lambda x, key: x.output(key, r(key), False)
    if isinstance(a, Resubmit):
        return _resubmit(a.port, a.table)
    if isinstance(a, Load):
        return _load(a.dst, a.value)
    if isinstance(a, Move):
        return _move(a.src, a.dst)
    if isinstance(a, SetField):
        width = FIELDS[a.field].width
        mask = a.mask if a.mask is not None else (1 << width) - 1
        w = writer(SubField(a.field, 0, width))
        r = reader(SubField(a.field, 0, width))
        value = a.value

        def set_field(x: Xlate, key: K.Key) -> None:
            w(key, (r(key) & ~mask) | (value & mask))
        return set_field
    if isinstance(a, Mod):
        return _mod(a.field, a.value)
    if isinstance(a, DecTtl):
        return _dec_ttl(a.ids)
    if isinstance(a, Ct):
        return _ct(a)
    if isinstance(a, CtClear):
        return _ct_clear
    if isinstance(a, StripVlan):
        return _strip_vlan
    if isinstance(a, Controller):
        ctl = a
        return lambda x, key: x.packet_in(key, ctl)
    if isinstance(a, Clone):
        return _clone(a.actions)
    if isinstance(a, Conjunction | Note | Nat):
        return _noop
    if isinstance(a, Push):
        return _push(a.src)
    if isinstance(a, Pop):
        return _pop(a.dst)
    if isinstance(a, CheckPktLarger):
        return _check_pkt_larger(a.pkt_len, a.dst)
    raise TypeError(f"cannot execute {a!r}")  # every Action type is handled above


def compile_actions(actions: tuple[Action, ...]) -> Program:
    return tuple(_op_for(a) for a in actions)


PROGRAM_CACHE_LIMIT = 500_000


@functools.lru_cache(maxsize=PROGRAM_CACHE_LIMIT)
def _op_for(a: Action) -> Op:
    """One closure per distinct action, whatever list it is in."""
    return compile_action(a)


@functools.lru_cache(maxsize=PROGRAM_CACHE_LIMIT)
def program_for(actions: tuple[Action, ...]) -> Program:
    """`compile_actions`, shared by every flow with equal actions in every bridge of the
    process. Programs are pure (their only state is the packet's key and Xlate), and the
    100 br-ints of a big lab hold mostly the same OVN action lists: one set of closures
    for all of them stays in the CPU caches while a packet crosses chassis after chassis."""
    return compile_actions(actions)
