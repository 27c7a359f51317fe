"""Conntrack states (ICMP echo, TCP handshake, UDP), zones, marks, NAT and timeouts."""

from __future__ import annotations

import struct

from ovnlab.datapath import Bridge, Conntrack
from ovnlab.flows import Nat
from ovnlab.flows.fields import (
    CS_DST_NAT,
    CS_ESTABLISHED,
    CS_INVALID,
    CS_NEW,
    CS_RELATED,
    CS_REPLY_DIR,
    CS_SRC_NAT,
    CS_TRACKED,
)
from ovnlab.packet import (
    PROTO_ICMP,
    PROTO_TCP,
    PROTO_UDP,
    TCP_ACK,
    TCP_FIN,
    TCP_SYN,
    Packet,
    ip,
)

VM, FIP, EXT = ip("172.16.100.10"), ip("10.0.2.216"), ip("8.8.8.8")
TRK, NEW, EST, RPL = CS_TRACKED, CS_NEW, CS_ESTABLISHED, CS_REPLY_DIR


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def tcp(ct: Conntrack, src: int, dst: int, sport: int, dport: int, flags: int,
        commit: bool = True, zone: int = 1) -> int:
    return ct.execute(zone=zone, proto=PROTO_TCP, src=src, dst=dst, sport=sport, dport=dport,
                      icmp_type=0, icmp_id=0, tcp_flags=flags, payload=b"", commit=commit,
                      nat=None).state


def echo(ct: Conntrack, src: int, dst: int, itype: int, commit: bool = True, zone: int = 1,
         nat: Nat | None = None) -> tuple[int, int | None, int | None]:
    r = ct.execute(zone=zone, proto=PROTO_ICMP, src=src, dst=dst, sport=0, dport=0,
                   icmp_type=itype, icmp_id=77, tcp_flags=0, payload=b"", commit=commit, nat=nat)
    return r.state, r.nw_src, r.nw_dst


def test_icmp_echo_new_then_established_reply() -> None:
    ct = Conntrack()
    assert echo(ct, VM, EXT, 8, commit=False)[0] == TRK | NEW
    assert len(ct) == 0  # not committed, no state
    assert echo(ct, VM, EXT, 8)[0] == TRK | NEW
    assert echo(ct, EXT, VM, 0)[0] == TRK | EST | RPL
    assert echo(ct, VM, EXT, 8)[0] == TRK | EST
    assert echo(ct, EXT, VM, 0, zone=2)[0] == TRK | CS_INVALID  # other zone knows nothing


def test_tcp_handshake_states() -> None:
    ct = Conntrack()
    assert tcp(ct, VM, EXT, 40000, 22, TCP_ACK) == TRK | CS_INVALID  # mid-stream, no conn
    assert tcp(ct, VM, EXT, 40000, 22, TCP_SYN) == TRK | NEW
    assert tcp(ct, EXT, VM, 22, 40000, TCP_SYN | TCP_ACK) == TRK | EST | RPL
    assert tcp(ct, VM, EXT, 40000, 22, TCP_ACK) == TRK | EST
    assert tcp(ct, VM, EXT, 40000, 22, TCP_FIN | TCP_ACK) == TRK | EST
    assert ct.dump()[0].state == "FIN_WAIT"


def test_tcp_reply_before_synack_is_invalid() -> None:
    ct = Conntrack()
    tcp(ct, VM, EXT, 1, 2, TCP_SYN)
    assert tcp(ct, EXT, VM, 2, 1, TCP_ACK) == TRK | CS_INVALID


def test_udp_and_timeouts_on_the_injected_clock() -> None:
    clock = Clock()
    ct = Conntrack(clock)
    args = dict(zone=1, proto=PROTO_UDP, icmp_type=0, icmp_id=0, tcp_flags=0, payload=b"",
                nat=None)
    assert ct.execute(src=VM, dst=EXT, sport=5, dport=53, commit=True, **args).state == TRK | NEW  # type: ignore[arg-type]
    clock.t = 59.0
    assert ct.execute(src=EXT, dst=VM, sport=53, dport=5, commit=False, **args).state == (  # type: ignore[arg-type]
        TRK | EST | RPL)
    clock.t = 59.0 + 31.0  # udp_multiple = 30 s after the last packet
    assert ct.execute(src=EXT, dst=VM, sport=53, dport=5, commit=False, **args).state == (  # type: ignore[arg-type]
        TRK | NEW)


def test_snat_then_reply_is_un_nated() -> None:
    ct = Conntrack()
    state, src, dst = echo(ct, VM, EXT, 8, nat=Nat("src", FIP))
    assert state == TRK | NEW | CS_SRC_NAT and (src, dst) == (FIP, EXT)
    state, src, dst = echo(ct, EXT, FIP, 0, commit=False, nat=Nat())
    assert state == TRK | EST | RPL | CS_DST_NAT and (src, dst) == (EXT, VM)
    # Without `nat` in the ct action the reply is recognised but not translated.
    state, src, dst = echo(ct, EXT, FIP, 0, commit=False)
    assert state == TRK | EST | RPL and src is None


def test_dnat_then_reply_is_un_nated() -> None:
    ct = Conntrack()
    state, src, dst = echo(ct, EXT, FIP, 8, nat=Nat("dst", VM))
    assert state & CS_DST_NAT and (src, dst) == (EXT, VM)
    state, src, dst = echo(ct, VM, EXT, 0, commit=False, nat=Nat())
    assert state & CS_SRC_NAT and state & RPL and (src, dst) == (FIP, EXT)


def test_snat_port_range_picks_free_ports() -> None:
    ct = Conntrack()
    nat = Nat("src", FIP, None, 1000, 1001)
    a = ct.execute(zone=1, proto=PROTO_UDP, src=VM, dst=EXT, sport=5000, dport=53, icmp_type=0,
                   icmp_id=0, tcp_flags=0, payload=b"", commit=True, nat=nat)
    b = ct.execute(zone=1, proto=PROTO_UDP, src=VM + 1, dst=EXT, sport=5000, dport=53,
                   icmp_type=0, icmp_id=0, tcp_flags=0, payload=b"", commit=True, nat=nat)
    assert (a.nw_src, a.tp_src) == (FIP, 1000) and (b.nw_src, b.tp_src) == (FIP, 1001)


def test_mark_and_label_are_committed() -> None:
    ct = Conntrack()
    ct.execute(zone=3, proto=PROTO_ICMP, src=VM, dst=EXT, sport=0, dport=0, icmp_type=8,
               icmp_id=1, tcp_flags=0, payload=b"", commit=True, nat=None, mark=(1, 1),
               label=(1 << 64, 1 << 64))
    r = ct.execute(zone=3, proto=PROTO_ICMP, src=EXT, dst=VM, sport=0, dport=0, icmp_type=0,
                   icmp_id=1, tcp_flags=0, payload=b"", commit=False, nat=None)
    assert (r.mark, r.label) == (1, 1 << 64)


def test_icmp_error_is_related_and_un_snated() -> None:
    ct = Conntrack()
    ct.execute(zone=1, proto=PROTO_UDP, src=VM, dst=EXT, sport=5, dport=33434, icmp_type=0,
               icmp_id=0, tcp_flags=0, payload=b"", commit=True, nat=Nat("src", FIP))
    quoted = (struct.pack("!BBHHHBBH4s4s", 0x45, 0, 28, 0, 0, 1, PROTO_UDP, 0,
                          FIP.to_bytes(4, "big"), EXT.to_bytes(4, "big"))
              + struct.pack("!HHHH", 5, 33434, 8, 0))
    r = ct.execute(zone=1, proto=PROTO_ICMP, src=ip("10.0.2.2"), dst=FIP, sport=0, dport=0,
                   icmp_type=11, icmp_id=0, tcp_flags=0, payload=quoted, commit=False,
                   nat=Nat())
    assert r.state == TRK | CS_RELATED | RPL | CS_DST_NAT and r.nw_dst == VM


def test_icmp_error_quoted_datagram_is_un_snated_with_valid_checksums() -> None:
    """reverse_nat_packet: the quoted UDP datagram gets the connection's original source
    address and port back (SNAT'ed to FIP:1000 here), with both checksums right."""
    ct = Conntrack()
    ct.execute(zone=1, proto=PROTO_UDP, src=VM, dst=EXT, sport=5, dport=33434, icmp_type=0,
               icmp_id=0, tcp_flags=0, payload=b"", commit=True,
               nat=Nat("src", FIP, None, 1000, 1000))
    sent = Packet(ip_src=FIP, ip_dst=EXT, ip_proto=PROTO_UDP, ip_ttl=1, tp_src=1000,
                  tp_dst=33434, payload=b"x" * 32)
    quoted = sent.to_bytes()[14:]
    r = ct.execute(zone=1, proto=PROTO_ICMP, src=ip("10.0.2.2"), dst=FIP, sport=0, dport=0,
                   icmp_type=11, icmp_id=0, tcp_flags=0, payload=quoted, commit=False,
                   nat=Nat())
    assert r.payload is not None and r.nw_dst == VM
    inner = Packet.from_bytes(b"\0" * 12 + b"\x08\x00" + r.payload)
    assert (inner.ip_src, inner.tp_src, inner.ip_dst, inner.tp_dst) == (VM, 5, EXT, 33434)
    # both checksums are those of the datagram VM really sent
    assert r.payload == sent.with_(ip_src=VM, tp_src=5).to_bytes()[14:]
    # an error about an original-direction packet is NAT'ed outside only (OVS userspace)
    reply_seen_by_vm = sent.with_(ip_src=EXT, ip_dst=VM, tp_src=33434, tp_dst=5)
    r2 = ct.execute(zone=1, proto=PROTO_ICMP, src=VM, dst=EXT, sport=0, dport=0,
                    icmp_type=3, icmp_id=0, tcp_flags=0,
                    payload=reply_seen_by_vm.to_bytes()[14:], commit=False, nat=Nat())
    assert r2.state & CS_RELATED and not r2.state & RPL
    assert r2.nw_src == FIP and r2.payload is None


def _fip_bridge() -> Bridge:
    """OVN's FIP flows (22.03 layout) on one bridge: DNAT in 14, SNAT in 43, unSNAT in 12."""
    b = Bridge("br-int")
    b.add_port("vm1")  # 1
    b.add_port("patch-br-int-to-provnet", type="patch")  # 2
    b.add_flows([
        "table=0,in_port=1,actions=load:0x3->OXM_OF_METADATA[],load:0x5->NXM_NX_REG11[],"
        "resubmit(,43)",
        "table=0,in_port=2,actions=load:0x3->OXM_OF_METADATA[],load:0x5->NXM_NX_REG11[],"
        "resubmit(,12)",
        "table=12,priority=100,ip,metadata=0x3,nw_dst=10.0.2.216,"
        "actions=ct(table=13,zone=NXM_NX_REG11[0..15],nat)",
        "table=13,priority=0,actions=resubmit(,14)",
        "table=14,priority=100,ip,metadata=0x3,nw_dst=10.0.2.216,"
        "actions=ct(commit,table=15,zone=NXM_NX_REG11[0..15],nat(dst=172.16.100.10))",
        "table=14,priority=0,actions=resubmit(,15)",
        "table=15,priority=0,actions=output:1",
        "table=43,priority=161,ip,metadata=0x3,nw_src=172.16.100.10,actions="
        "mod_dl_src:fa:16:3e:9f:84:ff,ct(commit,table=44,zone=NXM_NX_REG11[0..15],"
        "nat(src=10.0.2.216))",
        "table=44,priority=0,actions=output:2",
    ])
    return b


def test_fip_nat_is_reversible_through_the_pipeline() -> None:
    b = _fip_bridge()
    out = Packet(ip_src=VM, ip_dst=EXT, ip_proto=PROTO_ICMP, icmp_type=8, icmp_id=4)
    (o,) = b.process(out, "vm1").outputs
    assert (o.port, o.packet.ip_src, o.packet.ip_dst) == ("patch-br-int-to-provnet", FIP, EXT)
    back = Packet(ip_src=EXT, ip_dst=FIP, ip_proto=PROTO_ICMP, icmp_type=0, icmp_id=4)
    (o,) = b.process(back, "patch-br-int-to-provnet").outputs
    assert (o.port, o.packet.ip_src, o.packet.ip_dst) == ("vm1", EXT, VM)
    # Inbound first: DNAT to the VM, and the VM's reply leaves as the FIP.
    inbound = Packet(ip_src=EXT, ip_dst=FIP, ip_proto=PROTO_ICMP, icmp_type=8, icmp_id=5)
    (o,) = b.process(inbound, "patch-br-int-to-provnet").outputs
    assert (o.port, o.packet.ip_dst) == ("vm1", VM)
    reply = Packet(ip_src=VM, ip_dst=EXT, ip_proto=PROTO_ICMP, icmp_type=0, icmp_id=5)
    (o,) = b.process(reply, "vm1").outputs
    assert (o.packet.ip_src, o.packet.ip_dst) == (FIP, EXT)


def test_ct_state_visible_after_recirculation() -> None:
    b = Bridge("br-int")
    b.add_port("vm1")
    b.add_port("vm2")
    b.add_flows([
        "table=0,ip,actions=ct(table=1,zone=7)",
        "table=1,ct_state=+new+trk,ip,actions=ct(commit,zone=7,exec(set_field:0x2->ct_mark)),"
        "output:2",
        "table=1,ct_state=+est+trk,ct_mark=0x2,ip,actions=output:2,controller(userdata=01)",
    ])
    p = Packet(ip_src=VM, ip_dst=EXT, ip_proto=PROTO_ICMP, icmp_type=8, icmp_id=1)
    assert [o.port for o in b.process(p, "vm1").outputs] == ["vm2"]
    rep = Packet(ip_src=EXT, ip_dst=VM, ip_proto=PROTO_ICMP, icmp_type=0, icmp_id=1)
    r = b.process(rep, "vm2")
    assert r.outputs == ()  # output to the input port is skipped
    (pin,) = r.packet_ins
    assert pin.field("ct_state") == TRK | EST | RPL and pin.field("ct_zone") == 7
    assert pin.field("ct_mark") == 2


def test_expired_connections_are_swept() -> None:
    clock = Clock()
    ct = Conntrack(clock)
    for i in range(5):
        echo(ct, VM, EXT + i, 8)
    assert len(ct) == 5
    clock.t = 61.0
    assert ct.expire() == 5 and len(ct) == 0


def test_snat_of_colliding_flows_moves_the_id_or_port() -> None:
    b = Bridge("br-int")
    b.add_port("vms")  # 1
    b.add_port("ext")  # 2
    b.add_flows([
        "table=0,in_port=1,ip,actions=ct(commit,table=1,zone=1,nat(src=10.0.2.211))",
        "table=1,actions=output:2",
        "table=0,in_port=2,ip,actions=ct(table=2,zone=1,nat)",
        "table=2,actions=output:1",
    ])
    outs = []
    for vm in (VM, VM + 1):
        p = Packet(ip_src=vm, ip_dst=EXT, ip_proto=PROTO_ICMP, icmp_type=8, icmp_id=42)
        (o,) = b.process(p, "vms").outputs
        outs.append(o.packet)
    assert [p.ip_src for p in outs] == [ip("10.0.2.211")] * 2
    assert outs[0].icmp_id == 42 and outs[1].icmp_id != 42
    for sent, vm in zip(outs, (VM, VM + 1), strict=True):
        reply = Packet(ip_src=EXT, ip_dst=sent.ip_src, ip_proto=PROTO_ICMP, icmp_type=0,
                       icmp_id=sent.icmp_id)
        (o,) = b.process(reply, "ext").outputs
        assert (o.packet.ip_dst, o.packet.icmp_id) == (vm, 42)
    udp = [Packet(ip_src=vm, ip_dst=EXT, ip_proto=PROTO_UDP, tp_src=5000, tp_dst=53)
           for vm in (VM, VM + 1)]
    ports = [b.process(p, "vms").outputs[0].packet.tp_src for p in udp]
    assert ports[0] == 5000 and ports[1] not in (5000, 0)


def test_ovn_ct_mark_blocked_commit_and_related_commit_nat() -> None:
    """The flows a 22.03 chassis installs with ct-no-masked-label: a commit asks for an
    all-zero SNAT (`nat(src)`, the addresses stay) and sets ct_mark.blocked; a later
    packet of the connection sees the mark; an ICMP error about a SNATed connection
    committed with `ct(commit,...,nat)` (ct_commit_nat) is un-NATed as related traffic."""
    b = Bridge("br-int")
    b.add_port("vm1")
    b.add_port("vm2")
    b.add_flows([
        "table=0,ip,actions=ct(table=1,zone=3)",
        "table=1,ct_state=+new+trk,ip,actions=ct(commit,zone=3,nat(src),"
        "exec(load:0x1->NXM_NX_CT_MARK[0])),output:2",
        "table=1,ct_state=+est+trk,ct_mark=0x1/0x1,ip,actions=controller(userdata=01)",
    ])
    p = Packet(ip_src=VM, ip_dst=EXT, ip_proto=PROTO_ICMP, icmp_type=8, icmp_id=5)
    (o,) = b.process(p, "vm1").outputs
    assert (o.packet.ip_src, o.packet.ip_dst) == (VM, EXT)  # all-zero SNAT: no rewrite
    rep = Packet(ip_src=EXT, ip_dst=VM, ip_proto=PROTO_ICMP, icmp_type=0, icmp_id=5)
    (pin,) = b.process(rep, "vm2").packet_ins
    assert pin.field("ct_state") == TRK | EST | RPL and pin.field("ct_mark") & 1 == 1

    b2 = Bridge("br-int")
    b2.add_port("vms")  # 1
    b2.add_port("ext")  # 2
    b2.add_flows([
        "table=0,in_port=1,ip,actions=ct(commit,table=1,zone=1,nat(src=10.0.2.211))",
        "table=1,actions=output:2",
        "table=0,in_port=2,ip,actions=ct(table=2,zone=1)",
        "table=2,ct_state=-new-est+rel-inv+trk,ip,actions=ct(commit,table=3,zone=1,nat)",
        "table=3,actions=output:1",
    ])
    out = b2.process(Packet(ip_src=VM, ip_dst=EXT, ip_proto=PROTO_UDP, tp_src=5000,
                            tp_dst=53), "vms").outputs[0].packet
    quoted = (struct.pack("!BBHHHBBH4s4s", 0x45, 0, 28, 0, 0, 64, PROTO_UDP, 0,
                          out.ip_src.to_bytes(4, "big"), EXT.to_bytes(4, "big"))
              + struct.pack("!HHHH", out.tp_src, 53, 8, 0))
    err = Packet(ip_src=EXT, ip_dst=out.ip_src, ip_proto=PROTO_ICMP, icmp_type=3,
                 icmp_code=3, payload=quoted)
    (o,) = b2.process(err, "ext").outputs
    assert o.packet.ip_dst == VM
