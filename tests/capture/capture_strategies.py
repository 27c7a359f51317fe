"""Hypothesis strategies for frames ovnlab's fabric carries (shared by the capture tests)."""

from __future__ import annotations

from hypothesis import strategies as st

from ovnlab.packet import (
    BROADCAST,
    ETH_ARP,
    Geneve,
    GeneveOption,
    Packet,
    ip,
    mac,
)

IPS = [ip(a) for a in ("10.0.2.2", "10.0.2.216", "10.0.2.211", "8.8.8.8", "172.16.100.10",
                       "192.168.50.1", "192.168.50.11", "10.0.2.100")]
MACS = [mac(m) for m in ("fa:16:3e:9f:84:ff", "02:00:0a:00:02:02", "fa:16:3e:00:02:11",
                         "00:00:0c:12:34:56", "52:54:00:00:00:01")]
# ports tcpdump has no application decoder for (it would print DNS, NTP... otherwise)
SAFE_UDP_PORTS = st.one_of(st.integers(33434, 33534), st.integers(40000, 60000))
TCP_PORTS = st.one_of(st.sampled_from([22, 40000, 40001]), st.integers(40000, 60000))

addresses = st.one_of(st.sampled_from(IPS), st.integers(1, 0xDFFFFFFF))
macs = st.one_of(st.sampled_from(MACS), st.integers(0, 0xFFFFFFFFFFFF).map(lambda m: m & ~(1 << 40)))


@st.composite
def ethernet(draw: st.DrawFn) -> dict[str, int]:
    fields = {"eth_src": draw(macs), "eth_dst": draw(st.one_of(macs, st.just(BROADCAST)))}
    if draw(st.integers(0, 9)) == 0:
        fields["vlan_tci"] = 0x1000 | draw(st.integers(1, 4094)) | (draw(st.integers(0, 7)) << 13)
    return fields


def _ip(draw: st.DrawFn) -> dict[str, int]:
    return {"ip_src": draw(addresses), "ip_dst": draw(addresses),
            "ip_ttl": draw(st.integers(1, 255)), "ip_tos": draw(st.sampled_from([0, 0x10])),
            "ip_id": draw(st.integers(0, 0xFFFF))}


@st.composite
def icmp_echo(draw: st.DrawFn) -> Packet:
    return Packet(**draw(ethernet()), **_ip(draw), ip_proto=1,
                  icmp_type=draw(st.sampled_from([0, 8])),
                  icmp_id=draw(st.integers(0, 0xFFFF)), icmp_seq=draw(st.integers(0, 0xFFFF)),
                  payload=bytes(draw(st.sampled_from([0, 8, 56]))))


@st.composite
def icmp_error(draw: st.DrawFn) -> Packet:
    quoted_proto = draw(st.sampled_from([6, 17, 1]))
    inner = Packet(**_ip(draw), ip_proto=quoted_proto, tp_src=draw(SAFE_UDP_PORTS),
                   tp_dst=draw(st.one_of(SAFE_UDP_PORTS, st.just(22))), icmp_type=8,
                   payload=bytes(draw(st.sampled_from([0, 32]))))
    quoted = inner.to_bytes()[14:14 + draw(st.sampled_from([28, 28, 28, 0, 10, 20, 22]))]
    itype, code = draw(st.one_of(st.tuples(st.just(3), st.integers(0, 15)),
                                 st.tuples(st.just(11), st.integers(0, 1))))
    return Packet(**draw(ethernet()), **_ip(draw), ip_proto=1, icmp_type=itype,
                  icmp_code=code, payload=quoted)


@st.composite
def icmp_other(draw: st.DrawFn) -> Packet:
    itype = draw(st.sampled_from([4, 5, 9, 10, 12, 13, 14, 15, 16, 17, 18, 40]))
    quoted = Packet(**_ip(draw), ip_proto=17, tp_src=40000, tp_dst=33434).to_bytes()[14:42]
    payload = quoted if itype in (4, 5, 12) else draw(st.binary(min_size=12, max_size=16))
    return Packet(**draw(ethernet()), **_ip(draw), ip_proto=1, icmp_type=itype,
                  icmp_code=draw(st.sampled_from([0, 0, 1])), payload=payload)


@st.composite
def arp(draw: st.DrawFn) -> Packet:
    sha = draw(macs)
    op = draw(st.sampled_from([1, 2, 1, 2, 3, 4, 8, 9]))
    tha = 0 if op == 1 and draw(st.booleans()) else draw(st.one_of(macs, st.just(BROADCAST)))
    return Packet(**draw(ethernet()), eth_type=ETH_ARP, arp_op=op, arp_sha=sha,
                  arp_spa=draw(addresses), arp_tha=tha, arp_tpa=draw(addresses))


@st.composite
def tcp(draw: st.DrawFn) -> Packet:
    return Packet(**draw(ethernet()), **_ip(draw), ip_proto=6, tp_src=draw(TCP_PORTS),
                  tp_dst=draw(TCP_PORTS), tcp_flags=draw(st.integers(0, 0xFF)),
                  tcp_seq=draw(st.integers(0, 0xFFFFFFFF)), tcp_ack=draw(st.integers(0, 0xFFFFFFFF)),
                  payload=bytes(draw(st.integers(0, 12))))


@st.composite
def udp(draw: st.DrawFn) -> Packet:
    return Packet(**draw(ethernet()), **_ip(draw), ip_proto=17, tp_src=draw(SAFE_UDP_PORTS),
                  tp_dst=draw(SAFE_UDP_PORTS), payload=bytes(draw(st.integers(0, 40))))


@st.composite
def other_ip(draw: st.DrawFn) -> Packet:
    return Packet(**draw(ethernet()), **_ip(draw), ip_proto=draw(st.sampled_from([7, 99, 200, 253])),
                  payload=bytes(draw(st.integers(0, 20))))


plain = st.one_of(icmp_echo(), icmp_error(), icmp_other(), arp(), tcp(), udp(), other_ip())


@st.composite
def geneve(draw: st.DrawFn) -> Packet:
    inner = draw(plain).with_(vlan_tci=0)
    options = draw(st.sampled_from([(), (GeneveOption(0x0102, 0x80, bytes.fromhex("00010003")),)]))
    return Packet(**{**draw(ethernet()), "vlan_tci": 0}, **_ip(draw), ip_proto=17,
                  tp_src=draw(st.integers(50000, 60000)), tp_dst=6081,
                  geneve=Geneve(vni=draw(st.integers(0, 0xFFFFFF)), inner=inner,
                                options=options, critical=draw(st.booleans())))


frames = st.one_of(plain, geneve())
