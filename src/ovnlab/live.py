"""`tcpdump` following live on a running lab (`ovnlab exec NODE -- tcpdump -i IF ...`).

The capture registers on the node's interfaces; frames arrive from whichever thread runs
the lab (a ping in another terminal), lines leave through `poll()` in the caller's thread.
"""

from __future__ import annotations

import io
import queue
from collections.abc import Callable

from ovnlab.fabric import Fabric
from ovnlab.fabric.capture import Captured
from ovnlab.fabric.link import Interface
from ovnlab.tools import tcpdump


def wants_live(argv: list[str]) -> bool:
    """tcpdump follows live as the real one does, except with --history (ovnlab's replay
    of what the interface recorded), -r (a file) and -D (list interfaces)."""
    if not argv or argv[0] != "tcpdump" or "--history" in argv:
        return False
    short = "".join(a[1:] for a in argv[1:] if a.startswith("-") and not a.startswith("--"))
    return "r" not in short and "D" not in short


class LiveCapture:
    def __init__(self, fabric: Fabric, node: str, argv: list[str]) -> None:
        options = tcpdump.parse_args(argv[1:])  # argv[0] is "tcpdump"
        self._pcap = _Chunks() if options.write_file else None
        self.write_file = options.write_file  # -w FILE: on the client's side, see take_pcap()
        self._pcap_started = False
        self.follower = tcpdump.start(argv[1:], fabric.resolve_name,
                                      lambda iface: fabric.has_interface(node, iface),
                                      forward=fabric.resolve, output=self._pcap)
        iface = self.follower.interface
        self._queue: queue.SimpleQueue[Captured] = queue.SimpleQueue()
        self._ifaces: list[Interface] = [
            i for i in fabric.node(node).interfaces.values() if iface in ("any", i.name)]
        self._listener: Callable[[Captured], None] = self._queue.put
        for i in self._ifaces:
            i.listeners.append(self._listener)

    def header(self) -> str:
        return self.follower.header()

    @property
    def done(self) -> bool:
        return self.follower.done

    def poll(self, timeout: float) -> list[str]:
        lines: list[str] = []
        try:
            item = self._queue.get(timeout=timeout)
            while True:
                lines += self.follower.feed(item)
                item = self._queue.get_nowait()
        except queue.Empty:
            return lines

    def close(self, interrupted: bool = False) -> str:
        for i in self._ifaces:
            if self._listener in i.listeners:
                i.listeners.remove(self._listener)
        self.follower.close()
        return self.follower.summary(interrupted=interrupted)

    def take_pcap(self) -> tuple[bytes, bool]:
        """The -w bytes captured since the last call, and whether they start the file: the
        client appends them to its file as they come, so an interrupted capture keeps what
        it saw and the daemon holds none of it."""
        if self._pcap is None:
            return b"", False
        data, first = self._pcap.take(), not self._pcap_started
        self._pcap_started = self._pcap_started or bool(data)
        return data, first


class _Chunks(io.BytesIO):
    """A pcap sink whose contents are taken away in pieces."""

    def take(self) -> bytes:
        data = self.getvalue()
        self.seek(0)
        self.truncate()
        return data
