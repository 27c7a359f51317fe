"""What a lab's fabric is made of, and how its parts are found.

`Inventory` holds the nodes by name, the L2 segments, the wires, the name service (an
/etc/hosts-like table and the emulated internet's PTR records) and the virtual clock, and
records packet journeys for `ovnlab trace`. Its lookups raise `NotFound` with the text
the CLI shows. Building the parts is `wiring.py`'s; changing them (Nova, the metadata
agent, failures) is `core.Fabric`'s.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import TypeVar

from ovnlab.errors import NotFound
from ovnlab.fabric.bfdlink import BfdRunner
from ovnlab.fabric.capture import CaptureBuffer
from ovnlab.fabric.clock import Clock, Periodic
from ovnlab.fabric.journey import Hop, Journey
from ovnlab.fabric.link import Interface, Segment, Wire
from ovnlab.fabric.nodes import Chassis, ExternalRouter, IpNode, Node
from ovnlab.packet import ip

N = TypeVar("N", bound=Node)


class Inventory:
    """The parts of one lab's fabric by name, and the clock they run on."""

    def __init__(self, clock: Clock | None = None) -> None:
        self.clock = clock or Clock()
        self.nodes: dict[str, Node] = {}
        self.segments: dict[str, Segment] = {}
        self.wires: dict[str, Wire] = {}
        self.hosts: dict[str, int] = {}  # /etc/hosts + DNS: name -> IPv4
        self.ptr: dict[int, str] = {}  # reverse DNS (PTR records of the emulated internet)
        self.timers: list[Periodic] = []  # the daemons' periodic work (ovn-controller's)
        self.uplinks: list[tuple[ExternalRouter, int]] = []  # external routers' internet side
        self._journey: Journey | None = None

    # ------------------------------------------------------------ parts
    def add_segment(self, name: str) -> Segment:
        if name not in self.segments:
            self.segments[name] = Segment(name, self.clock)
        return self.segments[name]

    def add_node(self, node: N) -> N:
        if node.name in self.nodes:
            raise ValueError(f"duplicate node name {node.name!r}")
        self.nodes[node.name] = node
        return node

    # ------------------------------------------------------------ lookups
    def node(self, name: str) -> Node:
        node = self.nodes.get(name)
        if node is None:
            raise NotFound(f"no node {name!r} in this lab")
        return node

    def has_node(self, name: str) -> bool:
        return name in self.nodes

    def chassis(self, name: str) -> Chassis:
        node = self.node(name)
        if not isinstance(node, Chassis):
            raise NotFound(f"{name!r} is not a chassis (nodes: {', '.join(self.chassis_names())})")
        return node

    def chassis_names(self) -> list[str]:
        return [n for n, node in self.nodes.items() if isinstance(node, Chassis)]

    def host_names(self) -> list[str]:
        """Every node that is not a chassis (VMs, routers, external and internet hosts)."""
        return [n for n, node in self.nodes.items() if not isinstance(node, Chassis)]

    def ip_node(self, name: str) -> IpNode | Chassis:
        node = self.node(name)
        if not isinstance(node, IpNode | Chassis):
            raise NotFound(f"{name!r} has no IP stack")
        return node

    def bfd_of(self, tunnel_ip: int) -> BfdRunner | None:
        """The BFD sessions of the chassis whose tunnel endpoint is `tunnel_ip`."""
        for node in self.nodes.values():
            if isinstance(node, Chassis) and node.bfd is not None \
                    and node.bfd.tunnel_ip == tunnel_ip:
                return node.bfd
        return None

    def has_interface(self, node: str, iface: str) -> bool:
        return node in self.nodes and iface in self.nodes[node].interfaces

    def interface(self, node: str, iface: str) -> Interface:
        if not self.has_interface(node, iface):
            raise NotFound(f"{node}: no interface {iface!r}")
        return self.nodes[node].interfaces[iface]

    def all_interfaces(self) -> Iterable[Interface]:
        for node in self.nodes.values():
            yield from node.interfaces.values()

    def captures(self, node: str) -> dict[str, CaptureBuffer]:
        """What each interface of `node` recorded, by interface name (the live rings)."""
        return {name: iface.captures for name, iface in self.node(node).interfaces.items()}

    def resolve(self, name: str) -> int | None:
        """A name as the lab's resolver sees it (IPv4 literal, node name, DNS name)."""
        try:
            return int(ipaddress.IPv4Address(name))
        except ValueError:
            return self.hosts.get(name)

    def resolve_name(self, address: int | str) -> str | None:
        """Reverse DNS (PTR) for `address`, as tcpdump and ping print it; None if none."""
        value = address if isinstance(address, int) else ip(address)
        return self.ptr.get(value)

    # ------------------------------------------------------------ time
    @property
    def now(self) -> float:
        return self.clock.now

    def run(self, seconds: float) -> None:
        self.clock.run_until(self.clock.now + seconds)

    def run_until_idle(self, max_time: float = 60.0) -> bool:
        return self.clock.run_until_idle(self.clock.now + max_time)

    # ------------------------------------------------------------ journeys
    def start_journey(self, journey: Journey) -> object:
        """Record every hop caused by events run under the returned tag into `journey`."""
        self._journey = journey
        return journey

    def stop_journey(self) -> None:
        self._journey = None

    def record(self, hop: Hop) -> None:
        """Every node's hop recorder: kept if it belongs to the journey being traced."""
        journey = self._journey
        if journey is not None and self.clock.tag is journey:
            journey.hops.append(hop)
