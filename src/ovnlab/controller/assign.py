"""Assignments in OVN logical-flow actions (lib/actions.c parse_assignment_action,
encode_LOAD / MOVE / EXCHANGE / DEC_TTL, and the `dst = f(...)` lookups: lookup_arp,
lookup_nd, lookup_arp_ip, get_fdb, lookup_fdb, put_dhcp_opts, check_pkt_larger), and the
OVN field loads (`icmp4.frag_mtu = N`, parse_OVNFIELD_LOAD)."""

from __future__ import annotations

import struct

from ovnlab.controller import dhcp
from ovnlab.controller import expr as ex
from ovnlab.controller.encode import (
    OFTABLE_GET_FDB,
    OFTABLE_LOOKUP_FDB,
    OFTABLE_MAC_BINDING,
    OFTABLE_MAC_LOOKUP,
    EncodeParams,
    field_ref,
    masked_loads,
    resolve,
    restore_args,
    setup_args,
)
from ovnlab.controller.lexer import Const, Cursor, SyntaxError_
from ovnlab.controller.symtab import MLF_LOOKUP_FDB_BIT, MLF_LOOKUP_MAC_BIT
from ovnlab.controller.userdata import action_header
from ovnlab.flows.actions import (
    Action,
    CheckPktLarger,
    Controller,
    DecTtl,
    Move,
    Pop,
    Push,
    Resubmit,
    SubField,
    set_field,
)


def parse_assignment(cur: Cursor, ep: EncodeParams, acts: list[Action]) -> None:
    lhs_ref = field_ref(cur, ep)
    lhs = resolve(lhs_ref)
    if cur.match("--"):
        if lhs_ref.symbol.name != "ip.ttl":
            raise SyntaxError_("Syntax error at `--' expecting `='.")
        ep.prereqs.append("ip")
        acts.append(DecTtl(()))  # no controller ids: dumped as `dec_ttl()`
        return
    if cur.match("<->"):
        rhs = resolve(field_ref(cur, ep))
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
        _check_pkt_larger(cur, lhs, acts)
        return
    if tok.kind == "id":
        rhs_ref = field_ref(cur, ep, rw=False)
        rhs = resolve(rhs_ref)
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


def _check_pkt_larger(cur: Cursor, lhs: SubField, acts: list[Action]) -> None:
    """`dst = check_pkt_larger(LEN)`: dst is one bit."""
    if lhs.nbits != 1:
        raise SyntaxError_("check_pkt_larger() result must be a single bit.")
    cur.expect("(")
    size = ex._int(cur)
    cur.expect(")")
    acts.append(CheckPktLarger(size, lhs))


# OVN fields (lib/logical-fields.c ovn_fields): set by pinctrl on the packet it holds, as
# a paused controller action whose userdata carries the value (encode_OVNFIELD_LOAD).
OVN_FIELDS = {"icmp4.frag_mtu": ("PUT_ICMP4_FRAG_MTU", "icmp4", "!H"),
              "icmp6.frag_mtu": ("PUT_ICMP6_FRAG_MTU", "icmp6", "!I")}  # ovs_be16 / ovs_be32


def parse_ovn_field_load(cur: Cursor, ep: EncodeParams, acts: list[Action]) -> None:
    opcode, prereq, width = OVN_FIELDS[cur.next().text]
    cur.expect("=")
    tok = cur.next()
    if tok.const is None or tok.const.is_string:
        raise SyntaxError_(f"Syntax error at `{tok.text}' expecting constant.")
    bits = 8 * struct.calcsize(width)
    if tok.const.value >> bits:
        raise SyntaxError_(f"{tok.const.value:#x} exceeds {bits}-bit field.")
    ep.prereqs.append(prereq)
    acts.append(Controller(userdata=action_header(opcode) + struct.pack(width, tok.const.value),
                           pause=True))


def _load_const(ref: ex.FieldRef, dst: SubField, c: Const, ep: EncodeParams) -> list[Action]:
    if ref.symbol.string:
        if not c.is_string:
            raise SyntaxError_(f"{ref.symbol.name} requires string value.")
        key = ep.lookup_port(c.string) or 0
        return [set_field(dst.field, key, dst.ofs, dst.nbits)]
    if c.is_string:
        raise SyntaxError_(f"{ref.symbol.name} requires integer value.")
    if c.value >> dst.nbits:
        raise SyntaxError_(f"{c.value:#x} exceeds {dst.nbits}-bit field {ref.text()}.")
    if c.mask is not None:
        mask = c.mask & ((1 << dst.nbits) - 1)
        return masked_loads(dst.field, c.value << dst.ofs, mask << dst.ofs)
    return [set_field(dst.field, c.value, dst.ofs, dst.nbits)]


def _fdb(cur: Cursor, ep: EncodeParams, dst: SubField, acts: list[Action], fn: str) -> None:
    """encode_GET_FDB / encode_LOOKUP_FDB."""
    cur.expect("(")
    if fn == "get_fdb":
        args = [(resolve(field_ref(cur, ep, rw=False)), "eth_dst")]
    else:
        port = field_ref(cur, ep, rw=False)
        cur.expect(",")
        args = [(resolve(port), "reg14"), (resolve(field_ref(cur, ep, rw=False)), "eth_src")]
    cur.expect(")")
    acts.extend(setup_args(args))
    if fn == "get_fdb":
        acts.append(set_field("reg15", 0))
        acts.append(Resubmit(None, OFTABLE_GET_FDB))
        acts.extend(restore_args(args))
        if dst.field != "reg15" or dst.nbits != 32:
            acts.append(Move(SubField.whole("reg15"), dst))
        return
    acts.append(set_field("reg10", 0, MLF_LOOKUP_FDB_BIT, 1))
    acts.append(Resubmit(None, OFTABLE_LOOKUP_FDB))
    acts.append(Move(SubField("reg10", MLF_LOOKUP_FDB_BIT, 1), dst))
    acts.extend(restore_args(args))


def _lookup_args(cur: Cursor, ep: EncodeParams, port_reg: str, ip_reg: str,
                 with_mac: bool) -> list[tuple[SubField, str]]:
    cur.expect("(")
    port = field_ref(cur, ep, rw=False)
    cur.expect(",")
    ip = field_ref(cur, ep, rw=False)
    args = [(resolve(port), port_reg), (resolve(ip), ip_reg)]
    if with_mac:
        cur.expect(",")
        args.append((resolve(field_ref(cur, ep, rw=False)), "eth_src"))
    cur.expect(")")
    return args


def _lookup_arp(cur: Cursor, ep: EncodeParams, dst: SubField, acts: list[Action],
                ip_reg: str) -> None:
    """encode_LOOKUP_ARP / encode_LOOKUP_ND: is (inport, ip, mac) a known binding?"""
    args = _lookup_args(cur, ep, "reg14", ip_reg, with_mac=True)
    if dst.nbits != 1:
        raise SyntaxError_("Cannot use 1-bit result in a wider destination.")
    acts.extend(setup_args(args))
    acts.append(set_field("reg10", 0, MLF_LOOKUP_MAC_BIT, 1))
    acts.append(Resubmit(None, OFTABLE_MAC_LOOKUP))
    acts.append(Move(SubField("reg10", MLF_LOOKUP_MAC_BIT, 1), dst))
    acts.extend(restore_args(args))


def _lookup_mac_bind_ip(cur: Cursor, ep: EncodeParams, dst: SubField, acts: list[Action],
                        ip_reg: str) -> None:
    """encode_lookup_mac_bind_ip (lookup_arp_ip / lookup_nd_ip): is there a binding for
    (port, ip) at all? Asks the get_arp table (as outport), keeping eth.dst aside."""
    args = _lookup_args(cur, ep, "reg15", ip_reg, with_mac=False)
    if dst.nbits != 1:
        raise SyntaxError_("Cannot use 1-bit result in a wider destination.")
    acts.extend(setup_args(args))
    acts.append(Push(SubField.whole("eth_dst")))
    acts.append(set_field("reg10", 0, MLF_LOOKUP_MAC_BIT, 1))
    acts.append(Resubmit(None, OFTABLE_MAC_BINDING))
    acts.append(Move(SubField("reg10", MLF_LOOKUP_MAC_BIT, 1), dst))
    acts.append(Pop(SubField.whole("eth_dst")))
    acts.extend(restore_args(args))
