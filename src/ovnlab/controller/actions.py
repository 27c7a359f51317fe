"""OVN logical-flow actions → OpenFlow actions (ovn/lib/actions.c `parse_*`/`encode_*`).

`compile_actions(text, params)` returns the OpenFlow actions and the prerequisites the
actions add to the match (e.g. `ct_next` needs `ip`, `arp.op = 2` needs `arp`).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable

from ovnlab.controller import expr as ex
from ovnlab.controller.assign import OVN_FIELDS, parse_assignment, parse_ovn_field_load
from ovnlab.controller.encode import (
    OFTABLE_LOG_EGRESS_PIPELINE,
    OFTABLE_LOG_INGRESS_PIPELINE,
    OFTABLE_MAC_BINDING,
    OFTABLE_REMOTE_OUTPUT,
    EncodeParams,
    field_ref,
    masked_loads,
    resolve,
    restore_args,
    setup_args,
    zone,
)
from ovnlab.controller.lexer import Cursor, SyntaxError_
from ovnlab.controller.userdata import controller_userdata
from ovnlab.flows.actions import (
    Action,
    Clone,
    Controller,
    Ct,
    CtClear,
    Nat,
    Resubmit,
    SubField,
    set_field,
)

# what callers import from here: the entry point and the encoding parameters
__all__ = ["OFTABLE_LOG_EGRESS_PIPELINE", "OFTABLE_LOG_INGRESS_PIPELINE",
           "OFTABLE_REMOTE_OUTPUT", "EncodeParams", "compile_actions"]


def compile_actions(text: str, ep: EncodeParams) -> tuple[list[Action], ex.Expr]:
    """Parse and encode one lflow's actions; also the match prerequisites they imply."""
    cur = Cursor(text)
    acts = _parse_actions(cur, ep, "end")
    prereq: ex.Expr = ex.TRUE
    for p in ep.prereqs:
        prereq = ex._and((prereq, ex.annotate(ex.parse_match(p), ex.Context())))
    return acts, prereq


def _parse_actions(cur: Cursor, ep: EncodeParams, sentinel: str) -> list[Action]:
    acts: list[Action] = []
    while True:
        if sentinel == "end" and cur.at_end():
            return acts
        if sentinel == "}" and cur.match("}"):
            return acts
        _parse_action(cur, ep, acts)
        if not cur.match(";"):
            cur.error("expecting `;'")


def _nested(cur: Cursor, ep: EncodeParams, prereq: str | None) -> list[Action]:
    if prereq:
        ep.prereqs.append(prereq)
    cur.expect("{")
    inner = EncodeParams(ep.ingress, ep.cur_table, ep.is_switch, ep.lookup_port,
                         ep.common_nat_zone, ep.n_tables)
    return _parse_actions(cur, inner, "}")


def _parse_action(cur: Cursor, ep: EncodeParams, acts: list[Action]) -> None:
    tok = cur.tok
    if tok.kind != "id":
        cur.error("expecting action")
    word = tok.text
    nxt = cur.peek()
    is_assign = nxt.kind == "punct" and nxt.text in ("=", "<->", "[")
    if word in OVN_FIELDS and is_assign:
        parse_ovn_field_load(cur, ep, acts)
        return
    if word in ex.SYMTAB and (is_assign or (nxt.kind == "punct" and nxt.text == "--")):
        parse_assignment(cur, ep, acts)
        return
    cur.next()
    parse = _ACTIONS.get(word)
    if parse is None:
        raise SyntaxError_(f"Syntax error at `{word}' expecting action.")
    parse(cur, ep, acts, word)


ActionParser = Callable[[Cursor, EncodeParams, list[Action], str], None]


def _next_table(cur: Cursor, ep: EncodeParams) -> tuple[int, bool]:
    """`next`, `next(N)` or `next(pipeline=P, table=N)`: (logical table, ingress)."""
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
    return table, ingress


def _parse_next(cur: Cursor, ep: EncodeParams, acts: list[Action], word: str) -> None:
    table, ingress = _next_table(cur, ep)
    if table >= ep.n_tables:
        raise SyntaxError_(f"\"next\" argument must be in range 0 to {ep.n_tables - 1}.")
    first = OFTABLE_LOG_INGRESS_PIPELINE if ingress else OFTABLE_LOG_EGRESS_PIPELINE
    acts.append(Resubmit(None, first + table))


def _parse_output(cur: Cursor, ep: EncodeParams, acts: list[Action], word: str) -> None:
    acts.append(Resubmit(None, ep.output_ptable))


def _parse_drop(cur: Cursor, ep: EncodeParams, acts: list[Action], word: str) -> None:
    pass


def _ct_zone(ep: EncodeParams) -> SubField:
    """The zone of ct_next and friends: the switch's port zone, the router's DNAT zone."""
    return zone("reg13" if ep.is_switch else "reg11")


def _parse_ct_next(cur: Cursor, ep: EncodeParams, acts: list[Action], word: str) -> None:
    ep.prereqs.append("ip")
    acts.append(Ct(table=ep.first_ptable + ep.cur_table + 1, zone_src=_ct_zone(ep)))


def _ct_commit_args(cur: Cursor) -> list[Action]:
    """ct_commit(ct_mark=..., ct_label=...): the loads run inside the commit."""
    execs: list[Action] = []
    while not cur.match(")"):
        name = cur.next().text
        cur.expect("=")
        c = cur.next().const
        if c is None or name not in ("ct_mark", "ct_label"):
            raise SyntaxError_(f"Syntax error at `{name}'.")
        if c.mask is None:
            execs.append(set_field(name, c.value))
        else:
            execs.extend(masked_loads(name, c.value, c.mask))
        cur.match(",")
    return execs


def _parse_ct_commit(cur: Cursor, ep: EncodeParams, acts: list[Action], word: str) -> None:
    ep.prereqs.append("ip")
    ct_zone = _ct_zone(ep)
    if cur.tok.kind == "punct" and cur.tok.text == "{":
        inner = _nested(cur, ep, None)
        acts.append(Ct(commit=True, zone_src=ct_zone, actions=(ZERO_SNAT, *inner)))
    elif cur.match("("):
        execs = _ct_commit_args(cur)
        acts.append(Ct(commit=True, zone_src=zone("reg13"), actions=(ZERO_SNAT, *execs)))
    else:
        acts.append(Ct(commit=True, zone_src=ct_zone, actions=(ZERO_SNAT,)))


def _parse_ct_commit_nat(cur: Cursor, ep: EncodeParams, acts: list[Action], word: str) -> None:
    # encode_CT_COMMIT_NAT: commit, un-NAT as the connection it relates to, next table.
    ep.prereqs.append("ip")
    acts.append(Ct(commit=True, table=ep.first_ptable + ep.cur_table + 1,
                   zone_src=_ct_zone(ep), actions=(Nat(),)))


def _nat_target(cur: Cursor, snat: bool) -> Nat:
    """`(IP[, PORT[-PORT]])` after ct_dnat/ct_snat."""
    t = cur.next()
    if t.const is None or t.const.fmt not in ("ipv4", "ipv6"):
        raise SyntaxError_(f"Syntax error at `{t.text}' expecting IPv4 or IPv6 address.")
    if t.const.fmt == "ipv6":  # the flow model's nat() carries IPv4 addresses only
        raise SyntaxError_(f"IPv6 NAT to {ipaddress.IPv6Address(t.const.value)} is not "
                           "supported by ovnlab's datapath.")
    lo = hi = 0
    if cur.match(","):
        lo = ex._int(cur)
        if cur.match("-"):
            hi = ex._int(cur)
    cur.expect(")")
    # encode_ct_nat: a port range asks OVS to pick ports at random
    return Nat("src" if snat else "dst", t.const.value, None, lo or None,
               hi if hi and hi != lo else None, ("random",) if hi else ())


def _parse_ct_nat(cur: Cursor, ep: EncodeParams, acts: list[Action], word: str) -> None:
    """ct_dnat, ct_snat and their _in_czone forms (the common zone of a router)."""
    ep.prereqs.append("ip")
    snat = word.startswith("ct_snat")
    zone_reg = ep.common_nat_zone if word.endswith("_in_czone") else (
        "reg12" if snat else "reg11")
    nat = Nat()
    commit = False
    if cur.match("("):
        nat = _nat_target(cur, snat)
        commit = True
    acts.append(Ct(commit=commit, table=ep.first_ptable + ep.cur_table + 1,
                   zone_src=zone(zone_reg), actions=(nat,)))


def _parse_dhcpv6_reply(cur: Cursor, ep: EncodeParams, acts: list[Action], word: str) -> None:
    acts.append(Controller(userdata=controller_userdata("DHCP6_SERVER")))


def _parse_ct_clear(cur: Cursor, ep: EncodeParams, acts: list[Action], word: str) -> None:
    acts.append(CtClear())


def _field_args(cur: Cursor, ep: EncodeParams, n: int) -> list[SubField]:
    """`(FIELD, FIELD...)`: `n` read-only field arguments."""
    cur.expect("(")
    out = []
    for i in range(n):
        if i:
            cur.expect(",")
        out.append(resolve(field_ref(cur, ep, rw=False)))
    cur.expect(")")
    return out


def _parse_get_arp(cur: Cursor, ep: EncodeParams, acts: list[Action], word: str) -> None:
    """get_arp / get_nd: look the neighbour up in the MAC_Binding table."""
    port, ip = _field_args(cur, ep, 2)
    args = [(port, "reg15"), (ip, "reg0" if word == "get_arp" else "xxreg0")]
    acts.extend(setup_args(args))
    acts.append(set_field("eth_dst", 0))
    acts.append(Resubmit(None, OFTABLE_MAC_BINDING))
    acts.extend(restore_args(args))


def _parse_put_arp(cur: Cursor, ep: EncodeParams, acts: list[Action], word: str) -> None:
    """put_arp / put_nd: the controller learns a MAC_Binding."""
    port, ip, mac = _field_args(cur, ep, 3)
    args = [(port, "reg14"), (ip, "reg0" if word == "put_arp" else "xxreg0"), (mac, "eth_src")]
    acts.extend(setup_args(args))
    acts.append(Controller(userdata=controller_userdata("PUT_ARP" if word == "put_arp"
                                                        else "PUT_ND")))
    acts.extend(restore_args(args))


def _parse_put_fdb(cur: Cursor, ep: EncodeParams, acts: list[Action], word: str) -> None:
    """put_fdb(port, mac) / handle_svc_check(port): to the controller."""
    fields = _field_args(cur, ep, 2 if word == "put_fdb" else 1)
    args = list(zip(fields, ("reg14", "eth_src"), strict=False))
    acts.extend(setup_args(args))
    acts.append(Controller(userdata=controller_userdata("PUT_FDB" if word == "put_fdb"
                                                        else "HANDLE_SVC_CHECK")))
    acts.extend(restore_args(args))


def _parse_ct_lb(cur: Cursor, ep: EncodeParams, acts: list[Action], word: str) -> None:
    # Without backends both are a NAT lookup of an established connection.
    ep.prereqs.append("ip")
    if cur.tok.kind == "punct" and cur.tok.text == "(":
        raise SyntaxError_(f"{word} with backends needs OpenFlow groups (not supported).")
    acts.append(Ct(table=ep.first_ptable + ep.cur_table + 1, zone_src=_ct_zone(ep),
                   actions=(Nat(),)))


# Nested actions: their prerequisite, and the controller opcode (none: clone)
_NESTED = {"arp": ("ip4", "ARP"), "icmp4": ("ip4", "ICMP"),
           "icmp4_error": ("ip4", "ICMP4_ERROR"), "nd_ns": ("ip6", "ND_NS"),
           "tcp_reset": ("tcp", "TCP_RESET"), "clone": (None, None),
           "reject": (None, "REJECT"), "sctp_abort": ("sctp", "SCTP_ABORT"),
           "icmp6": ("ip6", "ICMP"), "icmp6_error": ("ip6", "ICMP6_ERROR"),
           "nd_na": ("nd_ns", "ND_NA"), "nd_na_router": ("nd_ns", "ND_NA_ROUTER")}


def _parse_nested(cur: Cursor, ep: EncodeParams, acts: list[Action], word: str) -> None:
    prereq, opcode = _NESTED[word]
    inner = _nested(cur, ep, prereq)
    if opcode is None:
        acts.append(Clone(tuple(inner)))
    else:
        acts.append(Controller(userdata=controller_userdata(opcode, inner)))


_ACTIONS: dict[str, ActionParser] = {
    "next": _parse_next, "output": _parse_output, "drop": _parse_drop,
    "ct_next": _parse_ct_next, "ct_commit": _parse_ct_commit,
    "ct_commit_nat": _parse_ct_commit_nat,
    **dict.fromkeys(("ct_dnat", "ct_snat", "ct_dnat_in_czone", "ct_snat_in_czone"),
                    _parse_ct_nat),
    "handle_dhcpv6_reply": _parse_dhcpv6_reply, "ct_clear": _parse_ct_clear,
    "get_arp": _parse_get_arp, "get_nd": _parse_get_arp,
    "put_arp": _parse_put_arp, "put_nd": _parse_put_arp,
    "put_fdb": _parse_put_fdb, "handle_svc_check": _parse_put_fdb,
    "ct_lb": _parse_ct_lb, "ct_lb_mark": _parse_ct_lb,
    **dict.fromkeys(_NESTED, _parse_nested),
}


# encode_CT_COMMIT_V1/V2: every commit asks for an all-zero SNAT where the datapath has
# it (OVS_CT_ZERO_SNAT_SUPPORT, as OVS 3.x's userspace datapath does), so that a commit
# never collides with a NATed connection's tuple.
ZERO_SNAT = Nat("src")


