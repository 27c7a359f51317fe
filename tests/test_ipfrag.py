"""ovnlab.ipfrag: Linux's fragment sizes, and reassembly in any order back to the datagram."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from ovnlab.ipfrag import Reassembler, fragment
from ovnlab.packet import PROTO_ICMP, PROTO_TCP, PROTO_UDP, Packet, ip, ip_total_length


def _datagram(proto: int, size: int) -> Packet:
    return Packet(eth_src=1, eth_dst=2, ip_src=ip("172.16.100.10"), ip_dst=ip("8.8.8.8"),
                  ip_proto=proto, ip_id=99, ip_df=False, icmp_type=8 if proto == 1 else 0,
                  icmp_id=3, icmp_seq=4, tp_src=1234 if proto != 1 else 0,
                  tp_dst=80 if proto != 1 else 0, payload=bytes(i % 251 for i in range(size)))


def test_linux_sizes_for_a_2000_byte_ping_on_a_1442_mtu() -> None:
    pieces = fragment(_datagram(PROTO_ICMP, 2000), 1442)
    assert [(p.ip_frag_off, p.ip_mf, ip_total_length(p)) for p in pieces] == \
        [(0, True, 1436), (1416, False, 612)]
    assert (pieces[0].icmp_type, pieces[0].ip_frag, pieces[1].icmp_type, pieces[1].ip_frag) \
        == (8, 1, 0, 3)  # nw_frag first / later; only the first has the L4 header
    assert not any(p.ip_df for p in pieces)


def test_what_fits_is_not_fragmented() -> None:
    packet = _datagram(PROTO_UDP, 1000)
    assert fragment(packet, 1500) == [packet]


@settings(max_examples=40, deadline=None)
@given(proto=st.sampled_from([PROTO_ICMP, PROTO_UDP, PROTO_TCP]),
       size=st.integers(1500, 6000), mtu=st.integers(576, 1500), seed=st.randoms())
def test_reassembles_in_any_order_through_the_wire_format(proto: int, size: int, mtu: int,
                                                          seed: object) -> None:
    packet = _datagram(proto, size)
    pieces = [Packet.from_bytes(p.to_bytes()) for p in fragment(packet, mtu)]
    assert all(ip_total_length(p) <= mtu for p in pieces)
    seed.shuffle(pieces)  # type: ignore[attr-defined]
    r = Reassembler()
    results = [r.add(p, 0.0) for p in pieces]
    assert results[:-1] == [None] * (len(pieces) - 1)
    whole, mru = results[-1]  # type: ignore[misc]
    assert whole.to_bytes() == packet.to_bytes()
    assert mru == max(ip_total_length(p) for p in pieces) and len(r) == 0


def test_an_incomplete_datagram_expires() -> None:
    first, second = fragment(_datagram(PROTO_ICMP, 2000), 1442)
    r = Reassembler(timeout=30.0)
    assert r.add(first, 0.0) is None
    assert r.add(second, 31.0) is None  # the first went at 30 s: still a hole
    assert len(r) == 1


def test_zones_keep_datagrams_apart() -> None:
    first, second = fragment(_datagram(PROTO_ICMP, 2000), 1442)
    r = Reassembler()
    assert r.add(first, 0.0, context=1) is None
    assert r.add(second, 0.0, context=2) is None
