"""Property tests: random router chains and packets run deterministically, TTL drops by
one per router, and ICMP errors come from the router where TTL ran out."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from ovnlab.fabric import Fabric
from ovnlab.packet import PROTO_ICMP, PROTO_TCP, PROTO_UDP, Packet, ip


def chain(routers: int) -> Fabric:
    """h0 -- r1 -- r2 ... -- rN -- h1, one /24 per link: 10.0.<link>.0/24."""
    f = Fabric()
    f.add_host("h0", [("l0", "10.0.0.10/24", None)], routes=[("default", "10.0.0.1")])
    for i in range(1, routers + 1):
        routes = []
        if i < routers:  # towards h1 through the next router
            routes.append((f"10.0.{routers}.0/24", f"10.0.{i}.1"))
        if i > 1:  # back towards h0 through the previous one
            routes.append(("10.0.0.0/24", f"10.0.{i - 1}.2"))
        f.add_host(f"r{i}", [(f"l{i - 1}", f"10.0.{i - 1}.1/24", None),
                             (f"l{i}", f"10.0.{i}.2/24", None)],
                   routes=routes, forwarding=True)
    f.add_host("h1", [(f"l{routers}", f"10.0.{routers}.1/24", None)],
               routes=[("default", f"10.0.{routers}.2")], tcp_ports=[22])
    return f


@settings(max_examples=25, deadline=None)
@given(routers=st.integers(1, 5), ttl=st.integers(1, 64),
       proto=st.sampled_from([PROTO_ICMP, PROTO_TCP, PROTO_UDP]), port=st.sampled_from([22, 53]))
def test_router_chain(routers: int, ttl: int, proto: int, port: int) -> None:
    def run() -> tuple[list[Packet], list[tuple[float, str, bytes]]]:
        f = chain(routers)
        got: list[Packet] = []
        h0 = f.node("h0").stack  # type: ignore[attr-defined]
        h0.taps.append(lambda p: got.append(p) or True)
        pkt = Packet(ip_dst=ip(f"10.0.{routers}.1"), ip_proto=proto, ip_ttl=ttl,
                     icmp_type=8 if proto == PROTO_ICMP else 0, icmp_id=1, icmp_seq=1,
                     tp_src=40000 if proto != PROTO_ICMP else 0,
                     tp_dst=port if proto != PROTO_ICMP else 0,
                     tcp_flags=0x02 if proto == PROTO_TCP else 0)
        assert h0.send(pkt) is None
        assert f.run_until_idle(30.0)
        caps = [(c.time, c.iface, c.packet.to_bytes()) for i in f.all_interfaces()
                for c in i.captures]
        return got, caps

    got, caps = run()
    assert (got, caps) == run()  # deterministic
    assert len(got) == 1
    answer = got[0]
    if ttl <= routers:  # dies at router number `ttl`, which reports from its inbound side
        assert (answer.ip_proto, answer.icmp_type) == (PROTO_ICMP, 11)
        assert answer.ip_src == ip(f"10.0.{ttl - 1}.1")
        assert answer.ip_ttl == 64 - (ttl - 1)
        return
    assert answer.ip_src == ip(f"10.0.{routers}.1")
    assert answer.ip_ttl == 64 - routers  # the reply crossed every router once
    if proto == PROTO_ICMP:
        assert answer.icmp_type == 0
    elif proto == PROTO_TCP:
        assert answer.tcp_flags == (0x12 if port == 22 else 0x14)  # SYN/ACK or RST/ACK
    else:
        assert (answer.icmp_type, answer.icmp_code) == (3, 3)
