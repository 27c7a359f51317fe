"""Each interface keeps its captures in a bounded ring (CaptureBuffer): the newest frames,
a total count for marks, however many packets cross it."""

from __future__ import annotations

import pytest

from ovnlab.fabric import CAPTURE_BUFFER_FRAMES, CaptureBuffer, Captured, Fabric
from ovnlab.packet import ICMP_ECHO_REPLY, Packet
from ovnlab.tools import ping


def _frame(i: int) -> Captured:
    return Captured(float(i), "eth0", "out", Packet(icmp_seq=i))


def test_the_ring_keeps_the_newest_frames_and_counts_them_all() -> None:
    ring = CaptureBuffer(limit=3)
    mark = ring.total
    for i in range(5):
        ring.append(_frame(i))
    assert [c.packet.icmp_seq for c in ring] == [2, 3, 4]
    assert (len(ring), ring.total, ring.dropped, ring.limit) == (3, 5, 2, 3)
    assert ring[0].packet.icmp_seq == 2 and ring[-1].packet.icmp_seq == 4
    assert [c.packet.icmp_seq for c in ring[1:]] == [3, 4]
    assert [c.packet.icmp_seq for c in ring[::-1]] == [4, 3, 2]
    # a mark taken as `total` finds what came after it, as far as the ring still holds
    assert [c.packet.icmp_seq for c in ring.since(mark)] == [2, 3, 4]
    assert [c.packet.icmp_seq for c in ring.since(4)] == [4]
    assert ring.since(ring.total) == []
    with pytest.raises(ValueError):
        CaptureBuffer(limit=0)


def test_an_interface_keeps_at_most_the_buffer_after_many_packets() -> None:
    f = Fabric()
    f.add_segment("extnet0")
    f.add_external_router("extgw", "extnet0", "10.0.2.2", "02:00:0a:00:02:02", "10.0.2.0/24")
    f.add_internet_host("google-dns", "8.8.8.8", "dns.google")
    f.add_external_host("exthost", "extnet0", "10.0.2.100", "02:00:0a:00:02:64", "10.0.2.2",
                        "10.0.2.0/24")
    count = CAPTURE_BUFFER_FRAMES // 2 + 500  # two frames per round trip on exthost's eth0
    r = ping.run(f, "exthost", ["-c", str(count), "-i", "0.001", "-q", "8.8.8.8"])
    assert r.rc == 0
    eth0 = f.interface("exthost", "eth0").captures
    assert len(eth0) == CAPTURE_BUFFER_FRAMES < eth0.total
    assert eth0.total >= 2 * count and eth0.dropped == eth0.total - CAPTURE_BUFFER_FRAMES
    last = eth0[-1].packet
    assert last.icmp_type == ICMP_ECHO_REPLY and last.icmp_seq == count  # the newest is kept
    assert all(len(i.captures) <= CAPTURE_BUFFER_FRAMES for i in f.all_interfaces())
