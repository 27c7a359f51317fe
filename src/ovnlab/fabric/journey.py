"""The record of one packet's causal chain across the lab (`ovnlab trace`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ovnlab.packet import Packet


@dataclass(frozen=True, slots=True)
class Hop:
    """One step of a journey.

    kind: "send"/"recv" (a frame leaving/entering an interface), "bridge" (an OpenFlow
    bridge processed it: `trace` is the datapath's trace, `outputs` its output ports),
    "encap"/"decap" (Geneve over the underlay), "controller" (packet-in/out), "host"
    (the node's IP stack: deliver, forward, drop, ARP reply)."""

    time: float
    node: str
    kind: str
    where: str
    packet: Packet
    chassis: str | None = None
    in_port: str | None = None
    outputs: tuple[tuple[str, Packet], ...] = ()
    trace: Any = None
    note: str = ""


@dataclass(slots=True)
class Journey:
    src: str
    dst: str
    proto: str
    port: int
    request: Packet | None = None
    reply: Packet | None = None
    disposition: str = ""
    hops: list[Hop] = field(default_factory=list)
    resolver: Callable[[int], str] | None = None  # cookie -> logical flow -> NB row
    started: float = 0.0  # virtual time the packet was sent
