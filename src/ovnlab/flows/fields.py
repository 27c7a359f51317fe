"""OpenFlow fields: names, aliases, widths, NXM names and where each lives in a flow key.

A *slot* is one entry of the datapath's flow key (a list of ints); a *field* is what
flows name. Most fields are exactly one slot; `xregN` and `xxregN` span registers (the
higher-numbered register holds the low bits, as OVS defines them) and `tcp_src`/`udp_src`
share the `tp_src` slot. Match canonical names are slot names, printed as OVS prints them.
"""

from __future__ import annotations

from dataclasses import dataclass

# ----------------------------------------------------------------------------- key slots
N_REGS = 16
N_TUN_METADATA = 8

SLOTS: tuple[str, ...] = (
    "in_port", "metadata",
    *(f"reg{i}" for i in range(N_REGS)),
    "pkt_mark", "conj_id",
    "dl_src", "dl_dst", "dl_type", "vlan_tci",
    "nw_src", "nw_dst", "nw_proto", "nw_ttl", "nw_tos", "nw_frag",
    "tp_src", "tp_dst", "tcp_flags", "icmp_type", "icmp_code",
    "arp_op", "arp_spa", "arp_tpa", "arp_sha", "arp_tha",
    "ct_state", "ct_zone", "ct_mark", "ct_label",
    "tun_id", "tun_src", "tun_dst",
    *(f"tun_metadata{i}" for i in range(N_TUN_METADATA)),
    "ipv6_src", "ipv6_dst", "nd_target", "nd_sll", "nd_tll", "ipv6_label",
)
SLOT: dict[str, int] = {name: i for i, name in enumerate(SLOTS)}
N_SLOTS = len(SLOTS)

SLOT_WIDTH: dict[str, int] = {
    "in_port": 16, "metadata": 64, "pkt_mark": 32, "conj_id": 32,
    "dl_src": 48, "dl_dst": 48, "dl_type": 16, "vlan_tci": 16,
    "nw_src": 32, "nw_dst": 32, "nw_proto": 8, "nw_ttl": 8, "nw_tos": 8, "nw_frag": 2,
    "tp_src": 16, "tp_dst": 16, "tcp_flags": 12, "icmp_type": 8, "icmp_code": 8,
    "arp_op": 16, "arp_spa": 32, "arp_tpa": 32, "arp_sha": 48, "arp_tha": 48,
    "ct_state": 32, "ct_zone": 16, "ct_mark": 32, "ct_label": 128,
    "tun_id": 64, "tun_src": 32, "tun_dst": 32, "ipv6_src": 128, "ipv6_dst": 128,
    "nd_target": 128, "nd_sll": 48, "nd_tll": 48, "ipv6_label": 20,
    **{f"reg{i}": 32 for i in range(N_REGS)},
    **{f"tun_metadata{i}": 32 for i in range(N_TUN_METADATA)},
}

# Fields OVS refuses to match with an arbitrary mask.
UNMASKABLE = frozenset({
    "in_port", "conj_id", "dl_type", "nw_proto", "nw_ttl", "icmp_type", "icmp_code",
    "arp_op", "ct_zone", "ipv6_label",
})

# OVS's printing order of match fields (lib/match.c match_format), by slot.
MATCH_ORDER: tuple[str, ...] = (
    "pkt_mark", "conj_id", "ct_state", "ct_zone", "ct_mark", "ct_label",
    # (the protocol shorthand `ip`, `tcp`, `arp`... prints here)
    *(f"reg{i}" for i in range(N_REGS)),
    "tun_id", "tun_src", "tun_dst",
    *(f"tun_metadata{i}" for i in range(N_TUN_METADATA)),
    "metadata", "in_port", "vlan_tci", "dl_src", "dl_dst", "dl_type",
    "ipv6_src", "ipv6_dst", "ipv6_label", "nw_src", "nw_dst", "arp_spa", "arp_tpa",
    "nw_proto", "arp_op", "arp_sha", "arp_tha", "nw_tos", "nw_ttl", "nw_frag",
    "icmp_type", "icmp_code", "nd_target", "nd_sll", "nd_tll", "tp_src", "tp_dst", "tcp_flags",
)
MATCH_RANK: dict[str, int] = {name: i for i, name in enumerate(MATCH_ORDER)}

# ----------------------------------------------------------------------------- constants
ETH_TYPE_IP = 0x0800
ETH_TYPE_ARP = 0x0806
ETH_TYPE_RARP = 0x8035
ETH_TYPE_IPV6 = 0x86DD
IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP, IPPROTO_SCTP, IPPROTO_ICMPV6 = 1, 6, 17, 132, 58

CS_NEW, CS_ESTABLISHED, CS_RELATED, CS_REPLY_DIR = 0x01, 0x02, 0x04, 0x08
CS_INVALID, CS_TRACKED, CS_SRC_NAT, CS_DST_NAT = 0x10, 0x20, 0x40, 0x80
CT_STATE_BITS: tuple[tuple[int, str], ...] = (
    (CS_NEW, "new"), (CS_ESTABLISHED, "est"), (CS_RELATED, "rel"), (CS_REPLY_DIR, "rpl"),
    (CS_INVALID, "inv"), (CS_TRACKED, "trk"), (CS_SRC_NAT, "snat"), (CS_DST_NAT, "dnat"),
)
TCP_FLAG_BITS: tuple[tuple[int, str], ...] = (
    (0x001, "fin"), (0x002, "syn"), (0x004, "rst"), (0x008, "psh"), (0x010, "ack"),
    (0x020, "urg"), (0x040, "ece"), (0x080, "cwr"), (0x100, "ns"),
)

# Reserved OpenFlow ports (16-bit OpenFlow 1.0 numbering, as OVS prints them).
OFPP_IN_PORT = 0xFFF8
OFPP_TABLE = 0xFFF9
OFPP_NORMAL = 0xFFFA
OFPP_FLOOD = 0xFFFB
OFPP_ALL = 0xFFFC
OFPP_CONTROLLER = 0xFFFD
OFPP_LOCAL = 0xFFFE
OFPP_NONE = 0xFFFF
RESERVED_PORTS: dict[str, int] = {
    "IN_PORT": OFPP_IN_PORT, "TABLE": OFPP_TABLE, "NORMAL": OFPP_NORMAL,
    "FLOOD": OFPP_FLOOD, "ALL": OFPP_ALL, "CONTROLLER": OFPP_CONTROLLER,
    "LOCAL": OFPP_LOCAL, "NONE": OFPP_NONE, "ANY": OFPP_NONE,
}
RESERVED_PORT_NAMES: dict[int, str] = {
    OFPP_IN_PORT: "IN_PORT", OFPP_TABLE: "TABLE", OFPP_NORMAL: "NORMAL",
    OFPP_FLOOD: "FLOOD", OFPP_ALL: "ALL", OFPP_CONTROLLER: "CONTROLLER",
    OFPP_LOCAL: "LOCAL", OFPP_NONE: "ANY",
}


# ----------------------------------------------------------------------------- fields
@dataclass(frozen=True, slots=True)
class Field:
    """An OVS meta-flow field (MFF_*): its width, the NXM/OXM name OVS prints in subfields,
    where its bits live in the flow key, and how a whole-field set_field is printed."""

    name: str
    width: int
    nxm: str  # the name OVS prints in subfields (`NXM_NX_REG13`, `OXM_OF_PKT_REG4`)
    # (slot index, bit offset of this segment inside the field, nbits), low bits first
    segments: tuple[tuple[int, int, int], ...]
    writable: bool = True
    slot_shift: int = 0  # where a one-slot field sits in its slot (ip_dscp: nw_tos >> 2)
    # The OpenFlow 1.0 action a whole-field set_field becomes (set_field_to_legacy_openflow:
    # `mod_dl_src`...): the Mod slot, or "" when OVS prints a `load:` instead.
    mod: str = ""


def _simple(name: str, nxm: str, slot: str | None = None, writable: bool = True,
            width: int | None = None, shift: int = 0, mod: str = "") -> Field:
    s = slot or name
    w = SLOT_WIDTH[s] if width is None else width
    return Field(name, w, nxm, ((SLOT[s], 0, w),), writable, shift, mod)


# The fields held in one slot (OVS meta-flow names; the ones OVN's symbols use included).
_ONE_SLOT: tuple[Field, ...] = (
    _simple("in_port", "NXM_OF_IN_PORT"),
    _simple("metadata", "OXM_OF_METADATA"),
    _simple("pkt_mark", "NXM_NX_PKT_MARK"),
    _simple("eth_src", "NXM_OF_ETH_SRC", "dl_src", mod="dl_src"),
    _simple("eth_dst", "NXM_OF_ETH_DST", "dl_dst", mod="dl_dst"),
    _simple("eth_type", "NXM_OF_ETH_TYPE", "dl_type", writable=False),
    _simple("vlan_tci", "NXM_OF_VLAN_TCI"),
    _simple("ip_src", "NXM_OF_IP_SRC", "nw_src", mod="nw_src"),
    _simple("ip_dst", "NXM_OF_IP_DST", "nw_dst", mod="nw_dst"),
    _simple("nw_proto", "NXM_OF_IP_PROTO", writable=False),
    _simple("nw_ttl", "NXM_NX_IP_TTL"),
    _simple("nw_tos", "NXM_OF_IP_TOS", mod="nw_tos"),
    # MFF_IP_DSCP_SHIFTED and MFF_IP_ECN: the two parts of the TOS byte.
    _simple("ip_dscp", "OXM_OF_IP_DSCP", "nw_tos", width=6, shift=2, mod="nw_tos"),
    _simple("nw_ecn", "NXM_NX_IP_ECN", "nw_tos", width=2),
    _simple("ip_frag", "NXM_NX_IP_FRAG", "nw_frag", writable=False),
    _simple("ipv6_label", "NXM_NX_IPV6_LABEL"),
    _simple("tcp_src", "NXM_OF_TCP_SRC", "tp_src", mod="tp_src"),
    _simple("tcp_dst", "NXM_OF_TCP_DST", "tp_dst", mod="tp_dst"),
    _simple("udp_src", "NXM_OF_UDP_SRC", "tp_src", mod="tp_src"),
    _simple("udp_dst", "NXM_OF_UDP_DST", "tp_dst", mod="tp_dst"),
    _simple("sctp_src", "OXM_OF_SCTP_SRC", "tp_src"),
    _simple("sctp_dst", "OXM_OF_SCTP_DST", "tp_dst"),
    _simple("tcp_flags", "NXM_NX_TCP_FLAGS", writable=False),
    _simple("icmp_type", "NXM_OF_ICMP_TYPE"),
    _simple("icmp_code", "NXM_OF_ICMP_CODE"),
    # ICMPv6 type/code share the ICMP slots (OVS keeps both in tp_src / tp_dst).
    _simple("icmpv6_type", "NXM_NX_ICMPV6_TYPE", "icmp_type"),
    _simple("icmpv6_code", "NXM_NX_ICMPV6_CODE", "icmp_code"),
    _simple("arp_op", "NXM_OF_ARP_OP"),
    _simple("arp_spa", "NXM_OF_ARP_SPA"),
    _simple("arp_tpa", "NXM_OF_ARP_TPA"),
    _simple("arp_sha", "NXM_NX_ARP_SHA"),
    _simple("arp_tha", "NXM_NX_ARP_THA"),
    _simple("ct_state", "NXM_NX_CT_STATE", writable=False),
    _simple("ct_zone", "NXM_NX_CT_ZONE", writable=False),
    _simple("ct_mark", "NXM_NX_CT_MARK"),
    _simple("ct_label", "NXM_NX_CT_LABEL"),
    _simple("tun_id", "NXM_NX_TUN_ID"),
    _simple("tun_src", "NXM_NX_TUN_IPV4_SRC"),
    _simple("tun_dst", "NXM_NX_TUN_IPV4_DST"),
    _simple("ipv6_src", "NXM_NX_IPV6_SRC"),
    _simple("ipv6_dst", "NXM_NX_IPV6_DST"),
    _simple("nd_target", "NXM_NX_ND_TARGET"),
    _simple("nd_sll", "NXM_NX_ND_SLL"),
    _simple("nd_tll", "NXM_NX_ND_TLL"),
)


def _build_fields() -> dict[str, Field]:
    fields: list[Field] = list(_ONE_SLOT)
    fields += [_simple(f"reg{i}", f"NXM_NX_REG{i}") for i in range(N_REGS)]
    fields += [_simple(f"tun_metadata{i}", f"NXM_NX_TUN_METADATA{i}")
               for i in range(N_TUN_METADATA)]
    for i in range(N_REGS // 2):  # xregN = reg(2N) << 32 | reg(2N+1)
        segs: tuple[tuple[int, int, int], ...] = (
            (SLOT[f"reg{2 * i + 1}"], 0, 32), (SLOT[f"reg{2 * i}"], 32, 32))
        fields.append(Field(f"xreg{i}", 64, f"OXM_OF_PKT_REG{i}", segs))
    for i in range(N_REGS // 4):  # xxregN = reg(4N) .. reg(4N+3), reg(4N) most significant
        segs = tuple((SLOT[f"reg{4 * i + 3 - j}"], 32 * j, 32) for j in range(4))
        fields.append(Field(f"xxreg{i}", 128, f"NXM_NX_XXREG{i}", segs))
    return {f.name: f for f in fields}


FIELDS: dict[str, Field] = _build_fields()
FIELD_BY_NXM: dict[str, Field] = {f.nxm: f for f in FIELDS.values()}

# Name → field for actions (set_field, subfields); aliases included.
FIELD_ALIASES: dict[str, str] = {
    "dl_src": "eth_src", "dl_dst": "eth_dst", "dl_type": "eth_type",
    "nw_src": "ip_src", "nw_dst": "ip_dst", "ipv4_src": "ip_src", "ipv4_dst": "ip_dst",
    "ip_proto": "nw_proto", "ip_ttl": "nw_ttl", "ip_tos": "nw_tos", "ip_ecn": "nw_ecn",
    "nw_frag": "ip_frag",
    "tun_ipv4_src": "tun_src", "tun_ipv4_dst": "tun_dst", "tunnel_id": "tun_id",
    "arp_sha": "arp_sha", "icmpv4_type": "icmp_type", "icmpv4_code": "icmp_code",
}
# Field-name aliases of NXM/OXM names OVS accepts on input.
NXM_ALIASES: dict[str, str] = {
    "OXM_OF_ETH_SRC": "NXM_OF_ETH_SRC", "OXM_OF_ETH_DST": "NXM_OF_ETH_DST",
    "OXM_OF_IPV4_SRC": "NXM_OF_IP_SRC", "OXM_OF_IPV4_DST": "NXM_OF_IP_DST",
    "OXM_OF_IN_PORT": "NXM_OF_IN_PORT", "OXM_OF_ARP_SPA": "NXM_OF_ARP_SPA",
    "OXM_OF_ARP_TPA": "NXM_OF_ARP_TPA", "OXM_OF_ARP_OP": "NXM_OF_ARP_OP",
    "OXM_OF_ARP_SHA": "NXM_NX_ARP_SHA", "OXM_OF_ARP_THA": "NXM_NX_ARP_THA",
    "OXM_OF_TCP_SRC": "NXM_OF_TCP_SRC", "OXM_OF_TCP_DST": "NXM_OF_TCP_DST",
    "OXM_OF_UDP_SRC": "NXM_OF_UDP_SRC", "OXM_OF_UDP_DST": "NXM_OF_UDP_DST",
    "NXM_NX_METADATA": "OXM_OF_METADATA",
}


def lookup_field(name: str) -> Field | None:
    """A field by its field name, alias, or NXM/OXM name."""
    f = FIELDS.get(name) or FIELDS.get(FIELD_ALIASES.get(name, ""))
    if f is not None:
        return f
    return FIELD_BY_NXM.get(NXM_ALIASES.get(name, name))


def field(name: str) -> Field:
    """A field by name or alias; ValueError (as OVS's mf_from_name failing) otherwise."""
    f = lookup_field(name)
    if f is None:
        raise ValueError(f"unknown OpenFlow field {name!r}")
    return f


def full_mask(slot: str) -> int:
    return (1 << SLOT_WIDTH[slot]) - 1
