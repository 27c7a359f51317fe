"""The fabric driving the real `ovnlab.datapath`: br-ex NORMAL between eth0 and a patch
port, OpenFlow output to a geneve port, and tunnel metadata on the receiving side."""

from __future__ import annotations

import pytest

from ovnlab import topology
from ovnlab.fabric import Fabric, trace
from ovnlab.packet import ETH_ARP, PROTO_ICMP, PROTO_UDP, ip

datapath = pytest.importorskip("ovnlab.datapath")

SUBNETS = {"provider": {"cidr": "10.0.2.0/24", "gateway_ip": "10.0.2.2"},
           "tenant": {"cidr": "172.16.100.0/24", "gateway_ip": "172.16.100.1"}}


def lab() -> tuple[Fabric, dict[str, object]]:
    topo = topology.load("seed")
    vswitches = {n.hostname: datapath.Vswitch(n.hostname) for n in topo.nodes}
    for vs in vswitches.values():
        vs.add_bridge("br-int", fail_mode="secure")
        vs.add_bridge("br-ex").add_flow("priority=0,actions=NORMAL")
    return Fabric.build(topo, vswitches, {}, subnets=SUBNETS.get), vswitches


def port(pid: str, mac: str, addr: str, subnet: str) -> dict[str, object]:
    return {"id": pid, "mac_address": mac, "fixed_ips": [{"subnet_id": subnet, "ip_address": addr}]}


def test_br_ex_normal_switches_between_eth0_and_the_patch_port() -> None:
    """A VM on the provider network (br-int just patches it through): NORMAL learns, so
    only broadcasts reach the other chassis."""
    f, vswitches = lab()
    vs = vswitches["compute1"]
    vm = f.add_vm("pvm", port("aaaaaaaa-1111", "fa:16:3e:00:00:50", "10.0.2.50", "provider"),
                  "compute1")
    br_int, br_ex = vs.bridges["br-int"], vs.bridges["br-ex"]  # type: ignore[attr-defined]
    br_int.add_port("patch-br-int-to-provnet", type="patch",
                    options={"peer": "patch-provnet-to-br-int"})
    br_ex.add_port("patch-provnet-to-br-int", type="patch",
                   options={"peer": "patch-br-int-to-provnet"})
    br_int.add_flow(f"in_port={vm.tap},actions=output:patch-br-int-to-provnet")
    br_int.add_flow(f"in_port=patch-br-int-to-provnet,actions=output:{vm.tap}")
    from ovnlab.tools import ping

    result = ping.run(f, "pvm", ["-c", "2", "dns.google"])
    assert result.rc == 0, result.stdout
    assert "64 bytes from dns.google (8.8.8.8): icmp_seq=2 ttl=63" in result.stdout
    icmp = [(c.direction, c.packet.ip_src) for c in f.interface("compute1", "eth0").captures
            if c.packet.ip_proto == PROTO_ICMP]
    assert icmp == [("out", ip("10.0.2.50")), ("in", ip("8.8.8.8"))] * 2
    for other in ("network", "compute2"):
        assert all(c.packet.eth_type == ETH_ARP for c in f.interface(other, "eth0").captures)
    # `tcpdump -i br-ex` sees what NORMAL flooded to the bridge's LOCAL port: broadcasts
    local = f.interface("compute1", "br-ex").captures
    assert local and all(c.direction == "in" and c.packet.eth_type == ETH_ARP for c in local)
    from ovnlab.tools import ip as ip_tool

    links = ip_tool.run(f, "compute1", ["link"]).stdout
    assert ": br-ex: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN mode DEFAULT" in links
    assert links.count(": br-ex:") == 1
    # the flows' counters moved
    assert "n_packets=6," in br_ex.dump_flows()[0]  # ARP request+reply, 2 echoes+replies
    journey = trace.trace(f, "pvm", "8.8.8.8")
    detailed = trace.render(journey, "detailed")
    assert 'bridge("br-ex")' in detailed and "NORMAL" in detailed
    assert journey.disposition == "reply: echo reply from 8.8.8.8"


def test_openflow_output_to_a_geneve_port_reaches_the_other_chassis() -> None:
    f, vswitches = lab()
    vm1 = f.add_vm("vm_1", port("11111111-aaaa", "fa:16:3e:11:11:10", "172.16.100.10", "tenant"),
                   "compute1")
    vm2 = f.add_vm("vm_2", port("22222222-bbbb", "fa:16:3e:11:11:20", "172.16.100.20", "tenant"),
                   "compute2")
    for host, tap, remote in (("compute1", vm1.tap, "192.168.50.12"),
                              ("compute2", vm2.tap, "192.168.50.11")):
        br = vswitches[host].bridges["br-int"]  # type: ignore[attr-defined]
        br.add_port("ovn-peer-0", type="geneve",
                    options={"remote_ip": remote, "key": "flow", "csum": "true"})
        br.add_flow(f"in_port={tap},actions=set_field:0x1->tun_id,"
                    "set_field:0x10003->tun_metadata0,output:ovn-peer-0")
        br.add_flow(f"in_port=ovn-peer-0,tun_id=0x1,actions=output:{tap}")
    from ovnlab.tools import ping

    assert ping.run(f, "vm_1", ["-c", "1", "172.16.100.20"]).rc == 0
    outer = [c.packet for c in f.interface("compute1", "eth1").captures
             if c.direction == "out" and c.packet.ip_proto == PROTO_UDP]
    assert outer and all(p.geneve is not None and p.geneve.vni == 1 for p in outer)
    assert outer[0].geneve is not None
    assert outer[0].geneve.options[0].data == bytes.fromhex("00010003")
    assert (outer[0].ip_src, outer[0].ip_dst) == (ip("192.168.50.11"), ip("192.168.50.12"))
