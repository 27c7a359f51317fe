"""The logical-flow expression/action compiler against OVN's expr.c / actions.c output."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ovnlab.controller import expr as ex
from ovnlab.controller.actions import EncodeParams, compile_actions
from ovnlab.controller.lexer import SyntaxError_
from ovnlab.controller.userdata import parse_userdata
from ovnlab.flows import format_actions, format_match
from ovnlab.flows.actions import to_of10
from ovnlab.flows.oxm import decode_of15

PORTS = {"lrp-r-gw": 1, "vm_1": 2, "cr-lrp-r-gw": 3, "_MC_flood": 32768}


def ctx(resident: tuple[str, ...] = ("vm_1",)) -> ex.Context:
    return ex.Context(lookup_port=PORTS.get, is_chassis_resident=lambda p: p in resident,
                      address_sets={"as1": ["10.0.0.1", "10.0.0.0/24"]},
                      port_groups={"pg1": ["vm_1", "lrp-r-gw", "missing"]})


def matches(text: str, **kw: tuple[str, ...]) -> list[str]:
    ms, _n = ex.compile_match(text, ctx(**kw))
    return sorted(format_match(m.match.match()) + ("" if not m.conj else f" conj={m.conj}") for m in ms)


def acts(text: str, ingress: bool = True, table: int = 6, switch: bool = False) -> str:
    ep = EncodeParams(ingress=ingress, cur_table=table, is_switch=switch, lookup_port=PORTS.get)
    return format_actions(to_of10(compile_actions(text, ep)[0]))


def test_fip_dnat_match_and_action() -> None:
    assert matches('ip && ip4.dst == 10.0.2.216 && inport == "lrp-r-gw"') == [
        "ip,reg14=0x1,nw_dst=10.0.2.216"]
    assert acts("ct_dnat_in_czone(172.16.100.10);") == \
        "ct(commit,table=15,zone=NXM_NX_REG11[0..15],nat(dst=172.16.100.10))"


def test_residency_evaluated_per_chassis() -> None:
    m = 'ip4.src == 172.16.100.10 && outport == "lrp-r-gw" && is_chassis_resident("vm_1")'
    assert matches(m) == ["ip,reg15=0x1,nw_src=172.16.100.10"]
    assert matches(m, resident=()) == []
    assert matches(f"!({m})", resident=()) == [""]  # !false: matches everything
    assert matches('!is_chassis_resident("vm_1")', resident=()) == [""]


def test_prefix_set_and_address_set() -> None:
    assert matches("ip4.src == 172.16.100.0/24") == ["ip,nw_src=172.16.100.0/24"]
    assert matches("ip4.dst == {10.0.0.1, 10.0.0.2}") == [
        "ip,nw_dst=10.0.0.1", "ip,nw_dst=10.0.0.2"]
    assert matches("ip4.src == $as1") == ["ip,nw_src=10.0.0.0/24", "ip,nw_src=10.0.0.1"]


def test_port_group_and_unknown_port() -> None:
    assert matches("inport == @pg1") == ["reg14=0x1", "reg14=0x2"]
    assert matches('outport == "nope"') == []
    assert matches('outport == "_MC_flood"') == ["reg15=0x8000"]


def test_conjunctive_match_for_two_disjunctions() -> None:
    out = matches("ip4.src == {10.0.0.1, 10.0.0.2} && tcp.dst == {80, 443}")
    assert "conj_id=1" in out
    assert "tcp,nw_src=10.0.0.1 conj=((1, 1, 2),)" in out
    assert "tcp,tp_dst=443 conj=((1, 2, 2),)" in out


def test_ranges_become_masks() -> None:
    # expr_simplify_relational: x >= v is x == v or, per 0-bit z of v, x[z] = 1 with the
    # bits above z equal to v's.
    out = matches("tcp.dst >= 1024 && ip4")
    assert len(out) == 1 + 10 + 5
    assert {"tcp,tp_dst=1024", "tcp,tp_dst=1025", "tcp,tp_dst=0x402/0xfffe",
            "tcp,tp_dst=0x600/0xfe00", "tcp,tp_dst=0x8000/0x8000"} <= set(out)
    assert matches("tcp.dst < 4 && ip4") == ["tcp,tp_dst=0x0/0xfffc"]
    assert matches("tcp.dst <= 65535 && ip4") == ["tcp"]


def test_ct_state_registers_and_flags() -> None:
    assert matches("ct.est && !ct.rel && ct.rpl") == ["ct_state=+est-rel+rpl+trk"]
    assert matches("reg9[4] == 1 && flags.loopback == 0") == ["reg9=0x10/0x10,reg10=0/0x1"]
    assert matches("reg0 == 10.0.2.2") == ["reg0=0xa000202"]
    assert matches("xreg0[0..47] == fa:16:3e:00:02:11") == ["reg0=0xfa16/0xffff,reg1=0x3e000211"]
    assert matches("ct_label.blocked == 1") == ["ct_label=0x1/0x1"]


def test_arp_and_icmp_fields() -> None:
    assert matches("arp.op == 1 && arp.tpa == 10.0.2.216") == ["arp,arp_tpa=10.0.2.216,arp_op=1"]
    assert matches("icmp4.type == 8 && ip4") == ["icmp,icmp_type=8"]
    assert matches("eth.bcast") == ["dl_dst=ff:ff:ff:ff:ff:ff"]
    assert matches("ip.ttl == {0, 1}") == ["ip,nw_ttl=0", "ip,nw_ttl=1", "ipv6,nw_ttl=0",
                                          "ipv6,nw_ttl=1"]


def test_mixing_and_or_needs_parentheses() -> None:
    with pytest.raises(SyntaxError_, match="parenthesized"):
        ex.parse_match("ip4 && ip6 || arp")
    with pytest.raises(SyntaxError_):
        ex.parse_match("ip4.src == ")
    with pytest.raises(SyntaxError_, match="Explicit"):
        ex.compile_match("reg0", ctx())


def test_actions_encoding() -> None:
    assert acts("eth.src = fa:16:3e:9f:84:ff; reg9[4] = 0; ct_snat(10.0.2.216);", False, 3) == \
        ("mod_dl_src:fa:16:3e:9f:84:ff,load:0->OXM_OF_PKT_REG4[4],"
         "ct(commit,table=44,zone=NXM_NX_REG12[0..15],nat(src=10.0.2.216))")
    assert acts("get_arp(outport, reg0); next;", table=13) == (
        "push:NXM_NX_REG0[],push:NXM_NX_XXREG0[96..127],pop:NXM_NX_REG0[],"
        "mod_dl_dst:00:00:00:00:00:00,resubmit(,66),pop:NXM_NX_REG0[],resubmit(,22)")
    assert acts("put_arp(inport, arp.spa, arp.sha);") == (
        "push:NXM_NX_REG0[],push:NXM_OF_ETH_SRC[],push:NXM_NX_ARP_SHA[],push:NXM_OF_ARP_SPA[],"
        "pop:NXM_NX_REG0[],pop:NXM_OF_ETH_SRC[],controller(userdata=00.00.00.01.00.00.00.00),"
        "pop:NXM_OF_ETH_SRC[],pop:NXM_NX_REG0[]")
    assert acts('ip.ttl--; reg0 = 10.0.2.2; outport = "lrp-r-gw"; flags.loopback = 1; next;',
                table=10) == ("dec_ttl(),load:0xa000202->NXM_NX_XXREG0[96..127],"
                              "load:0x1->NXM_NX_REG15[],load:0x1->NXM_NX_REG10[0],resubmit(,19)")
    assert acts("ct_next;", switch=True) == "ct(table=15,zone=NXM_NX_REG13[0..15])"
    assert acts("ct_snat_in_czone;", table=4) == "ct(table=13,zone=NXM_NX_REG11[0..15],nat)"
    assert acts("drop;") == "drop"
    assert acts("output;", ingress=False) == "resubmit(,64)"
    assert acts('clone { outport = "vm_1"; output; }; next;') == \
        "clone(load:0x2->NXM_NX_REG15[],resubmit(,37)),resubmit(,15)"
    assert acts("ct_commit { ct_label.blocked = 0; }; next;", switch=True) == \
        "ct(commit,zone=NXM_NX_REG13[0..15],nat(src),exec(load:0->NXM_NX_CT_LABEL[0])),resubmit(,15)"
    # As a real 22.03 chassis installs the ct_mark forms (tables 17 and 25 of the seed).
    assert acts("ct_commit { ct_mark.blocked = 1; };", switch=True) == \
        "ct(commit,zone=NXM_NX_REG13[0..15],nat(src),exec(load:0x1->NXM_NX_CT_MARK[0]))"
    assert acts("ct_commit_nat;", switch=True) == \
        "ct(commit,table=15,zone=NXM_NX_REG13[0..15],nat)"
    assert acts("ct_lb_mark;", switch=True) == "ct(table=15,zone=NXM_NX_REG13[0..15],nat)"
    assert acts("ct_commit { } ; next; ", table=4) == \
        "ct(commit,zone=NXM_NX_REG11[0..15],nat(src)),resubmit(,13)"


def test_nested_arp_userdata_roundtrip() -> None:
    ep = EncodeParams(ingress=True, cur_table=17, is_switch=False, lookup_port=PORTS.get)
    (ctrl,), _pre = compile_actions(
        "arp { eth.dst = ff:ff:ff:ff:ff:ff; arp.spa = reg1; arp.tpa = reg0; arp.op = 1; "
        "output; };", ep)
    opcode, inner = parse_userdata(ctrl.userdata)  # type: ignore[union-attr]
    assert opcode == "ARP"
    assert format_actions(to_of10(inner)) == (
        "mod_dl_dst:ff:ff:ff:ff:ff:ff,move:NXM_NX_XXREG0[64..95]->NXM_OF_ARP_SPA[],"
        "move:NXM_NX_XXREG0[96..127]->NXM_OF_ARP_TPA[],load:0x1->NXM_OF_ARP_OP[],resubmit(,37)")
    assert decode_of15(ctrl.userdata[8:]) == inner  # type: ignore[union-attr]


def test_action_prerequisites_join_the_match() -> None:
    ep = EncodeParams(ingress=True, cur_table=3, is_switch=False, lookup_port=PORTS.get)
    _acts, pre = compile_actions("arp.op = 2; next;", ep)
    ms, _ = ex.compile_match('inport == "vm_1"', ctx(), pre)
    assert [format_match(m.match.match()) for m in ms] == ["arp,reg14=0x2"]


@settings(max_examples=150, deadline=None)
@given(st.integers(0, 0xFFFF), st.sampled_from(["<", "<=", ">", ">=", "==", "!="]),
       st.integers(0, 0xFFFF))
def test_relational_matches_exactly_the_range(bound: int, op: str, probe: int) -> None:
    """`tcp.dst OP bound` compiles to masked flows matching exactly the right ports."""
    ms, _ = ex.compile_match(f"ip4 && tcp.dst {op} {bound}", ctx())
    hit = any((probe & m.match.slots["tp_dst"][1]) == m.match.slots["tp_dst"][0]
              if "tp_dst" in m.match.slots else True for m in ms)
    want = {"<": probe < bound, "<=": probe <= bound, ">": probe > bound,
            ">=": probe >= bound, "==": probe == bound, "!=": probe != bound}[op]
    assert hit == want


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 32), st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1))
def test_prefix_match_semantics(plen: int, net: int, probe: int) -> None:
    network = ipaddress.IPv4Network((net, plen), strict=False)
    ms, _ = ex.compile_match(f"ip4.dst == {network}", ctx())
    if plen == 0:
        assert [format_match(m.match.match()) for m in ms] == ["ip"]
        return
    (m,) = ms
    v, mask = m.match.slots["nw_dst"]
    assert ((probe & mask) == v) == (ipaddress.IPv4Address(probe) in network)


# ------------------------------------------------------------------ truth-table property

_ATOMS = ["reg9[0] == 1", "reg9[1] == 0", "reg9[2] == 1", "reg8[0..1] == {1, 2}",
          "reg8[0..1] != 3", "reg9[3]", "reg8[2..3] == {0, 3}", "reg8[2..3] < 2"]


def _exprs() -> st.SearchStrategy[str]:
    atom = st.sampled_from(_ATOMS)
    return st.recursive(atom, lambda sub: st.one_of(
        st.builds(lambda a: f"!({a})", sub),
        st.builds(lambda a, b: f"({a}) && ({b})", sub, sub),
        st.builds(lambda a, b: f"({a}) || ({b})", sub, sub)), max_leaves=6)


def _eval(text: str, r8: int, r9: int) -> bool:
    py = text.replace("&&", " and ").replace("||", " or ").replace("!(", " not (")
    py = py.replace("reg9[3]", "(reg9 >> 3 & 1) == 1")
    for field, var in (("reg8[0..1]", "(reg8 & 3)"), ("reg8[2..3]", "(reg8 >> 2 & 3)")):
        py = py.replace(f"{field} == {{1, 2}}", f"{var} in (1, 2)")
        py = py.replace(f"{field} == {{0, 3}}", f"{var} in (0, 3)")
        py = py.replace(field, var)
    for i in range(3):
        py = py.replace(f"reg9[{i}]", f"(reg9 >> {i} & 1)")
    return bool(eval(py, {}, {"reg8": r8, "reg9": r9}))  # noqa: S307 - test oracle


def _hit(m: ex.ExprMatch, r8: int, r9: int) -> bool:
    for slot, (v, mask) in m.match.slots.items():
        val = {"reg8": r8, "reg9": r9}[slot]
        if val & mask != v:
            return False
    return True


@settings(max_examples=200, deadline=None)
@given(_exprs())
def test_normalized_flows_match_exactly_the_expression(text: str) -> None:
    """Flows (plain, and conjunctive clauses) cover exactly the expression's truth table."""
    ms, _n = ex.compile_match(text, ctx())
    plain = [m for m in ms if not m.conj and "conj_id" not in m.match.slots]
    conj: dict[int, dict[int, list[ex.ExprMatch]]] = {}
    sizes: dict[int, int] = {}
    for m in ms:
        for cid, k, n in m.conj:
            conj.setdefault(cid, {}).setdefault(k, []).append(m)
            sizes[cid] = n
    for r8 in range(16):
        for r9 in range(16):
            got = any(_hit(m, r8, r9) for m in plain) or any(
                len(cl) == sizes[cid] and all(any(_hit(m, r8, r9) for m in ms_k)
                                              for ms_k in cl.values())
                for cid, cl in conj.items())
            assert got == _eval(text, r8, r9), (text, r8, r9)


def test_lookup_arp_ip_asks_the_get_arp_table_as_real_ovn() -> None:
    """encode_lookup_mac_bind_ip: port as outport, eth.dst kept aside, table 66 (the text a
    real 22.03 chassis dumps for the seed's lr_in_learn_neighbor lookup)."""
    assert acts("reg9[3] = lookup_arp_ip(inport, arp.spa);") == (
        "push:NXM_NX_REG15[],push:NXM_NX_REG0[],push:NXM_OF_ARP_SPA[],push:NXM_NX_REG14[],"
        "pop:NXM_NX_REG15[],pop:NXM_NX_REG0[],push:NXM_OF_ETH_DST[],"
        "load:0->NXM_NX_REG10[6],resubmit(,66),move:NXM_NX_REG10[6]->OXM_OF_PKT_REG4[3],"
        "pop:NXM_OF_ETH_DST[],pop:NXM_NX_REG0[],pop:NXM_NX_REG15[]")


def test_nested_stack_actions_name_fields_by_nxm_header() -> None:
    """OVS encodes push/pop with the NXM header even in OpenFlow 1.5 (encode_STACK_op), so
    a controller action's userdata carries 00.00.04.06 for eth.src, as real OVN's does."""
    text = acts("icmp4 { eth.dst <-> eth.src; output; };")
    ud = bytes.fromhex(text.split("userdata=")[1].rstrip(")").replace(".", ""))
    push_eth_src = bytes.fromhex("ffff00180000232000 1b 0000 00000406 0030".replace(" ", ""))
    assert push_eth_src in ud
    assert bytes.fromhex("80000806") not in ud  # the OXM header of eth.src


def test_put_dhcp_opts_and_dhcpv6_reply_encode_as_real_ovn() -> None:
    """The seed's ls_in_dhcp_options and lr_in_ip_input flows, byte for byte as a real
    22.03 chassis installs them: result field (xxreg0 bit 99 = reg0[3]) by its OF1.5
    header, offerip, then the options in the flow's order; the switch pauses."""
    assert acts("reg0[3] = put_dhcp_opts(offerip = 172.16.100.10, lease_time = 43200, "
                "mtu = 1442, netmask = 255.255.255.0, router = 172.16.100.1, "
                "server_id = 172.16.100.1); next;", switch=True, table=19) == (
        "controller(userdata=00.00.00.02.00.00.00.00.00.01.de.10.00.00.00.63.ac.10.64.0a."
        "33.04.00.00.a8.c0.1a.02.05.a2.01.04.ff.ff.ff.00.03.04.ac.10.64.01.36.04.ac.10.64.01,"
        "pause),resubmit(,28)")
    assert acts("reg0 = 0; handle_dhcpv6_reply;", table=3) == (
        "load:0->NXM_NX_XXREG0[96..127],controller(userdata=00.00.00.13.00.00.00.00)")
    with pytest.raises(SyntaxError_, match="offerip"):
        acts("reg0[3] = put_dhcp_opts(router = 172.16.100.1);")
    with pytest.raises(SyntaxError_, match="bogus"):
        acts("reg0[3] = put_dhcp_opts(offerip = 1.2.3.4, bogus = 1);")


def test_ipv6_nat_is_refused_at_compile_time() -> None:
    """The flow model's nat() is IPv4 only: the lflow is an error, not a flow the switch
    would refuse later."""
    with pytest.raises(SyntaxError_, match="IPv6 NAT"):
        acts("ct_dnat(fd00::5);")
    assert acts("ct_snat(10.0.0.5, 1000-2000);") == (
        "ct(commit,table=15,zone=NXM_NX_REG12[0..15],nat(src=10.0.0.5:1000-2000,random))")
