"""Parsing ovs-ofctl values: integers, MACs, IPv4/IPv6 (with masks or prefixes), flag sets,
ports by number, reserved name or bridge port name, and match items into canonical slots."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping

from ovnlab.flows.fields import (
    CT_STATE_BITS,
    FIELDS,
    RESERVED_PORTS,
    SLOT,
    SLOT_WIDTH,
    TCP_FLAG_BITS,
)
from ovnlab.flows.model import (
    MATCH_ALIASES,
    FlowError,
    _merge,
    add_match_item,
)

PortMap = Mapping[str, int]

ETH_SLOTS = frozenset({"dl_src", "dl_dst", "arp_sha", "arp_tha", "nd_sll", "nd_tll"})
IP_SLOTS = frozenset({"nw_src", "nw_dst", "arp_spa", "arp_tpa", "tun_src", "tun_dst"})
IP6_SLOTS = frozenset({"ipv6_src", "ipv6_dst", "nd_target"})
_STAT_KEYS = frozenset({"duration", "n_packets", "n_bytes", "idle_age", "hard_age"})
_FLAG_KEYS = frozenset({"send_flow_rem", "check_overlap", "reset_counts", "no_packet_counts",
                        "no_byte_counts"})



def split_top(text: str, sep: str = ",") -> list[str]:
    """Splits on `sep` outside parentheses; empty pieces dropped."""
    out: list[str] = []
    cur: list[str] = []
    depth = 0
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == sep and depth == 0:
            piece = "".join(cur).strip()
            if piece:
                out.append(piece)
            cur = []
        else:
            cur.append(ch)
    piece = "".join(cur).strip()
    if piece:
        out.append(piece)
    return out


def parse_int(text: str, what: str = "value") -> int:
    t = text.strip()
    try:
        if t.lower().startswith("0x"):
            return int(t, 16)
        return int(t, 10)
    except ValueError:
        raise FlowError(f"{text}: bad syntax for {what}") from None


def parse_mac(text: str, what: str = "value") -> int:
    parts = text.split(":")
    if len(parts) != 6 or not all(1 <= len(p) <= 2 for p in parts):
        raise FlowError(f"{text}: bad syntax for {what} value")
    try:
        return int("".join(p.zfill(2) for p in parts), 16)
    except ValueError:
        raise FlowError(f"{text}: bad syntax for {what} value") from None


def parse_ip(text: str, what: str = "value") -> int:
    try:
        return int(ipaddress.IPv4Address(text))
    except ValueError:
        raise FlowError(f"{text}: bad syntax for {what} value") from None


def _parse_ip_masked(text: str, name: str) -> tuple[int, int]:
    addr, _, mask = text.partition("/")
    value = parse_ip(addr, name)
    if not mask:
        return value, 0xFFFFFFFF
    if "." in mask:
        return value, parse_ip(mask, name)
    plen = parse_int(mask, name)
    if not 0 <= plen <= 32:
        raise FlowError(f"{text}: bad syntax for {name} value")
    return value, (0xFFFFFFFF << (32 - plen)) & 0xFFFFFFFF


def _parse_ip6_masked(text: str, name: str) -> tuple[int, int]:
    addr, _, mask = text.partition("/")
    try:
        value = int(ipaddress.IPv6Address(addr))
        if not mask:
            return value, (1 << 128) - 1
        if ":" in mask:
            return value, int(ipaddress.IPv6Address(mask))
    except ValueError:
        raise FlowError(f"{text}: bad syntax for {name} value") from None
    plen = parse_int(mask, name)
    full = (1 << 128) - 1
    return value, (full << (128 - plen)) & full


def _parse_flags(text: str, bits: tuple[tuple[int, str], ...], name: str,
                 full: int) -> tuple[int, int]:
    by_name = {n: b for b, n in bits}
    if text[:1] in "+-":
        value = mask = 0
        i = 0
        while i < len(text):
            sign = text[i]
            j = i + 1
            while j < len(text) and text[j] not in "+-":
                j += 1
            flag = text[i + 1:j]
            if sign not in "+-" or flag not in by_name:
                raise FlowError(f"{text}: bad syntax for {name} value")
            mask |= by_name[flag]
            if sign == "+":
                value |= by_name[flag]
            i = j
        return value, mask
    if text[:1].isdigit():
        v, _, m = text.partition("/")
        return parse_int(v, name), parse_int(m, name) if m else full
    value = 0
    for flag in text.split("|"):
        if flag not in by_name:
            raise FlowError(f"{text}: bad syntax for {name} value")
        value |= by_name[flag]
    return value, full


_FRAG = {"no": (0, 1), "yes": (1, 1), "first": (1, 3), "later": (3, 3), "not_later": (0, 2)}


def parse_port(text: str, port_map: PortMap | None, what: str) -> int:
    t = text.strip().strip('"')
    upper = t.upper()
    if upper in RESERVED_PORTS and (port_map is None or t not in port_map):
        return RESERVED_PORTS[upper]
    if t.isdigit():
        return int(t)
    if port_map is not None and t in port_map:
        return port_map[t]
    raise FlowError(f"{text}: invalid or unknown port for {what}")


def parse_match_value(name: str, text: str,
                      port_map: PortMap | None = None) -> tuple[int, int | None]:
    """Value and mask (None = exact) of one canonical match slot."""
    if name == "in_port":
        return parse_port(text, port_map, "in_port"), None
    if name in ETH_SLOTS:
        v, _, m = text.partition("/")
        return parse_mac(v, name), parse_mac(m, name) if m else None
    if name in IP_SLOTS:
        return _parse_ip_masked(text, name)
    if name in IP6_SLOTS:
        return _parse_ip6_masked(text, name)
    if name == "ct_state":
        return _parse_flags(text, CT_STATE_BITS, name, (1 << SLOT_WIDTH[name]) - 1)
    if name == "tcp_flags":
        return _parse_flags(text, TCP_FLAG_BITS, name, 0xFFF)
    if name == "nw_frag":
        if text not in _FRAG:
            raise FlowError(f"{text}: unknown fragment type (valid types are \"no\", "
                            "\"yes\", \"first\", \"later\", \"not_later\"")
        return _FRAG[text]
    v, _, m = text.partition("/")
    try:
        return parse_int(v, f"{name} value"), parse_int(m, f"{name} mask") if m else None
    except FlowError:
        raise FlowError(f"{text}: bad syntax for {name} value") from None


def add_match_text(items: dict[str, tuple[int, int]], key: str, value: str,
                   port_map: PortMap | None = None) -> None:
    """Adds `key=value` (any alias) to canonical match items."""
    if key == "nw_tos":
        tos = parse_int(value, "nw_tos")
        if tos & 3:
            raise FlowError(f"{value}: not a valid value for field nw_tos")
        _merge(items, "nw_tos", tos, 0xFC)
    elif key == "ip_dscp":
        _merge(items, "nw_tos", parse_int(value, key) << 2, 0xFC)
    elif key in ("nw_ecn", "ip_ecn"):
        _merge(items, "nw_tos", parse_int(value, key) & 3, 0x03)
    elif key == "dl_vlan":
        _merge(items, "vlan_tci", 0x1000 | parse_int(value, key), 0x1FFF)
    elif key == "dl_vlan_pcp":
        _merge(items, "vlan_tci", 0x1000 | parse_int(value, key) << 13, 0xF000)
    elif key.startswith(("xreg", "xxreg")) and key in FIELDS:
        v, _, m = value.partition("/")
        add_match_item(items, key, parse_int(v, key), parse_int(m, key) if m else None)
    else:
        name = MATCH_ALIASES.get(key, key)
        if name not in SLOT:
            raise FlowError(f"unknown keyword {key}")
        v2, mask = parse_match_value(name, value, port_map)
        add_match_item(items, name, v2, mask)
