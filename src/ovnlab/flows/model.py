"""The flow model: `Flow(table, priority, cookie, match, actions)`.

`match` is a tuple of `(slot, value, mask)` in OVS's printing order, values already
masked, so equal matches compare equal and hash alike. `make_flow` builds one from field
names without text (aliases normalised, prerequisites checked); `check_flow` checks one
built another way (ovn-controller's, through flows/match.py) as ovs-vswitchd would.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ovnlab.errors import BadRequest
from ovnlab.flows import actions as A
from ovnlab.flows.actions import Action
from ovnlab.flows.fields import (
    ETH_TYPE_ARP,
    ETH_TYPE_IP,
    ETH_TYPE_IPV6,
    ETH_TYPE_RARP,
    FIELDS,
    IPPROTO_ICMP,
    IPPROTO_ICMPV6,
    IPPROTO_SCTP,
    IPPROTO_TCP,
    IPPROTO_UDP,
    MATCH_RANK,
    SLOT,
    SLOT_WIDTH,
    SLOTS,
    UNMASKABLE,
)
from ovnlab.interning import Interner

OFP_DEFAULT_PRIORITY = 32768

MatchItem = tuple[str, int, int]
Match = tuple[MatchItem, ...]


class FlowError(BadRequest):
    """A flow or action that ovs-ofctl would reject; the message reads like its error."""


@dataclass(frozen=True, slots=True)
class Flow:
    table: int = 0
    priority: int = OFP_DEFAULT_PRIORITY
    cookie: int = 0
    match: Match = ()
    actions: tuple[Action, ...] = ()
    idle_timeout: int = 0
    hard_timeout: int = 0
    importance: int = 0

    def match_dict(self) -> dict[str, tuple[int, int]]:
        return {name: (value, mask) for name, value, mask in self.match}

    def get(self, field: str) -> tuple[int, int] | None:
        for name, value, mask in self.match:
            if name == field:
                return value, mask
        return None


FlowKey = tuple[int, int, Match]  # (table, priority, match): one flow per key in a table
_shared_key: Interner[FlowKey] = Interner()


def flow_key(f: Flow) -> FlowKey:
    """What identifies `f` in its table, one tuple for every holder of an equal flow
    (every chassis's ofctrl and br-int hold the same flows)."""
    return _shared_key((f.table, f.priority, f.match))


@dataclass(frozen=True, slots=True)
class FlowStats:
    """What dump-flows adds to a flow. Times in seconds on the bridge's clock."""

    duration: float = 0.0
    n_packets: int = 0
    n_bytes: int = 0
    idle_age: int = 0
    hard_age: int | None = None


# Match-side aliases (OVS accepts all of these and prints the canonical name).
MATCH_ALIASES: dict[str, str] = {
    "eth_src": "dl_src", "eth_dst": "dl_dst", "eth_type": "dl_type",
    "ip_src": "nw_src", "ip_dst": "nw_dst", "ipv4_src": "nw_src", "ipv4_dst": "nw_dst",
    "ip_proto": "nw_proto", "ip_ttl": "nw_ttl",
    "tcp_src": "tp_src", "tcp_dst": "tp_dst", "udp_src": "tp_src", "udp_dst": "tp_dst",
    "sctp_src": "tp_src", "sctp_dst": "tp_dst",
    "icmpv4_type": "icmp_type", "icmpv4_code": "icmp_code",
    "icmpv6_type": "icmp_type", "icmpv6_code": "icmp_code",
    "tun_ipv4_src": "tun_src", "tun_ipv4_dst": "tun_dst", "tunnel_id": "tun_id",
    "ct_nw_proto": "ct_nw_proto",
}

# Protocol shorthands: name -> (dl_type, nw_proto or None)
PROTOCOLS: dict[str, tuple[int, int | None]] = {
    "ip": (ETH_TYPE_IP, None), "ipv4": (ETH_TYPE_IP, None),
    "icmp": (ETH_TYPE_IP, IPPROTO_ICMP), "igmp": (ETH_TYPE_IP, 2),
    "tcp": (ETH_TYPE_IP, IPPROTO_TCP), "udp": (ETH_TYPE_IP, IPPROTO_UDP),
    "sctp": (ETH_TYPE_IP, IPPROTO_SCTP),
    "ipv6": (ETH_TYPE_IPV6, None), "icmp6": (ETH_TYPE_IPV6, IPPROTO_ICMPV6),
    "tcp6": (ETH_TYPE_IPV6, IPPROTO_TCP), "udp6": (ETH_TYPE_IPV6, IPPROTO_UDP),
    "sctp6": (ETH_TYPE_IPV6, IPPROTO_SCTP),
    "arp": (ETH_TYPE_ARP, None), "rarp": (ETH_TYPE_RARP, None),
}

_L3 = frozenset({"nw_src", "nw_dst"})
_IPANY = frozenset({"nw_proto", "nw_ttl", "nw_tos", "nw_frag"})
_ARP = frozenset({"arp_op", "arp_spa", "arp_tpa", "arp_sha", "arp_tha"})
_L4 = frozenset({"tp_src", "tp_dst"})
_ICMP = frozenset({"icmp_type", "icmp_code"})
_ND = frozenset({"nd_target", "nd_sll", "nd_tll"})


def add_match_item(items: dict[str, tuple[int, int]], name: str, value: int,
                   mask: int | None = None) -> None:
    """Merges `name=value/mask` (any alias, xreg/xxreg) into canonical slot items."""
    name = MATCH_ALIASES.get(name, name)
    if name.startswith(("xreg", "xxreg")) and name in FIELDS:
        f = FIELDS[name]
        m = (1 << f.width) - 1 if mask is None else mask
        for slot_idx, ofs, nbits in f.segments:  # replaces both registers, as OVS does
            part = (m >> ofs) & ((1 << nbits) - 1)
            name = _slot_name(slot_idx)
            items.pop(name, None)
            if part:
                items[name] = ((value >> ofs) & part, part)
        return
    width = SLOT_WIDTH.get(name)
    if width is None:
        raise FlowError(f"unknown keyword {name}")
    full = (1 << width) - 1
    if mask is None:
        mask = full
    elif mask != full and name in UNMASKABLE:
        raise FlowError(f"{value:#x}/{mask:#x}: invalid mask for field {name}")
    if value > full or mask > full:
        raise FlowError(f"{value:#x}: value too large for field {name}")
    _merge(items, name, value & mask, mask)


_SLOT_NAMES: dict[int, str] = {i: n for n, i in SLOT.items()}


def _slot_name(idx: int) -> str:
    return _SLOT_NAMES[idx]


def _merge(items: dict[str, tuple[int, int]], name: str, value: int, mask: int) -> None:
    old = items.get(name)
    if old is not None:
        ov, om = old
        value = (ov & ~mask) | value
        mask |= om
    if mask:
        items[name] = (value & mask, mask)
    else:
        items.pop(name, None)


def _satisfied(name: str, dl_type: int | None, proto: int | None) -> bool:
    """Whether a slot's prerequisites (dl_type / nw_proto) hold."""
    if name in _L3:
        return dl_type == ETH_TYPE_IP
    if name in _IPANY:
        return dl_type in (ETH_TYPE_IP, ETH_TYPE_IPV6)
    if name in ("ipv6_src", "ipv6_dst", "ipv6_label"):
        return dl_type == ETH_TYPE_IPV6
    if name in _ARP:
        return dl_type in (ETH_TYPE_ARP, ETH_TYPE_RARP)
    if name in _L4:
        return (dl_type in (ETH_TYPE_IP, ETH_TYPE_IPV6)
                and proto in (IPPROTO_TCP, IPPROTO_UDP, IPPROTO_SCTP))
    if name in _ICMP:
        return ((dl_type == ETH_TYPE_IP and proto == IPPROTO_ICMP)
                or (dl_type == ETH_TYPE_IPV6 and proto == IPPROTO_ICMPV6))
    if name in _ND:
        return dl_type == ETH_TYPE_IPV6 and proto == IPPROTO_ICMPV6
    if name == "tcp_flags":
        return dl_type in (ETH_TYPE_IP, ETH_TYPE_IPV6) and proto == IPPROTO_TCP
    return True


def _l2_l3(items: Mapping[str, tuple[int, int]]) -> tuple[int | None, int | None]:
    dl = items.get("dl_type")
    proto = items.get("nw_proto")
    return (dl[0] if dl else None), (proto[0] if proto else None)


def check_prerequisites(items: Mapping[str, tuple[int, int]]) -> None:
    dl_type, proto = _l2_l3(items)
    for name in items:
        if not _satisfied(name, dl_type, proto):
            raise FlowError(f"{name}: prerequisites not met (missing or wrong dl_type/nw_proto)")


# Fields whose prerequisite is one protocol, not just the slot's (MFP_TCP, MFP_ICMPV4...).
_PROTO_NEEDS = {"tcp_src": ["tcp"], "tcp_dst": ["tcp"], "udp_src": ["udp"], "udp_dst": ["udp"],
                "sctp_src": ["sctp"], "sctp_dst": ["sctp"], "icmp_type": ["icmp4"],
                "icmp_code": ["icmp4"], "icmpv6_type": ["icmp6"], "icmpv6_code": ["icmp6"]}


def _action_needs(action: Action) -> list[str]:
    """The slots an action touches (plus `tcp`/`udp` for protocol-specific fields)."""
    def of(field: str) -> list[str]:
        f = FIELDS[field]
        extra = _PROTO_NEEDS.get(field, [])
        return [SLOTS[f.segments[0][0]], *extra]

    if isinstance(action, A.Load | A.Pop):
        return of(action.dst.field)
    if isinstance(action, A.Move):
        return of(action.src.field) + of(action.dst.field)
    if isinstance(action, A.Push | A.OutputReg):
        return of(action.src.field)
    if isinstance(action, A.SetField):
        return of(action.field)
    if isinstance(action, A.Ct):  # conntrack needs IPv4 or IPv6
        needs = ["nw_ttl"] + (of(action.zone_src.field) if action.zone_src else [])
        return needs + [n for a in action.actions for n in _action_needs(a)]
    if isinstance(action, A.Clone):
        return [n for a in action.actions for n in _action_needs(a)]
    return []


def check_action_prerequisites(items: Mapping[str, tuple[int, int]],
                               actions: Iterable[Action]) -> None:
    """ovs-ofctl rejects actions on fields the match does not guarantee (e.g. `mod_nw_src`
    without `ip`) with OFPBAC_MATCH_INCONSISTENT."""
    dl_type, proto = _l2_l3(items)
    for action in actions:
        for need in _action_needs(action):
            if need == "tcp":
                ok = proto == IPPROTO_TCP
            elif need == "udp":
                ok = proto == IPPROTO_UDP
            elif need == "sctp":
                ok = proto == IPPROTO_SCTP
            elif need == "icmp4":
                ok = dl_type == ETH_TYPE_IP and proto == IPPROTO_ICMP
            elif need == "icmp6":
                ok = dl_type == ETH_TYPE_IPV6 and proto == IPPROTO_ICMPV6
            else:
                ok = _satisfied(need, dl_type, proto)
            if not ok:
                raise FlowError("actions are invalid with specified match "
                                "(OFPBAC_MATCH_INCONSISTENT)")


def check_flow(flow: Flow) -> None:
    """What ovs-vswitchd checks of a flow_mod built without text: the match's
    prerequisites and the actions' (FlowError as ovs-ofctl words it)."""
    items = {n: (v, m) for n, v, m in flow.match}
    check_prerequisites(items)
    check_action_prerequisites(items, flow.actions)


# one tuple per distinct match: every chassis builds its physical flows' matches (a
# remote port's key on a datapath) for itself
_shared_match: Interner[Match] = Interner()


def canonical_match(items: Mapping[str, tuple[int, int]]) -> Match:
    return _shared_match(tuple(sorted(((n, v, m) for n, (v, m) in items.items()),
                                      key=lambda item: MATCH_RANK[item[0]])))


def make_match(fields: Mapping[str, int | tuple[int, int]], *, check: bool = True) -> Match:
    items: dict[str, tuple[int, int]] = {}
    for name, spec in fields.items():
        if name in PROTOCOLS:
            dl_type, nw_proto = PROTOCOLS[name]
            _merge(items, "dl_type", dl_type, 0xFFFF)
            if nw_proto is not None:
                _merge(items, "nw_proto", nw_proto, 0xFF)
            continue
        if isinstance(spec, tuple):
            add_match_item(items, name, spec[0], spec[1])
        else:
            add_match_item(items, name, spec)
    if check:
        check_prerequisites(items)
    return canonical_match(items)


def make_flow(table: int, priority: int, match: Mapping[str, int | tuple[int, int]],
              actions: Iterable[Action], cookie: int = 0, *, check: bool = True) -> Flow:
    """Builds a flow without text: `make_flow(14, 100, {"ip": 1, "reg14": 1,
    "metadata": 3, "nw_dst": ip}, [Ct(...)], cookie=...)`. Protocol shorthands take any value.
    `check=False` skips prerequisite checks (for callers that already guarantee them)."""
    m = make_match(match, check=check)
    acts = tuple(actions)
    if check:
        check_action_prerequisites({n: (v, mk) for n, v, mk in m}, acts)
    return Flow(table, priority, cookie, m, acts)
