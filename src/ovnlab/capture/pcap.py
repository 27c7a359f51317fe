"""Classic libpcap files (LINKTYPE_ETHERNET, microsecond timestamps).

Timestamps come from the lab's virtual clock: seconds since lab start plus an optional
`epoch` offset, so `tcpdump -r` prints the same HH:MM:SS.ffffff the lab prints (with TZ=UTC
and epoch 0) and Wireshark can open the file.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from ovnlab.packet import Packet

MAGIC_USEC = 0xA1B2C3D4
MAGIC_NSEC = 0xA1B23C4D
LINKTYPE_ETHERNET = 1
SNAPLEN = 262144  # tcpdump's default snapshot length
_GLOBAL = struct.Struct("<IHHiIII")
_RECORD = struct.Struct("<IIII")


class PcapError(ValueError):
    """The file is not a classic Ethernet pcap file we can read."""


@dataclass(frozen=True, slots=True)
class PcapRecord:
    time: float
    frame: bytes
    orig_len: int

    def packet(self) -> Packet:
        return Packet.from_bytes(self.frame)


def _split_time(time: float) -> tuple[int, int]:
    usec_total = round(time * 1_000_000)
    return usec_total // 1_000_000, usec_total % 1_000_000


def global_header(snaplen: int = SNAPLEN, linktype: int = LINKTYPE_ETHERNET) -> bytes:
    return _GLOBAL.pack(MAGIC_USEC, 2, 4, 0, 0, snaplen, linktype)


def record(time: float, frame: bytes, snaplen: int = SNAPLEN) -> bytes:
    sec, usec = _split_time(time)
    data = frame[:snaplen]
    return _RECORD.pack(sec, usec, len(data), len(frame)) + data


class PcapWriter:
    """Streams records to a binary file (the header is written on construction)."""

    def __init__(self, out: BinaryIO, *, epoch: float = 0.0, snaplen: int = SNAPLEN) -> None:
        self._out = out
        self._epoch = epoch
        self._snaplen = snaplen
        out.write(global_header(snaplen))

    def write_frame(self, time: float, frame: bytes) -> None:
        self._out.write(record(self._epoch + time, frame, self._snaplen))

    def write(self, time: float, packet: Packet) -> None:
        self.write_frame(time, packet.to_bytes())

    def flush(self) -> None:
        self._out.flush()


def dumps(packets: Iterable[tuple[float, Packet]], *, epoch: float = 0.0,
          snaplen: int = SNAPLEN) -> bytes:
    """A whole pcap file for (time, packet) pairs."""
    parts = [global_header(snaplen)]
    parts.extend(record(epoch + t, p.to_bytes(), snaplen) for t, p in packets)
    return b"".join(parts)


def write_file(path: str | Path, packets: Iterable[tuple[float, Packet]], *,
               epoch: float = 0.0) -> None:
    Path(path).write_bytes(dumps(packets, epoch=epoch))


def loads(data: bytes) -> Iterator[PcapRecord]:
    """Records of a classic pcap file (either byte order, usec or nsec); Ethernet only."""
    if len(data) < _GLOBAL.size:
        raise PcapError("truncated dump file; tried to read 4 file header bytes, only got "
                        f"{len(data)}")
    magic_le = struct.unpack("<I", data[:4])[0]
    magic_be = struct.unpack(">I", data[:4])[0]
    if magic_le in (MAGIC_USEC, MAGIC_NSEC):
        endian, magic = "<", magic_le
    elif magic_be in (MAGIC_USEC, MAGIC_NSEC):
        endian, magic = ">", magic_be
    else:
        raise PcapError("bad dump file format")
    _, _, _, _, _, _, linktype = struct.unpack(endian + "IHHiIII", data[:_GLOBAL.size])
    if linktype != LINKTYPE_ETHERNET:
        raise PcapError(f"unsupported link-layer header type {linktype}")
    divisor = 1e9 if magic == MAGIC_NSEC else 1e6
    rec = struct.Struct(endian + "IIII")
    off = _GLOBAL.size
    while off < len(data):
        if off + rec.size > len(data):
            raise PcapError("truncated dump file; tried to read packet header")
        sec, frac, incl, orig = rec.unpack_from(data, off)
        off += rec.size
        if off + incl > len(data):
            raise PcapError("truncated dump file; tried to read packet data")
        yield PcapRecord(sec + frac / divisor, data[off:off + incl], orig)
        off += incl


def read_file(path: str | Path) -> list[PcapRecord]:
    return list(loads(Path(path).read_bytes()))
