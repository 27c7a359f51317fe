"""OVN logical-flow actions → OpenFlow actions (ovn/lib/actions.c `parse_*`/`encode_*`).

`compile_actions(text, params)` returns the OpenFlow actions and the prerequisites the
actions add to the match (e.g. `ct_next` needs `ip`, `arp.op = 2` needs `arp`).
"""

from __future__ import annotations

import ipaddress
import struct
from collections.abc import Callable
from dataclasses import dataclass, field

from ovnlab.controller import dhcp
from ovnlab.controller import expr as ex
from ovnlab.controller.lexer import Const, Cursor, SyntaxError_
from ovnlab.controller.ofields import FIELDS
from ovnlab.controller.ofpacts import (
    OPCODE,
    CheckPktLarger,
    Clone,
    Controller,
    Ct,
    DecTtl,
    Move,
    Nat,
    Ofpact,
    Pop,
    Push,
    Resubmit,
    SetField,
    Simple,
    Sub,
    controller_userdata,
    load,
)
from ovnlab.controller.symtab import MLF_LOOKUP_FDB_BIT, MLF_LOOKUP_MAC_BIT

OFTABLE_LOG_INGRESS_PIPELINE = 8
OFTABLE_REMOTE_OUTPUT = 37
OFTABLE_LOCAL_OUTPUT = 38
OFTABLE_CHECK_LOOPBACK = 39
OFTABLE_LOG_EGRESS_PIPELINE = 40
OFTABLE_SAVE_INPORT = 64
OFTABLE_LOG_TO_PHY = 65
OFTABLE_MAC_BINDING = 66
OFTABLE_MAC_LOOKUP = 67
OFTABLE_GET_FDB = 71
OFTABLE_LOOKUP_FDB = 72
LOG_PIPELINE_LEN = 29  # lib/ovn-util.h: logical tables per pipeline


@dataclass
class EncodeParams:
    """ovnact_encode_params: where the flow sits and how ports resolve."""

    ingress: bool = True
    cur_table: int = 0  # logical table of the flow
    is_switch: bool = True
    lookup_port: Callable[[str], int | None] = lambda name: None
    common_nat_zone: str = "reg11"  # DNAT zone unless the router has snat-ct-zone
    n_tables: int = LOG_PIPELINE_LEN
    prereqs: list[str] = field(default_factory=list)

    @property
    def first_ptable(self) -> int:
        return OFTABLE_LOG_INGRESS_PIPELINE if self.ingress else OFTABLE_LOG_EGRESS_PIPELINE

    @property
    def output_ptable(self) -> int:
        return OFTABLE_REMOTE_OUTPUT if self.ingress else OFTABLE_SAVE_INPORT


def _resolve(ref: ex.FieldRef) -> Sub:
    sym = ref.symbol
    return Sub(FIELDS[sym.mf], sym.ofs + ref.ofs, ref.nbits)


def _field(cur: Cursor, ep: EncodeParams, rw: bool = True) -> ex.FieldRef:
    ref = ex.parse_field(cur)
    if rw and not ref.symbol.rw:
        raise SyntaxError_(f"Field {ref.symbol.name} is not modifiable.")
    if ref.symbol.prereq:
        ep.prereqs.append(ref.symbol.prereq)
    return ref


def _zone(name: str) -> Sub:
    return Sub(FIELDS[name], 0, 16)


def compile_actions(text: str, ep: EncodeParams) -> tuple[list[Ofpact], ex.Expr]:
    """Parse and encode one lflow's actions; also the match prerequisites they imply."""
    cur = Cursor(text)
    acts = _parse_actions(cur, ep, "end")
    prereq: ex.Expr = ex.TRUE
    for p in ep.prereqs:
        prereq = ex._and((prereq, ex.annotate(ex.parse_match(p), ex.Context())))
    return acts, prereq


def _parse_actions(cur: Cursor, ep: EncodeParams, sentinel: str) -> list[Ofpact]:
    acts: list[Ofpact] = []
    while True:
        if sentinel == "end" and cur.at_end():
            return acts
        if sentinel == "}" and cur.match("}"):
            return acts
        _parse_action(cur, ep, acts)
        if not cur.match(";"):
            cur.error("expecting `;'")


def _nested(cur: Cursor, ep: EncodeParams, prereq: str | None) -> list[Ofpact]:
    if prereq:
        ep.prereqs.append(prereq)
    cur.expect("{")
    inner = EncodeParams(ep.ingress, ep.cur_table, ep.is_switch, ep.lookup_port,
                         ep.common_nat_zone, ep.n_tables)
    return _parse_actions(cur, inner, "}")


def _parse_action(cur: Cursor, ep: EncodeParams, acts: list[Ofpact]) -> None:
    tok = cur.tok
    if tok.kind != "id":
        cur.error("expecting action")
    word = tok.text
    nxt = cur.peek()
    is_assign = nxt.kind == "punct" and nxt.text in ("=", "<->", "[")
    if word in OVN_FIELDS and is_assign:
        _ovn_field_load(cur, ep, acts)
        return
    if word in ex.SYMTAB and (is_assign or (nxt.kind == "punct" and nxt.text == "--")):
        _assignment(cur, ep, acts)
        return
    cur.next()
    if word == "next":
        table, ingress = ep.cur_table + 1, ep.ingress
        if cur.match("("):
            if cur.tok.kind == "const":
                table = ex._int(cur)
            else:
                while True:
                    key = cur.next().text
                    cur.expect("=")
                    val = cur.next().text
                    if key == "pipeline":
                        ingress = val == "ingress"
                    elif key == "table":
                        table = int(val)
                    if not cur.match(","):
                        break
            cur.expect(")")
        if table >= ep.n_tables:
            raise SyntaxError_(f"\"next\" argument must be in range 0 to {ep.n_tables - 1}.")
        first = OFTABLE_LOG_INGRESS_PIPELINE if ingress else OFTABLE_LOG_EGRESS_PIPELINE
        acts.append(Resubmit(first + table))
    elif word == "output":
        acts.append(Resubmit(ep.output_ptable))
    elif word == "drop":
        pass
    elif word == "ct_next":
        ep.prereqs.append("ip")
        acts.append(Ct(table=ep.first_ptable + ep.cur_table + 1,
                       zone=_zone("reg13" if ep.is_switch else "reg11")))
    elif word == "ct_commit":
        ep.prereqs.append("ip")
        zone = _zone("reg13" if ep.is_switch else "reg11")
        if cur.tok.kind == "punct" and cur.tok.text == "{":
            inner = _nested(cur, ep, None)
            acts.append(Ct(commit=True, zone=zone, nat=ZERO_SNAT, exec_=tuple(inner)))
        elif cur.match("("):
            execs: list[Ofpact] = []
            while not cur.match(")"):
                name = cur.next().text
                cur.expect("=")
                c = cur.next().const
                if c is None or name not in ("ct_mark", "ct_label"):
                    raise SyntaxError_(f"Syntax error at `{name}'.")
                mf = FIELDS[name]
                if c.mask is None:
                    execs.append(SetField(Sub(mf, 0, mf.bits), c.value))
                else:
                    execs.extend(_masked_loads(mf.name, c.value, c.mask))
                cur.match(",")
            acts.append(Ct(commit=True, zone=_zone("reg13"), nat=ZERO_SNAT, exec_=tuple(execs)))
        else:
            acts.append(Ct(commit=True, zone=zone, nat=ZERO_SNAT))
    elif word == "ct_commit_nat":
        # encode_CT_COMMIT_NAT: commit, un-NAT as the connection it relates to, next table.
        ep.prereqs.append("ip")
        acts.append(Ct(commit=True, table=ep.first_ptable + ep.cur_table + 1,
                       zone=_zone("reg13" if ep.is_switch else "reg11"), nat=Nat()))
    elif word in ("ct_dnat", "ct_snat", "ct_dnat_in_czone", "ct_snat_in_czone"):
        ep.prereqs.append("ip")
        snat = word.startswith("ct_snat")
        zone_reg = ep.common_nat_zone if word.endswith("_in_czone") else (
            "reg12" if snat else "reg11")
        nat = Nat()
        commit = False
        if cur.match("("):
            t = cur.next()
            if t.const is None or t.const.fmt not in ("ipv4", "ipv6"):
                raise SyntaxError_(f"Syntax error at `{t.text}' expecting IPv4 or IPv6 address.")
            addr = ipaddress.IPv4Address(t.const.value) if t.const.fmt == "ipv4" else \
                ipaddress.IPv6Address(t.const.value)
            lo = hi = 0
            if cur.match(","):
                lo = ex._int(cur)
                if cur.match("-"):
                    hi = ex._int(cur)
            cur.expect(")")
            nat = Nat("src" if snat else "dst", str(addr), lo, hi)
            commit = True
        acts.append(Ct(commit=commit, table=ep.first_ptable + ep.cur_table + 1,
                       zone=_zone(zone_reg), nat=nat))
    elif word == "handle_dhcpv6_reply":
        acts.append(Controller(controller_userdata("DHCP6_SERVER")))
    elif word == "ct_clear":
        acts.append(Simple("ct_clear"))
    elif word in ("get_arp", "get_nd"):
        cur.expect("(")
        port = _field(cur, ep, rw=False)
        cur.expect(",")
        ip = _field(cur, ep, rw=False)
        cur.expect(")")
        args = [(_resolve(port), "reg15"), (_resolve(ip), "reg0" if word == "get_arp"
                                                    else "xxreg0")]
        acts.extend(_setup_args(args))
        acts.append(load("eth_dst", 0))
        acts.append(Resubmit(OFTABLE_MAC_BINDING))
        acts.extend(_restore_args(args))
    elif word in ("put_arp", "put_nd"):
        cur.expect("(")
        port = _field(cur, ep, rw=False)
        cur.expect(",")
        ip = _field(cur, ep, rw=False)
        cur.expect(",")
        mac = _field(cur, ep, rw=False)
        cur.expect(")")
        args = [(_resolve(port), "reg14"), (_resolve(ip), "reg0" if word == "put_arp"
                                                    else "xxreg0"), (_resolve(mac), "eth_src")]
        acts.extend(_setup_args(args))
        acts.append(Controller(controller_userdata("PUT_ARP" if word == "put_arp"
                                                   else "PUT_ND")))
        acts.extend(_restore_args(args))
    elif word in ("put_fdb", "handle_svc_check"):
        cur.expect("(")
        port = _field(cur, ep, rw=False)
        args = [(_resolve(port), "reg14")]
        if word == "put_fdb":
            cur.expect(",")
            args.append((_resolve(_field(cur, ep, rw=False)), "eth_src"))
        cur.expect(")")
        acts.extend(_setup_args(args))
        acts.append(Controller(controller_userdata("PUT_FDB" if word == "put_fdb"
                                                   else "HANDLE_SVC_CHECK")))
        acts.extend(_restore_args(args))
    elif word in ("ct_lb", "ct_lb_mark"):
        # Without backends both are a NAT lookup of an established connection.
        ep.prereqs.append("ip")
        if cur.tok.kind == "punct" and cur.tok.text == "(":
            raise SyntaxError_(f"{word} with backends needs OpenFlow groups (not supported).")
        acts.append(Ct(table=ep.first_ptable + ep.cur_table + 1,
                       zone=_zone("reg13" if ep.is_switch else "reg11"), nat=Nat()))
    elif word in ("arp", "icmp4", "icmp4_error", "clone", "nd_ns", "tcp_reset", "reject",
                  "sctp_abort", "icmp6", "icmp6_error", "nd_na", "nd_na_router"):
        prereq = {"arp": "ip4", "icmp4": "ip4", "icmp4_error": "ip4", "nd_ns": "ip6",
                  "tcp_reset": "tcp", "clone": None, "reject": None, "sctp_abort": "sctp",
                  "icmp6": "ip6", "icmp6_error": "ip6", "nd_na": "nd_ns",
                  "nd_na_router": "nd_ns"}[word]
        inner = _nested(cur, ep, prereq)
        if word == "clone":
            acts.append(Clone(tuple(inner)))
        else:
            opcode = {"arp": "ARP", "icmp4": "ICMP", "icmp4_error": "ICMP4_ERROR",
                      "nd_ns": "ND_NS", "tcp_reset": "TCP_RESET", "reject": "REJECT",
                      "sctp_abort": "SCTP_ABORT", "icmp6": "ICMP", "icmp6_error":
                      "ICMP6_ERROR", "nd_na": "ND_NA", "nd_na_router": "ND_NA_ROUTER"}[word]
            acts.append(Controller(controller_userdata(opcode, inner)))
    else:
        raise SyntaxError_(f"Syntax error at `{word}' expecting action.")


# encode_CT_COMMIT_V1/V2: every commit asks for an all-zero SNAT where the datapath has
# it (OVS_CT_ZERO_SNAT_SUPPORT, as OVS 3.x's userspace datapath does), so that a commit
# never collides with a NATed connection's tuple.
ZERO_SNAT = Nat("src")


def _masked_loads(name: str, value: int, mask: int) -> list[Ofpact]:
    mf = FIELDS[name]
    out: list[Ofpact] = []
    i = 0
    while i < mf.bits:
        if mask >> i & 1:
            j = i
            while j < mf.bits and mask >> j & 1:
                j += 1
            out.append(SetField(Sub(mf, i, j - i), (value >> i) & ((1 << (j - i)) - 1)))
            i = j
        else:
            i += 1
    return out


def _setup_args(args: list[tuple[Sub, str]]) -> list[Ofpact]:
    """encode_setup_args: stash destinations, then move sources in through the stack."""
    acts: list[Ofpact] = []
    moving = [(src, Sub.whole(dst)) for src, dst in args if src.mf.name != dst]
    acts.extend(Push(dst) for _src, dst in moving)
    acts.extend(Push(src) for src, _dst in reversed(moving))
    acts.extend(Pop(dst) for _src, dst in moving)
    return acts


def _restore_args(args: list[tuple[Sub, str]]) -> list[Ofpact]:
    return [Pop(Sub.whole(dst)) for src, dst in reversed(args) if src.mf.name != dst]


# OVN fields (lib/logical-fields.c ovn_fields): set by pinctrl on the packet it holds, as
# a paused controller action whose userdata carries the value (encode_OVNFIELD_LOAD).
OVN_FIELDS = {"icmp4.frag_mtu": ("PUT_ICMP4_FRAG_MTU", "icmp4", "!H"),
              "icmp6.frag_mtu": ("PUT_ICMP6_FRAG_MTU", "icmp6", "!I")}  # ovs_be16 / ovs_be32


def _ovn_field_load(cur: Cursor, ep: EncodeParams, acts: list[Ofpact]) -> None:
    opcode, prereq, width = OVN_FIELDS[cur.next().text]
    cur.expect("=")
    tok = cur.next()
    if tok.const is None or tok.const.is_string:
        raise SyntaxError_(f"Syntax error at `{tok.text}' expecting constant.")
    bits = 8 * struct.calcsize(width)
    if tok.const.value >> bits:
        raise SyntaxError_(f"{tok.const.value:#x} exceeds {bits}-bit field.")
    ep.prereqs.append(prereq)
    acts.append(Controller(struct.pack("!I4x", OPCODE[opcode]) + struct.pack(width, tok.const.value),
                           pause=True))


def _check_pkt_larger(cur: Cursor, lhs_ref: ex.FieldRef, lhs: Sub,
                      acts: list[Ofpact]) -> None:
    """`dst = check_pkt_larger(LEN)`: dst is one bit."""
    if lhs.nbits != 1:
        raise SyntaxError_("check_pkt_larger() result must be a single bit.")
    cur.expect("(")
    size = ex._int(cur)
    cur.expect(")")
    acts.append(CheckPktLarger(size, lhs))


def _assignment(cur: Cursor, ep: EncodeParams, acts: list[Ofpact]) -> None:
    lhs_ref = _field(cur, ep)
    lhs = _resolve(lhs_ref)
    if cur.match("--"):
        if lhs_ref.symbol.name != "ip.ttl":
            raise SyntaxError_("Syntax error at `--' expecting `='.")
        ep.prereqs.append("ip")
        acts.append(DecTtl())
        return
    if cur.match("<->"):
        rhs = _resolve(_field(cur, ep))
        if rhs.nbits != lhs.nbits:
            raise SyntaxError_(f"Can't exchange {lhs.nbits}-bit field with {rhs.nbits}-bit "
                               f"field.")
        acts.extend([Push(rhs), Push(lhs), Pop(rhs), Pop(lhs)])
        return
    cur.expect("=")
    tok = cur.tok
    if tok.kind == "id" and tok.text in ("lookup_arp", "lookup_arp_ip", "lookup_nd",
                                         "lookup_nd_ip"):
        cur.next()
        ip_reg = "reg0" if "arp" in tok.text else "xxreg0"
        if tok.text.endswith("_ip"):
            _lookup_mac_bind_ip(cur, ep, lhs, acts, ip_reg)
        else:
            _lookup_arp(cur, ep, lhs, acts, ip_reg)
        return
    if tok.kind == "id" and tok.text in ("get_fdb", "lookup_fdb"):
        cur.next()
        _fdb(cur, ep, lhs, acts, tok.text)
        return
    if tok.kind == "id" and tok.text == "put_dhcp_opts":
        cur.next()
        acts.append(dhcp.encode_put_dhcpv4_opts(cur, lhs))
        return
    if tok.kind == "id" and tok.text == "check_pkt_larger":
        cur.next()
        _check_pkt_larger(cur, lhs_ref, lhs, acts)
        return
    if tok.kind == "id":
        rhs_ref = _field(cur, ep, rw=False)
        rhs = _resolve(rhs_ref)
        if rhs_ref.symbol.string != lhs_ref.symbol.string:
            raise SyntaxError_(f"Can't assign {'string' if rhs_ref.symbol.string else 'integer'}"
                               f" field ({rhs_ref.symbol.name}) to "
                               f"{'string' if lhs_ref.symbol.string else 'integer'} field "
                               f"({lhs_ref.symbol.name}).")
        if rhs.nbits != lhs.nbits:
            raise SyntaxError_(f"Can't assign {rhs.nbits}-bit value to {lhs.nbits}-bit "
                               f"destination.")
        acts.append(Move(rhs, lhs))
        return
    c = cur.next().const
    if c is None:
        raise SyntaxError_(f"Syntax error at `{tok.text}' expecting constant.")
    acts.extend(_load_const(lhs_ref, lhs, c, ep))


def _load_const(ref: ex.FieldRef, dst: Sub, c: Const, ep: EncodeParams) -> list[Ofpact]:
    if ref.symbol.string:
        if not c.is_string:
            raise SyntaxError_(f"{ref.symbol.name} requires string value.")
        key = ep.lookup_port(c.string) or 0
        return [SetField(dst, key)]
    if c.is_string:
        raise SyntaxError_(f"{ref.symbol.name} requires integer value.")
    if c.value >> dst.nbits:
        raise SyntaxError_(f"{c.value:#x} exceeds {dst.nbits}-bit field {ref.text()}.")
    if c.mask is not None:
        return [SetField(Sub(dst.mf, dst.ofs + s.ofs, s.nbits), s_val)
                for s, s_val in _mask_segments(c.value, c.mask, dst.nbits)]
    return [SetField(dst, c.value)]


@dataclass(frozen=True, slots=True)
class _Seg:
    ofs: int
    nbits: int


def _mask_segments(value: int, mask: int, width: int) -> list[tuple[_Seg, int]]:
    out = []
    i = 0
    while i < width:
        if mask >> i & 1:
            j = i
            while j < width and mask >> j & 1:
                j += 1
            out.append((_Seg(i, j - i), (value >> i) & ((1 << (j - i)) - 1)))
            i = j
        else:
            i += 1
    return out


def _fdb(cur: Cursor, ep: EncodeParams, dst: Sub, acts: list[Ofpact], fn: str) -> None:
    """encode_GET_FDB / encode_LOOKUP_FDB."""
    cur.expect("(")
    if fn == "get_fdb":
        args = [(_resolve(_field(cur, ep, rw=False)), "eth_dst")]
    else:
        port = _field(cur, ep, rw=False)
        cur.expect(",")
        args = [(_resolve(port), "reg14"), (_resolve(_field(cur, ep, rw=False)), "eth_src")]
    cur.expect(")")
    acts.extend(_setup_args(args))
    if fn == "get_fdb":
        acts.append(load("reg15", 0))
        acts.append(Resubmit(OFTABLE_GET_FDB))
        acts.extend(_restore_args(args))
        if dst.mf.name != "reg15" or dst.nbits != 32:
            acts.append(Move(Sub.whole("reg15"), dst))
        return
    acts.append(load("reg10", 0, MLF_LOOKUP_FDB_BIT, 1))
    acts.append(Resubmit(OFTABLE_LOOKUP_FDB))
    acts.append(Move(Sub(FIELDS["reg10"], MLF_LOOKUP_FDB_BIT, 1), dst))
    acts.extend(_restore_args(args))


def _lookup_args(cur: Cursor, ep: EncodeParams, port_reg: str, ip_reg: str,
                 with_mac: bool) -> list[tuple[Sub, str]]:
    cur.expect("(")
    port = _field(cur, ep, rw=False)
    cur.expect(",")
    ip = _field(cur, ep, rw=False)
    args = [(_resolve(port), port_reg), (_resolve(ip), ip_reg)]
    if with_mac:
        cur.expect(",")
        args.append((_resolve(_field(cur, ep, rw=False)), "eth_src"))
    cur.expect(")")
    return args


def _lookup_arp(cur: Cursor, ep: EncodeParams, dst: Sub, acts: list[Ofpact],
                ip_reg: str) -> None:
    """encode_LOOKUP_ARP / encode_LOOKUP_ND: is (inport, ip, mac) a known binding?"""
    args = _lookup_args(cur, ep, "reg14", ip_reg, with_mac=True)
    if dst.nbits != 1:
        raise SyntaxError_("Cannot use 1-bit result in a wider destination.")
    acts.extend(_setup_args(args))
    acts.append(load("reg10", 0, MLF_LOOKUP_MAC_BIT, 1))
    acts.append(Resubmit(OFTABLE_MAC_LOOKUP))
    acts.append(Move(Sub(FIELDS["reg10"], MLF_LOOKUP_MAC_BIT, 1), dst))
    acts.extend(_restore_args(args))


def _lookup_mac_bind_ip(cur: Cursor, ep: EncodeParams, dst: Sub, acts: list[Ofpact],
                        ip_reg: str) -> None:
    """encode_lookup_mac_bind_ip (lookup_arp_ip / lookup_nd_ip): is there a binding for
    (port, ip) at all? Asks the get_arp table (as outport), keeping eth.dst aside."""
    args = _lookup_args(cur, ep, "reg15", ip_reg, with_mac=False)
    if dst.nbits != 1:
        raise SyntaxError_("Cannot use 1-bit result in a wider destination.")
    acts.extend(_setup_args(args))
    acts.append(Push(Sub.whole("eth_dst")))
    acts.append(load("reg10", 0, MLF_LOOKUP_MAC_BIT, 1))
    acts.append(Resubmit(OFTABLE_MAC_BINDING))
    acts.append(Move(Sub(FIELDS["reg10"], MLF_LOOKUP_MAC_BIT, 1), dst))
    acts.append(Pop(Sub.whole("eth_dst")))
    acts.extend(_restore_args(args))
