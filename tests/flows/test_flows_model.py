from __future__ import annotations

import pytest

from ovnlab.flows import (
    Ct,
    Flow,
    FlowError,
    FlowStats,
    Load,
    Mod,
    Nat,
    Resubmit,
    SubField,
    format_flow,
    make_flow,
    parse_flow,
    parse_flow_full,
    parse_match,
)
from ovnlab.packet import ip, mac

ARTICLE_DNAT = ("table=14, priority=100,ip,reg14=0x1,metadata=0x3,nw_dst=10.0.2.216 "
                "actions=ct(commit,table=15,zone=NXM_NX_REG11[0..15],nat(dst=172.16.100.10))")
ARTICLE_SNAT = ("table=43, priority=161,ip,reg15=0x1,metadata=0x3,nw_src=172.16.100.10 "
                "actions=mod_dl_src:fa:16:3e:9f:84:ff,ct(commit,table=44,"
                "zone=NXM_NX_REG11[0..15],nat(src=10.0.2.216))")


@pytest.mark.parametrize("text", [ARTICLE_DNAT, ARTICLE_SNAT])
def test_article_lines_round_trip_exactly(text: str) -> None:
    assert format_flow(parse_flow(text)) == text


def test_parsed_dnat_flow_is_typed() -> None:
    flow = parse_flow(ARTICLE_DNAT)
    assert flow.table == 14 and flow.priority == 100
    assert flow.match_dict() == {"dl_type": (0x800, 0xFFFF), "reg14": (1, 0xFFFFFFFF),
                                 "metadata": (3, 2**64 - 1), "nw_dst": (ip("10.0.2.216"),
                                                                        0xFFFFFFFF)}
    (ct,) = flow.actions
    assert isinstance(ct, Ct) and ct.commit and ct.table == 15
    assert ct.zone_src == SubField("reg11", 0, 16)
    assert ct.nat == Nat("dst", ip("172.16.100.10"))


def test_make_flow_fast_path_equals_parsed_text() -> None:
    built = make_flow(14, 100, {"ip": 1, "reg14": 1, "metadata": 3,
                                "nw_dst": ip("10.0.2.216")},
                      [Ct(commit=True, table=15, zone_src=SubField("reg11", 0, 16),
                          actions=(Nat("dst", ip("172.16.100.10")),))])
    assert built == parse_flow(ARTICLE_DNAT)
    assert format_flow(built) == ARTICLE_DNAT


def test_make_flow_accepts_aliases_masks_and_xreg() -> None:
    flow = make_flow(0, 5, {"eth_src": mac("00:00:00:00:00:01"), "xreg4": (0x10, 0x10)}, [])
    assert flow.match_dict() == {"dl_src": (1, 2**48 - 1), "reg9": (0x10, 0x10)}
    assert format_flow(flow) == "priority=5,reg9=0x10/0x10,dl_src=00:00:00:00:00:01 actions=drop"


def test_dump_flows_line_with_stats() -> None:
    line = (" cookie=0xa1b2, duration=12.345s, table=8, n_packets=3, n_bytes=294, "
            "idle_age=4, priority=50,reg14=0x2,metadata=0x1 actions=resubmit(,9)")
    parsed = parse_flow_full(line)
    assert parsed.stats == FlowStats(12.345, 3, 294, 4, None)
    assert parsed.flow.cookie == 0xA1B2 and parsed.flow.table == 8
    assert format_flow(parsed.flow, parsed.stats) == line.strip()
    assert format_flow(parsed.flow) == ("cookie=0xa1b2, table=8, priority=50,reg14=0x2,"
                                        "metadata=0x1 actions=resubmit(,9)")


def test_table_zero_default_priority_and_empty_match() -> None:
    flow = parse_flow("actions=NORMAL")
    assert flow == Flow(actions=flow.actions)
    assert format_flow(flow) == "actions=NORMAL"
    assert format_flow(flow, FlowStats()) == (
        "cookie=0x0, duration=0s, table=0, n_packets=0, n_bytes=0, idle_age=0, actions=NORMAL")


@pytest.mark.parametrize("text,printed", [
    ("ip,actions=set_field:fa:16:3e:00:00:01->eth_dst", "ip actions=mod_dl_dst:fa:16:3e:00:00:01"),
    ("actions=set_field:0x5/0x5->reg10", "actions=load:0x1->NXM_NX_REG10[0],load:0x1->NXM_NX_REG10[2]"),
    ("actions=set_field:0x10003->tun_metadata0", "actions=set_field:0x10003->tun_metadata0"),
    ("actions=goto_table:9", "actions=resubmit(,9)"),
    ("ip,actions=mod_nw_ttl:5", "ip actions=load:0x5->NXM_NX_IP_TTL[]"),
    ("actions=output:65534,in_port", "actions=LOCAL,IN_PORT"),
    ("actions=controller", "actions=CONTROLLER:65535"),
    ("actions=note:01", "actions=note:01.00.00.00.00.00"),
    ("ct_state=0x21,actions=drop", "ct_state=new|trk actions=drop"),
    ("tcp,tcp_flags=0x012,actions=drop", "tcp,tcp_flags=syn|ack actions=drop"),
    ("dl_vlan=5,actions=drop", "dl_vlan=5 actions=drop"),
    ("ip,nw_frag=later,actions=drop", "ip,nw_frag=later actions=drop"),
    ("dl_type=0x88cc,actions=drop", "dl_type=0x88cc actions=drop"),
    ("ip,nw_proto=89,actions=drop", "ip,nw_proto=89 actions=drop"),
    ("arp,arp_op=2,actions=drop", "arp,arp_op=2 actions=drop"),
    ("ip,actions=ct(commit,nat(src=0.0.0.0))", "ip actions=ct(commit,nat(src))"),
    ("actions=bundle(eth_src,0,active_backup,ofport,slaves:2,3)",
     "actions=bundle(eth_src,0,active_backup,ofport,members:2,3)"),
    ("icmp6,actions=set_field:129->icmpv6_type", "icmp6 actions=load:0x81->NXM_NX_ICMPV6_TYPE[]"),
    ("actions=bundle(eth_src, 0, hrw, ofport, members:2)",
     "actions=bundle(eth_src,0,hrw,ofport,members:2)"),
])
def test_normalisation_matches_ovs_ofctl(text: str, printed: str) -> None:
    assert format_flow(parse_flow(text)) == printed


@pytest.mark.parametrize("text,message", [
    ("foo=1,actions=drop", "unknown keyword foo"),
    ("actions=frob", "unknown action frob"),
    ("reg0=xyz,actions=drop", "xyz: bad syntax for reg0 value"),
    ("ip", "must specify an action"),
    ("actions=resubmit(,300)", "300: resubmit to unknown table"),
    ("in_port=foo,actions=drop", "foo: invalid or unknown port for in_port"),
    ("actions=conjunction(1,1/2),output:1", "\"conjunction\" actions may be used"),
    ("actions=load:0x1ff->NXM_NX_REG0[0..7]", "value 0x1ff does not fit into 8 bits"),
    ("actions=set_field:0x1->ct_mark", "cannot set CT fields outside of ct action"),
    ("ip,actions=ct(nat(dst=10.0.0.1))", "CT action requires commit flag"),
    ("nw_dst=10.0.0.1,actions=drop", "prerequisites not met"),
    ("ct_zone=0x5/0xff,actions=drop", "invalid mask for field ct_zone"),
    ("reg1=1,reg1=2,actions=drop", "field reg1 set multiple times"),
    ("actions=drop,output:1", "\"drop\" must not be accompanied"),
    ("actions=move:NXM_NX_REG0[]->NXM_NX_REG1[0..15]", "source field is 32 bits wide"),
    ("actions=ct(commit)", "OFPBAC_MATCH_INCONSISTENT"),
    ("udp,actions=set_field:5->tcp_dst", "OFPBAC_MATCH_INCONSISTENT"),
    ("actions=load:1->NXM_OF_ARP_OP[]", "OFPBAC_MATCH_INCONSISTENT"),
    ("actions=move:NXM_OF_IP_SRC[]->NXM_NX_REG0[]", "OFPBAC_MATCH_INCONSISTENT"),
    ("actions=clone(load:1->NXM_OF_ARP_OP[])", "OFPBAC_MATCH_INCONSISTENT"),
    ("icmp6,actions=load:0x81->NXM_OF_ICMP_TYPE[]", "OFPBAC_MATCH_INCONSISTENT"),
    ("icmp,actions=load:0x81->NXM_NX_ICMPV6_TYPE[]", "OFPBAC_MATCH_INCONSISTENT"),
    # ovs-ofctl's own words (lib/bundle.c bundle_parse)
    ("actions=bundle(eth_src,0,active_backup,ofport)",
     "eth_src,0,active_backup,ofport: not enough arguments to bundle action"),
    ("actions=bundle(foo,0,active_backup,ofport,members:2)", "unknown fields `foo'"),
    ("actions=bundle(eth_src,0,rr,ofport,members:2)", "unknown algorithm `rr'"),
    ("actions=bundle(eth_src,0,hrw,port,members:2)", "unknown member_type `port'"),
    ("actions=bundle(eth_src,0,hrw,ofport,mem:2)",
     "missing member delimiter, expected `members', got `mem'"),
])

def test_errors_read_like_ovs_ofctl(text: str, message: str) -> None:
    with pytest.raises(FlowError, match=None) as info:
        parse_flow(text)
    assert message in str(info.value)


def test_port_names_and_filters() -> None:
    ports = {"vm1-p": 7, "patch-br-int-to-br-ex": 2}
    flow = parse_flow("in_port=vm1-p,actions=output:patch-br-int-to-br-ex,resubmit(vm1-p,3)",
                      port_map=ports)
    assert flow.match_dict()["in_port"] == (7, 0xFFFF)
    assert format_flow(flow) == "in_port=7 actions=output:2,resubmit(7,3)"
    parsed = parse_flow_full("table=14,cookie=0x5/-1,out_port=7", port_map=ports)
    assert parsed.cookie_mask == 2**64 - 1 and parsed.out_port == 7 and not parsed.has_actions
    assert parse_match("icmp,nw_src=10.0.0.1") == parse_flow(
        "icmp,nw_src=10.0.0.1,actions=drop").match


def test_sub_field_and_xreg_names() -> None:
    flow = parse_flow("actions=load:0->OXM_OF_PKT_REG4[4],load:0x1->reg13,"
                      "move:NXM_NX_XXREG0[96..127]->NXM_NX_REG0[]")
    assert flow.actions[0] == Load(SubField("xreg4", 4, 1), 0)
    assert flow.actions[1] == Load(SubField("reg13", 0, 32), 1)
    assert format_flow(flow) == ("actions=load:0->OXM_OF_PKT_REG4[4],load:0x1->NXM_NX_REG13[],"
                                 "move:NXM_NX_XXREG0[96..127]->NXM_NX_REG0[]")


def test_resubmit_and_mod_values() -> None:
    flow = parse_flow("tcp,actions=resubmit(,8),resubmit:3,mod_tp_dst:80,mod_nw_src:1.2.3.4")
    assert flow.actions == (Resubmit(None, 8), Resubmit(3, None), Mod("tp_dst", 80),
                            Mod("nw_src", ip("1.2.3.4")))


@pytest.mark.parametrize("text", [
    "actions=mod_nw_src:1.2.3.4", "ip,actions=mod_tp_dst:80", "arp,actions=dec_ttl",
    "arp,actions=load:1->NXM_OF_ARP_OP[]", "tcp,actions=set_field:5->tcp_dst",
])
def test_legacy_actions_without_prerequisites_are_accepted(text: str) -> None:
    assert parse_flow(text).actions
