"""`ovnlab trace`: one packet's journey, chassis by chassis."""

from __future__ import annotations

from typing import Any

import pytest
from fabric_fakes import (
    FakeBridge,
    FakeController,
    FakeFlow,
    FakeResult,
    FakeStep,
    FakeVswitch,
    fip_lab,
    teach_extnet,
    tunnel_lab,
)

from ovnlab.errors import BadRequest, NotFound
from ovnlab.fabric import Fabric, trace
from ovnlab.packet import Packet, ip

World = tuple[Fabric, dict[str, FakeVswitch], dict[str, FakeController]]
LFLOWS = {0x43: "lr_out_snat priority 161: ct_snat(10.0.2.216) [NB NAT 10.0.2.216]",
          0x14: "lr_in_dnat priority 100: ct_dnat(172.16.100.10) [NB NAT 10.0.2.216]"}


def test_trace_vm_to_internet_shows_the_compute_node_doing_nat(seed_fabric: World) -> None:
    f, vswitches, _ = seed_fabric
    fip_lab(f, vswitches)
    teach_extnet(f)
    journey = trace.trace(f, "vm_1", "dns.google", "icmp", 0, LFLOWS.get)
    assert journey.disposition == "reply: echo reply from 8.8.8.8"
    assert journey.reply is not None and journey.reply.ip_ttl == 62
    bridges = [(h.chassis, h.where) for h in journey.hops if h.kind == "bridge"
               and h.packet.eth_type == 0x0800]
    assert bridges == [("compute1", "br-int"), ("compute1", "br-ex"),
                       ("compute1", "br-ex"), ("compute1", "br-int")]
    minimal = trace.render(journey, "minimal")
    assert ("vm_1:eth0 -> compute1:tap11111111-aa -> compute1:br-int -> compute1:br-ex"
            " -> compute1:eth0 -> extgw:eth0 -> extgw:eth1 -> google-dns:eth0"
            " -> google-dns (delivered)") in minimal
    summary = trace.render(journey, "summary")
    assert "nat: SNAT 172.16.100.10 -> 10.0.2.216 on compute1; " \
           "DNAT 10.0.2.216 -> 172.16.100.10 on compute1" in summary
    assert "chassis: compute1 (br-int, br-ex)" in summary
    assert "network (" not in summary  # the network node took no part (it saw only ARP)
    assert "lr_out_snat" not in summary
    detailed = trace.render(journey, "detailed")
    assert "table=43 ct(commit,nat(src=10.0.2.216))" in detailed
    assert "* lr_out_snat priority 161: ct_snat(10.0.2.216) [NB NAT 10.0.2.216]" in detailed


def test_trace_records_only_its_own_packets(seed_fabric: World) -> None:
    f, vswitches, _ = seed_fabric
    fip_lab(f, vswitches)
    f.clock.call_later(0.0001, f.node("exthost").stack.send,  # type: ignore[attr-defined]
                       Packet(ip_dst=ip("10.0.2.2"), ip_proto=1, icmp_type=8, icmp_id=999,
                              icmp_seq=1))
    journey = trace.trace(f, "vm_1", "8.8.8.8")
    assert all(h.packet.icmp_id != 999 for h in journey.hops)
    assert any(h.node == "exthost" for h in journey.hops)  # extgw's ARP broadcast is in it


def test_trace_tcp_and_udp_dispositions(seed_fabric: World) -> None:
    f, vswitches, _ = seed_fabric
    fip_lab(f, vswitches)
    assert trace.trace(f, "exthost", "10.0.2.216", "tcp", 22).disposition == \
        "port 22 open: SYN/ACK from 10.0.2.216"
    assert trace.trace(f, "exthost", "10.0.2.216", "tcp", 23).disposition == \
        "port 23 closed: RST from 10.0.2.216"
    assert trace.trace(f, "vm_1", "8.8.8.8", "udp", 53).disposition == \
        "ICMP port unreachable from 8.8.8.8"


def test_trace_reports_where_a_packet_was_dropped(seed_fabric: World) -> None:
    f, vswitches, _ = seed_fabric
    fip_lab(f, vswitches, host="compute2")  # nobody on compute1
    f.add_vm("vm_x", {"id": "33333333-cccc", "mac_address": "fa:16:3e:33:33:33",
                      "fixed_ips": [{"subnet_id": "sub-n1", "ip_address": "172.16.100.30"}]},
             "compute1")
    journey = trace.trace(f, "vm_x", "8.8.8.8")
    # nobody answered vm_x's ARP for its gateway: its own stack reports host unreachable
    assert journey.disposition == ("ICMP host unreachable from 172.16.100.30; "
                                   "dropped at br-int on compute1")
    assert "ARP who-has 172.16.100.1 tell 172.16.100.30" in trace.render(journey, "summary")


def test_trace_argument_errors(seed_fabric: World) -> None:
    f, _, _ = seed_fabric
    with pytest.raises(NotFound):
        trace.trace(f, "exthost", "nowhere.example")
    with pytest.raises(BadRequest):
        trace.trace(f, "exthost", "8.8.8.8", "tcp", 0)
    with pytest.raises(BadRequest):
        trace.trace(f, "exthost", "8.8.8.8", "sctp", 1)
    with pytest.raises(BadRequest):
        trace.render(trace.trace(f, "exthost", "8.8.8.8"), "verbose")


def test_trace_names_the_flow_that_dropped_the_packet(seed_fabric: World) -> None:
    f, vswitches, _ = seed_fabric
    fip_lab(f, vswitches)
    teach_extnet(f)
    acl = FakeStep("table=44 priority=2000 actions=drop", FakeFlow(0x44), table=44)

    def deny_ssh(b: FakeBridge, pkt: Packet, in_port: str, kw: dict[str, Any]) -> FakeResult | None:
        return FakeResult(trace=[acl]) if pkt.tp_dst == 22 else None

    vswitches["compute1"].bridges["br-int"].rules.insert(0, deny_ssh)
    journey = trace.trace(f, "exthost", "10.0.2.216", "tcp", 22,
                          {0x44: "ls_out_acl priority 2000: match=(1) action=(drop;)"}.get)
    assert journey.disposition == ("no reply: dropped at br-int on compute1 (table 44: "
                                   "ls_out_acl priority 2000: match=(1) action=(drop;))")
    assert "compute1:br-int (dropped)" in trace.render(journey, "minimal")


def test_trace_east_west_crosses_the_underlay_directly(seed_fabric: World) -> None:
    f, vswitches, _ = seed_fabric
    tunnel_lab(f, vswitches)
    journey = trace.trace(f, "vm_1", "vm_2")
    assert trace.render(journey, "minimal").splitlines()[1:3] == [
        "  vm_1:eth0 -> compute1:tap11111111-aa -> compute1:br-int -> compute1:eth1"
        " -> compute2:eth1 -> compute2:br-int -> compute2:tap22222222-bb -> vm_2:eth0"
        " -> vm_2 (delivered)",
        "  vm_2:eth0 -> compute2:tap22222222-bb -> compute2:br-int -> compute2:eth1"
        " -> compute1:eth1 -> compute1:br-int -> compute1:tap11111111-aa -> vm_1:eth0"
        " -> vm_1 (delivered)"]
    summary = trace.render(journey, "summary")
    assert ("tunnels: compute1 geneve vni 0x1 opt 0x10003 192.168.50.11 -> 192.168.50.12; "
            "compute2 geneve vni 0x1 opt 0x10003 192.168.50.12 -> 192.168.50.11") in summary
    assert "network" not in summary
