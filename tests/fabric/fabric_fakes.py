"""A tiny stand-in for `ovnlab.datapath` (the per-node Open vSwitch contract), so the
fabric's glue (patch ports, tunnels, VIFs, packet-ins) is testable on its own."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ovnlab.packet import Packet


@dataclass
class FakePort:
    name: str
    type: str = ""
    options: dict[str, str] = field(default_factory=dict)
    external_ids: dict[str, str] = field(default_factory=dict)
    ofport: int = 0


@dataclass
class FakeOutput:
    port: str
    packet: Packet
    tunnel: Any = None


@dataclass
class FakeResult:
    outputs: list[FakeOutput] = field(default_factory=list)
    packet_ins: list[Any] = field(default_factory=list)
    trace: list[str] = field(default_factory=list)


Rule = Callable[["FakeBridge", Packet, str, dict[str, Any]], FakeResult | None]


class FakeBridge:
    def __init__(self, name: str) -> None:
        self.name = name
        self.ports: dict[str, FakePort] = {}
        self.rules: list[Rule] = []
        self.calls: list[tuple[Packet, str, dict[str, Any]]] = []

    def add_port(self, name: str, type: str = "", options: dict[str, str] | None = None,
                 external_ids: dict[str, str] | None = None, ofport: int | None = None) -> FakePort:
        port = FakePort(name, type, dict(options or {}), dict(external_ids or {}),
                        ofport or len(self.ports) + 1)
        self.ports[name] = port
        return port

    def del_port(self, name: str) -> None:
        del self.ports[name]

    def process(self, packet: Packet, in_port: str, **kwargs: Any) -> FakeResult:
        self.calls.append((packet, in_port, kwargs))
        for rule in self.rules:
            result = rule(self, packet, in_port, kwargs)
            if result is not None:
                return result
        return FakeResult(trace=["no rule: drop"])


def hub(bridge: FakeBridge, packet: Packet, in_port: str, kwargs: dict[str, Any]) -> FakeResult:
    """Flood to every other port (enough of NORMAL for a two-port br-ex)."""
    return FakeResult([FakeOutput(p, packet) for p in bridge.ports if p != in_port],
                      trace=["NORMAL"])


class FakeVswitch:
    def __init__(self, hostname: str) -> None:
        self.hostname = hostname
        self.bridges: dict[str, FakeBridge] = {}
        self.external_ids: dict[str, str] = {}

    def add_bridge(self, name: str, fail_mode: str | None = None) -> FakeBridge:
        self.bridges[name] = FakeBridge(name)
        return self.bridges[name]


@dataclass
class FakePacketOut:
    packet: Packet
    in_port: str | None = None
    table: int | None = None
    regs: Any = None
    output: str | None = None


class FakeController:
    def __init__(self) -> None:
        self.events: list[Any] = []
        self.periodic_calls: list[float] = []
        self.on_packet_in: Callable[[Any], list[FakePacketOut]] = lambda e: []
        self.on_periodic: Callable[[float], list[FakePacketOut]] = lambda now: []

    def packet_in(self, event: Any) -> list[FakePacketOut]:
        self.events.append(event)
        return self.on_packet_in(event)

    def periodic(self, now: float) -> list[FakePacketOut]:
        self.periodic_calls.append(now)
        return self.on_periodic(now)


def patch(vswitch: FakeVswitch, a: str, b: str) -> tuple[str, str]:
    """Join bridges a and b with a patch-port pair, as ovn-controller does for localnets."""
    pa, pb = f"patch-{a}-to-{b}", f"patch-{b}-to-{a}"
    vswitch.bridges[a].add_port(pa, type="patch", options={"peer": pb})
    vswitch.bridges[b].add_port(pb, type="patch", options={"peer": pa})
    return pa, pb


def vm_port(port_id: str, mac: str, ip: str, subnet: str = "sub-n1") -> dict[str, Any]:
    return {"id": port_id, "mac_address": mac, "device_id": "server-" + port_id[:4],
            "fixed_ips": [{"subnet_id": subnet, "ip_address": ip}]}
