from __future__ import annotations

from ovnlab.datapath import Vswitch
from ovnlab.tools import ovs_appctl


def _vs() -> Vswitch:
    vs = Vswitch("compute1")
    br = vs.add_bridge("br-int")
    br.add_port("vm1-p")
    br.add_port("patch-br-int-to-provnet", type="patch")
    br.add_flows([
        "table=0,priority=100,in_port=1,actions=load:0x5->NXM_NX_REG11[],resubmit(,43)",
        "table=43,priority=161,ip,nw_src=172.16.100.10,actions=mod_dl_src:fa:16:3e:9f:84:ff,"
        "ct(commit,table=44,zone=NXM_NX_REG11[0..15],nat(src=10.0.2.216))",
        "table=44,priority=0,actions=dec_ttl,output:2",
    ])
    return vs


def test_ofproto_trace_with_port_names_and_recirculation() -> None:
    vs = _vs()
    res = ovs_appctl.run(vs, ["ofproto/trace", "br-int",
                              "in_port=vm1-p,icmp,dl_src=fa:16:3e:11:11:10,"
                              "dl_dst=fa:16:3e:00:01:01,nw_src=172.16.100.10,nw_dst=8.8.8.8,"
                              "icmp_type=8"])
    assert res.rc == 0, res.stderr
    text = res.stdout
    assert text.startswith("Flow: icmp,in_port=1,vlan_tci=0x0000,dl_src=fa:16:3e:11:11:10,")
    assert "43. ip,nw_src=172.16.100.10, priority 161\n" in text
    assert ("Datapath actions: set(eth(src=fa:16:3e:9f:84:ff)),ct(commit,zone=5,"
            "nat(src=10.0.2.216)),recirc(0x1)") in text
    assert "recirc(0x1) - resume conntrack with ct_state=new|trk|snat" in text
    assert "Datapath actions: set(ipv4(ttl=63)),2\n" in text


def test_dump_conntrack_and_errors() -> None:
    vs = _vs()
    ovs_appctl.run(vs, ["ofproto/trace", "br-int", "in_port=1,icmp,nw_src=172.16.100.10,"
                        "nw_dst=8.8.8.8,icmp_type=8"])
    out = ovs_appctl.run(vs, ["dpctl/dump-conntrack"]).stdout
    assert out == ("icmp,orig=(src=172.16.100.10,dst=8.8.8.8,id=0,type=8,code=0),"
                   "reply=(src=8.8.8.8,dst=10.0.2.216,id=0,type=0,code=0),zone=5\n")
    bad = ovs_appctl.run(vs, ["ofproto/trace", "br-foo", "in_port=1"])
    assert bad.rc == 2 and bad.stderr.startswith("br-foo: unknown bridge")
    assert ovs_appctl.run(vs, ["nope"]).rc == 2
