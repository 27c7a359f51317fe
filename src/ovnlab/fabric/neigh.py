"""A host's ARP cache: neighbour states, solicitations, replies and the L2 header write.

Linux's net/core/neighbour.c state machine with net/ipv4/arp.c's protocol, where the lab
can observe it: requests retried 3 times a second apart (then FAILED, and the queued
packets answered with host unreachable), a 30 s reachable time, STALE entries used at
once and re-confirmed through DELAY and a unicast PROBE, up to 101 packets queued while
a next hop resolves, `arp_accept=0` (a gratuitous ARP updates an existing entry but never
creates one), and replies for the host's own addresses on the asking device.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from dataclasses import fields as dataclass_fields
from enum import StrEnum
from typing import Any, Protocol

from ovnlab.fabric.clock import Clock, Timer
from ovnlab.fabric.fib import Address, source_on
from ovnlab.fabric.icmp import HOST_UNREACH
from ovnlab.fabric.link import Interface
from ovnlab.packet import (
    ARP_REPLY,
    ARP_REQUEST,
    BROADCAST,
    ETH_ARP,
    Packet,
    ip_str,
)

ARP_RETRIES = 3  # mcast_solicit / ucast_solicit
ARP_RETRANS = 1.0  # retrans_time_ms
REACHABLE_TIME = 30.0  # base_reachable_time (Linux randomises it; the lab does not)
DELAY_FIRST_PROBE = 5.0  # delay_first_probe_time
UNRES_QLEN = 101  # packets queued per unresolved neighbour

_PACKET_FIELDS = tuple(f.name for f in dataclass_fields(Packet))
_set = object.__setattr__


def rewrite(packet: Packet, **changes: Any) -> Packet:
    """`packet.with_(...)` at half the cost (dataclasses.replace re-validates every field;
    every hop writes an L2 header, and routers their TTL)."""
    new = object.__new__(Packet)
    for name in _PACKET_FIELDS:
        _set(new, name, getattr(packet, name))
    for name, value in changes.items():
        _set(new, name, value)
    return new


class Nud(StrEnum):
    """Neighbour Unreachability Detection states, as `ip neigh` prints them."""

    INCOMPLETE = "INCOMPLETE"
    REACHABLE = "REACHABLE"
    STALE = "STALE"
    DELAY = "DELAY"
    PROBE = "PROBE"
    FAILED = "FAILED"


# Module-level names for the per-packet path: an Enum member lookup costs ~70 ns on 3.11.
INCOMPLETE, REACHABLE, STALE, DELAY, PROBE, FAILED = Nud


@dataclass(slots=True)
class Neighbour:
    """An ARP cache entry (`ip neigh`), with the packets waiting for it to resolve
    (and whether each was generated here: a failure is then reported to its socket)."""

    ip: int
    dev: str
    mac: int | None = None
    state: Nud = Nud.INCOMPLETE
    confirmed: float = 0.0
    probes: int = 0
    timer: Timer | None = None
    pending: list[tuple[Packet, bool]] = field(default_factory=list)


class ArpHost(Protocol):
    """What the ARP cache needs from its host's IP layer."""

    clock: Clock
    interfaces: dict[str, Interface]
    addresses: list[Address]

    def has_address(self, dev: str, ip: int) -> bool: ...

    def note(self, action: str, dev: str, packet: Packet, note: str = "") -> None: ...

    def unreachable(self, packet: Packet, code: int, local: bool) -> None: ...


class ArpTable:
    """The neighbours of one host, by (device, IPv4 address)."""

    __slots__ = ("host", "clock", "entries")

    def __init__(self, host: ArpHost) -> None:
        self.host = host
        self.clock = host.clock
        self.entries: dict[tuple[str, int], Neighbour] = {}

    def state(self, n: Neighbour) -> Nud:
        """The entry's state now (REACHABLE turns STALE when its time is up)."""
        if n.state is REACHABLE and self.clock.now - n.confirmed >= REACHABLE_TIME:
            n.state = STALE
        return n.state

    # ------------------------------------------------------------ output
    def output(self, iface: Interface, hop: int, packet: Packet, changes: dict[str, Any],
               local: bool) -> None:
        """neigh_output(): send `packet` (with the header `changes`) to `hop` on `iface`,
        with the neighbour's MAC if it is known, else queued while it resolves."""
        key = (iface.name, hop)
        n = self.entries.get(key)
        state = self.state(n) if n is not None else None
        if n is not None and n.mac is not None and state is not FAILED \
                and state is not INCOMPLETE:
            if state is STALE:
                self._start_delay(n)
            changes["eth_dst"] = n.mac
            iface.send(rewrite(packet, **changes))
            return
        packet = rewrite(packet, **changes)
        if n is None or state is FAILED:
            n = self.entries[key] = Neighbour(hop, iface.name)
            n.pending.append((packet, local))
            self._solicit(n)
            n.timer = self.clock.call_later(ARP_RETRANS, self._retry, n)
        elif len(n.pending) < UNRES_QLEN:
            n.pending.append((packet, local))

    def _solicit(self, n: Neighbour, unicast: int | None = None) -> None:
        iface = self.host.interfaces[n.dev]
        spa = source_on(self.host.addresses, n.dev, n.ip) or 0
        iface.send(Packet(eth_src=iface.mac, eth_dst=unicast if unicast is not None else BROADCAST,
                          eth_type=ETH_ARP, arp_op=ARP_REQUEST, arp_sha=iface.mac, arp_spa=spa,
                          arp_tha=0, arp_tpa=n.ip))

    def _retry(self, n: Neighbour) -> None:
        if self.entries.get((n.dev, n.ip)) is not n or n.state not in (Nud.INCOMPLETE,
                                                                       Nud.PROBE):
            return
        n.probes += 1
        if n.probes >= ARP_RETRIES:
            self._fail(n)
            return
        self._solicit(n, n.mac if n.state is Nud.PROBE else None)
        n.timer = self.clock.call_later(ARP_RETRANS, self._retry, n)

    def _fail(self, n: Neighbour) -> None:
        n.state, n.mac, n.timer = Nud.FAILED, None, None
        pending, n.pending = n.pending, []
        for packet, local in pending:
            self.host.note("drop", n.dev, packet, f"ARP for {ip_str(n.ip)} failed")
            self.host.unreachable(packet, HOST_UNREACH, local)

    def _start_delay(self, n: Neighbour) -> None:
        n.state = Nud.DELAY
        n.timer = self.clock.call_later(DELAY_FIRST_PROBE, self._delay_expired, n)

    def _delay_expired(self, n: Neighbour) -> None:
        if n.state is not Nud.DELAY:
            return
        if self.clock.now - n.confirmed < DELAY_FIRST_PROBE:
            n.state = Nud.REACHABLE
            return
        n.state, n.probes = Nud.PROBE, 0
        self._solicit(n, n.mac)
        n.timer = self.clock.call_later(ARP_RETRANS, self._retry, n)

    # ------------------------------------------------------------ input
    def input(self, iface: Interface, packet: Packet) -> None:
        """arp_rcv(): learn the sender if it is known (or asks for us), answer requests
        for our own addresses on this device."""
        dev, spa, tpa = iface.name, packet.arp_spa, packet.arp_tpa
        mine = self.host.has_address(dev, tpa)
        gratuitous = spa == tpa
        if spa and ((dev, spa) in self.entries or (mine and not gratuitous)):
            self._confirm(dev, spa, packet.arp_sha)
        if packet.arp_op == ARP_REQUEST and mine and not gratuitous:
            self.host.note("arp-reply", dev, packet, f"{ip_str(tpa)} is-at {iface.name}")
            iface.send(Packet(eth_src=iface.mac, eth_dst=packet.arp_sha, eth_type=ETH_ARP,
                              arp_op=ARP_REPLY, arp_sha=iface.mac, arp_spa=tpa,
                              arp_tha=packet.arp_sha, arp_tpa=spa))

    def _confirm(self, dev: str, ip: int, mac: int) -> None:
        n = self.entries.get((dev, ip))
        if n is None:
            n = self.entries[(dev, ip)] = Neighbour(ip, dev)
        if n.timer is not None:
            n.timer.cancel()
            n.timer = None
        n.mac, n.state, n.confirmed, n.probes = mac, Nud.REACHABLE, self.clock.now, 0
        pending, n.pending = n.pending, []
        iface = self.host.interfaces[dev]
        for queued, _local in pending:
            iface.send(rewrite(queued, eth_dst=mac))
