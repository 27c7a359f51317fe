"""Interfaces and what joins them: point-to-point wires and L2 segments.

A frame sent on an interface is captured ("out"), carried by the medium after a fixed
virtual latency, and captured ("in") on every receiving interface before its node sees it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from ovnlab.fabric.capture import CaptureBuffer, Captured
from ovnlab.packet import BROADCAST, ETH_IP, Packet, ip_total_length

if TYPE_CHECKING:
    from ovnlab.fabric.clock import Clock

LINK_LATENCY = 50e-6  # seconds per wire or segment crossing
MAC_AGEING = 300.0  # a learning switch forgets a MAC after this long (Linux bridge default)
STORM_WINDOW = 0.01  # storm control: at most STORM_LIMIT floods per window, like a
STORM_LIMIT = 5000  # physical switch's, so a forwarding loop cannot stall the lab


class Receiver(Protocol):
    """A node: what an interface hands received frames to."""

    name: str

    def on_receive(self, iface: Interface, packet: Packet) -> None: ...


class Medium(Protocol):
    name: str

    def carry(self, sender: Interface, packet: Packet) -> None: ...


class Interface:
    """A NIC (or a tap/veth end) of a node; records every frame it sends and receives
    (the most recent CAPTURE_BUFFER_FRAMES of them: `captures`)."""

    __slots__ = ("name", "mac", "node", "clock", "medium", "captures", "listeners", "mtu",
                 "index", "master", "sent", "received", "on_hop", "internal", "tx_dropped",
                 "up")

    def __init__(self, name: str, mac: int, node: Receiver, clock: Clock, *, mtu: int = 1500,
                 index: int = 0, master: str | None = None, internal: bool = False) -> None:
        self.name = name
        self.mac = mac
        self.node = node
        self.clock = clock
        self.medium: Medium | None = None
        self.captures = CaptureBuffer()
        self.listeners: list[Callable[[Captured], None]] = []
        self.mtu = mtu
        self.index = index  # ifindex on its node, for `ip addr`
        self.master = master  # "ovs-system" when the NIC is an Open vSwitch port
        self.internal = internal  # an OVS bridge's own (LOCAL) port
        self.sent = 0
        self.received = 0
        self.tx_dropped = 0  # frames over the MTU (the device refuses them)
        self.on_hop: Callable[[Interface, str, Packet], None] | None = None  # journeys
        self.up = True  # `ip link set dev X down` (or its node powered off): nothing passes

    def __repr__(self) -> str:
        return f"Interface({self.node.name}:{self.name})"

    def _record(self, direction: str, packet: Packet) -> None:
        cap = Captured(self.clock.now, self.name, direction, packet)
        self.captures.append(cap)
        for listener in self.listeners:
            listener(cap)
        if self.clock.tag is not None and self.on_hop is not None:
            self.on_hop(self, direction, packet)

    def absorb(self, packet: Packet) -> None:
        """A frame handed to the host's side of an internal port (an OVS bridge's LOCAL
        port): captured as received, then ignored (the host has no address on it)."""
        self._record("in", packet)
        self.received += 1

    def send(self, packet: Packet) -> None:
        """The node transmits `packet` (no medium attached = cable unplugged: lost). An IP
        packet longer than the MTU does not leave (nothing here fragments it): a Linux
        device refuses it, and so does Open vSwitch's send on a port."""
        if not self.up:
            return  # a down link transmits nothing (and tcpdump sees nothing)
        if packet.eth_type == ETH_IP and ip_total_length(packet) > self.mtu:
            self.tx_dropped += 1
            return
        self._record("out", packet)
        self.sent += 1
        if self.medium is not None:
            self.medium.carry(self, packet)

    def deliver(self, packet: Packet) -> None:
        """The medium hands a frame to this interface."""
        if not self.up:
            return
        self._record("in", packet)
        self.received += 1
        self.node.on_receive(self, packet)


class Wire:
    """A point-to-point link (a VM's NIC to its tap on br-int, veth pairs)."""

    def __init__(self, name: str, a: Interface, b: Interface, clock: Clock,
                 latency: float = LINK_LATENCY) -> None:
        self.name = name
        self.a, self.b = a, b
        self.clock = clock
        self.latency = latency
        a.medium = self
        b.medium = self

    def carry(self, sender: Interface, packet: Packet) -> None:
        peer = self.b if sender is self.a else self.a
        self.clock.call_later(self.latency, peer.deliver, packet)

    def unplug(self) -> None:
        for end in (self.a, self.b):
            if end.medium is self:
                end.medium = None


class Segment:
    """An L2 broadcast domain, switched like a Linux bridge: it learns source MACs and
    floods broadcast and unknown unicast, so a unicast frame is seen only by its target."""

    def __init__(self, name: str, clock: Clock, latency: float = LINK_LATENCY) -> None:
        self.name = name
        self.clock = clock
        self.latency = latency
        self.ports: list[Interface] = []
        self.fdb: dict[int, tuple[Interface, float]] = {}
        self.storm_drops = 0
        self._window_start = -1.0
        self._window_floods = 0

    def attach(self, iface: Interface) -> None:
        if iface not in self.ports:
            self.ports.append(iface)
        iface.medium = self

    def detach(self, iface: Interface) -> None:
        if iface in self.ports:
            self.ports.remove(iface)
        if iface.medium is self:
            iface.medium = None
        self.fdb = {m: e for m, e in self.fdb.items() if e[0] is not iface}

    def carry(self, sender: Interface, packet: Packet) -> None:
        now = self.clock.now
        if not packet.eth_src & (1 << 40):  # never learn a multicast source
            self.fdb[packet.eth_src] = (sender, now)
        dst = packet.eth_dst
        entry = None if dst == BROADCAST or dst & (1 << 40) else self.fdb.get(dst)
        if entry is not None and now - entry[1] <= MAC_AGEING and entry[0] in self.ports:
            if entry[0] is not sender:
                self.clock.call_later(self.latency, entry[0].deliver, packet)
            return
        if now - self._window_start >= STORM_WINDOW:
            self._window_start, self._window_floods = now, 0
        self._window_floods += 1
        if self._window_floods > STORM_LIMIT:
            self.storm_drops += 1
            return
        # One event hands the copies out in port order: what one event per port did (they
        # were consecutive in the queue, nothing could run between them), without a timer
        # per port on a 100-chassis underlay.
        self.clock.call_later(self.latency, _flood,
                              [p for p in self.ports if p is not sender], packet)


def _flood(targets: list[Interface], packet: Packet) -> None:
    for port in targets:
        port.deliver(packet)
