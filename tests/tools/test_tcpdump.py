"""`tcpdump` on a node: --history, live following, -w/-r pcap files, tcpdump's messages."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from ovnlab.errors import ToolError
from ovnlab.fabric.capture import Captured
from ovnlab.packet import BROADCAST, ETH_ARP, Geneve, GeneveOption, Packet, ip, mac
from ovnlab.tools.tcpdump import (
    CaptureCursor,
    Follower,
    TcpdumpOptions,
    parse_args,
    run,
    start,
)

FIP_MAC, EXTGW_MAC, GW_MAC = mac("fa:16:3e:9f:84:ff"), mac("02:00:0a:00:02:02"), mac(
    "fa:16:3e:00:02:11")
NAMES = {"8.8.8.8": "dns.google"}


class LabNames:
    def reverse(self, address: str) -> str | None:
        return NAMES.get(address)

    def forward(self, name: str) -> str | None:
        return {v: k for k, v in NAMES.items()}.get(name)


def echo(src: str, dst: str, itype: int, smac: int, dmac: int, seq: int) -> Packet:
    return Packet(eth_src=smac, eth_dst=dmac, ip_src=ip(src), ip_dst=ip(dst), ip_proto=1,
                  icmp_type=itype, icmp_id=1, icmp_seq=seq, payload=bytes(56))


ARP = Packet(eth_src=FIP_MAC, eth_dst=BROADCAST, eth_type=ETH_ARP, arp_op=1, arp_sha=FIP_MAC,
             arp_spa=ip("10.0.2.216"), arp_tpa=ip("10.0.2.2"))
ARP_REPLY = Packet(eth_src=EXTGW_MAC, eth_dst=FIP_MAC, eth_type=ETH_ARP, arp_op=2,
                   arp_sha=EXTGW_MAC, arp_spa=ip("10.0.2.2"), arp_tha=FIP_MAC,
                   arp_tpa=ip("10.0.2.216"))
TUNNEL = Packet(ip_src=ip("192.168.50.11"), ip_dst=ip("192.168.50.1"), ip_proto=17,
                tp_src=51234, tp_dst=6081,
                geneve=Geneve(3, echo("172.16.100.10", "8.8.8.8", 8, GW_MAC, EXTGW_MAC, 1),
                              (GeneveOption(0x0102, 0x80, b"\0\1\0\3"),)))
# compute1 during observation 4: next-hop ARP, then two pings out of its own eth0
COMPUTE1 = [
    Captured(10.0, "eth0", "out", ARP),
    Captured(10.0005, "eth0", "in", ARP_REPLY),
    Captured(10.001, "eth0", "out", echo("10.0.2.216", "8.8.8.8", 8, FIP_MAC, EXTGW_MAC, 1)),
    Captured(10.011, "eth0", "in", echo("8.8.8.8", "10.0.2.216", 0, EXTGW_MAC, FIP_MAC, 1)),
    Captured(11.001, "eth0", "out", echo("10.0.2.216", "8.8.8.8", 8, FIP_MAC, EXTGW_MAC, 2)),
    Captured(11.011, "eth0", "in", echo("8.8.8.8", "10.0.2.216", 0, EXTGW_MAC, FIP_MAC, 2)),
    Captured(12.0, "eth1", "out", TUNNEL),
]
HEADER = ("tcpdump: verbose output suppressed, use -v[v]... for full protocol decode\n"
          "listening on eth0, link-type EN10MB (Ethernet), snapshot length 262144 bytes\n")


def exists(iface: str) -> bool:
    return iface in ("eth0", "eth1")


def test_history_icmp_on_eth0_is_observation_4() -> None:
    result = run(COMPUTE1, ["-i", "eth0", "--history", "icmp"], LabNames(), exists)
    assert result.rc == 0
    assert result.stdout == (
        "00:00:10.001000 IP 10.0.2.216 > dns.google: ICMP echo request, id 1, seq 1, length 64\n"
        "00:00:10.011000 IP dns.google > 10.0.2.216: ICMP echo reply, id 1, seq 1, length 64\n"
        "00:00:11.001000 IP 10.0.2.216 > dns.google: ICMP echo request, id 1, seq 2, length 64\n"
        "00:00:11.011000 IP dns.google > 10.0.2.216: ICMP echo reply, id 1, seq 2, length 64\n")
    assert result.stderr == HEADER + (
        "4 packets captured\n4 packets received by filter\n0 packets dropped by kernel\n")


def test_count_numeric_direction_and_link_header() -> None:
    result = run(COMPUTE1, ["-nei", "eth0", "-c1", "-Q", "in", "--history"], LabNames(), exists)
    assert result.stdout == (
        "00:00:10.000500 02:00:0a:00:02:02 > fa:16:3e:9f:84:ff, ethertype ARP (0x0806), "
        "length 42: Reply 10.0.2.2 is-at 02:00:0a:00:02:02, length 28\n")
    assert result.stderr.endswith(
        "1 packet captured\n3 packets received by filter\n0 packets dropped by kernel\n")


def test_underlay_geneve_and_filters() -> None:
    result = run(COMPUTE1, ["-i", "eth1", "-n", "--history", "geneve", "and", "icmp"], None,
                 exists)
    assert result.stdout == (
        "00:00:12.000000 IP 192.168.50.11.51234 > 192.168.50.1.6081: Geneve, Flags [C], "
        "vni 0x3, options [8 bytes]: IP 172.16.100.10 > 8.8.8.8: ICMP echo request, id 1, "
        "seq 1, length 64\n")
    plain = run(COMPUTE1, ["-i", "eth1", "-n", "--history", "icmp"], None, exists)
    assert plain.stdout == ""
    assert "0 packets captured" in plain.stderr


def test_filter_hostnames_resolve_through_the_lab() -> None:
    result = run(COMPUTE1, ["-i", "eth0", "-n", "--history", "src", "dns.google"], LabNames(),
                 exists)
    assert result.stdout.count("ICMP echo reply") == 2 and "request" not in result.stdout
    unknown = run(COMPUTE1, ["-i", "eth0", "--history", "host", "nosuch"], LabNames(), exists)
    assert (unknown.rc, unknown.stderr) == (1, "tcpdump: unknown host 'nosuch'\n")


def test_inbound_outbound_use_the_capture_direction(tmp_path: Path) -> None:
    out = run(COMPUTE1, ["-i", "eth0", "-n", "-t", "--history", "outbound", "and", "icmp"],
              None, exists)
    assert out.stdout.splitlines() == [
        "IP 10.0.2.216 > 8.8.8.8: ICMP echo request, id 1, seq 1, length 64",
        "IP 10.0.2.216 > 8.8.8.8: ICMP echo request, id 1, seq 2, length 64",
    ]
    path = tmp_path / "x.pcap"
    run(COMPUTE1, ["-i", "eth0", "--history", "-w", str(path)], None, exists)
    from_file = run([], ["-r", str(path), "inbound"], None, exists)
    assert (from_file.rc, from_file.stderr) == (
        1, "tcpdump: inbound/outbound not supported on Ethernet when reading savefiles\n")


def test_a_bare_callable_resolver_names_addresses() -> None:
    result = run(COMPUTE1, ["-i", "eth0", "-c", "1", "--history", "icmp"], NAMES.get, exists)
    assert "IP 10.0.2.216 > dns.google" in result.stdout


def test_any_interface_prefixes_iface_and_direction() -> None:
    result = run(COMPUTE1, ["-i", "any", "-n", "--history", "arp"], None, exists)
    assert result.stdout.splitlines() == [
        "00:00:10.000000 eth0  Out ARP, Request who-has 10.0.2.2 tell 10.0.2.216, length 28",
        "00:00:10.000500 eth0  In  ARP, Reply 10.0.2.2 is-at 02:00:0a:00:02:02, length 28",
    ]
    assert "listening on any, link-type LINUX_SLL2 (Linux cooked v2)" in result.stderr


@pytest.mark.parametrize(("argv", "message"), [
    (["-i", "eth9", "icmp"], "tcpdump: eth9: No such device exists\n(No such device exists)\n"),
    (["-i", "eth0", "--history", "icmp", "and"],
     "tcpdump: can't parse filter expression: syntax error\n"),
    (["-i", "eth0", "-c", "0"], "tcpdump: invalid packet count 0\n"),
    (["-i", "eth0", "-c", "x"], "tcpdump: invalid packet count x\n"),
])
def test_errors_print_like_tcpdump(argv: list[str], message: str) -> None:
    result = run(COMPUTE1, argv, LabNames(), exists)
    assert (result.rc, result.stdout, result.stderr) == (1, "", message)


def test_option_errors_print_usage() -> None:
    result = run(COMPUTE1, ["-k"], None, exists)
    assert result.rc == 1
    assert result.stderr.startswith("tcpdump: invalid option -- 'k'\ntcpdump version 4.99.3\n")
    assert "Usage: tcpdump [-AbdDefhHIJKlLnNOpqStuUvxX#]" in result.stderr
    missing = run(COMPUTE1, ["-i"], None, exists)
    assert missing.stderr.startswith("tcpdump: option requires an argument -- 'i'\n")


def test_parse_args() -> None:
    assert parse_args(["-nnei", "eth0", "-c5", "-vv", "-l", "icmp", "or", "arp"]) == \
        TcpdumpOptions(interface="eth0", numeric=2, link_header=True, verbose=2, count=5,
                       line_buffered=True, expression="icmp or arp")
    assert parse_args(["-i", "eth1", "--history", "-w", "x.pcap", "udp port 6081"]) == \
        TcpdumpOptions(interface="eth1", history=True, write_file="x.pcap",
                       expression="udp port 6081")
    assert parse_args(["-Sti", "eth0"]).format_options.absolute_seq
    assert parse_args(["-XX"]).format_options.hex_dump == 2
    assert parse_args(["-X"]).format_options.hex_ascii
    with pytest.raises(ToolError):
        parse_args(["-A"])


def test_follower_streams_lines_and_stops_after_count() -> None:
    follower = Follower(parse_args(["-i", "eth0", "-c", "2", "icmp"]), LabNames())
    assert follower.header() == HEADER
    streamed = [line for cap in COMPUTE1 for line in follower.feed(cap)]
    assert streamed == [
        "00:00:10.001000 IP 10.0.2.216 > dns.google: ICMP echo request, id 1, seq 1, length 64",
        "00:00:10.011000 IP dns.google > 10.0.2.216: ICMP echo reply, id 1, seq 1, length 64",
    ]
    assert follower.done
    assert follower.summary().startswith("2 packets captured\n")
    assert follower.summary(interrupted=True).startswith("\n2 packets captured\n")


def test_write_then_read_back(tmp_path: Path) -> None:
    path = tmp_path / "eth0.pcap"
    written = run(COMPUTE1, ["-i", "eth0", "--history", "-w", str(path)], None, exists)
    assert written.stdout == ""
    assert written.stderr.startswith("tcpdump: listening on eth0, link-type EN10MB")
    assert "6 packets captured" in written.stderr
    again = run([], ["-r", str(path), "-n", "icmp"], None, exists)
    assert again.stderr == (f"reading from file {path}, link-type EN10MB (Ethernet), "
                            "snapshot length 262144\n")
    assert len(again.stdout.splitlines()) == 4
    missing = run([], ["-r", str(tmp_path / "nope.pcap")], None, exists)
    assert (missing.rc, missing.stderr) == (1, f"tcpdump: {tmp_path / 'nope.pcap'}: No such file or directory\n")


@pytest.mark.oracle
@pytest.mark.skipif(shutil.which("tcpdump") is None, reason="Debian's tcpdump is not installed")
def test_written_pcap_reads_in_real_tcpdump(tmp_path: Path) -> None:
    path = tmp_path / "eth0.pcap"
    run(COMPUTE1, ["-i", "eth0", "--history", "-w", str(path)], None, exists)
    real = subprocess.run(["tcpdump", "-r", str(path), "-n"], capture_output=True, text=True,
                          env={"TZ": "UTC"}, check=True)
    mine = run(COMPUTE1, ["-i", "eth0", "-n", "--history"], None, exists)
    assert real.stdout == mine.stdout
    assert len(real.stdout.splitlines()) == 6


def test_history_by_interface_as_the_fabric_keeps_it() -> None:
    by_iface = {"eth0": [c for c in COMPUTE1 if c.iface == "eth0"],
                "eth1": [c for c in COMPUTE1 if c.iface == "eth1"]}
    result = run(by_iface, ["-i", "eth0", "-n", "--history", "host", "dns.google"],
                 NAMES.get, forward=lambda name: 0x08080808 if name == "dns.google" else None)
    assert len(result.stdout.splitlines()) == 4
    assert run(by_iface, ["-i", "eth2"]).stderr.startswith("tcpdump: eth2: No such device")
    assert run(by_iface, ["-D"]).stdout == (
        "1.eth0 [Up, Running, Connected]\n2.eth1 [Up, Running, Connected]\n"
        "3.any (Pseudo-device that captures on all interfaces) [Up, Running]\n")
    merged = run(by_iface, ["-i", "any", "-n", "-t", "--history", "udp"])
    assert merged.stdout.startswith("eth1  Out IP 192.168.50.11.51234 > 192.168.50.1.6081: ")


def test_live_start_and_cursor_stream_only_new_frames() -> None:
    by_iface: dict[str, list[Captured]] = {"eth0": list(COMPUTE1[:2]), "eth1": []}
    follower = start(["-i", "eth0", "-n", "-c", "3"], None, by_iface.__contains__)
    cursor = CaptureCursor(by_iface)
    assert cursor.poll() == []
    by_iface["eth0"].extend(c for c in COMPUTE1[2:] if c.iface == "eth0")
    by_iface["eth1"].append(COMPUTE1[-1])
    lines = []
    for captured in cursor.poll():
        lines.extend(follower.feed(captured))
        if follower.done:
            break
    assert [line.split(" ", 1)[1] for line in lines] == [
        "IP 10.0.2.216 > 8.8.8.8: ICMP echo request, id 1, seq 1, length 64",
        "IP 8.8.8.8 > 10.0.2.216: ICMP echo reply, id 1, seq 1, length 64",
        "IP 10.0.2.216 > 8.8.8.8: ICMP echo request, id 1, seq 2, length 64",
    ]
    assert follower.done
    with pytest.raises(ToolError) as err:
        start(["-i", "eth7"], None, by_iface.__contains__)
    assert err.value.message == "tcpdump: eth7: No such device exists\n(No such device exists)"
    with pytest.raises(ToolError) as err:
        start(["-i", "eth0", "host", "dns.google"], NAMES.get, by_iface.__contains__)
    assert err.value.message == "tcpdump: unknown host 'dns.google'"
    assert start(["-i", "eth0", "host", "dns.google"], NAMES.get, by_iface.__contains__,
                 forward=LabNames().forward).feed(COMPUTE1[2])
