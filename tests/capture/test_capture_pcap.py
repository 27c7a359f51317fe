"""Classic pcap files: what we write reads back, and real tcpdump reads it too."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from capture_oracle import Oracle, make_oracle
from capture_strategies import frames
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ovnlab.capture.pcap import PcapError, dumps, loads, read_file, write_file
from ovnlab.packet import Packet, ip


@pytest.fixture
def oracle(tmp_path: Path) -> Oracle:
    return make_oracle(tmp_path)


def test_header_is_libpcap_ethernet_microseconds() -> None:
    data = dumps([(1.5, Packet(ip_src=ip("10.0.0.1"), ip_dst=ip("10.0.0.2"), ip_proto=1,
                                icmp_type=8))])
    magic, major, minor, zone, sigfigs, snaplen, linktype = struct.unpack("<IHHiIII", data[:24])
    assert (magic, major, minor, zone, sigfigs, snaplen, linktype) == (
        0xA1B2C3D4, 2, 4, 0, 0, 262144, 1)
    sec, usec, incl, orig = struct.unpack("<IIII", data[24:40])
    assert (sec, usec, incl, orig) == (1, 500000, 42, 42)


@given(st.lists(st.tuples(st.floats(0, 1e6, allow_nan=False), frames), max_size=8))
def test_round_trip(packets: list[tuple[float, Packet]]) -> None:
    back = list(loads(dumps(packets)))
    assert [r.packet().to_bytes() for r in back] == [p.to_bytes() for _, p in packets]
    assert all(abs(r.time - t) < 1e-6 for r, (t, _) in zip(back, packets, strict=True))


def test_reads_big_endian_nanosecond_files(tmp_path: Path) -> None:
    frame = Packet(ip_src=ip("10.0.0.1"), ip_dst=ip("10.0.0.2"), ip_proto=17).to_bytes()
    data = struct.pack(">IHHiIII", 0xA1B23C4D, 2, 4, 0, 0, 65535, 1)
    data += struct.pack(">IIII", 2, 250_000_000, len(frame), len(frame)) + frame
    path = tmp_path / "be.pcap"
    path.write_bytes(data)
    [rec] = read_file(path)
    assert rec.time == 2.25 and rec.frame == frame


@pytest.mark.parametrize("data", [b"", b"\0" * 24, dumps([])[:20] + b"\x71\0\0\0",
                                  dumps([(0.0, Packet())])[:-3]])
def test_bad_files_raise(data: bytes) -> None:
    with pytest.raises(PcapError):
        list(loads(data))


@pytest.mark.oracle
@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(packets=st.lists(frames, min_size=1, max_size=6))
def test_real_tcpdump_reads_every_frame(oracle: Oracle, tmp_path: Path,
                                        packets: list[Packet]) -> None:
    path = tmp_path / "x.pcap"
    write_file(path, [(i * 0.5, p) for i, p in enumerate(packets)])
    out = oracle.run([(i * 0.5, p) for i, p in enumerate(packets)], ("-n", "-t", "-q"))
    assert out.returncode == 0
    assert len(out.stdout.splitlines()) == len(packets)
    assert "truncated" not in out.stderr
