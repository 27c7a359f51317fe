"""Controller-side actions: packet-ins (arp, put_arp, icmp4) and GARPs."""

from __future__ import annotations

import shutil
import struct
import subprocess
from dataclasses import dataclass, field

import pytest
from ctl_seed import FIP, FIP_MAC, GW_IP, GW_MAC, VM_IP, VM_MAC, seed_lab

from ovnlab.controller.actions import OFTABLE_REMOTE_OUTPUT, EncodeParams, compile_actions
from ovnlab.flows import Controller as CtlAction
from ovnlab.packet import (
    ARP_REQUEST,
    ETH_ARP,
    PROTO_ICMP,
    PROTO_UDP,
    Packet,
    ip,
    ip_str,
    mac,
    mac_str,
)


@dataclass
class PacketIn:
    userdata: bytes
    packet: Packet
    table: int = 0
    regs: dict[str, int] = field(default_factory=dict)


def _userdata(actions: str, table: int = 17) -> bytes:
    ep = EncodeParams(ingress=True, cur_table=table, is_switch=False, lookup_port={}.get)
    acts, _ = compile_actions(actions, ep)
    ctl = next(a for a in acts if isinstance(a, CtlAction))
    return ctl.userdata


def test_arp_action_generates_request_and_resumes() -> None:
    lab = seed_lab()
    c1 = lab.controllers["compute1"]
    ud = _userdata("arp { eth.dst = ff:ff:ff:ff:ff:ff; arp.spa = reg1; arp.tpa = reg0; "
                   "arp.op = 1; output; };")
    pkt = Packet(eth_src=mac(FIP_MAC), eth_dst=0, ip_src=ip(VM_IP), ip_dst=ip("8.8.8.8"),
                 ip_proto=PROTO_ICMP, ip_ttl=63)
    regs = {"reg0": ip("10.0.2.2"), "reg1": ip(FIP), "metadata": 3, "reg14": 2, "reg15": 1}
    (out,) = c1.packet_in(PacketIn(ud, pkt, 25, regs))
    assert out.table == 37
    a = out.packet
    assert (a.eth_type, a.arp_op) == (ETH_ARP, ARP_REQUEST)
    assert (mac_str(a.eth_src), a.eth_dst) == (FIP_MAC, 0xFFFFFFFFFFFF)
    assert (ip_str(a.arp_spa), ip_str(a.arp_tpa), mac_str(a.arp_sha)) == (FIP, "10.0.2.2",
                                                                          FIP_MAC)
    assert out.regs is not None and out.regs["reg15"] == 1 and out.regs["metadata"] == 3


def test_put_arp_writes_and_updates_mac_binding() -> None:
    lab = seed_lab()
    c = lab.controllers["network"]
    ud = _userdata("put_arp(inport, arp.spa, arp.sha);", table=2)
    pkt = Packet(eth_src=mac("02:00:0a:00:02:02"), eth_type=ETH_ARP, arp_op=2)
    regs = {"metadata": 3, "reg14": 1, "reg0": ip("10.0.2.2")}
    assert c.packet_in(PacketIn(ud, pkt, 10, regs)) == []
    (row,) = lab.sb.rows("MAC_Binding")
    assert (row["logical_port"], row["ip"], row["mac"], row["datapath"]) == (
        "lrp-r-gw", "10.0.2.2", "02:00:0a:00:02:02", lab.u["r"])
    c.packet_in(PacketIn(ud, pkt.with_(eth_src=mac("02:00:0a:00:02:03")), 10, regs))
    (row,) = lab.sb.rows("MAC_Binding")
    assert row["mac"] == "02:00:0a:00:02:03"
    # every chassis with the router datapath now resolves 10.0.2.2 in table 66
    for ctl in lab.controllers.values():
        assert ("table=66, priority=100,reg0=0xa000202,reg15=0x1,metadata=0x3 "
                "actions=mod_dl_dst:02:00:0a:00:02:03,load:0x1->NXM_NX_REG10[6]"
                ) in ctl.dump_flows()


def _hold(c: object, n: int) -> list[Packet]:
    ud = _userdata("arp { eth.dst = ff:ff:ff:ff:ff:ff; arp.spa = reg1; arp.tpa = reg0; "
                   "arp.op = 1; output; };")
    sent = []
    for i in range(n):
        pkt = Packet(eth_src=mac(FIP_MAC), ip_src=ip(VM_IP), ip_dst=ip("8.8.8.8"),
                     ip_proto=PROTO_ICMP, icmp_type=8, icmp_seq=i, ip_ttl=63)
        regs = {"reg0": ip("10.0.2.77"), "reg1": ip(FIP), "metadata": 3, "reg14": 2,
                "reg15": 1}
        c.packet_in(PacketIn(ud, pkt, 25, regs))  # type: ignore[attr-defined]
        sent.append(pkt)
    return sent


def _learn(lab: object, port_key: int = 1) -> None:
    ud = _userdata("put_arp(inport, arp.spa, arp.sha);", 10)
    arp = Packet(eth_src=mac("02:00:0a:00:02:77"), eth_type=ETH_ARP, arp_op=2,
                 arp_spa=ip("10.0.2.77"), arp_sha=mac("02:00:0a:00:02:77"))
    regs = {"metadata": 3, "reg14": port_key, "reg0": ip("10.0.2.77")}
    lab.controllers["network"].packet_in(PacketIn(ud, arp, 10, regs))  # type: ignore[attr-defined]


def test_held_packets_keep_the_last_four_and_leave_with_the_learnt_mac() -> None:
    lab = seed_lab()
    c1 = lab.controllers["compute1"]
    sent = _hold(c1, 6)
    assert c1.take_ready() == []
    _learn(lab)
    released = c1.take_ready()
    assert [p.packet.icmp_seq for p in released] == [2, 3, 4, 5]
    assert {mac_str(p.packet.eth_dst) for p in released} == {"02:00:0a:00:02:77"}
    assert all(p.table == OFTABLE_REMOTE_OUTPUT for p in released)
    assert released[0].packet.with_(eth_dst=0) == sent[2].with_(eth_dst=0)


def test_held_packets_are_dropped_after_ten_seconds() -> None:
    lab = seed_lab()
    c1 = lab.controllers["compute1"]
    clock = [100.0]
    c1.clock = lambda: clock[0]
    _hold(c1, 1)
    clock[0] = 110.5
    c1.periodic(clock[0])
    _learn(lab)
    assert c1.take_ready() == []


def test_a_binding_already_there_releases_at_the_next_loop() -> None:
    lab = seed_lab()
    c1 = lab.controllers["compute1"]
    _learn(lab)
    c1.take_ready()
    _hold(c1, 1)  # the flows did not know the MAC yet; the SB does
    (out,) = c1.take_ready()
    assert mac_str(out.packet.eth_dst) == "02:00:0a:00:02:77"


def test_icmp4_error_time_exceeded() -> None:
    lab = seed_lab()
    c1 = lab.controllers["compute1"]
    ud = _userdata("icmp4 { eth.dst <-> eth.src; icmp4.type = 11; icmp4.code = 0; "
                   "ip4.dst = ip4.src; ip4.src = 172.16.100.1; ip.ttl = 255; next; };", 3)
    pkt = Packet(eth_src=mac(VM_MAC), eth_dst=mac("fa:16:3e:00:01:01"), ip_src=ip(VM_IP),
                 ip_dst=ip("8.8.8.8"), ip_proto=PROTO_ICMP, ip_ttl=1, icmp_type=8)
    (out,) = c1.packet_in(PacketIn(ud, pkt, 11, {"metadata": 3, "reg14": 2}))
    e = out.packet
    assert out.table == 12
    assert (e.icmp_type, e.icmp_code, e.ip_ttl) == (11, 0, 255)
    assert (ip_str(e.ip_src), ip_str(e.ip_dst)) == ("172.16.100.1", VM_IP)
    assert (mac_str(e.eth_src), mac_str(e.eth_dst)) == ("fa:16:3e:00:01:01", VM_MAC)
    # the header's unused word, then the whole invoking datagram (pinctrl_handle_icmp)
    assert (e.icmp_id, e.icmp_seq) == (0, 0)
    assert e.payload == pkt.to_bytes()[14:]
    assert (e.ip_id, e.ip_df) == (0, True)
    wire = e.to_bytes()
    assert len(wire) == 14 + 20 + 8 + len(pkt.to_bytes()) - 14  # no stray bytes ([|icmp])
    assert Packet.from_bytes(wire) == e


def test_icmp4_error_quotes_at_most_576_bytes_and_keeps_tos() -> None:
    lab = seed_lab()
    c1 = lab.controllers["compute1"]
    ud = _userdata("icmp4_error { eth.dst <-> eth.src; icmp4.type = 3; icmp4.code = 4; "
                   "ip4.dst = ip4.src; ip4.src = 172.16.100.1; ip.ttl = 255; next; };", 3)
    pkt = Packet(eth_src=mac(VM_MAC), eth_dst=mac("fa:16:3e:00:01:01"), ip_src=ip(VM_IP),
                 ip_dst=ip("8.8.8.8"), ip_proto=PROTO_UDP, ip_tos=0x10, tp_src=5, tp_dst=7,
                 payload=bytes(1400))
    (out,) = c1.packet_in(PacketIn(ud, pkt, 11, {"metadata": 3, "reg14": 2}))
    e = out.packet
    assert (e.icmp_type, e.icmp_code, e.ip_tos) == (3, 4, 0x10)
    assert len(e.to_bytes()) == 576
    assert e.payload == pkt.to_bytes()[14:14 + 576 - 42]


def test_garps_for_resident_nat_addresses_with_backoff() -> None:
    lab = seed_lab()
    sent: dict[str, list[float]] = {}
    for t in range(0, 40):
        for host, c in lab.controllers.items():
            for po in c.periodic(float(t)):
                p = po.packet
                sent.setdefault(f"{host} {mac_str(p.eth_src)} {ip_str(p.arp_spa)}", []).append(t)
                assert p.arp_spa == p.arp_tpa and p.eth_dst == 0xFFFFFFFFFFFF
                assert po.table == 8 and po.regs == {"metadata": 2, "reg14": 2}
    assert sent == {f"compute1 {FIP_MAC} {FIP}": [0, 1, 3, 7, 15],
                    f"network {GW_MAC} {GW_IP}": [0, 1, 3, 7, 15]}


def test_garp_follows_the_vm() -> None:
    lab = seed_lab()
    lab.controllers["compute1"].periodic(0.0)
    lab.vswitches["compute1"].bridges["br-int"].ports.pop("tap-vm1")
    lab.controllers["compute1"].run()
    lab.vswitches["compute2"].bridges["br-int"].add_port("tap-vm1",
                                                         external_ids={"iface-id": "vm_1"})
    lab.controllers["compute2"].run()
    assert lab.controllers["compute1"].periodic(1.0) == []
    (po,) = lab.controllers["compute2"].periodic(1.0)
    assert ip_str(po.packet.arp_spa) == FIP


@pytest.mark.oracle
@pytest.mark.skipif(shutil.which("ovs-ofctl") is None, reason="needs ovs-ofctl")
def test_nested_actions_are_valid_openflow15() -> None:
    """The userdata's nested actions decode with real OVS (as an OF1.5 packet-out)."""
    ud = _userdata("arp { eth.dst = ff:ff:ff:ff:ff:ff; arp.spa = reg1; arp.tpa = reg0; "
                   "arp.op = 1; reg9[4] = 1; eth.src <-> eth.dst; output; };")
    acts = ud[8:]
    match = struct.pack("!HHIIxxxx", 1, 12, 0x80000004, 0xFFFFFFFD)
    body = struct.pack("!IH2x", 0xFFFFFFFF, len(acts)) + match + acts
    msg = struct.pack("!BBHI", 6, 13, 8 + len(body), 1) + body
    r = subprocess.run(["ovs-ofctl", "ofp-print", msg.hex()], capture_output=True, text=True,
                       check=False)
    assert ("actions=set_field:ff:ff:ff:ff:ff:ff->eth_dst,move:NXM_NX_XXREG0[64..95]->"
            "NXM_OF_ARP_SPA[],move:NXM_NX_XXREG0[96..127]->NXM_OF_ARP_TPA[],set_field:1->arp_op,"
            "set_field:0x10/0x10->xreg4,push:NXM_OF_ETH_DST[],push:NXM_OF_ETH_SRC[],"
            "pop:NXM_OF_ETH_DST[],pop:NXM_OF_ETH_SRC[],resubmit(,37)") in r.stdout, r.stdout


def _dhcp_request(kind: int, requested: str | None, broadcast: bool = False) -> Packet:
    import struct as st

    mac_bytes = bytes.fromhex(VM_MAC.replace(":", ""))
    header = st.pack("!BBBBIHHIIII", 1, 1, 6, 0, 0x1234, 0, 0x8000 if broadcast else 0,
                     0, 0, 0, 0) + mac_bytes + b"\0" * 202
    opts = bytes([53, 1, kind])
    if requested is not None:
        opts += bytes([50, 4]) + ip(requested).to_bytes(4, "big")
    body = header + st.pack("!I", 0x63825363) + opts + b"\xff"
    return Packet(eth_src=mac(VM_MAC), eth_dst=0xFFFFFFFFFFFF, ip_src=0, ip_dst=0xFFFFFFFF,
                  ip_proto=PROTO_UDP, tp_src=68, tp_dst=67, payload=body)


_DHCP_ACTION = ("reg0[3] = put_dhcp_opts(offerip = 172.16.100.10, lease_time = 43200, "
                "router = 172.16.100.1, server_id = 172.16.100.1); next;")


@pytest.mark.parametrize(("kind", "requested", "answer", "yiaddr"), [
    (1, None, 2, VM_IP),  # DISCOVER -> OFFER
    (3, VM_IP, 5, VM_IP),  # REQUEST for the port's address -> ACK
    (3, "172.16.100.99", 6, "0.0.0.0"),  # REQUEST for another -> NAK
])
def test_put_dhcp_opts_answers_and_resumes_with_the_result_bit(
        kind: int, requested: str | None, answer: int, yiaddr: str) -> None:
    lab = seed_lab()
    c1 = lab.controllers["compute1"]
    ud = _userdata(_DHCP_ACTION, 19)
    (out,) = c1.packet_in(PacketIn(ud, _dhcp_request(kind, requested), 27,
                                   {"metadata": 1, "reg14": 1}))
    body = out.packet.payload
    assert out.table == 28 and out.regs is not None and out.regs["reg0"] & 8
    assert body[0] == 2 and body[240:243] == bytes([53, 1, answer])
    assert ip_str(int.from_bytes(body[16:20], "big")) == yiaddr
    assert ip_str(out.packet.ip_dst) == VM_IP  # unicast: no broadcast flag
    assert (51 in body[243:245]) == (answer != 6)  # a NAK carries no options


def test_put_dhcp_opts_broadcast_flag_and_bad_requests() -> None:
    lab = seed_lab()
    c1 = lab.controllers["compute1"]
    ud = _userdata(_DHCP_ACTION, 19)
    (out,) = c1.packet_in(PacketIn(ud, _dhcp_request(1, None, broadcast=True), 27,
                                   {"metadata": 1}))
    assert out.packet.ip_dst == 0xFFFFFFFF
    release = _dhcp_request(7, None)  # DHCPRELEASE: no answer, the result bit stays 0
    (out,) = c1.packet_in(PacketIn(ud, release, 27, {"metadata": 1}))
    assert out.packet == release and out.regs is not None and not out.regs.get("reg0", 0) & 8
