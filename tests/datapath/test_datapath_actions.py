"""Action semantics, ports, tunnels, NORMAL, flow-mods and counters on one bridge."""

from __future__ import annotations

import pytest

from ovnlab.datapath import Bridge, ResubmitLoopError, TunnelMetadata, Vswitch
from ovnlab.flows import FlowStats, parse_flow
from ovnlab.packet import ETH_ARP, PROTO_ICMP, PROTO_UDP, Packet, ip, mac

VM_MAC, RTR_MAC = mac("fa:16:3e:11:11:10"), mac("fa:16:3e:00:01:01")


def icmp(src: str = "172.16.100.10", dst: str = "8.8.8.8", ttl: int = 64) -> Packet:
    return Packet(eth_src=VM_MAC, eth_dst=RTR_MAC, ip_src=ip(src), ip_dst=ip(dst),
                  ip_proto=PROTO_ICMP, ip_ttl=ttl, icmp_type=8, icmp_id=9, icmp_seq=1)


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def br() -> Bridge:
    b = Bridge("br-int", fail_mode="secure")
    b.add_port("vm1", external_ids={"iface-id": "vm_1"})  # ofport 1
    b.add_port("vm2")  # 2
    b.add_port("ovn-comp2-0", type="geneve",
               options={"csum": "true", "key": "flow", "remote_ip": "192.168.50.12"})  # 3
    return b


def run(b: Bridge, flows: list[str], packet: Packet, in_port: str = "vm1", **kw: object):  # type: ignore[no-untyped-def]
    for f in flows:
        b.add_flow(f)
    return b.process(packet, in_port, **kw)  # type: ignore[arg-type]


def test_load_move_subfields_and_xreg(br: Bridge) -> None:
    r = run(br, [
        "priority=1,actions=load:0x1234->NXM_NX_REG11[0..15],load:0x1->OXM_OF_PKT_REG4[4],"
        "move:NXM_NX_REG11[0..7]->NXM_NX_REG12[8..15],load:0xa->NXM_NX_XXREG0[96..127],"
        "set_field:0x5/0x5->reg10,controller(userdata=01.02)",
    ], icmp())
    (pin,) = r.packet_ins
    assert pin.regs[11] == 0x1234
    assert pin.regs[9] == 0x10  # xreg4 = reg8:reg9, bit 4 is reg9's bit 4
    assert pin.regs[12] == 0x3400
    assert pin.regs[0] == 0xA  # xxreg0[96..127] is reg0
    assert pin.regs[10] == 0x5
    assert pin.field("xreg4") == 0x10 and pin.userdata == b"\x01\x02"


def test_mod_actions_rewrite_the_output_packet(br: Bridge) -> None:
    r = run(br, ["ip,actions=mod_dl_src:fa:16:3e:9f:84:ff,mod_dl_dst:02:00:0a:00:02:02,"
                 "mod_nw_src:10.0.2.216,dec_ttl,output:2"], icmp())
    (out,) = r.outputs
    assert out.port == "vm2"
    assert out.packet.eth_src == mac("fa:16:3e:9f:84:ff")
    assert out.packet.eth_dst == mac("02:00:0a:00:02:02")
    assert out.packet.ip_src == ip("10.0.2.216") and out.packet.ip_ttl == 63
    assert out.packet.icmp_id == 9 and out.packet.icmp_seq == 1  # untouched fields kept


def test_dscp_and_ecn_are_the_two_parts_of_the_tos_byte(br: Bridge) -> None:
    """ip_dscp lives in nw_tos's upper six bits, nw_ecn in its lower two (meta-flow's
    MFF_IP_DSCP_SHIFTED and MFF_IP_ECN), whether set whole or in part."""
    r = run(br, ["ip,nw_tos=40,actions=load:0x1->OXM_OF_IP_DSCP[0],load:0x3->NXM_NX_IP_ECN[],"
                 "output:2"], icmp().with_(ip_tos=40))
    (out,) = r.outputs
    assert out.packet.ip_tos == (11 << 2) | 3


def test_dec_ttl_expiry_drops_and_only_reports_when_asked(br: Bridge) -> None:
    r = run(br, ["ip,actions=dec_ttl,output:2"], icmp(ttl=1))
    assert r.outputs == () and r.packet_ins == ()
    br.add_flow("ip,actions=dec_ttl(0),output:2")
    r = br.process(icmp(ttl=1), "vm1")
    assert r.outputs == () and [p.reason for p in r.packet_ins] == ["invalid_ttl"]


def test_output_to_in_port_needs_in_port_action(br: Bridge) -> None:
    assert run(br, ["actions=output:1"], icmp()).outputs == ()
    br.add_flow("actions=IN_PORT")
    assert [o.port for o in br.process(icmp(), "vm1").outputs] == ["vm1"]
    br.add_flow("actions=LOCAL")
    assert [o.port for o in br.process(icmp(), "vm1").outputs] == ["br-int"]


def test_resubmit_with_port_restores_in_port_and_continues(br: Bridge) -> None:
    r = run(br, [
        "table=0,in_port=1,actions=resubmit(2,5),output:2",
        "table=5,in_port=2,actions=load:0x7->NXM_NX_REG0[],output:3",
    ], icmp())
    assert [o.port for o in r.outputs] == ["ovn-comp2-0", "vm2"]


def test_resubmit_loops_raise_a_clear_error(br: Bridge) -> None:
    with pytest.raises(ResubmitLoopError, match="over max translation depth 64"):
        run(br, ["table=0,actions=resubmit(,1)", "table=1,actions=resubmit(,0)"], icmp())
    br2 = Bridge("br-x")
    br2.add_port("p")
    # Wide, shallow fan-out: depth stays low but the total exceeds OVS's 4096 resubmits.
    fan = ",".join(["resubmit(,1)"] * 20)
    br2.add_flows([f"table={t},actions={fan.replace('(,1)', f'(,{t + 1})')}"
                   for t in range(4)])
    with pytest.raises(ResubmitLoopError, match="4096 resubmit"):
        br2.process(icmp(), "p")


def test_clone_runs_on_a_copy(br: Bridge) -> None:
    r = run(br, ["actions=clone(mod_dl_dst:00:00:00:00:00:09,output:2),output:3"], icmp())
    assert [(o.port, o.packet.eth_dst) for o in r.outputs] == [("vm2", 9), ("ovn-comp2-0", RTR_MAC)]


def test_push_pop_and_note(br: Bridge) -> None:
    r = run(br, ["actions=load:0x5->NXM_NX_REG0[],push:NXM_NX_REG0[],load:0->NXM_NX_REG0[],"
                 "pop:NXM_NX_REG1[],note:aa,controller"], icmp())
    assert r.packet_ins[0].regs[:2] == (0, 5)


def test_geneve_metadata_in_and_out(br: Bridge) -> None:
    r = run(br, [
        "table=0,in_port=3,tun_id=0x3,tun_metadata0=0x10003,actions="
        "move:NXM_NX_TUN_METADATA0[0..15]->NXM_NX_REG15[0..15],resubmit(,1)",
        "table=1,reg15=0x3,actions=set_field:0x1->tun_id,set_field:0x20004->tun_metadata0,"
        "output:3",
    ], icmp(), in_port="ovn-comp2-0",
        tunnel=TunnelMetadata(tun_id=3, tun_src=ip("192.168.50.1"), tun_dst=ip("192.168.50.11"),
                              tun_metadata0=0x10003))
    assert r.outputs == ()  # output to the input port is skipped
    br.add_flow("table=1,reg15=0x3,actions=set_field:0x1->tun_id,"
                "set_field:0x20004->tun_metadata0,output:3")
    r = br.process(icmp(), "vm1", table=1, regs={"reg15": 3})
    (out,) = r.outputs
    assert out.tunnel == TunnelMetadata(1, 0, ip("192.168.50.12"), 0x20004)


def test_normal_learns_and_floods() -> None:
    b = Bridge("br-ex")
    for name in ("eth0", "patch-provnet"):
        b.add_port(name, type="system" if name == "eth0" else "patch")
    b.add_flow("priority=0,actions=NORMAL")
    a_mac, b_mac = mac("02:00:0a:00:02:02"), mac("fa:16:3e:9f:84:ff")
    bcast = Packet(eth_src=b_mac, eth_dst=0xFFFFFFFFFFFF, eth_type=ETH_ARP, arp_op=1)
    r = b.process(bcast, "patch-provnet")
    assert sorted(o.port for o in r.outputs) == ["br-ex", "eth0"]
    unknown = Packet(eth_src=a_mac, eth_dst=mac("02:00:00:00:00:99"))
    assert sorted(o.port for o in b.process(unknown, "eth0").outputs) == ["br-ex",
                                                                          "patch-provnet"]
    reply = Packet(eth_src=a_mac, eth_dst=b_mac)
    assert [o.port for o in b.process(reply, "eth0").outputs] == ["patch-provnet"]


def test_conjunction_matches_when_all_clauses_match(br: Bridge) -> None:
    br.add_flows([
        "priority=100,ip,nw_src=172.16.100.10,actions=conjunction(7,1/2)",
        "priority=100,ip,nw_src=172.16.100.11,actions=conjunction(7,1/2)",
        "priority=100,ip,nw_dst=8.8.8.8,actions=conjunction(7,2/2)",
        "priority=100,conj_id=7,ip,actions=output:2",
        "priority=1,actions=output:3",
    ])
    assert [o.port for o in br.process(icmp(), "vm1").outputs] == ["vm2"]
    assert [o.port for o in br.process(icmp(dst="1.1.1.1"), "vm1").outputs] == ["ovn-comp2-0"]
    assert [o.port for o in br.process(icmp(src="172.16.100.11"), "vm1").outputs] == ["vm2"]


def test_flow_mods_strict_non_strict_and_cookies(br: Bridge) -> None:
    br.add_flows([
        "table=14,priority=100,cookie=0x1,ip,reg14=0x1,metadata=0x3,actions=drop",
        "table=14,priority=90,cookie=0x2,ip,reg14=0x1,metadata=0x4,actions=drop",
        "table=15,priority=100,cookie=0x1,ip,actions=drop",
    ])
    assert br.del_flows("table=14,ip,reg14=0x1", strict=True) == 0
    assert br.del_flows("cookie=0x2/-1") == 1
    assert br.n_flows == 2
    assert br.mod_flows("table=14,ip,reg14=0x1,actions=output:2") == 1
    assert br.flows(14)[0].actions == parse_flow("actions=output:2").actions
    assert br.del_flows("table=14,priority=100,ip,reg14=0x1,metadata=0x3", strict=True) == 1
    assert br.del_flows() == 1 and br.n_flows == 0


def test_counters_durations_and_replace_flows() -> None:
    clock = Clock()
    vs = Vswitch("compute1", clock=clock)
    b = vs.add_bridge("br-int")
    b.add_port("vm1")
    b.add_flow("table=0,priority=5,actions=resubmit(,1)")
    b.add_flow("table=1,priority=5,actions=drop")
    clock.t = 10.0
    b.process(icmp(), "vm1")
    clock.t = 12.5
    (e0, e1) = b.entries()
    assert b.stats(e0) == FlowStats(12.5, 1, 42, 2, 12)
    # A flow re-added identically keeps its counters; replace_flows keeps unchanged ones.
    b.add_flow("table=0,priority=5,actions=resubmit(,1)")
    assert b.entries()[0].n_packets == 1
    added, removed = b.replace_flows([parse_flow("table=0,priority=5,actions=resubmit(,1)"),
                                      parse_flow("table=2,priority=1,actions=drop")])
    assert (added, removed) == (1, 1)
    assert [e.n_packets for e in b.entries()] == [1, 0]
    assert b.dump_flows("table=0")[0].startswith(
        " cookie=0x0, duration=12.500s, table=0, n_packets=1, n_bytes=42, idle_age=2, "
        "hard_age=0, priority=5 actions=resubmit(,1)")


def test_udp_payload_size_counts_bytes(br: Bridge) -> None:
    p = Packet(ip_src=1, ip_dst=2, ip_proto=PROTO_UDP, tp_src=1, tp_dst=2, payload=b"x" * 10)
    run(br, ["actions=drop"], p)
    assert br.entries()[0].n_bytes == len(p.to_bytes())


def test_trace_renders_like_ofproto_trace(br: Bridge) -> None:
    r = run(br, ["table=0,in_port=1,cookie=0xabc,actions=load:0x1->NXM_NX_REG14[],"
                 "resubmit(,8)",
                 "table=8,reg14=0x1,priority=50,actions=mod_dl_src:fa:16:3e:9f:84:ff,output:2"],
            icmp())
    text = r.trace.render()  # type: ignore[union-attr]
    assert 'bridge("br-int")\n----------------\n' in text
    assert " 0. in_port=1, priority 32768, cookie 0xabc\n    load:0x1->NXM_NX_REG14[]\n" in text
    assert " 8. reg14=0x1, priority 50\n    mod_dl_src:fa:16:3e:9f:84:ff\n    output:2\n" in text
    assert "Datapath actions: set(eth(src=fa:16:3e:9f:84:ff)),2\n" in text
    assert r.trace.tables == [0, 8]  # type: ignore[union-attr]


def test_ct_clear_and_controller_pause(br: Bridge) -> None:
    r = run(br, [
        "table=0,ip,actions=ct(table=1,zone=3)",
        "table=1,ct_state=+trk,ip,actions=ct_clear,resubmit(,2)",
        "table=2,ct_state=-trk,ip,actions=controller(userdata=00.00.00.0c,pause)",
    ], icmp())
    (pin,) = r.packet_ins
    assert pin.pause and pin.table == 2 and pin.field("ct_zone") == 0
    assert pin.bridge == "br-int" and pin.in_port == "vm1"


def test_controller_resume_with_regs(br: Bridge) -> None:
    br.add_flow("table=9,reg14=0x1,metadata=0x3,actions=output:2")
    r = br.process(icmp(), "vm1", table=9, regs={"reg14": 1, "metadata": 3})
    assert [o.port for o in r.outputs] == ["vm2"]
    assert [o.port for o in br.process(icmp(), "vm1", table=9,
                                       regs=[0] * 14 + [1]).outputs] == []


def test_vlan_actions(br: Bridge) -> None:
    tagged = icmp().with_(vlan_tci=0x1000)
    r = run(br, ["in_port=1,dl_vlan=0,actions=strip_vlan,output:2",
                 "in_port=1,vlan_tci=0x0000,actions=mod_vlan_vid:7,mod_vlan_pcp:3,output:2"],
            tagged)
    assert [o.packet.vlan_tci for o in r.outputs] == [0]
    r = br.process(icmp(), "vm1")
    assert [o.packet.vlan_tci for o in r.outputs] == [0x1000 | 7 | 3 << 13]


def test_timeouts_expire_on_the_clock() -> None:
    clock = Clock()
    b = Bridge("br-int", clock=clock)
    b.add_port("vm1")
    b.add_flow("priority=5,idle_timeout=10,actions=drop")
    b.add_flow("priority=4,hard_timeout=30,actions=drop")
    clock.t = 8.0
    b.process(icmp(), "vm1")  # refreshes the idle flow
    clock.t = 17.0
    assert b.n_flows == 2 and len(b.dump_flows()) == 2
    clock.t = 18.5
    assert [f.priority for f in b.flows()] == [4]
    clock.t = 30.0
    b.process(icmp(), "vm1")
    assert b.n_flows == 0


def test_ip_rewrites_are_no_ops_on_other_packets(br: Bridge) -> None:
    arp = Packet(eth_type=ETH_ARP, arp_op=1, arp_spa=ip("10.0.0.1"))
    r = run(br, ["actions=mod_nw_src:1.2.3.4,mod_tp_dst:80,dec_ttl,output:2"], arp)
    (out,) = r.outputs
    assert out.packet == arp


def test_trace_nests_non_tail_resubmits(br: Bridge) -> None:
    r = run(br, ["table=0,actions=resubmit(,1),output:2",
                 "table=1,actions=load:0x1->NXM_NX_REG0[],resubmit(,2)",
                 "table=2,actions=output:3"], icmp())
    text = r.trace.render()  # type: ignore[union-attr]
    assert (" 0. priority 32768\n"
            "    resubmit(,1)\n"
            "     1. priority 32768\n"
            "        load:0x1->NXM_NX_REG0[]\n"
            "        resubmit(,2)\n"
            "     2. priority 32768\n"
            "        output:3\n"
            "         -> output to ovn-comp2-0\n"
            "    output:2\n") in text


def test_bundle_active_backup_takes_the_first_member_that_forwards(br: Bridge) -> None:
    """OVN's HA output: bundle(eth_src,0,active_backup,ofport,members:...) goes out of the
    first member whose BFD says forwarding; with none, the packet is dropped."""
    br.add_flow("actions=bundle(eth_src,0,active_backup,ofport,members:3,2)")
    assert [o.port for o in br.process(icmp(), "vm1").outputs] == ["ovn-comp2-0"]
    br.ports["ovn-comp2-0"].bfd_status["forwarding"] = "false"
    assert [o.port for o in br.process(icmp(), "vm1").outputs] == ["vm2"]
    br.ports["vm2"].bfd_status["forwarding"] = "false"
    assert br.process(icmp(), "vm1").outputs == ()
    br.ports["ovn-comp2-0"].bfd_status["forwarding"] = "true"
    assert [o.port for o in br.process(icmp(), "vm1").outputs] == ["ovn-comp2-0"]
