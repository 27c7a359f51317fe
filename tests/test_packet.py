from hypothesis import given
from hypothesis import strategies as st

from ovnlab.packet import (
    ETH_ARP,
    Geneve,
    GeneveOption,
    Packet,
    ip,
    mac,
)

_u = st.integers


@given(src=_u(0, 2**48 - 1), dst=_u(0, 2**32 - 1), ident=_u(0, 65535), seq=_u(0, 65535),
       payload=st.binary(max_size=64), ttl=_u(1, 255))
def test_icmp_round_trips(src: int, dst: int, ident: int, seq: int, payload: bytes, ttl: int) -> None:
    p = Packet(eth_src=src, eth_dst=1, ip_src=3, ip_dst=dst, ip_proto=1, ip_ttl=ttl,
               icmp_type=8, icmp_id=ident, icmp_seq=seq, payload=payload)
    assert Packet.from_bytes(p.to_bytes()) == p


def test_arp_tcp_geneve_round_trip() -> None:
    arp = Packet(eth_type=ETH_ARP, arp_op=1, arp_sha=mac("fa:16:3e:9f:84:ff"),
                 arp_spa=ip("10.0.2.216"), arp_tpa=ip("10.0.2.2"), eth_dst=2**48 - 1)
    tcp = Packet(ip_proto=6, ip_src=1, ip_dst=2, tp_src=40000, tp_dst=22, tcp_flags=0x12, tcp_seq=7)
    geneve = Packet(ip_proto=17, tp_src=50000, tp_dst=6081, ip_src=ip("192.168.50.11"),
                    geneve=Geneve(3, tcp, (GeneveOption(0x102, 0x80, bytes.fromhex("00010003")),)))
    for p in (arp, tcp, geneve):
        assert Packet.from_bytes(p.to_bytes()) == p


def test_ip_checksum_is_valid() -> None:
    frame = Packet(ip_src=ip("10.0.2.216"), ip_dst=ip("8.8.8.8"), ip_proto=1, icmp_type=8).to_bytes()
    header = frame[14:34]
    words = sum(int.from_bytes(header[i:i + 2], "big") for i in range(0, 20, 2))
    while words >> 16:
        words = (words & 0xFFFF) + (words >> 16)
    assert words == 0xFFFF
