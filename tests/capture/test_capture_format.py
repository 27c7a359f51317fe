"""tcpdump's line format: golden lines for the seed's observations, and real tcpdump as oracle."""

from __future__ import annotations

from pathlib import Path

import pytest
from capture_oracle import NO_DNS, Oracle, make_oracle
from capture_strategies import frames, tcp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ovnlab.capture.format import FormatOptions, Formatter, format_packet, frame_length, timestamp
from ovnlab.packet import BROADCAST, ETH_ARP, Geneve, GeneveOption, Packet, ip, mac

FIP_MAC = mac("fa:16:3e:9f:84:ff")
GW_PORT_MAC = mac("fa:16:3e:00:02:11")
EXTGW_MAC = mac("02:00:0a:00:02:02")
NAMES = {"8.8.8.8": "dns.google"}


@pytest.fixture
def oracle(tmp_path: Path) -> Oracle:
    return make_oracle(tmp_path)


def resolver(address: str) -> str | None:
    return NAMES.get(address)


def echo(src: str, dst: str, itype: int, smac: int, dmac: int, seq: int = 1) -> Packet:
    return Packet(eth_src=smac, eth_dst=dmac, ip_src=ip(src), ip_dst=ip(dst), ip_proto=1,
                  icmp_type=itype, icmp_id=1, icmp_seq=seq, payload=bytes(56))


def test_timestamp_is_time_of_day_since_lab_start() -> None:
    assert timestamp(0) == "00:00:00.000000"
    assert timestamp(3723.0000015) == "01:02:03.000002"
    assert timestamp(86400 + 1.5) == "00:00:01.500000"


def test_observation_4_fip_ping_leaves_compute_with_fip() -> None:
    f = Formatter(FormatOptions(), resolver)
    request = echo("10.0.2.216", "8.8.8.8", 8, FIP_MAC, EXTGW_MAC)
    reply = echo("8.8.8.8", "10.0.2.216", 0, EXTGW_MAC, FIP_MAC)
    assert f.format(request, 12.5) == (
        "00:00:12.500000 IP 10.0.2.216 > dns.google: ICMP echo request, id 1, seq 1, length 64")
    assert f.format(reply, 12.501) == (
        "00:00:12.501000 IP dns.google > 10.0.2.216: ICMP echo reply, id 1, seq 1, length 64")
    numeric = Formatter(FormatOptions(numeric=True, link_header=True), resolver)
    assert numeric.format(request) == (
        "fa:16:3e:9f:84:ff > 02:00:0a:00:02:02, ethertype IPv4 (0x0800), length 98: "
        "10.0.2.216 > 8.8.8.8: ICMP echo request, id 1, seq 1, length 64")


def test_observation_4_next_hop_arp_and_garp() -> None:
    f = Formatter(FormatOptions(numeric=True), resolver)
    who_has = Packet(eth_src=FIP_MAC, eth_dst=BROADCAST, eth_type=ETH_ARP, arp_op=1,
                     arp_sha=FIP_MAC, arp_spa=ip("10.0.2.216"), arp_tpa=ip("10.0.2.2"))
    is_at = Packet(eth_src=EXTGW_MAC, eth_dst=FIP_MAC, eth_type=ETH_ARP, arp_op=2,
                   arp_sha=EXTGW_MAC, arp_spa=ip("10.0.2.2"), arp_tha=FIP_MAC,
                   arp_tpa=ip("10.0.2.216"))
    garp = who_has.with_(arp_tpa=ip("10.0.2.216"))
    assert f.format(who_has) == "ARP, Request who-has 10.0.2.2 tell 10.0.2.216, length 28"
    assert f.format(is_at) == "ARP, Reply 10.0.2.2 is-at 02:00:0a:00:02:02, length 28"
    assert f.format(garp) == "ARP, Request who-has 10.0.2.216 tell 10.0.2.216, length 28"
    named = Formatter(FormatOptions(link_header=True), resolver)
    assert named.format(is_at) == (
        "02:00:0a:00:02:02 (oui Unknown) > fa:16:3e:9f:84:ff (oui Unknown), ethertype ARP "
        "(0x0806), length 42: Reply 10.0.2.2 is-at 02:00:0a:00:02:02 (oui Unknown), length 28")
    assert named.format(who_has).startswith("fa:16:3e:9f:84:ff (oui Unknown) > Broadcast, ")


def test_observation_6_snat_and_geneve_underlay() -> None:
    f = Formatter(FormatOptions(), resolver)
    snat = echo("10.0.2.211", "8.8.8.8", 8, GW_PORT_MAC, EXTGW_MAC)
    assert f.format(snat) == (
        "IP 10.0.2.211 > dns.google: ICMP echo request, id 1, seq 1, length 64")
    inner = echo("172.16.100.10", "8.8.8.8", 8, GW_PORT_MAC, EXTGW_MAC).with_(ip_ttl=63)
    tunnel = Packet(eth_src=mac("52:54:00:00:00:0b"), eth_dst=mac("52:54:00:00:00:01"),
                    ip_src=ip("192.168.50.11"), ip_dst=ip("192.168.50.1"), ip_proto=17,
                    tp_src=51234, tp_dst=6081,
                    geneve=Geneve(3, inner, (GeneveOption(0x0102, 0x80, b"\0\1\0\3"),)))
    assert f.format(tunnel) == (
        "IP 192.168.50.11.51234 > 192.168.50.1.6081: Geneve, Flags [C], vni 0x3, "
        "options [8 bytes]: IP 172.16.100.10 > dns.google: ICMP echo request, id 1, seq 1, "
        "length 64")
    with_link = Formatter(FormatOptions(numeric=True, link_header=True))
    assert with_link.format(tunnel) == (
        "52:54:00:00:00:0b > 52:54:00:00:00:01, ethertype IPv4 (0x0800), length 156: "
        "192.168.50.11.51234 > 192.168.50.1.6081: Geneve, Flags [C], vni 0x3, "
        "proto TEB (0x6558), options [8 bytes]: fa:16:3e:00:02:11 > 02:00:0a:00:02:02, "
        "ethertype IPv4 (0x0800), length 98: 172.16.100.10 > 8.8.8.8: ICMP echo request, "
        "id 1, seq 1, length 64")
    assert frame_length(tunnel) == len(tunnel.to_bytes())


def test_icmp_errors_quote_the_datagram() -> None:
    probe = Packet(ip_src=ip("10.0.2.216"), ip_dst=ip("10.0.2.100"), ip_proto=17,
                   tp_src=40000, tp_dst=33434, ip_ttl=1, payload=bytes(32))
    quoted = probe.to_bytes()[14:42]
    ttl = Packet(ip_src=ip("10.0.2.2"), ip_dst=ip("10.0.2.216"), ip_proto=1, icmp_type=11,
                 payload=quoted)
    port = Packet(ip_src=ip("10.0.2.100"), ip_dst=ip("10.0.2.216"), ip_proto=1, icmp_type=3,
                  icmp_code=3, payload=quoted)
    assert format_packet(ttl) == "IP 10.0.2.2 > 10.0.2.216: ICMP time exceeded in-transit, length 36"
    assert format_packet(port) == (
        "IP 10.0.2.100 > 10.0.2.216: ICMP 10.0.2.100 udp port 33434 unreachable, length 36")


def test_tcp_handshake_relative_sequence_numbers_and_port_names() -> None:
    a, b = ip("10.0.2.100"), ip("10.0.2.216")
    syn = Packet(ip_src=a, ip_dst=b, ip_proto=6, tp_src=40000, tp_dst=22, tcp_flags=0x02,
                 tcp_seq=1000)
    synack = Packet(ip_src=b, ip_dst=a, ip_proto=6, tp_src=22, tp_dst=40000, tcp_flags=0x12,
                    tcp_seq=5000, tcp_ack=1001)
    ack = syn.with_(tcp_flags=0x10, tcp_seq=1001, tcp_ack=5001)
    rst = Packet(ip_src=b, ip_dst=a, ip_proto=6, tp_src=23, tp_dst=40000, tcp_flags=0x14,
                 tcp_ack=1001)
    f = Formatter(FormatOptions())
    assert [f.format(p) for p in (syn, synack, ack, rst)] == [
        "IP 10.0.2.100.40000 > 10.0.2.216.ssh: Flags [S], seq 1000, win 65535, length 0",
        "IP 10.0.2.216.ssh > 10.0.2.100.40000: Flags [S.], seq 5000, ack 1001, win 65535, "
        "length 0",
        "IP 10.0.2.100.40000 > 10.0.2.216.ssh: Flags [.], ack 1, win 65535, length 0",
        "IP 10.0.2.216.telnet > 10.0.2.100.40000: Flags [R.], seq 0, ack 1001, win 65535, "
        "length 0",
    ]
    n = Formatter(FormatOptions(numeric=True))
    assert n.format(syn) == "IP 10.0.2.100.40000 > 10.0.2.216.22: Flags [S], seq 1000, win 65535, length 0"


# ------------------------------------------------------------------ real tcpdump as oracle
FLAG_SETS = [("-n",), ("-n", "-e"), ("-n", "-v"), ("-n", "-vv"), ("-nev",), ("-nx",),
             ("-nXX",), ("-nX", "-e"), ("-nxx",), ("-nq",), ("-nqe",), ("-nqv",)]
if NO_DNS is not None:  # names (ports, OUIs, Broadcast) only when tcpdump's DNS cannot answer
    FLAG_SETS += [(), ("-e",), ("-v", "-e"), ("-q",)]


def _options(flags: tuple[str, ...]) -> FormatOptions:
    letters = "".join(f[1:] for f in flags)
    return FormatOptions(numeric="n" in letters, link_header="e" in letters,
                         verbose=letters.count("v"),
                         hex_dump=min(2, letters.count("x") + letters.count("X")),
                         hex_ascii="X" in letters, quiet="q" in letters)


@pytest.mark.oracle
@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(packets=st.lists(frames, min_size=1, max_size=12), flags=st.sampled_from(FLAG_SETS),
       start=st.floats(0, 200000, allow_nan=False))
def test_lines_match_real_tcpdump(oracle: Oracle, packets: list[Packet],
                                  flags: tuple[str, ...], start: float) -> None:
    timed = [(start + i * 0.25, p) for i, p in enumerate(packets)]
    f = Formatter(_options(flags))  # no resolver: tcpdump -r cannot resolve lab names either
    real = oracle.lines(timed, flags)
    assert len(real) == len(timed)
    for (t, p), line in zip(timed, real, strict=True):
        assert f.format(p, t) == line


@pytest.mark.oracle
@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(packets=st.lists(tcp(), min_size=2, max_size=15), absolute=st.booleans())
def test_tcp_conversations_match_real_tcpdump(oracle: Oracle, packets: list[Packet],
                                              absolute: bool) -> None:
    # squeeze the packets into two conversations so the relative-sequence state is exercised
    a, b = ip("10.0.2.100"), ip("10.0.2.216")
    squeezed = []
    for i, p in enumerate(packets):
        fwd = i % 3 != 1
        squeezed.append(p.with_(ip_src=a if fwd else b, ip_dst=b if fwd else a,
                                tp_src=40000 if fwd else 22, tp_dst=22 if fwd else 40000,
                                vlan_tci=0))
    timed = [(i * 0.001, p) for i, p in enumerate(squeezed)]
    f = Formatter(FormatOptions(numeric=True, absolute_seq=absolute))
    flags = ("-n", "-S") if absolute else ("-n",)
    assert [f.format(p, t) for t, p in timed] == oracle.lines(timed, flags)
