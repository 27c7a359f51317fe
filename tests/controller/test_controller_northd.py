"""The controller on ovnlab's own northd output for the seed, on the real datapath."""

from __future__ import annotations

import dataclasses
import shutil
import subprocess

import pytest

from ovnlab.controller import Controller
from ovnlab.controller.ofctrl import dump_text
from ovnlab.datapath import Vswitch
from ovnlab.flows import format_actions
from ovnlab.flows.format import format_flow_mod
from ovnlab.northd import Northd
from ovnlab.northd.samples import SEED, seed_nb
from ovnlab.sb import new_sb
from ovnlab.topology import NodeSpec, load


def _vswitch(node: NodeSpec) -> Vswitch:
    vs = Vswitch(node.hostname)
    vs.external_ids.update(node.ovs_external_ids())
    return vs


def _lab(distributed: bool = True) -> tuple[dict[str, Controller], dict[str, Vswitch]]:
    topo = load("seed")
    nodes = [dataclasses.replace(n, system_id=c) for n, c in zip(topo.nodes, SEED.chassis,
                                                                   strict=True)]
    sb = new_sb()
    vs = {n.hostname: _vswitch(n) for n in nodes}
    ctl = {n.hostname: Controller(sb, vs[n.hostname]) for n in nodes}
    northd = Northd(seed_nb(distributed=distributed), sb)
    northd.run()
    vs["compute1"].bridges["br-int"].add_port("tap-vm1",
                                              external_ids={"iface-id": SEED.vm_port})
    ctl["compute1"].run()
    northd.run()
    return ctl, vs


def test_every_northd_flow_compiles_and_observation3_is_installed() -> None:
    ctl, vs = _lab()
    for c in ctl.values():
        assert c.errors == {}  # every lflow compiled
        assert c.install_errors == {}  # and the datapath took every flow
    # what the real datapath's `ovs-ofctl dump-flows br-int | grep 10.0.2.216 | grep nat` shows
    dumped = [line.split(", ", 1)[1] for line in
              vs["compute1"].bridges["br-int"].dump_flows(stats=False)
              if "10.0.2.216" in line and "nat" in line]
    assert ("table=14, priority=100,ip,reg14=0x2,metadata=0x3,nw_dst=10.0.2.216 actions=ct("
            "commit,table=15,zone=NXM_NX_REG11[0..15],nat(dst=172.16.100.10))") in dumped
    assert ("table=43, priority=161,ip,reg15=0x2,metadata=0x3,nw_src=172.16.100.10 actions="
            "mod_dl_src:fa:16:3e:9f:84:ff,ct(commit,table=44,zone=NXM_NX_REG11[0..15],"
            "nat(src=10.0.2.216))") in dumped
    assert not [f for f in ctl["network"].flows() if f.table == 43 and "10.0.2.216" in
                format_actions(f.actions)]
    assert vs["compute1"].bridges["br-ex"].dump_flows(stats=False) == [
        " priority=0 actions=NORMAL"]


def test_centralized_contrast_with_northd() -> None:
    ctl, _vs = _lab(distributed=False)
    def fip_snat(h: str) -> list[str]:
        return [dump_text(f) for f in ctl[h].flows() if f.table == 43
                and "nat(src=10.0.2.216)" in format_actions(f.actions)]
    assert fip_snat("network") and not fip_snat("compute1") and not fip_snat("compute2")


@pytest.mark.oracle
@pytest.mark.skipif(shutil.which("ovs-ofctl") is None, reason="needs ovs-ofctl")
def test_northd_dump_accepted_by_ovs_ofctl() -> None:
    ctl, _vs = _lab()
    texts = sorted({format_flow_mod(f) for c in ctl.values() for f in c.flows()})
    # one ovs-ofctl run per flow is slow; parse-flows reads a whole file
    r = subprocess.run(["ovs-ofctl", "parse-flows", "/dev/stdin"], input="\n".join(texts),
                       capture_output=True, text=True, check=False)
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("ADD") == len(texts)


@pytest.mark.parametrize("seed", range(3))
def test_incremental_equals_recompute_on_northd_changes(seed: int) -> None:
    """NB changes through northd (FIPs on and off, the VM moving) keep every chassis's
    incremental flow table equal to a full recompute, and br-int equal to that table."""
    import random

    from ovnlab.northd.samples import FIP_MAC
    rng = random.Random(seed)
    topo = load("seed")
    nodes = [dataclasses.replace(n, system_id=c) for n, c in zip(topo.nodes, SEED.chassis,
                                                                   strict=True)]
    sb = new_sb()
    vs = {n.hostname: _vswitch(n) for n in nodes}
    ctl = {n.hostname: Controller(sb, vs[n.hostname]) for n in nodes}
    nb = seed_nb()
    northd = Northd(nb, sb)
    northd.run()
    where = "compute1"
    vs[where].bridges["br-int"].add_port("tap-vm1", external_ids={"iface-id": SEED.vm_port})
    ctl[where].run()
    northd.run()
    for _ in range(8):
        op = rng.choice(["fip_off", "fip_on", "move"])
        router = nb.rows("Logical_Router")[0]
        fips = [r for r in nb.rows("NAT") if r["type"] == "dnat_and_snat"]
        if op == "fip_off" and fips:
            with nb.transaction() as txn:
                txn.update("Logical_Router", router.uuid,
                           nat=tuple(u for u in router["nat"] if u != fips[0].uuid))
                txn.delete("NAT", fips[0].uuid)
        elif op == "fip_on" and not fips:
            with nb.transaction() as txn:
                nat = txn.insert("NAT", type="dnat_and_snat", external_ip="10.0.2.216",
                                 logical_ip="172.16.100.10", logical_port=SEED.vm_port,
                                 external_mac=FIP_MAC)
                txn.update("Logical_Router", router.uuid, nat=(*router["nat"], nat.uuid))
        elif op == "move":
            vs[where].bridges["br-int"].del_port("tap-vm1")
            ctl[where].run()
            where = "compute2" if where == "compute1" else "compute1"
            vs[where].bridges["br-int"].add_port("tap-vm1",
                                                 external_ids={"iface-id": SEED.vm_port})
            ctl[where].run()
        northd.run()
        for h, c in ctl.items():
            inc = sorted(format_flow_mod(f) for f in c.flows())
            installed = set(vs[h].bridges["br-int"].flows())
            assert installed == set(c.flows()), (seed, op, h)
            c.recompute()
            assert inc == sorted(format_flow_mod(f) for f in c.flows()), (seed, op, h)


def test_vm_ping_leaves_compute_node_with_fip_on_real_datapath() -> None:
    """vm_1 → 8.8.8.8 on compute1: the controller ARPs for 10.0.2.2 from the FIP MAC, learns
    the reply (put_arp → MAC_Binding), then the ping leaves compute1's localnet SNATed."""
    from ovnlab.packet import ARP_REPLY, ETH_ARP, PROTO_ICMP, Packet, ip, ip_str, mac, mac_str
    ctl, vs = _lab()
    c1 = ctl["compute1"]
    br = vs["compute1"].bridges["br-int"]
    patch = next(n for n in br.ports if n.startswith("patch-br-int-to-provnet-"))
    ping = Packet(eth_src=mac("fa:16:3e:11:11:10"), eth_dst=mac("fa:16:3e:00:01:01"),
                  ip_src=ip("172.16.100.10"), ip_dst=ip("8.8.8.8"), ip_proto=PROTO_ICMP,
                  ip_ttl=64, icmp_type=8, icmp_id=7, icmp_seq=1)
    res = br.process(ping, "tap-vm1")
    assert not res.outputs and len(res.packet_ins) == 1
    (po,) = c1.packet_in(res.packet_ins[0])
    arp = po.packet
    assert (mac_str(arp.eth_src), ip_str(arp.arp_spa), ip_str(arp.arp_tpa)) == (
        "fa:16:3e:9f:84:ff", "10.0.2.216", "10.0.2.2")
    out = br.process(po.packet, po.in_port, table=po.table, regs=po.regs)
    assert [o.port for o in out.outputs] == [patch]
    gw_mac = mac("02:00:0a:00:02:02")
    reply = Packet(eth_src=gw_mac, eth_dst=arp.eth_src, eth_type=ETH_ARP, arp_op=ARP_REPLY,
                   arp_sha=gw_mac, arp_spa=ip("10.0.2.2"), arp_tha=arp.eth_src,
                   arp_tpa=ip("10.0.2.216"))
    learn = br.process(reply, patch)
    for pin in learn.packet_ins:
        assert c1.packet_in(pin) == []
    # the ping that triggered the ARP was buffered: the MAC_Binding the reply wrote
    # releases it at the output stage with the learnt MAC (pinctrl's buffered packets)
    (held,) = c1.take_ready()
    assert (held.table, mac_str(held.packet.eth_dst)) == (37, "02:00:0a:00:02:02")
    first = br.process(held.packet, held.in_port, table=held.table, regs=held.regs)
    assert [o.port for o in first.outputs] == [patch]
    assert ip_str(first.outputs[0].packet.ip_src) == "10.0.2.216"
    (mb,) = c1.sb.rows("MAC_Binding")
    assert (mb["ip"], mb["mac"]) == ("10.0.2.2", "02:00:0a:00:02:02")
    c1.run()  # its main loop wakes on the new MAC_Binding and installs the neighbour flow
    res = br.process(ping, "tap-vm1")
    assert [o.port for o in res.outputs] == [patch] and not res.packet_ins
    sent = res.outputs[0].packet
    assert (ip_str(sent.ip_src), mac_str(sent.eth_src), mac_str(sent.eth_dst), sent.ip_ttl) == (
        "10.0.2.216", "fa:16:3e:9f:84:ff", "02:00:0a:00:02:02", 63)
