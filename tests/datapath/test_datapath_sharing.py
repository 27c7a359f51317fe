"""Bridges share compiled actions and subtable extractors, never their state."""

from __future__ import annotations

from ovnlab.datapath import Bridge
from ovnlab.packet import PROTO_ICMP, Packet, ip, mac

FLOWS = (
    "table=0,priority=100,in_port=1 actions=load:0x5->NXM_NX_REG13[],resubmit(,8)",
    "table=8,priority=50,ip,reg13=0x5,nw_dst=8.8.8.8 "
    "actions=mod_dl_dst:02:00:0a:00:02:02,clone(load:0x1->NXM_NX_REG0[]),output:2",
    "table=8,priority=0 actions=drop",
)


def chassis_bridge() -> Bridge:
    b = Bridge("br-int", fail_mode="secure")
    b.add_port("vm1")
    b.add_port("patch-br-int-to-br-ex")
    for f in FLOWS:
        b.add_flow(f)
    return b


def echo(dst: str) -> Packet:
    return Packet(eth_src=mac("fa:16:3e:11:11:10"), eth_dst=mac("fa:16:3e:00:01:01"),
                  ip_src=ip("172.16.100.10"), ip_dst=ip(dst), ip_proto=PROTO_ICMP,
                  icmp_type=8, icmp_id=1, icmp_seq=1)


def test_equal_flows_in_two_bridges_share_code_but_count_apart() -> None:
    a, b = chassis_bridge(), chassis_bridge()
    for ea, eb in zip(a.entries(), b.entries(), strict=True):
        assert ea.flow == eb.flow and ea is not eb
        assert ea.program is eb.program  # the same compiled closures
    for table in (0, 8):
        subs_a = {st.sig: st for st in a.tables[table].main._subtables.values()}
        subs_b = {st.sig: st for st in b.tables[table].main._subtables.values()}
        assert subs_a.keys() == subs_b.keys()
        for sig, st in subs_a.items():
            assert st.extract is subs_b[sig].extract and st is not subs_b[sig]
    ra = a.process(echo("8.8.8.8"), "vm1", trace=False)
    rb = b.process(echo("8.8.8.8"), "vm1", trace=False)
    assert [(o.port, o.packet) for o in ra.outputs] == [(o.port, o.packet) for o in rb.outputs]
    assert ra.outputs[0].port == "patch-br-int-to-br-ex"
    assert ra.outputs[0].packet.eth_dst == mac("02:00:0a:00:02:02")
    a.process(echo("1.1.1.1"), "vm1", trace=False)  # only a sees this one (and drops it)
    counts_a = [e.n_packets for e in a.entries()]
    counts_b = [e.n_packets for e in b.entries()]
    assert counts_a == [2, 1, 1] and counts_b == [1, 1, 0]
