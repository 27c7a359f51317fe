"""What every interface saw: the record tcpdump renders and filters."""

from __future__ import annotations

from dataclasses import dataclass

from ovnlab.packet import Packet


@dataclass(frozen=True, slots=True)
class Captured:
    """One frame on one interface, at virtual `time` (seconds).

    `direction` is from the owning node's point of view: "out" = the node sent it,
    "in" = the node received it (tcpdump's -Q out / -Q in)."""

    time: float
    iface: str
    direction: str
    packet: Packet
