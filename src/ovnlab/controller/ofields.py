"""OpenFlow (meta-flow) fields as ovn-controller uses them, and ovs-ofctl's text for them.

A *field* here is an OVS meta-flow field (MFF_*): its width, the NXM/OXM name that
`ovs-ofctl dump-flows` prints inside actions (`load:0x1->NXM_NX_REG14[]`), and the match
*slots* it occupies in `struct flow` (OVS prints matches per slot: xxreg0[96..127] is
printed as `reg0=`).  `Match` keeps slot → (value, mask) and prints in the exact order of
OVS's `match_format()` (lib/match.c), so our text equals what a real switch dumps.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass

ETH_TYPE_IP = 0x0800
ETH_TYPE_ARP = 0x0806
ETH_TYPE_IPV6 = 0x86DD
IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP, IPPROTO_SCTP, IPPROTO_ICMPV6 = 1, 6, 17, 132, 58


@dataclass(frozen=True, slots=True)
class MF:
    """One meta-flow field: `name` is our key (and ovs-ofctl's set_field name)."""

    name: str
    bits: int
    nxm: str  # name printed in load/move/push/pop
    slot: str  # match slot ("" for register families, handled by `slots_for`)
    legacy_set: str = ""  # OpenFlow 1.0 action used for a whole-field set (mod_dl_src...)
    variable_len: bool = False  # printed as set_field (NXAST_REG_LOAD2), e.g. tun_metadata0


_FIELDS: tuple[MF, ...] = (
    MF("metadata", 64, "OXM_OF_METADATA", "metadata"),
    MF("in_port", 16, "NXM_OF_IN_PORT", "in_port"),
    MF("tun_id", 64, "NXM_NX_TUN_ID", "tun_id"),
    MF("tun_metadata0", 32, "NXM_NX_TUN_METADATA0", "tun_metadata0", variable_len=True),
    MF("pkt_mark", 32, "NXM_NX_PKT_MARK", "pkt_mark"),
    MF("ct_state", 32, "NXM_NX_CT_STATE", "ct_state"),
    MF("ct_zone", 16, "NXM_NX_CT_ZONE", "ct_zone"),
    MF("ct_mark", 32, "NXM_NX_CT_MARK", "ct_mark"),
    MF("ct_label", 128, "NXM_NX_CT_LABEL", "ct_label"),
    MF("eth_src", 48, "NXM_OF_ETH_SRC", "dl_src", "mod_dl_src"),
    MF("eth_dst", 48, "NXM_OF_ETH_DST", "dl_dst", "mod_dl_dst"),
    MF("eth_type", 16, "NXM_OF_ETH_TYPE", "dl_type"),
    MF("vlan_tci", 16, "NXM_OF_VLAN_TCI", "vlan_tci"),
    MF("ip_proto", 8, "NXM_OF_IP_PROTO", "nw_proto"),
    MF("ip_dscp", 6, "NXM_OF_IP_TOS", "nw_tos"),
    MF("ip_ecn", 2, "NXM_NX_IP_ECN", "nw_ecn"),
    MF("ip_ttl", 8, "NXM_NX_IP_TTL", "nw_ttl"),
    MF("ip_frag", 2, "NXM_NX_IP_FRAG", "nw_frag"),
    MF("ip_src", 32, "NXM_OF_IP_SRC", "nw_src", "mod_nw_src"),
    MF("ip_dst", 32, "NXM_OF_IP_DST", "nw_dst", "mod_nw_dst"),
    MF("ipv6_src", 128, "NXM_NX_IPV6_SRC", "ipv6_src"),
    MF("ipv6_dst", 128, "NXM_NX_IPV6_DST", "ipv6_dst"),
    MF("icmp_type", 8, "NXM_OF_ICMP_TYPE", "tp_src"),
    MF("icmp_code", 8, "NXM_OF_ICMP_CODE", "tp_dst"),
    MF("icmpv6_type", 8, "NXM_NX_ICMPV6_TYPE", "tp_src"),
    MF("icmpv6_code", 8, "NXM_NX_ICMPV6_CODE", "tp_dst"),
    MF("nd_target", 128, "NXM_NX_ND_TARGET", "nd_target"),
    MF("nd_sll", 48, "NXM_NX_ND_SLL", "arp_sha"),
    MF("nd_tll", 48, "NXM_NX_ND_TLL", "arp_tha"),
    MF("ipv6_label", 20, "NXM_NX_IPV6_LABEL", "ipv6_label"),
    MF("arp_op", 16, "NXM_OF_ARP_OP", "nw_proto"),
    MF("arp_spa", 32, "NXM_OF_ARP_SPA", "nw_src"),
    MF("arp_tpa", 32, "NXM_OF_ARP_TPA", "nw_dst"),
    MF("arp_sha", 48, "NXM_NX_ARP_SHA", "arp_sha"),
    MF("arp_tha", 48, "NXM_NX_ARP_THA", "arp_tha"),
    MF("tcp_src", 16, "NXM_OF_TCP_SRC", "tp_src", "mod_tp_src"),
    MF("tcp_dst", 16, "NXM_OF_TCP_DST", "tp_dst", "mod_tp_dst"),
    MF("tcp_flags", 12, "NXM_NX_TCP_FLAGS", "tcp_flags"),
    MF("udp_src", 16, "NXM_OF_UDP_SRC", "tp_src", "mod_tp_src"),
    MF("udp_dst", 16, "NXM_OF_UDP_DST", "tp_dst", "mod_tp_dst"),
    MF("sctp_src", 16, "OXM_OF_SCTP_SRC", "tp_src"),
    MF("sctp_dst", 16, "OXM_OF_SCTP_DST", "tp_dst"),
    *(MF(f"reg{i}", 32, f"NXM_NX_REG{i}", "") for i in range(16)),
    *(MF(f"xreg{i}", 64, f"OXM_OF_PKT_REG{i}", "") for i in range(8)),
    *(MF(f"xxreg{i}", 128, f"NXM_NX_XXREG{i}", "") for i in range(4)),
)
FIELDS: Mapping[str, MF] = {f.name: f for f in _FIELDS}


def field(name: str) -> MF:
    try:
        return FIELDS[name]
    except KeyError:
        raise ValueError(f"unknown OpenFlow field {name!r}") from None


def slots_for(mf: MF, value: int, mask: int) -> list[tuple[str, int, int]]:
    """The (slot, value, mask) triples a masked match on `mf` sets (registers split per
    32-bit `regN`, as OVS stores them; xxreg0's most significant word is reg0)."""
    name = mf.name
    if name.startswith("xxreg"):
        k = int(name[5:])
        return _split_regs(4 * k, 4, value, mask)
    if name.startswith("xreg"):
        k = int(name[4:])
        return _split_regs(2 * k, 2, value, mask)
    if name.startswith("reg"):
        return [(name, value, mask)] if mask else []
    return [(mf.slot, value, mask)] if mask else []


def _split_regs(first: int, n: int, value: int, mask: int) -> list[tuple[str, int, int]]:
    out = []
    for j in range(n):
        shift = 32 * (n - 1 - j)
        m = (mask >> shift) & 0xFFFFFFFF
        if m:
            out.append((f"reg{first + j}", (value >> shift) & 0xFFFFFFFF, m))
    return out


# ------------------------------------------------------------------ match


_SLOT_FULL = {"tp_src": 0xFFFF, "tp_dst": 0xFFFF}


class Conflict(Exception):
    """Two constraints on the same bits disagree: the conjunction matches nothing."""


class Match:
    """A flow match as OVS stores it: slot → (value, mask)."""

    __slots__ = ("slots", "_hash")

    def __init__(self, slots: Mapping[str, tuple[int, int]] | None = None) -> None:
        self.slots: dict[str, tuple[int, int]] = dict(slots or {})
        self._hash: int | None = None

    def copy(self) -> Match:
        return Match(self.slots)

    def set(self, slot: str, value: int, mask: int) -> None:
        """Intersect with `slot & mask == value`; raises Conflict if impossible."""
        value &= mask
        self._hash = None
        old = self.slots.get(slot)
        if old is not None:
            ov, om = old
            common = om & mask
            if (ov ^ value) & common:
                raise Conflict(slot)
            value, mask = ov | value, om | mask
        self.slots[slot] = (value, mask)

    def set_field(self, mf: MF, value: int, mask: int | None = None) -> None:
        full = (1 << mf.bits) - 1
        if mask is None:
            mask = full
        for slot, v, m in slots_for(mf, value, mask):
            if m == full and slot in _SLOT_FULL:
                m = _SLOT_FULL[slot]  # e.g. icmp_type=8 is stored as tp_src=8/0xffff
            self.set(slot, v, m)

    def key(self) -> tuple[tuple[str, int, int], ...]:
        return tuple(sorted((s, v, m) for s, (v, m) in self.slots.items()))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Match) and self.slots == other.slots

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = hash(self.key())
        return self._hash

    def format(self) -> str:
        return format_match(self.slots)


_CT_FLAGS = ("new", "est", "rel", "rpl", "inv", "trk", "snat", "dnat")


def _hex(v: int) -> str:
    return "0" if v == 0 else f"{v:#x}"


def _u(name: str, v: int, m: int, full: int) -> str:
    return f"{name}={_hex(v)}" if m == full else f"{name}={_hex(v)}/{_hex(m)}"


def _be16(name: str, v: int, m: int) -> str:
    return f"{name}={v}" if m == 0xFFFF else f"{name}={v:#x}/{m:#x}"


def _mac(v: int) -> str:
    raw = f"{v:012x}"
    return ":".join(raw[i:i + 2] for i in range(0, 12, 2))


def _eth(name: str, v: int, m: int) -> str:
    full = (1 << 48) - 1
    return f"{name}={_mac(v)}" if m == full else f"{name}={_mac(v)}/{_mac(m)}"


def _ip(name: str, v: int, m: int) -> str:
    addr = str(ipaddress.IPv4Address(v))
    if m == 0xFFFFFFFF:
        return f"{name}={addr}"
    inv = (~m) & 0xFFFFFFFF
    if inv & (inv + 1) == 0:  # CIDR mask
        return f"{name}={addr}/{32 - inv.bit_length()}"
    return f"{name}={addr}/{ipaddress.IPv4Address(m)}"


def _ip6(name: str, v: int, m: int) -> str:
    addr = str(ipaddress.IPv6Address(v))
    full = (1 << 128) - 1
    if m == full:
        return f"{name}={addr}"
    inv = (~m) & full
    if inv & (inv + 1) == 0:
        return f"{name}={addr}/{128 - inv.bit_length()}"
    return f"{name}={addr}/{ipaddress.IPv6Address(m)}"


def _ct_state(v: int, m: int) -> str:
    if m == 0xFF:
        names = [n for i, n in enumerate(_CT_FLAGS) if v & (1 << i)]
        return "ct_state=" + ("|".join(names) if names else "0")
    parts = [("+" if v & (1 << i) else "-") + n for i, n in enumerate(_CT_FLAGS) if m & (1 << i)]
    return "ct_state=" + "".join(parts)


def _ct_label(v: int, m: int) -> str:
    text = f"ct_label={_hex(v)}"
    if m != (1 << 128) - 1:
        text += f"/{_hex(m)}"
    return text


def format_match(slots: Mapping[str, tuple[int, int]], priority: int | None = None) -> str:
    """ovs-ofctl's text of a match (lib/match.c `match_format`), without `priority=`."""
    out: list[str] = []
    _format_ct(slots, out)
    dl = slots.get("dl_type")
    proto = slots.get("nw_proto")
    dl_type = dl[0] if dl and dl[1] == 0xFFFF else None
    skip_type, skip_proto = _format_protocol(dl, dl_type, proto, out)
    _format_l2(slots, out)
    if dl is not None and not skip_type:
        out.append(f"dl_type=0x{dl[0]:04x}")
    _format_l3(slots, dl_type, out)
    if proto is not None and not skip_proto:
        out.append(f"{'arp_op' if dl_type == ETH_TYPE_ARP else 'nw_proto'}={proto[0]}")
    _format_ip_any(slots, dl_type, out)
    _format_l4(slots, dl_type, proto, out)
    text = ",".join(out)
    if priority is not None:
        return f"priority={priority}" + ("," + text if text else "")
    return text


def _format_ct(slots: Mapping[str, tuple[int, int]], out: list[str]) -> None:
    """pkt_mark, conj_id and the conntrack fields, which match_format prints first."""
    if (x := slots.get("pkt_mark")):
        out.append(_u("pkt_mark", *x, 0xFFFFFFFF))
    if (x := slots.get("conj_id")):
        out.append(f"conj_id={x[0]}")
    if (x := slots.get("ct_state")):
        out.append(_ct_state(*x))
    if (x := slots.get("ct_zone")):
        out.append(f"ct_zone={x[0]}" if x[1] == 0xFFFF else f"ct_zone={x[0]:#x}/{x[1]:#x}")
    if (x := slots.get("ct_mark")):
        out.append(_u("ct_mark", *x, 0xFFFFFFFF))
    if (x := slots.get("ct_label")):
        out.append(_ct_label(*x))


_IP_PROTOS = {IPPROTO_ICMP: "icmp", IPPROTO_TCP: "tcp", IPPROTO_UDP: "udp",
              IPPROTO_SCTP: "sctp"}
_IP6_PROTOS = {IPPROTO_ICMPV6: "icmp6", IPPROTO_TCP: "tcp6", IPPROTO_UDP: "udp6",
               IPPROTO_SCTP: "sctp6"}


def _format_protocol(dl: tuple[int, int] | None, dl_type: int | None,
                     proto: tuple[int, int] | None, out: list[str]) -> tuple[bool, bool]:
    """The protocol shorthand (`ip`, `tcp6`, `arp`...); whether it stood for dl_type and
    for nw_proto."""
    if dl is None:
        return False, False
    names = {ETH_TYPE_IP: _IP_PROTOS, ETH_TYPE_IPV6: _IP6_PROTOS}.get(dl_type or -1)
    if names is not None:
        if proto and proto[0] in names:
            out.append(names[proto[0]])
            return True, True
        out.append("ip" if dl_type == ETH_TYPE_IP else "ipv6")
        return True, False
    if dl_type == ETH_TYPE_ARP:
        out.append("arp")
        return True, False
    return False, False


def _format_l2(slots: Mapping[str, tuple[int, int]], out: list[str]) -> None:
    """Registers, tunnel and metadata, in_port, VLAN and the Ethernet addresses."""
    for i in range(16):
        if (x := slots.get(f"reg{i}")):
            out.append(_u(f"reg{i}", *x, 0xFFFFFFFF))
    if (x := slots.get("tun_id")):
        out.append(_u("tun_id", *x, (1 << 64) - 1))
    if (x := slots.get("tun_metadata0")):
        out.append(_u("tun_metadata0", *x, 0xFFFFFFFF))
    if (x := slots.get("metadata")):
        out.append(_u("metadata", *x, (1 << 64) - 1))
    if (x := slots.get("in_port")):
        out.append(f"in_port={x[0]}")
    if (x := slots.get("vlan_tci")):
        v, m = x
        if m == 0x1FFF and v & 0x1000:
            out.append(f"dl_vlan={v & 0xFFF}")
        elif m == 0xFFFF:
            out.append(f"vlan_tci=0x{v:04x}")
        else:
            out.append(f"vlan_tci=0x{v:04x}/0x{m:04x}")
    if (x := slots.get("dl_src")):
        out.append(_eth("dl_src", *x))
    if (x := slots.get("dl_dst")):
        out.append(_eth("dl_dst", *x))


def _format_l3(slots: Mapping[str, tuple[int, int]], dl_type: int | None,
               out: list[str]) -> None:
    """The network addresses: IPv6's, ARP's (arp_spa/arp_tpa) or IPv4's."""
    if dl_type == ETH_TYPE_IPV6:
        if (x := slots.get("ipv6_src")):
            out.append(_ip6("ipv6_src", *x))
        if (x := slots.get("ipv6_dst")):
            out.append(_ip6("ipv6_dst", *x))
        if (x := slots.get("ipv6_label")):
            v, m = x
            out.append(f"ipv6_label=0x{v:05x}" + ("" if m == 0xFFFFF else f"/0x{m:05x}"))
        return
    src, dst = ("arp_spa", "arp_tpa") if dl_type == ETH_TYPE_ARP else ("nw_src", "nw_dst")
    if (x := slots.get("nw_src")):
        out.append(_ip(src, *x))
    if (x := slots.get("nw_dst")):
        out.append(_ip(dst, *x))


def _format_ip_any(slots: Mapping[str, tuple[int, int]], dl_type: int | None,
                   out: list[str]) -> None:
    """ARP hardware addresses, then TOS, ECN, TTL and fragments."""
    if dl_type == ETH_TYPE_ARP:
        if (x := slots.get("arp_sha")):
            out.append(_eth("arp_sha", *x))
        if (x := slots.get("arp_tha")):
            out.append(_eth("arp_tha", *x))
    if (x := slots.get("nw_tos")):
        out.append(f"nw_tos={x[0] << 2}")
    if (x := slots.get("nw_ecn")):
        out.append(f"nw_ecn={x[0]}")
    if (x := slots.get("nw_ttl")):
        out.append(f"nw_ttl={x[0]}")
    if (x := slots.get("nw_frag")):
        out.append(_nw_frag(*x))


def _nw_frag(v: int, m: int) -> str:
    if m == 3:
        return "nw_frag=" + ("later" if v & 2 else "first") if v & 1 else "nw_frag=no"
    if m == 1:
        return "nw_frag=" + ("yes" if v & 1 else "no")
    return "nw_frag=" + ("later" if v & 2 else "not_later")


def _format_l4(slots: Mapping[str, tuple[int, int]], dl_type: int | None,
               proto: tuple[int, int] | None, out: list[str]) -> None:
    """Ports (or ICMP type and code), neighbour discovery, TCP flags."""
    icmp = (dl_type == ETH_TYPE_IP and proto is not None and proto[0] == IPPROTO_ICMP) or (
        dl_type == ETH_TYPE_IPV6 and proto is not None and proto[0] == IPPROTO_ICMPV6)
    src, dst = ("icmp_type", "icmp_code") if icmp else ("tp_src", "tp_dst")
    if (x := slots.get("tp_src")):
        out.append(_be16(src, *x))
    if (x := slots.get("tp_dst")):
        out.append(_be16(dst, *x))
    if icmp and dl_type == ETH_TYPE_IPV6:
        if (x := slots.get("nd_target")):
            out.append(_ip6("nd_target", *x))
        if (x := slots.get("arp_sha")):
            out.append(_eth("nd_sll", *x))
        if (x := slots.get("arp_tha")):
            out.append(_eth("nd_tll", *x))
    if (x := slots.get("tcp_flags")):
        out.append(_tcp_flags(*x))


_TCP_FLAGS = ("fin", "syn", "rst", "psh", "ack", "urg", "ece", "cwr", "ns")


def _tcp_flags(v: int, m: int) -> str:
    if m == 0xFFF:
        names = [n for i, n in enumerate(_TCP_FLAGS) if v & (1 << i)]
        return "tcp_flags=" + ("|".join(names) if names else "0")
    parts = [("+" if v & (1 << i) else "-") + n for i, n in enumerate(_TCP_FLAGS) if m & (1 << i)]
    return "tcp_flags=" + "".join(parts)


# ------------------------------------------------------------------ action text


def subfield(mf: MF, ofs: int, nbits: int) -> str:
    """`NXM_NX_REG14[]`, `NXM_NX_XXREG0[96..127]`, `OXM_OF_PKT_REG4[4]`."""
    if ofs == 0 and nbits == mf.bits:
        return f"{mf.nxm}[]"
    if nbits == 1:
        return f"{mf.nxm}[{ofs}]"
    return f"{mf.nxm}[{ofs}..{ofs + nbits - 1}]"


def format_set(mf: MF, ofs: int, nbits: int, value: int) -> str:
    """How `ovs-ofctl dump-flows` prints an OVN set-field of `value` into mf[ofs..]."""
    full = ofs == 0 and nbits == mf.bits
    if full and mf.legacy_set:
        if mf.bits == 48:
            return f"{mf.legacy_set}:{_mac(value)}"
        if mf.bits == 32:
            return f"{mf.legacy_set}:{ipaddress.IPv4Address(value)}"
        return f"{mf.legacy_set}:{value}"
    if mf.variable_len:
        mask = ((1 << nbits) - 1) << ofs
        text = f"set_field:{_hex(value << ofs)}"
        if mask != (1 << mf.bits) - 1:
            text += f"/{_hex(mask)}"
        return f"{text}->{mf.name}"
    # NXAST_REG_LOAD carries at most 64 bits: OVS splits wider loads.
    parts = []
    pos = 0
    while pos < nbits:
        n = min(64, nbits - pos)
        seg = (value >> pos) & ((1 << n) - 1)
        parts.append(f"load:{_hex(seg)}->{subfield(mf, ofs + pos, n)}")
        pos += n
    return ",".join(parts)
