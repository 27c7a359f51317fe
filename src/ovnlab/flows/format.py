"""Printing flows exactly as `ovs-ofctl dump-flows` does (lib/match.c match_format and
ofputil_flow_stats_format, OpenFlow 1.0 + NXM output)."""

from __future__ import annotations

import ipaddress

from ovnlab.flows.actions import PortNamer, format_actions, format_port
from ovnlab.flows.fields import (
    CT_STATE_BITS,
    ETH_TYPE_ARP,
    ETH_TYPE_IP,
    ETH_TYPE_IPV6,
    ETH_TYPE_RARP,
    IPPROTO_ICMPV6,
    SLOT_WIDTH,
    TCP_FLAG_BITS,
)
from ovnlab.flows.model import OFP_DEFAULT_PRIORITY, Flow, FlowStats, Match

_SHORT_IP = {1: "icmp", 2: "igmp", 6: "tcp", 17: "udp", 132: "sctp"}
_SHORT_IPV6 = {IPPROTO_ICMPV6: "icmp6", 6: "tcp6", 17: "udp6", 132: "sctp6"}
_HEX = frozenset({"pkt_mark", "ct_mark", "metadata", "tun_id", "ct_label",
                  *(f"reg{i}" for i in range(16)), *(f"tun_metadata{i}" for i in range(8))})
_ETH = frozenset({"dl_src", "dl_dst", "arp_sha", "arp_tha", "nd_sll", "nd_tll"})
_IP4 = frozenset({"nw_src", "nw_dst", "arp_spa", "arp_tpa", "tun_src", "tun_dst"})
_BE16 = frozenset({"tp_src", "tp_dst", "icmp_type", "icmp_code", "ct_zone"})
_DEC = frozenset({"conj_id", "nw_proto", "arp_op", "nw_ttl"})


def _hex(v: int) -> str:
    return "0" if v == 0 else f"{v:#x}"


def mac_text(v: int) -> str:
    raw = f"{v:012x}"
    return ":".join(raw[i:i + 2] for i in range(0, 12, 2))


def ip_text(v: int) -> str:
    return f"{v >> 24 & 255}.{v >> 16 & 255}.{v >> 8 & 255}.{v & 255}"


def _prefix_len(mask: int, width: int) -> int | None:
    inv = ~mask & ((1 << width) - 1)
    if inv & (inv + 1):
        return None
    return width - inv.bit_length()


def _flags(value: int, mask: int, bits: tuple[tuple[int, str], ...], full: int) -> str:
    if mask == full:
        names = [name for bit, name in bits if value & bit]
        extra = value & ~sum(b for b, _ in bits)
        if extra:
            names.append(f"{extra:#x}")
        return "|".join(names) if names else "0"
    out = ""
    for bit, name in bits:
        if mask & bit:
            out += ("+" if value & bit else "-") + name
    return out


def format_value(name: str, value: int, mask: int) -> str:
    """One match item's value text (after `name=`)."""
    full = (1 << SLOT_WIDTH[name]) - 1
    if name in _HEX:
        return _hex(value) if mask == full else f"{_hex(value)}/{_hex(mask)}"
    if name in _ETH:
        return mac_text(value) if mask == full else f"{mac_text(value)}/{mac_text(mask)}"
    if name in _IP4:
        plen = _prefix_len(mask, 32)
        if plen == 32:
            return ip_text(value)
        if plen is not None:
            return f"{ip_text(value)}/{plen}"
        return f"{ip_text(value)}/{ip_text(mask)}"
    if name in ("ipv6_src", "ipv6_dst", "nd_target"):
        addr = str(ipaddress.IPv6Address(value))
        plen = _prefix_len(mask, 128)
        if plen == 128:
            return addr
        if plen is not None:
            return f"{addr}/{plen}"
        return f"{addr}/{ipaddress.IPv6Address(mask)}"
    if name == "ipv6_label":
        return f"{value:#07x}" if mask == full else f"{value:#07x}/{mask:#07x}"
    if name in _BE16:
        return str(value) if mask == full else f"{value:#x}/{mask:#x}"
    if name in _DEC:
        return str(value)
    if name == "ct_state":
        return _flags(value, mask, CT_STATE_BITS, full)
    if name == "tcp_flags":
        return _flags(value, mask, TCP_FLAG_BITS, full)
    return _hex(value) if mask == full else f"{_hex(value)}/{_hex(mask)}"


def _frag(value: int, mask: int) -> str:
    if mask == 3:
        if value & 1:
            return "later" if value & 2 else "first"
        return "<error>" if value & 2 else "no"
    if mask == 1:
        return "yes" if value & 1 else "no"
    return "later" if value & 2 else "not_later"


def _vlan(value: int, mask: int) -> list[str]:
    vid_mask, pcp_mask, cfi = mask & 0x0FFF, mask & 0xE000, mask & 0x1000
    if (cfi and value & 0x1000 and vid_mask in (0, 0x0FFF) and pcp_mask in (0, 0xE000)
            and (vid_mask or pcp_mask)):
        out = []
        if vid_mask:
            out.append(f"dl_vlan={value & 0x0FFF}")
        if pcp_mask:
            out.append(f"dl_vlan_pcp={value >> 13}")
        return out
    if mask == 0xFFFF:
        return [f"vlan_tci=0x{value:04x}"]
    return [f"vlan_tci=0x{value:04x}/0x{mask:04x}"]


def format_match(match: Match, priority: int = OFP_DEFAULT_PRIORITY,
                 namer: PortNamer | None = None) -> str:
    """`priority=100,ip,reg14=0x1,metadata=0x3,nw_dst=10.0.2.216` (match_format).

    `match` is in canonical order (MATCH_ORDER), which is OVS's printing order except for
    the protocol shorthand, printed right after the conntrack fields."""
    out: list[str] = []
    if priority != OFP_DEFAULT_PRIORITY:
        out.append(f"priority={priority}")
    dl_type = proto = None
    for name, value, _mask in match:
        if name == "dl_type":
            dl_type = value
        elif name == "nw_proto":
            proto = value
    shorthand = ""
    if dl_type == ETH_TYPE_IP:
        shorthand = _SHORT_IP.get(proto, "ip") if proto is not None else "ip"
    elif dl_type == ETH_TYPE_IPV6:
        shorthand = _SHORT_IPV6.get(proto, "ipv6") if proto is not None else "ipv6"
    elif dl_type == ETH_TYPE_ARP:
        shorthand = "arp"
    elif dl_type == ETH_TYPE_RARP:
        shorthand = "rarp"
    skip_proto = shorthand not in ("", "ip", "ipv6", "arp", "rarp")
    pending = shorthand
    for name, value, mask in match:
        if pending and name not in _CT_HEAD:
            out.append(pending)
            pending = ""
        if name == "dl_type":
            if not shorthand:
                out.append(f"dl_type=0x{value:04x}")
        elif name == "nw_proto":
            if not skip_proto:
                out.append(f"nw_proto={value}")
        elif name == "vlan_tci":
            out.extend(_vlan(value, mask))
        elif name == "in_port":
            out.append("in_port=" + format_port(value, namer))
        elif name == "nw_tos":
            if mask & 0xFC:
                out.append(f"nw_tos={value & 0xFC}")
            if mask & 0x03:
                out.append(f"nw_ecn={value & 0x03}")
        elif name == "nw_frag":
            out.append("nw_frag=" + _frag(value, mask))
        else:
            out.append(f"{name}={format_value(name, value, mask)}")
    if pending:
        out.append(pending)
    return ",".join(out)


_CT_HEAD = frozenset({"pkt_mark", "conj_id", "ct_state", "ct_zone", "ct_mark", "ct_label"})


def format_duration(seconds: float) -> str:
    ms = int(round(seconds * 1000))
    sec, frac = divmod(ms, 1000)
    return f"{sec}.{frac:03d}s" if frac else f"{sec}s"


def format_flow(flow: Flow, stats: FlowStats | None = None, *,
                namer: PortNamer | None = None) -> str:
    """A dump-flows line without its leading space; without `stats`, the `--no-stats` form."""
    parts: list[str] = []
    if stats is not None or flow.cookie:
        parts.append(f"cookie={flow.cookie:#x}")
    if stats is not None:
        parts.append(f"duration={format_duration(stats.duration)}")
    if stats is not None or flow.table:
        parts.append(f"table={flow.table}")
    if stats is not None:
        parts.append(f"n_packets={stats.n_packets}")
        parts.append(f"n_bytes={stats.n_bytes}")
    if flow.idle_timeout:
        parts.append(f"idle_timeout={flow.idle_timeout}")
    if flow.hard_timeout:
        parts.append(f"hard_timeout={flow.hard_timeout}")
    if flow.importance:
        parts.append(f"importance={flow.importance}")
    if stats is not None:
        parts.append(f"idle_age={stats.idle_age}")
        if stats.hard_age is not None and stats.hard_age != int(stats.duration):
            parts.append(f"hard_age={stats.hard_age}")
    head = "".join(p + ", " for p in parts)
    match = format_match(flow.match, flow.priority, namer)
    if match:
        head += match + " "
    return head + "actions=" + format_actions(flow.actions, namer)


def format_flow_mod(flow: Flow) -> str:
    """The flow in `ovs-ofctl add-flow` syntax, cookie and table included (what
    `ovs-ofctl parse-flow` accepts and `parse_flow` reads back)."""
    match = format_match(flow.match, flow.priority)
    return (f"cookie={flow.cookie:#x},table={flow.table},{match + ',' if match else ''}"
            f"actions={format_actions(flow.actions)}")
