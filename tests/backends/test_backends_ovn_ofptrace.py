"""Reading real `ovs-appctl ofproto/trace` text (excerpts of OVS 2.17's answers in the real
lab): tables per bridge across recirculations and patch ports, and where the packet went."""

from __future__ import annotations

from ovnlab.backends.ovn.ofptrace import Exit, parse

TUNNEL = """\
Flow: icmp,in_port=4,vlan_tci=0x0000,dl_src=fa:16:3e:92:c5:9b,dl_dst=fa:16:3e:49:df:2c,nw_src=172.16.100.2,nw_dst=8.8.8.8,nw_tos=0,nw_ecn=0,nw_ttl=64,nw_frag=no,icmp_type=8,icmp_code=0

bridge("br-int")
----------------
15. ip,reg0=0x1/0x1,metadata=0x1, priority 100, cookie 0x8daa53c3
    ct(table=16,zone=NXM_NX_REG13[0..15])
    drop
     -> A clone of the packet is forked to recirculate. The forked pipeline will be resumed at table 16.

Final flow: unchanged
Megaflow: recirc_id=0,eth,icmp,in_port=4,nw_frag=no
Datapath actions: ct(zone=8),recirc(0x1)

===============================================================================
recirc(0x1) - resume conntrack with default ct_state=trk|new (use --ct-next to customize)
===============================================================================

Flow: recirc_id=0x1,ct_state=new|trk,ct_zone=8,eth,icmp,reg0=0x1,reg14=0x3,metadata=0x1,in_port=4,vlan_tci=0x0000,dl_src=fa:16:3e:92:c5:9b,dl_dst=fa:16:3e:49:df:2c,nw_src=172.16.100.2,nw_dst=8.8.8.8,nw_tos=0,nw_ecn=0,nw_ttl=64,nw_frag=no,icmp_type=8,icmp_code=0

bridge("br-int")
----------------
    thaw
        Resuming from table 16
32. metadata=0x2, priority 0, cookie 0xba539ef2
    set_field:0->reg15
    resubmit(,71)
    71. No match.
            drop
    resubmit(,33)
37. reg15=0x3,metadata=0x3, priority 100, cookie 0x4e634e5c
    set_field:0x3/0xffffff->tun_id
    set_field:0x3->tun_metadata0
    bundle(eth_src,0,active_backup,ofport,members:1,2)
     -> output to native tunnel
     -> tunneling to 192.168.50.1 via br-phy

bridge("br-phy")
----------------
 0. priority 0
    NORMAL
     -> forwarding to learned port

Final flow: unchanged
Datapath actions: ct(commit,zone=8,mark=0/0x1,nat(src)),set(eth(src=fa:16:3e:c3:09:0c,dst=02:00:0a:00:02:02)),set(ipv4(ttl=63)),tnl_push(tnl_port(6),header(size=58,type=5,eth(dst=d6:08:81:57:40:46,src=3a:4f:f3:48:62:46,dl_type=0x0800),ipv4(src=192.168.50.12,dst=192.168.50.1,proto=17,tos=0,ttl=64,frag=0x4000),udp(src=0,dst=6081,csum=0xffff),geneve(crit,vni=0x3,options({class=0x102,type=0x80,len=4,0x10003}))),out_port(2)),1
"""

PROVIDER = """\
Flow: icmp,in_port=1,vlan_tci=0x0000,dl_src=02:00:0a:00:02:02,dl_dst=fa:16:3e:fd:78:08,nw_src=8.8.8.8,nw_dst=10.0.2.211,nw_tos=0,nw_ecn=0,nw_ttl=64,nw_frag=no,icmp_type=0,icmp_code=0

bridge("br-ex")
---------------
 0. priority 0
    NORMAL
     -> forwarding to learned port

    bridge("br-int")
    ----------------
     0. in_port=4,vlan_tci=0x0000/0x1000, priority 100, cookie 0xbf319183
        set_field:0x3->metadata
        resubmit(,8)
    14. ip,reg14=0x2,metadata=0x3,nw_dst=10.0.2.211, priority 100, cookie 0xa1b69633
        ct(commit,table=15,zone=NXM_NX_REG11[0..15],nat(dst=172.16.100.10))
        nat(dst=172.16.100.10)

Final flow: unchanged
Datapath actions: ct(commit,zone=5,nat(dst=172.16.100.10)),recirc(0x2)

===============================================================================
recirc(0x2) - resume conntrack with default ct_state=trk|new (use --ct-next to customize)
===============================================================================

Flow: recirc_id=0x2,ct_state=new|trk,eth,icmp,metadata=0x1,in_port=1,vlan_tci=0x0000,dl_src=02:00:0a:00:02:02,dl_dst=fa:16:3e:fd:78:08,nw_src=8.8.8.8,nw_dst=10.0.2.211,nw_tos=0,nw_ecn=0,nw_ttl=64,nw_frag=no,icmp_type=0,icmp_code=0

bridge("br-ex")
---------------
    thaw
        Resuming from table 15
65. reg15=0x1,metadata=0x1, priority 100, cookie 0x11716422
    output:3

Final flow: unchanged
Datapath actions: set(eth(src=fa:16:3e:49:df:2c,dst=fa:16:3e:a6:e3:4d)),set(ipv4(ttl=63)),7
"""


def test_a_tunnel_exit_carries_the_vni_and_ovns_option() -> None:
    t = parse(TUNNEL)
    assert t.exit is Exit.TUNNEL and t.tunnel is not None
    assert (t.tunnel.vni, t.tunnel.option, t.tunnel.remote_ip) == (3, 0x10003, "192.168.50.1")
    # the inner packet as it leaves: the router's MACs and TTL from the datapath actions
    assert t.proto == "icmp"
    assert t.packet["dl_src"] == "fa:16:3e:c3:09:0c" and t.packet["dl_dst"] == "02:00:0a:00:02:02"
    assert t.packet["nw_ttl"] == "63" and t.packet["nw_src"] == "172.16.100.2"
    assert [(s.bridge, s.table) for s in t.steps] == [
        ("br-int", 15), ("br-int", 32), ("br-int", 71), ("br-int", 37), ("br-phy", 0)]


def test_summary_actions_leave_out_forks_and_failed_lookups() -> None:
    steps = {s.table: s for s in parse(TUNNEL).steps}
    assert steps[15].notable() == []  # ct(table=16)'s `drop` ends the fork, not the packet
    assert steps[32].notable() == [] and steps[71].notable() == []
    assert "set_field:0x3/0xffffff->tun_id" in steps[37].notable()


def test_a_patch_port_nests_br_int_and_a_recirculation_resumes_there() -> None:
    t = parse(PROVIDER)
    assert [(s.bridge, s.table) for s in t.steps] == [
        ("br-ex", 0), ("br-int", 0), ("br-int", 14), ("br-int", 65)]
    assert t.exit is Exit.PORT and t.ports == (7,)
    # ofproto/trace's conntrack does not rewrite the flow: the DNAT is read from its action
    assert t.packet["nw_dst"] == "172.16.100.10"
    assert t.packet["dl_dst"] == "fa:16:3e:a6:e3:4d"


def test_a_packet_in_and_a_drop() -> None:
    controller = TUNNEL.replace(TUNNEL.splitlines()[-1], "Datapath actions: userspace(pid=0,"
                                "controller(reason=1,dont_send=1,continuation=0,recirc_id=6))")
    assert parse(controller).exit is Exit.CONTROLLER
    dropped = TUNNEL.replace(TUNNEL.splitlines()[-1], "Datapath actions: drop")
    assert parse(dropped).exit is Exit.DROP
