"""OVN's logical-field symbol table (lib/logical-fields.c `ovn_init_symtab`, OVN 22.03).

Each symbol is a field (a bit range of one meta-flow field, with a prerequisite
expression and OVN's `must_crossproduct` flag) or a predicate (an expression that
the name expands to).  Registers are OVN's subfield layout: reg0 = xxreg0[96..127],
reg8 = xreg4[32..63], reg9 = xreg4[0..31]; inport/outport are reg14/reg15, flags reg10.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Symbol:
    name: str
    mf: str = ""  # OpenFlow field (flows.fields.FIELDS key); "" for predicates
    ofs: int = 0
    nbits: int = 0
    prereq: str = ""
    must_crossproduct: bool = False
    string: bool = False  # compared with port names (inport/outport)
    predicate: str = ""  # expansion for predicates
    rw: bool = True

    @property
    def is_predicate(self) -> bool:
        return bool(self.predicate)


# OVS's flow-state bits (CS_*), in the order of ct_state's bits.
CT_BITS = {"new": 0, "est": 1, "rel": 2, "rpl": 3, "inv": 4, "trk": 5, "snat": 6, "dnat": 7}
MLF_ALLOW_LOOPBACK_BIT = 0
MLF_RCV_FROM_RAMP_BIT = 1
MLF_FORCE_SNAT_FOR_DNAT_BIT = 2
MLF_FORCE_SNAT_FOR_LB_BIT = 3
MLF_LOCAL_ONLY_BIT = 4
MLF_NESTED_CONTAINER_BIT = 5
MLF_LOOKUP_MAC_BIT = 6
MLF_LOOKUP_LB_HAIRPIN_BIT = 7
MLF_LOOKUP_FDB_BIT = 8
MLF_SKIP_SNAT_FOR_LB_BIT = 9
MLF_LOCALPORT_BIT = 10
MLF_USE_SNAT_ZONE = 11
MLF_FROM_CTRL_BIT = 12

_WIDTH = {"xxreg": 128, "xreg": 64, "reg": 32}


class _Table:
    """ovn_init_symtab's expr_symtab_add_field / _subfield / _predicate."""

    def __init__(self) -> None:
        self.syms: dict[str, Symbol] = {}

    def fld(self, name: str, mf: str, bits: int, prereq: str = "", cross: bool = False,
            ofs: int = 0, rw: bool = True) -> None:
        self.syms[name] = Symbol(name, mf, ofs, bits, prereq, cross, rw=rw)

    def sub(self, name: str, parent: str, lo: int, hi: int, prereq: str = "") -> None:
        p = self.syms[parent]
        self.syms[name] = Symbol(name, p.mf, p.ofs + lo, hi - lo + 1, prereq or "", False,
                                 rw=p.rw)

    def pred(self, name: str, expansion: str) -> None:
        self.syms[name] = Symbol(name, predicate=expansion)


def _registers(t: _Table) -> None:
    """Logical ports and the registers: xxregN, xregN, regN as subfields."""
    t.syms["inport"] = Symbol("inport", "reg14", 0, 32, string=True)
    t.syms["outport"] = Symbol("outport", "reg15", 0, 32, string=True)
    n_regs = 10
    for xxi in range(n_regs // 4):
        t.fld(f"xxreg{xxi}", f"xxreg{xxi}", 128)
    for xi in range(n_regs // 2):
        xxi = xi // 2
        if xxi < n_regs // 4:
            lo = 64 * (1 - xi % 2)
            t.sub(f"xreg{xi}", f"xxreg{xxi}", lo, lo + 63)
        else:
            t.fld(f"xreg{xi}", f"xreg{xi}", 64)
    for i in range(n_regs):
        xxi, xi = i // 4, i // 2
        if xxi < n_regs // 4:
            lo = 32 * (3 - i % 4)
            t.sub(f"reg{i}", f"xxreg{xxi}", lo, lo + 31)
        else:
            lo = 32 * (1 - i % 2)
            t.sub(f"reg{i}", f"xreg{xi}", lo, lo + 31)
    t.fld("flags", "reg10", 32)
    for name, bit in (("loopback", MLF_ALLOW_LOOPBACK_BIT),
                      ("force_snat_for_dnat", MLF_FORCE_SNAT_FOR_DNAT_BIT),
                      ("force_snat_for_lb", MLF_FORCE_SNAT_FOR_LB_BIT),
                      ("skip_snat_for_lb", MLF_SKIP_SNAT_FOR_LB_BIT),
                      ("use_snat_zone", MLF_USE_SNAT_ZONE),
                      ("from_ctrl", MLF_FROM_CTRL_BIT)):
        t.sub(f"flags.{name}", "flags", bit, bit)


def _conntrack(t: _Table) -> None:
    """ct_mark, ct_label, ct_state and the ct.* bits."""
    t.fld("ct_mark", "ct_mark", 32)
    t.sub("ct_mark.blocked", "ct_mark", 0, 0)
    t.sub("ct_mark.natted", "ct_mark", 1, 1)
    t.sub("ct_mark.ecmp_reply_port", "ct_mark", 16, 31)
    t.sub("ct_mark.skip_snat", "ct_mark", 2, 2)
    t.sub("ct_mark.force_snat", "ct_mark", 3, 3)
    t.fld("ct_label", "ct_label", 128)
    t.sub("ct_label.blocked", "ct_label", 0, 0)
    t.sub("ct_label.natted", "ct_label", 1, 1)
    t.sub("ct_label.ecmp_reply_eth", "ct_label", 32, 79)
    t.sub("ct_label.ecmp_reply_port", "ct_label", 80, 95)
    t.sub("ct_label.label", "ct_label", 96, 127)
    t.sub("ct_label.skip_snat", "ct_label", 2, 2)
    t.sub("ct_label.force_snat", "ct_label", 3, 3)
    t.fld("ct_state", "ct_state", 32, rw=False)
    for name, bit in CT_BITS.items():
        t.syms[f"ct.{name}"] = Symbol(f"ct.{name}", "ct_state", bit, 1,
                                 "" if name == "trk" else "ct.trk", rw=False)


def _ethernet(t: _Table) -> None:
    """Ethernet and VLAN."""
    t.fld("eth.src", "eth_src", 48)
    t.fld("eth.dst", "eth_dst", 48)
    t.fld("eth.type", "eth_type", 16, cross=True, rw=False)
    t.pred("eth.bcast", "eth.dst == ff:ff:ff:ff:ff:ff")
    t.sub("eth.mcast", "eth.dst", 40, 40)
    t.pred("eth.mcastv6", "eth.dst[32..47] == 0x3333")
    t.fld("vlan.tci", "vlan_tci", 16)
    t.pred("vlan.present", "vlan.tci[12]")
    t.sub("vlan.pcp", "vlan.tci", 13, 15, "vlan.present")
    t.sub("vlan.vid", "vlan.tci", 0, 11, "vlan.present")


def _ip(t: _Table) -> None:
    """IPv4, IPv6, ICMP and fragments."""
    t.pred("ip4", "eth.type == 0x800")
    t.pred("ip6", "eth.type == 0x86dd")
    t.pred("ip", "ip4 || ip6")
    t.fld("ip.proto", "nw_proto", 8, "ip", cross=True, rw=False)
    t.fld("ip.dscp", "ip_dscp", 6, "ip")
    t.fld("ip.ecn", "nw_ecn", 2, "ip")
    t.fld("ip.ttl", "nw_ttl", 8, "ip")
    t.fld("ip4.src", "ip_src", 32, "ip4")
    t.fld("ip4.dst", "ip_dst", 32, "ip4")
    t.pred("ip4.src_mcast", "ip4.src[28..31] == 0xe")
    t.pred("ip4.mcast", "eth.mcast && ip4.dst[28..31] == 0xe")
    t.pred("icmp4", "ip4 && ip.proto == 1")
    t.fld("icmp4.type", "icmp_type", 8, "icmp4")
    t.fld("icmp4.code", "icmp_code", 8, "icmp4")
    t.pred("igmp", "ip4 && ip.proto == 2")
    t.fld("ip6.src", "ipv6_src", 128, "ip6")
    t.fld("ip6.dst", "ipv6_dst", 128, "ip6")
    t.fld("ip6.label", "ipv6_label", 20, "ip6")
    t.pred("ip6.mcast_rsvd", "ip6.dst[116..127] == 0xff0 && ip6.dst[0..111] == 0x0")
    t.pred("ip6.mcast_all_nodes", "ip6.dst == ff01::1 || ip6.dst == ff02::1")
    t.pred("ip6.mcast_all_rtrs", "ip6.dst == ff01::2 || ip6.dst == ff02::2 || ip6.dst == ff05::2")
    t.pred("ip6.mcast_sol_node", "ip6.dst == ff02::1:ff00:0000/104")
    t.pred("ip6.mcast_flood", "eth.mcastv6 && (ip6.mcast_rsvd || ip6.mcast_all_nodes || "
                            "ip6.mcast_all_rtrs || ip6.mcast_sol_node)")
    t.pred("ip6.mcast", "eth.mcastv6 && ip6.dst[120..127] == 0xff")
    t.pred("icmp6", "ip6 && ip.proto == 58")
    t.fld("icmp6.type", "icmpv6_type", 8, "icmp6", cross=True)
    t.fld("icmp6.code", "icmpv6_code", 8, "icmp6", cross=True)
    t.pred("icmp", "icmp4 || icmp6")
    t.fld("ip.frag", "ip_frag", 2, "ip", rw=False)
    t.pred("ip.is_frag", "ip.frag[0]")
    t.pred("ip.later_frag", "ip.frag[1]")
    t.pred("ip.first_frag", "ip.is_frag && !ip.later_frag")


def _l4(t: _Table) -> None:
    """ARP, neighbour discovery, MLD, TCP, UDP, SCTP and the packet mark."""
    t.pred("arp", "eth.type == 0x806")
    t.fld("arp.op", "arp_op", 16, "arp")
    t.fld("arp.spa", "arp_spa", 32, "arp")
    t.fld("arp.sha", "arp_sha", 48, "arp")
    t.fld("arp.tpa", "arp_tpa", 32, "arp")
    t.fld("arp.tha", "arp_tha", 48, "arp")
    t.pred("nd", "icmp6.type == {135, 136} && icmp6.code == 0 && ip.ttl == 255")
    t.pred("nd_ns", "icmp6.type == 135 && icmp6.code == 0 && ip.ttl == 255")
    t.pred("nd_na", "icmp6.type == 136 && icmp6.code == 0 && ip.ttl == 255")
    t.pred("nd_rs", "icmp6.type == 133 && icmp6.code == 0 && ip.ttl == 255")
    t.pred("nd_ra", "icmp6.type == 134 && icmp6.code == 0 && ip.ttl == 255")
    t.fld("nd.target", "nd_target", 128, "nd")
    t.fld("nd.sll", "nd_sll", 48, "nd_ns")
    t.fld("nd.tll", "nd_tll", 48, "nd_na")
    t.pred("mldv1", "ip6.src == fe80::/10 && icmp6.type == {130, 131, 132}")
    t.pred("mldv2", "ip6.dst == ff02::16 && icmp6.type == 143")
    t.pred("tcp", "ip.proto == 6")
    t.fld("tcp.src", "tcp_src", 16, "tcp")
    t.fld("tcp.dst", "tcp_dst", 16, "tcp")
    t.fld("tcp.flags", "tcp_flags", 12, "tcp")
    t.pred("udp", "ip.proto == 17")
    t.fld("udp.src", "udp_src", 16, "udp")
    t.fld("udp.dst", "udp_dst", 16, "udp")
    t.pred("sctp", "ip.proto == 132")
    t.fld("sctp.src", "sctp_src", 16, "sctp")
    t.fld("sctp.dst", "sctp_dst", 16, "sctp")
    t.fld("pkt.mark", "pkt_mark", 32)


def _build() -> dict[str, Symbol]:
    t = _Table()
    for section in (_registers, _conntrack, _ethernet, _ip, _l4):
        section(t)
    return t.syms


SYMTAB: Mapping[str, Symbol] = _build()


def lookup(name: str) -> Symbol | None:
    return SYMTAB.get(name)
