"""pcap-filter expressions: libpcap's grammar and semantics, with real tcpdump as oracle."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest
from capture_oracle import Oracle, make_oracle
from capture_strategies import IPS, MACS, frames
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ovnlab.capture.pcapfilter import FilterError, compile_filter
from ovnlab.packet import BROADCAST, ETH_ARP, Geneve, Packet, ip, ip_str, mac, mac_str

FIP_MAC, EXTGW_MAC = mac("fa:16:3e:9f:84:ff"), mac("02:00:0a:00:02:02")
DNS = {"dns.google": "8.8.8.8"}


@pytest.fixture
def oracle(tmp_path: Path) -> Oracle:
    return make_oracle(tmp_path)


def echo(src: str, dst: str, itype: int = 8) -> Packet:
    return Packet(eth_src=FIP_MAC, eth_dst=EXTGW_MAC, ip_src=ip(src), ip_dst=ip(dst),
                  ip_proto=1, icmp_type=itype, icmp_id=1, icmp_seq=1, payload=bytes(56))


REQUEST = echo("10.0.2.216", "8.8.8.8")
REPLY = echo("8.8.8.8", "10.0.2.216", 0)
ARP_WHO_HAS = Packet(eth_src=FIP_MAC, eth_dst=BROADCAST, eth_type=ETH_ARP, arp_op=1,
                     arp_sha=FIP_MAC, arp_spa=ip("10.0.2.216"), arp_tpa=ip("10.0.2.2"))
SSH_SYN = Packet(eth_src=EXTGW_MAC, eth_dst=FIP_MAC, ip_src=ip("10.0.2.100"),
                 ip_dst=ip("10.0.2.216"), ip_proto=6, tp_src=40000, tp_dst=22, tcp_flags=2)
TUNNEL = Packet(ip_src=ip("192.168.50.11"), ip_dst=ip("192.168.50.1"), ip_proto=17,
                tp_src=51234, tp_dst=6081,
                geneve=Geneve(3, echo("172.16.100.10", "8.8.8.8")))
ALL = [REQUEST, REPLY, ARP_WHO_HAS, SSH_SYN, TUNNEL]


def matching(expr: str) -> list[Packet]:
    f = compile_filter(expr, DNS.get)
    return [p for p in ALL if f(p)]


def test_observation_4_filter_icmp_on_eth0() -> None:
    assert matching("icmp") == [REQUEST, REPLY]
    assert matching("") == ALL
    assert matching("host dns.google") == [REQUEST, REPLY]
    assert matching("src 10.0.2.216 and icmp") == [REQUEST]


def test_host_covers_arp_and_qualifiers_carry_over() -> None:
    assert matching("host 10.0.2.2") == [ARP_WHO_HAS]
    assert matching("ip host 10.0.2.2") == []
    assert matching("host 10.0.2.2 or 10.0.2.100") == [ARP_WHO_HAS, SSH_SYN]
    assert matching("tcp port 23 or 22") == [SSH_SYN]
    assert matching("icmp or arp and host 10.0.2.2") == [ARP_WHO_HAS]  # left to right


def test_geneve_moves_later_primitives_inside_the_tunnel() -> None:
    assert matching("geneve") == [TUNNEL]
    assert matching("udp port 6081") == [TUNNEL]
    assert matching("geneve and icmp") == [TUNNEL]
    assert matching("geneve 3 and host 172.16.100.10") == [TUNNEL]
    assert matching("geneve 4") == []
    assert matching("host 172.16.100.10") == []


def test_byte_accessors_read_the_frame() -> None:
    assert matching("icmp[icmptype] == icmp-echo") == [REQUEST]
    assert matching("tcp[tcpflags] & tcp-syn != 0") == [SSH_SYN]
    assert matching("ether[0] & 1 = 1") == [ARP_WHO_HAS]
    assert matching("ip[200] = 0 or icmp") == []  # a load past the end rejects outright


@pytest.mark.parametrize(("expr", "message"), [
    ("icmp and", "can't parse filter expression: syntax error"),
    ("10.0.2.2", "can't parse filter expression: syntax error"),
    ("tcp and 22", "syntax error in filter expression"),
    ("host nosuch", "unknown host 'nosuch'"),
    ("port 99999", "illegal port number 99999 > 65535"),
    ("tcp port nosuch", "unknown port 'nosuch'"),
    ("udp port ssh", "port 'ssh' is tcp"),
    ("net 10.0.2.216/24", 'non-network bits set in "10.0.2.216/24"'),
    ("net 10.0.2.0/33", "mask length must be <= 32"),
    ("port 22 or 10.0.2.2", "'port' modifier applied to ip host"),
    ("host 300.1.1.1", "invalid IPv4 address '300.1.1.1'"),
    ("ether host zz", "unknown ether host 'zz'"),
    ("host fa:16:3e:9f:84:ff", "ethernet address used in non-ether expression"),
    ("ether", "link layer applied in wrong context"),
    ("vlan 5000", "VLAN tag 5000 greater than maximum 4095"),
    ("portrange ssh", "unknown port in range 'ssh'"),
    ("gateway 10.0.2.2", "'gateway' requires a name"),
])
def test_errors_are_tcpdumps(expr: str, message: str) -> None:
    with pytest.raises(FilterError) as err:
        compile_filter(expr, DNS.get)
    assert err.value.message == message


def test_inbound_outbound_need_a_direction() -> None:
    f = compile_filter("outbound and icmp")
    assert f(REQUEST, "out") and not f(REQUEST, "in") and not f(ARP_WHO_HAS, "out")
    with pytest.raises(FilterError) as err:
        compile_filter("inbound", live=False)
    assert err.value.message == ("inbound/outbound not supported on Ethernet when reading "
                                 "savefiles")


# ------------------------------------------------------------------ real tcpdump as oracle
hosts = st.sampled_from(IPS).map(ip_str)
ports = st.sampled_from([22, 23, 53, 6081, 33434, 40000])


@st.composite
def nets(draw: st.DrawFn) -> str:
    length = draw(st.sampled_from([8, 16, 24, 32]))
    net = ipaddress.IPv4Network((draw(st.sampled_from(IPS)), length), strict=False)
    return f"{net.network_address}/{length}"


primitives = st.one_of(
    st.sampled_from(["icmp", "arp", "ip", "tcp", "udp", "broadcast", "multicast",
                     "ip multicast", "icmp[icmptype] == icmp-echo", "icmp[0] = 0",
                     "tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn", "ip[8] < 64",
                     "ip[9] = 17", "ether[0] & 1 != 0", "len > 100", "less 70",
                     "greater 98", "udp[8] & 0xc0 = 0", "ip[2:2] - 20 >= 64",
                     "ether proto 0x806"]),
    st.builds("{} {}host {}".format, st.sampled_from(["", "ip ", "arp "]),
              st.sampled_from(["", "src ", "dst "]), hosts),
    st.builds("{} {}".format, st.sampled_from(["src", "dst", "src or dst", "src and dst"]),
              hosts),
    st.builds("{}net {}".format, st.sampled_from(["", "src ", "dst "]), nets()),
    st.builds("{}{}port {}".format, st.sampled_from(["", "tcp ", "udp "]),
              st.sampled_from(["", "src ", "dst "]), ports),
    st.builds("portrange {}-{}".format, ports, ports),
    st.builds("ether {} {}".format, st.sampled_from(["host", "src", "dst"]),
              st.sampled_from(MACS).map(mac_str)),
    st.builds("host {} or {}".format, hosts, hosts),
    st.builds("tcp port {} or {}".format, ports, ports),
)


def _combine(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.builds("{} and {}".format, children, children),
        st.builds("{} or {}".format, children, children),
        st.builds("not {}".format, children),
        st.builds("({})".format, children),
        st.builds("{} && !{}".format, children, children),
    )


expressions = st.recursive(primitives, _combine, max_leaves=5)
with_encapsulation = st.one_of(
    expressions,
    st.builds("geneve and ({})".format, expressions),
    st.builds("geneve {} and ({})".format, st.sampled_from([0, 1, 3]), expressions),
    st.builds("vlan and ({})".format, expressions),
)


@pytest.mark.oracle
@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(packets=st.lists(frames, min_size=1, max_size=10), expr=with_encapsulation)
def test_filter_agrees_with_real_tcpdump(oracle: Oracle, packets: list[Packet],
                                         expr: str) -> None:
    timed = [(float(i), p) for i, p in enumerate(packets)]
    real = oracle.run(timed, ("-n", "-t"), expr)
    try:
        f = compile_filter(expr, live=False)
    except FilterError as err:
        assert real.returncode == 1
        assert real.stderr.splitlines()[-1] == f"tcpdump: {err.message}"
        return
    if real.returncode:
        # libpcap's optimizer refuses filters that can never match; ours matches nothing
        assert real.stderr.splitlines()[-1] == "tcpdump: expression rejects all packets"
        assert not any(f(p) for p in packets)
        return
    from ovnlab.capture.format import FormatOptions, Formatter
    fmt = Formatter(FormatOptions(numeric=True, timestamps=False))
    mine = [fmt.format(p) for p in packets if f(p)]
    theirs = real.stdout.splitlines()
    assert len(mine) == len(theirs), (expr, mine, theirs)
