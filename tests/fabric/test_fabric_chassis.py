"""Chassis glue against a fake Open vSwitch: VIFs, patch ports, Geneve, packet-ins."""

from __future__ import annotations

from typing import Any

import pytest
from fabric_fakes import (
    FIP_MAC,
    VM1_MAC,
    VM2_MAC,
    FakeBridge,
    FakeController,
    FakeOutput,
    FakePacketOut,
    FakeResult,
    FakeVswitch,
    fip_lab,
    hub,
    patch,
    teach_extnet,
    tunnel_lab,
    vm_port,
)

from ovnlab.errors import NotFound
from ovnlab.fabric import Fabric
from ovnlab.packet import (
    ARP_REQUEST,
    BROADCAST,
    ETH_ARP,
    GENEVE_PORT,
    OVN_GENEVE_CLASS,
    PROTO_ICMP,
    PROTO_UDP,
    Packet,
    ip,
    mac,
)

World = tuple[Fabric, dict[str, FakeVswitch], dict[str, FakeController]]


def echo(dst: str, ident: int = 7) -> Packet:
    return Packet(ip_dst=ip(dst), ip_proto=PROTO_ICMP, icmp_type=8, icmp_id=ident, icmp_seq=1)


def replies(f: Fabric, node: str, ident: int = 7) -> list[Packet]:
    got: list[Packet] = []
    f.node(node).stack.icmp_sockets[ident] = lambda p, o: got.append(p)  # type: ignore[attr-defined]
    return got


def test_build_wires_the_seed_lab(seed_fabric: World) -> None:
    f, vswitches, _ = seed_fabric
    assert set(f.nodes) == {"network", "compute1", "compute2", "extgw", "google-dns", "exthost"}
    for host in ("network", "compute1", "compute2"):
        vs = vswitches[host]
        assert set(vs.bridges) == {"br-int", "br-ex"}
        assert vs.bridges["br-ex"].ports["eth0"].type == "system"
        assert vs.external_ids["ovn-bridge-mappings"] == "extnet0:br-ex"
        assert vs.external_ids["ovn-encap-type"] == "geneve"
        assert f.interface(host, "eth0").master == "ovs-system"
    assert f.node("compute1").stack.primary_ip("eth1") == ip("192.168.50.11")  # type: ignore[attr-defined]
    extnet = f.segments["extnet0"]
    assert {(i.node.name, i.name) for i in extnet.ports} == {
        ("network", "eth0"), ("compute1", "eth0"), ("compute2", "eth0"), ("extgw", "eth0"),
        ("exthost", "eth0")}
    assert len(f.segments["underlay"].ports) == 3
    assert f.resolve("dns.google") == ip("8.8.8.8") and f.resolve_name("8.8.8.8") == "dns.google"
    assert f.resolve_name(ip("10.0.2.100")) is None
    assert f.host_names() == ["extgw", "google-dns", "exthost"]


def test_add_vm_plugs_a_tap_with_the_iface_id_and_remove_unplugs(seed_fabric: World) -> None:
    f, vswitches, _ = seed_fabric
    port = vm_port("0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9", VM1_MAC, "172.16.100.10")
    vm = f.add_vm("vm_1", port, "compute1")
    tap = vswitches["compute1"].bridges["br-int"].ports["tap0a1b2c3d-4e"]
    assert tap.external_ids["iface-id"] == port["id"]
    assert tap.external_ids["attached-mac"] == VM1_MAC
    assert f.has_interface("compute1", "tap0a1b2c3d-4e") and f.has_interface("vm_1", "eth0")
    assert vm.stack.lookup_route(ip("8.8.8.8")).via == ip("172.16.100.1")
    assert f.resolve("vm_1") == ip("172.16.100.10")
    f.remove_vm("vm_1")
    assert "tap0a1b2c3d-4e" not in vswitches["compute1"].bridges["br-int"].ports
    assert not f.has_node("vm_1") and not f.has_interface("compute1", "tap0a1b2c3d-4e")
    with pytest.raises(NotFound):
        f.add_vm("vm_9", port, "nowhere")


def test_sync_vms_plugs_and_unplugs_like_nova(seed_fabric: World) -> None:
    f, _, _ = seed_fabric
    p1 = vm_port("11111111-aaaa", VM1_MAC, "172.16.100.10")
    p2 = vm_port("22222222-bbbb", VM2_MAC, "172.16.100.20")
    wanted: dict[str, Any] = {p1["id"]: ({"name": "vm_1"}, p1, "compute1"),
                              p2["id"]: ({"name": "vm_2"}, p2, "compute2")}
    assert f.sync_vms(wanted)
    assert not f.sync_vms(wanted)
    del wanted[p1["id"]]
    assert f.sync_vms(wanted)
    assert f.host_names()[-1:] == ["vm_2"] and not f.has_node("vm_1")


def test_geneve_carries_vm_traffic_between_chassis(seed_fabric: World) -> None:
    f, vswitches, _ = seed_fabric
    tunnel_lab(f, vswitches)
    got = replies(f, "vm_1")
    f.node("vm_1").stack.send(echo("172.16.100.20"))  # type: ignore[attr-defined]
    f.run_until_idle()
    assert len(got) == 1 and got[0].ip_src == ip("172.16.100.20")
    outer = [c.packet for c in f.interface("compute1", "eth1").captures
             if c.direction == "out" and c.packet.ip_proto == PROTO_UDP]
    first = outer[0]
    assert (first.ip_src, first.ip_dst, first.tp_dst) == (
        ip("192.168.50.11"), ip("192.168.50.12"), GENEVE_PORT)
    assert first.geneve is not None and first.geneve.vni == 1
    (opt,) = first.geneve.options
    assert (opt.cls, opt.type, opt.data) == (OVN_GENEVE_CLASS, 0x80, bytes.fromhex("00010003"))
    assert first.geneve.inner.eth_type == ETH_ARP  # vm_1's ARP for vm_2 crossed first
    assert Packet.from_bytes(first.to_bytes()) == first  # a real frame on the wire
    # the receiving br-int got the tunnel metadata of the sender
    kw = [k for _, port, k in vswitches["compute2"].bridges["br-int"].calls
          if port.startswith("ovn-")][0]
    md = kw["tunnel"]
    assert (md.tun_id, md.tun_src, md.tun_dst, md.tun_metadata0) == (
        1, ip("192.168.50.11"), ip("192.168.50.12"), 0x10003)
    # the underlay resolved its own next hop with ARP, and nothing touched the provider net
    assert any(c.packet.eth_type == ETH_ARP for c in f.interface("compute1", "eth1").captures)
    assert not f.interface("network", "eth1").captures[1:]  # only the broadcast ARP
    assert not f.interface("compute1", "eth0").captures


def test_geneve_from_an_unknown_chassis_is_dropped(seed_fabric: World) -> None:
    f, vswitches, _ = seed_fabric
    tunnel_lab(f, vswitches)
    del vswitches["compute2"].bridges["br-int"].ports["ovn-192.168.50.11"]
    f.node("vm_1").stack.send(echo("172.16.100.20"))  # type: ignore[attr-defined]
    f.run_until_idle()
    chassis = f.node("compute2")
    assert any("no tunnel port" in d for d in chassis.drops)  # type: ignore[attr-defined]
    assert not f.interface("vm_2", "eth0").captures


def test_geneve_input_follows_tunnel_ports_that_change_after_use(seed_fabric: World) -> None:
    """The port found for a remote is remembered; a port replaced, deleted or given
    another remote_ip (ovs-vsctl set) after traffic has crossed is noticed."""
    f, vswitches, _ = seed_fabric
    tunnel_lab(f, vswitches)
    br = vswitches["compute2"].bridges["br-int"]
    chassis = f.node("compute2")

    def ping_vm2() -> list[str]:
        got = replies(f, "vm_1")
        br.calls.clear()
        f.node("vm_1").stack.send(echo("172.16.100.20"))  # type: ignore[attr-defined]
        f.run_until_idle()
        assert len(got) <= 1
        return [port for _, port, _k in br.calls if port.startswith("ovn-")]

    assert set(ping_vm2()) == {"ovn-192.168.50.11"}
    br.del_port("ovn-192.168.50.11")
    br.add_port("ovn-c1-0", type="geneve", options={"remote_ip": "192.168.50.11", "key": "flow"})
    assert set(ping_vm2()) == {"ovn-c1-0"}
    br.ports["ovn-c1-0"].options["remote_ip"] = "192.168.50.99"  # rewritten in place
    drops = len(chassis.drops)  # type: ignore[attr-defined]
    assert ping_vm2() == []
    assert any("no tunnel port" in d for d in chassis.drops[drops:])  # type: ignore[attr-defined]
    br.add_port("ovn-any", type="geneve", options={"remote_ip": "flow", "key": "flow"})
    assert set(ping_vm2()) == {"ovn-any"}


def test_north_south_leaves_through_the_compute_nodes_own_eth0(seed_fabric: World) -> None:
    f, vswitches, _ = seed_fabric
    fip_lab(f, vswitches)
    teach_extnet(f)
    got = replies(f, "vm_1")
    f.node("vm_1").stack.send(echo("8.8.8.8"))  # type: ignore[attr-defined]
    f.run_until_idle()
    assert len(got) == 1 and got[0].ip_src == ip("8.8.8.8") and got[0].ip_ttl == 62
    icmp = [(c.direction, c.packet.ip_src, c.packet.ip_dst)
            for c in f.interface("compute1", "eth0").captures if c.packet.ip_proto == PROTO_ICMP]
    assert icmp == [("out", ip("10.0.2.216"), ip("8.8.8.8")),
                    ("in", ip("8.8.8.8"), ip("10.0.2.216"))]
    for other in ("network", "compute2"):
        assert all(c.packet.eth_type == ETH_ARP and c.packet.eth_dst == BROADCAST
                   for c in f.interface(other, "eth0").captures)
    assert not [c for c in f.interface("compute1", "eth1").captures if c.packet.geneve]


def test_external_host_reaches_the_fip_directly(seed_fabric: World) -> None:
    f, vswitches, _ = seed_fabric
    fip_lab(f, vswitches)
    got = replies(f, "exthost")
    f.node("exthost").stack.send(echo("10.0.2.216"))  # type: ignore[attr-defined]
    f.run_until_idle()
    assert len(got) == 1 and got[0].ip_src == ip("10.0.2.216")
    stack = f.node("exthost").stack  # type: ignore[attr-defined]
    assert stack.neighbours[("eth0", ip("10.0.2.216"))].mac == mac(FIP_MAC)


def test_packet_in_goes_to_the_controller_and_packet_out_is_resumed(seed_fabric: World) -> None:
    f, vswitches, controllers = seed_fabric
    br = vswitches["compute1"].bridges["br-int"]
    br.add_port("tapx", type="")
    resumed: list[dict[str, Any]] = []

    def rule(b: FakeBridge, pkt: Packet, in_port: str, kw: dict[str, Any]) -> FakeResult:
        if kw.get("table") == 5:
            resumed.append(kw)
            return FakeResult()
        return FakeResult(packet_ins=[type("PI", (), {"packet": pkt, "table": 9, "userdata": b"x"})()])

    br.rules.append(rule)
    controllers["compute1"].on_packet_in = lambda e: [FakePacketOut(e.packet, "tapx", 5, {"reg0": 1})]
    f.interface("compute1", "eth0")  # exists
    f.nodes["compute1"].inject(br, echo("1.2.3.4"), "tapx")  # type: ignore[attr-defined]
    f.run_until_idle()
    assert len(controllers["compute1"].events) == 1
    assert resumed == [{"table": 5, "regs": {"reg0": 1}}]


def test_controller_periodic_garps_reach_the_provider_network(seed_fabric: World) -> None:
    f, vswitches, controllers = seed_fabric
    vs = vswitches["compute1"]
    to_ex, _ = patch(vs, "br-int", "br-ex")
    vs.bridges["br-ex"].rules.append(hub)
    garp = Packet(eth_src=mac(FIP_MAC), eth_dst=BROADCAST, eth_type=ETH_ARP, arp_op=ARP_REQUEST,
                  arp_sha=mac(FIP_MAC), arp_spa=ip("10.0.2.216"), arp_tpa=ip("10.0.2.216"))
    controllers["compute1"].on_periodic = lambda now: [FakePacketOut(garp, output=to_ex)] \
        if now in (0.0, 2.0) else []
    f.run(3.5)
    assert controllers["compute1"].periodic_calls == [0.0, 1.0, 2.0, 3.0]
    seen = [c for c in f.interface("network", "eth0").captures if c.packet == garp]
    assert [c.time for c in seen] == pytest.approx([0.00005, 2.00005])
    assert all(c.direction == "in" for c in seen)


def test_packet_out_from_the_controller_port_uses_openflow_numbering(seed_fabric: World) -> None:
    f, vswitches, controllers = seed_fabric
    br = vswitches["compute2"].bridges["br-int"]
    garp = Packet(eth_src=mac(FIP_MAC), eth_dst=BROADCAST, eth_type=ETH_ARP)
    controllers["compute2"].on_periodic = lambda now: [FakePacketOut(garp, None, 8)] \
        if now == 0.0 else []
    f.run(0.5)
    assert [(p, port, kw) for p, port, kw in br.calls] == [(garp, 0xFFFD, {"table": 8})]


def test_datapath_translation_errors_drop_the_packet_not_the_lab(seed_fabric: World) -> None:
    from ovnlab.datapath import DatapathError

    f, vswitches, _ = seed_fabric
    br = vswitches["compute1"].bridges["br-int"]
    br.add_port("tapx")

    def explode(b: FakeBridge, pkt: Packet, in_port: str, kw: dict[str, Any]) -> FakeResult:
        raise DatapathError("br-int: over max translation depth 64")

    br.rules.append(explode)
    f.nodes["compute1"].inject(br, echo("1.2.3.4"), "tapx")  # type: ignore[attr-defined]
    assert f.nodes["compute1"].drops == [  # type: ignore[attr-defined]
        "translation error: br-int: over max translation depth 64"]


def test_storm_control_stops_a_forwarding_loop(seed_fabric: World) -> None:
    """Chassis whose br-ex send provider broadcasts back out of eth0 (a loop OVN's flows
    never make): the segment's storm control ends it instead of stalling the lab."""
    f, vswitches, _ = seed_fabric
    for host in ("network", "compute1", "compute2"):
        br = vswitches[host].bridges["br-ex"]
        br.rules.append(lambda b, pkt, in_port, kw: FakeResult([FakeOutput("eth0", pkt)]))
    f.interface("exthost", "eth0").send(Packet(
        eth_src=mac("02:00:0a:00:02:64"), eth_dst=BROADCAST, eth_type=ETH_ARP,
        arp_op=ARP_REQUEST, arp_spa=ip("10.0.2.100"), arp_tpa=ip("10.0.2.1")))
    assert f.run_until_idle(5.0)
    assert f.segments["extnet0"].storm_drops > 0
