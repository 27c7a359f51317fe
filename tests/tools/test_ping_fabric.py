"""`ping` on emulated hosts (no Open vSwitch needed: exthost -> extgw -> google-dns)."""

from __future__ import annotations

import gc
import re
from collections.abc import Callable

import pytest

from ovnlab.fabric import Fabric
from ovnlab.packet import ICMP_ECHO_REQUEST
from ovnlab.tools import ping
from ovnlab.turns import Interrupted, Slicer


def world() -> Fabric:
    f = Fabric()
    f.add_segment("extnet0")
    f.add_external_router("extgw", "extnet0", "10.0.2.2", "02:00:0a:00:02:02", "10.0.2.0/24")
    f.add_internet_host("google-dns", "8.8.8.8", "dns.google")
    f.add_external_host("exthost", "extnet0", "10.0.2.100", "02:00:0a:00:02:64", "10.0.2.2",
                        "10.0.2.0/24")
    return f


def test_ping_by_name_prints_iputils_output_in_virtual_time() -> None:
    f = world()
    r = ping.run(f, "exthost", ["-c", "3", "dns.google"])
    assert r.rc == 0 and r.stderr == ""
    lines = r.stdout.splitlines()
    assert lines[0] == "PING dns.google (8.8.8.8) 56(84) bytes of data."
    # the first round trip includes exthost's and extgw's ARP resolution
    assert lines[1] == "64 bytes from dns.google (8.8.8.8): icmp_seq=1 ttl=63 time=0.400 ms"
    assert lines[2] == "64 bytes from dns.google (8.8.8.8): icmp_seq=2 ttl=63 time=0.200 ms"
    assert lines[3].startswith("64 bytes from dns.google (8.8.8.8): icmp_seq=3 ttl=63 ")
    assert lines[4:7] == ["", "--- dns.google ping statistics ---",
                          "3 packets transmitted, 3 received, 0% packet loss, time 2000ms"]
    assert lines[7] == "rtt min/avg/max/mdev = 0.200/0.267/0.400/0.094 ms"
    assert f.now == pytest.approx(2.0002)


def test_ping_numeric_target_prints_no_names() -> None:
    r = ping.run(world(), "exthost", ["-c1", "8.8.8.8"])
    assert "64 bytes from 8.8.8.8: icmp_seq=1 ttl=63 time=" in r.stdout
    assert r.stdout.startswith("PING 8.8.8.8 (8.8.8.8) 56(84) bytes of data.\n")


def test_ping_unreachable_neighbour_reports_errors_and_exits_1() -> None:
    r = ping.run(world(), "exthost", ["-c", "2", "10.0.2.55"])
    assert r.rc == 1
    assert "From 10.0.2.100 icmp_seq=1 Destination Host Unreachable" in r.stdout
    assert "2 packets transmitted, 0 received, +2 errors, 100% packet loss, time 1000ms" in r.stdout
    assert "rtt" not in r.stdout


def test_ping_ttl_1_gets_time_exceeded_from_the_router() -> None:
    r = ping.run(world(), "exthost", ["-c", "1", "-t", "1", "8.8.8.8"])
    assert "From 10.0.2.2 icmp_seq=1 Time to live exceeded" in r.stdout
    assert r.rc == 1


def test_ping_with_no_reply_waits_the_linger_time() -> None:
    f = world()
    f.node("google-dns").stack.taps.append(lambda p: True)  # type: ignore[attr-defined]  # a firewall: silence
    r = ping.run(f, "exthost", ["-c", "2", "-W", "3", "8.8.8.8"])
    assert r.rc == 1
    assert "2 packets transmitted, 0 received, 100% packet loss, time 1000ms" in r.stdout
    assert f.now == pytest.approx(4.0)  # last send at 1 s, then -W 3


def test_ping_size_and_interval() -> None:
    f = world()
    r = ping.run(f, "exthost", ["-c", "2", "-i", "0.2", "-s", "100", "8.8.8.8"])
    assert "PING 8.8.8.8 (8.8.8.8) 100(128) bytes of data." in r.stdout
    assert "108 bytes from 8.8.8.8: icmp_seq=2" in r.stdout
    assert "time 200ms" in r.stdout


def test_ping_errors_look_like_iputils() -> None:
    f = world()
    r = ping.run(f, "exthost", ["nosuchhost"])
    assert (r.rc, r.stderr) == (2, "ping: nosuchhost: Name or service not known\n")
    r = ping.run(f, "exthost", [])
    assert r.rc == 1 and "Destination address required" in r.stderr
    r = ping.run(f, "exthost", ["-c", "0", "8.8.8.8"])
    assert r.rc == 1 and "out of range" in r.stderr
    r = ping.run(f, "exthost", ["-x", "8.8.8.8"])
    assert r.rc == 2 and "invalid option -- 'x'" in r.stderr
    f.node("exthost").stack.routes.clear()  # type: ignore[attr-defined]
    r = ping.run(f, "exthost", ["-c", "1", "8.8.8.8"])
    assert (r.rc, r.stderr) == (2, "ping: connect: Network is unreachable\n")


def test_ping_without_count_stops_after_the_lab_default() -> None:
    r = ping.run(world(), "exthost", ["8.8.8.8"])
    assert len(re.findall(r"icmp_seq=\d+ ttl=", r.stdout)) == ping.DEFAULT_COUNT


def test_ping_rtt_formatting_follows_iputils_precision() -> None:
    assert ping.format_rtt(0.0004) == "0.400"
    assert ping.format_rtt(0.00234) == "2.34"
    assert ping.format_rtt(0.0456) == "45.6"
    assert ping.format_rtt(0.1234) == "123"


def _cancelled_after(calls: int) -> tuple[Slicer, Callable[[], None]]:
    """A checkpoint whose client goes away at its `calls`-th call."""
    slicer, seen = Slicer(), [0]

    def checkpoint() -> None:
        seen[0] += 1
        if seen[0] == calls:
            slicer.cancel()
        slicer()

    return slicer, checkpoint


def _echo_requests(f: Fabric) -> int:
    return sum(1 for c in f.interface("exthost", "eth0").captures
               if c.direction == "out" and c.packet.icmp_type == ICMP_ECHO_REQUEST)


def test_a_cancelled_ping_stops_and_leaves_nothing_scheduled() -> None:
    f = world()
    _, checkpoint = _cancelled_after(200)
    with pytest.raises(Interrupted):
        ping.run(f, "exthost", ["-c", "1000", "-i", "0.01", "-q", "8.8.8.8"], checkpoint)
    sent = _echo_requests(f)
    assert 0 < sent < 1000
    assert not f.clock.busy and f.node("exthost").stack.icmp_sockets == {}  # type: ignore[attr-defined]
    f.run(30.0)
    assert _echo_requests(f) == sent  # no further request left after the interrupt


def test_ping_calls_its_checkpoint_between_events() -> None:
    f = world()
    calls = [0]
    r = ping.run(f, "exthost", ["-c", "5", "-i", "0.2", "-q", "8.8.8.8"],
                 lambda: calls.__setitem__(0, calls[0] + 1))
    assert r.rc == 0 and calls[0] >= 5 * 2  # at least a send and a reply per probe


def test_a_finished_ping_leaves_no_cycles_behind() -> None:
    """The lab freezes what survives a converge (gc.freeze): a run that left cyclic garbage
    would stay in a long-running daemon for good."""
    f = world()
    ping.run(f, "exthost", ["-c", "3", "-i", "0.01", "-q", "8.8.8.8"])
    gc.collect()
    gc.disable()
    try:
        ping.run(f, "exthost", ["-c", "20", "-i", "0.01", "-q", "8.8.8.8"])
        assert gc.collect() == 0  # nothing of the run was left for the cyclic collector
    finally:
        gc.enable()
