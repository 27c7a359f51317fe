"""Host IP stacks on plain segments: no Open vSwitch anywhere."""

from __future__ import annotations

from ovnlab.fabric import Fabric
from ovnlab.fabric.icmp import embedded_packet
from ovnlab.packet import (
    ARP_REPLY,
    ARP_REQUEST,
    BROADCAST,
    ETH_ARP,
    PROTO_ICMP,
    PROTO_TCP,
    PROTO_UDP,
    TCP_ACK,
    TCP_RST,
    TCP_SYN,
    Packet,
    ip,
    mac,
)


def world() -> Fabric:
    f = Fabric()
    f.add_segment("extnet0")
    f.add_external_router("extgw", "extnet0", "10.0.2.2", "02:00:0a:00:02:02", "10.0.2.0/24")
    f.add_internet_host("google-dns", "8.8.8.8", "dns.google")
    f.add_external_host("exthost", "extnet0", "10.0.2.100", "02:00:0a:00:02:64", "10.0.2.2",
                        "10.0.2.0/24")
    f.add_external_host("other", "extnet0", "10.0.2.101", "02:00:0a:00:02:65", "10.0.2.2",
                        "10.0.2.0/24")
    return f


def echo(dst: str, ident: int = 7, seq: int = 1, ttl: int = 64) -> Packet:
    return Packet(ip_dst=ip(dst), ip_proto=PROTO_ICMP, icmp_type=8, icmp_id=ident,
                  icmp_seq=seq, ip_ttl=ttl)


def collect(f: Fabric, node: str, ident: int = 7) -> list[tuple[Packet, Packet | None]]:
    got: list[tuple[Packet, Packet | None]] = []
    f.node(node).stack.icmp_sockets[ident] = lambda p, o: got.append((p, o))  # type: ignore[attr-defined]
    return got


def frames(f: Fabric, node: str, iface: str = "eth0", direction: str | None = None) -> list[Packet]:
    return [c.packet for c in f.interface(node, iface).captures
            if direction is None or c.direction == direction]


def test_ping_through_the_external_router_resolves_arp_then_routes() -> None:
    f = world()
    got = collect(f, "exthost")
    assert f.node("exthost").stack.send(echo("8.8.8.8")) is None  # type: ignore[attr-defined]
    f.run_until_idle()
    assert len(got) == 1
    reply, _ = got[0]
    assert reply.icmp_type == 0 and reply.ip_src == ip("8.8.8.8")
    assert reply.ip_ttl == 63  # one router hop
    sent = frames(f, "exthost", direction="out")
    assert sent[0].eth_type == ETH_ARP and sent[0].arp_op == ARP_REQUEST
    assert sent[0].eth_dst == BROADCAST and sent[0].arp_tpa == ip("10.0.2.2")
    assert sent[1].eth_dst == mac("02:00:0a:00:02:02") and sent[1].ip_dst == ip("8.8.8.8")
    # the router forwarded with TTL 63 out of its internet side
    fwd = [p for p in frames(f, "extgw", "eth1", "out") if p.ip_proto == PROTO_ICMP]
    assert fwd[0].ip_ttl == 63


def test_learning_segment_keeps_unicast_away_from_bystanders() -> None:
    f = world()
    f.node("exthost").stack.send(echo("8.8.8.8"))  # type: ignore[attr-defined]
    f.run_until_idle()
    seen = frames(f, "other")
    assert all(p.eth_type == ETH_ARP and p.eth_dst == BROADCAST for p in seen)
    assert len(seen) == 1  # only the broadcast ARP request


def test_unresolvable_neighbour_fails_after_three_requests() -> None:
    f = world()
    got = collect(f, "exthost")
    f.node("exthost").stack.send(echo("10.0.2.77"))  # type: ignore[attr-defined]
    f.run_until_idle()
    requests = [c for c in f.interface("exthost", "eth0").captures if c.packet.eth_type == ETH_ARP]
    assert [round(c.time, 6) for c in requests] == [0.0, 1.0, 2.0]
    assert len(got) == 1
    err, original = got[0]
    assert err.icmp_type == 3 and err.icmp_code == 1  # host unreachable, reported locally
    assert original is not None and original.icmp_seq == 1
    stack = f.node("exthost").stack  # type: ignore[attr-defined]
    assert stack.neighbour_state(stack.neighbours[("eth0", ip("10.0.2.77"))]) == "FAILED"


def test_neighbour_goes_stale_then_is_probed_by_unicast() -> None:
    f = world()
    stack = f.node("exthost").stack  # type: ignore[attr-defined]
    collect(f, "exthost")
    stack.send(echo("10.0.2.2"))
    f.run_until_idle()
    entry = stack.neighbours[("eth0", ip("10.0.2.2"))]
    assert stack.neighbour_state(entry) == "REACHABLE"
    f.run(31.0)
    assert stack.neighbour_state(entry) == "STALE"
    stack.send(echo("10.0.2.2", seq=2))
    assert entry.state == "DELAY"
    f.run(5.5)
    probes = [p for p in frames(f, "exthost", direction="out")
              if p.eth_type == ETH_ARP and p.arp_op == ARP_REQUEST
              and p.eth_dst == mac("02:00:0a:00:02:02")]
    assert len(probes) == 1
    assert stack.neighbour_state(entry) == "REACHABLE"


def test_gratuitous_arp_updates_existing_entries_but_creates_none() -> None:
    f = world()
    stack = f.node("exthost").stack  # type: ignore[attr-defined]
    collect(f, "exthost")
    stack.send(echo("10.0.2.101"))
    f.run_until_idle()
    iface = f.interface("extgw", "eth0")
    for spa, sha in (("10.0.2.101", "fa:16:3e:00:00:01"), ("10.0.2.216", "fa:16:3e:9f:84:ff")):
        iface.send(Packet(eth_src=mac(sha), eth_dst=BROADCAST, eth_type=ETH_ARP,
                          arp_op=ARP_REQUEST, arp_sha=mac(sha), arp_spa=ip(spa),
                          arp_tpa=ip(spa)))
    f.run_until_idle()
    assert stack.neighbours[("eth0", ip("10.0.2.101"))].mac == mac("fa:16:3e:00:00:01")
    assert ("eth0", ip("10.0.2.216")) not in stack.neighbours


def test_arp_request_for_us_is_answered_and_teaches_us_the_sender() -> None:
    f = world()
    f.interface("other", "eth0").send(Packet(
        eth_src=mac("02:00:0a:00:02:65"), eth_dst=BROADCAST, eth_type=ETH_ARP,
        arp_op=ARP_REQUEST, arp_sha=mac("02:00:0a:00:02:65"), arp_spa=ip("10.0.2.101"),
        arp_tpa=ip("10.0.2.100")))
    f.run_until_idle()
    reply = frames(f, "exthost", direction="out")[0]
    assert reply.arp_op == ARP_REPLY and reply.arp_spa == ip("10.0.2.100")
    assert reply.eth_dst == mac("02:00:0a:00:02:65")
    stack = f.node("exthost").stack  # type: ignore[attr-defined]
    assert stack.neighbours[("eth0", ip("10.0.2.101"))].mac == mac("02:00:0a:00:02:65")


def test_an_address_added_later_is_answered_for_and_local() -> None:
    """What a stack answers ARP for and delivers locally follows `ip addr add`, also
    after it has already looked its addresses up."""
    f = world()
    stack = f.node("exthost").stack  # type: ignore[attr-defined]

    def ask(tpa: str) -> list[Packet]:
        before = len(frames(f, "exthost", direction="out"))
        f.interface("other", "eth0").send(Packet(
            eth_src=mac("02:00:0a:00:02:65"), eth_dst=BROADCAST, eth_type=ETH_ARP,
            arp_op=ARP_REQUEST, arp_sha=mac("02:00:0a:00:02:65"), arp_spa=ip("10.0.2.101"),
            arp_tpa=ip(tpa)))
        f.run_until_idle()
        return frames(f, "exthost", direction="out")[before:]

    assert ask("10.0.2.100") and not ask("10.0.2.150")
    assert ip("10.0.2.150") not in stack.local_ips
    stack.add_address("eth0", "10.0.2.150/24")
    (reply,) = ask("10.0.2.150")
    assert reply.arp_op == ARP_REPLY and reply.arp_spa == ip("10.0.2.150")
    assert ip("10.0.2.150") in stack.local_ips and ip("10.0.2.100") in stack.local_ips


def test_router_sends_time_exceeded_when_ttl_runs_out() -> None:
    f = world()
    got = collect(f, "exthost")
    f.node("exthost").stack.send(echo("8.8.8.8", ttl=1))  # type: ignore[attr-defined]
    f.run_until_idle()
    err, original = got[0]
    assert (err.icmp_type, err.ip_src) == (11, ip("10.0.2.2"))
    assert original is not None and original.ip_dst == ip("8.8.8.8")
    assert not frames(f, "google-dns")


def test_router_without_a_route_answers_net_unreachable() -> None:
    f = world()
    got = collect(f, "exthost")
    f.node("exthost").stack.send(echo("192.0.2.1"))  # type: ignore[attr-defined]
    f.run_until_idle()
    assert [(e.icmp_type, e.icmp_code) for e, _ in got] == [(3, 0)]


def test_host_without_route_reports_network_unreachable() -> None:
    f = world()
    stack = f.node("google-dns").stack  # type: ignore[attr-defined]
    stack.routes.clear()
    assert stack.send(echo("10.0.2.100")) == "Network is unreachable"


def test_tcp_listener_answers_syn_ack_and_closed_ports_rst() -> None:
    f = world()
    stack = f.node("exthost").stack  # type: ignore[attr-defined]
    results: list[str] = []
    stack.connect_tcp(ip("8.8.8.8"), 443, results.append)
    f.run_until_idle()
    stack.connect_tcp(ip("8.8.8.8"), 25, results.append)
    f.run_until_idle()
    assert results == ["open", "Connection refused"]
    seen = [p for p in frames(f, "google-dns", direction="out") if p.ip_proto == PROTO_TCP]
    assert seen[0].tcp_flags == TCP_SYN | TCP_ACK
    assert seen[-1].tcp_flags == TCP_RST | TCP_ACK


def test_tcp_connect_to_silent_host_times_out() -> None:
    f = world()
    results: list[str] = []
    f.node("exthost").stack.connect_tcp(ip("10.0.2.101"), 9, results.append, 2.0)  # type: ignore[attr-defined]
    f.node("other").stack.tcp.listening.clear()  # type: ignore[attr-defined]
    f.run_until_idle()
    assert results == ["Connection refused"]  # a host without the port answers RST
    f.interface("other", "eth0").medium = None  # pull the cable
    f.node("exthost").stack.connect_tcp(ip("10.0.2.101"), 22, results.append, 2.0)  # type: ignore[attr-defined]
    f.run_until_idle()
    assert results[-1] == "timed out"


def test_udp_to_closed_port_gets_port_unreachable() -> None:
    f = world()
    got = collect(f, "exthost", ident=0)
    stack = f.node("exthost").stack  # type: ignore[attr-defined]
    received: list[Packet] = []
    stack.taps.append(lambda p: received.append(p) or False)
    stack.send(Packet(ip_dst=ip("8.8.8.8"), ip_proto=PROTO_UDP, tp_src=40000, tp_dst=53))
    f.run_until_idle()
    errors = [p for p in received if p.ip_proto == PROTO_ICMP]
    assert [(e.icmp_type, e.icmp_code) for e in errors] == [(3, 3)]
    quoted = embedded_packet(errors[0])
    assert quoted is not None and (quoted.tp_src, quoted.tp_dst) == (40000, 53)
    assert got == []


def test_runs_are_deterministic() -> None:
    def one_run() -> list[tuple[float, str, str, bytes]]:
        f = world()
        collect(f, "exthost")
        for seq in range(3):
            f.clock.call_at(seq * 1.0, f.node("exthost").stack.send, echo("8.8.8.8", seq=seq))  # type: ignore[attr-defined]
        f.run_until_idle()
        return [(c.time, c.iface, c.direction, c.packet.to_bytes())
                for i in f.all_interfaces() for c in i.captures]

    assert one_run() == one_run()
