"""What the fabric needs from Open vSwitch and ovn-controller (the team contracts), and
Geneve encapsulation as OVS's tunnel ports do it.

The datapath and controller are typed structurally here so the fabric depends only on the
contract: `Bridge.process(...) -> result.outputs / .packet_ins / .trace`, ports with `type`
and `options`, `Controller.packet_in(event)` / `periodic(now)` returning packet-outs.
"""

from __future__ import annotations

import functools
import struct
import zlib
from typing import Any, Protocol

from ovnlab.packet import (
    ETH_IP,
    GENEVE_PORT,
    OVN_GENEVE_CLASS,
    PROTO_UDP,
    Geneve,
    GeneveOption,
    Packet,
    ip,
)

TUN_METADATA0_TYPE = 0x80  # OVN's option type: 15-bit logical inport, 16-bit outport


class Port(Protocol):
    name: str
    type: str
    options: dict[str, str]
    external_ids: dict[str, str]


class Bridge(Protocol):
    name: str
    ports: dict[str, Any]

    def process(self, packet: Packet, in_port: str, **kwargs: Any) -> Any: ...

    def add_port(self, name: str, type: str = "", options: dict[str, str] | None = None,
                 external_ids: dict[str, str] | None = None,
                 ofport: int | None = None) -> Any: ...

    def del_port(self, name: str) -> Any: ...


class Vswitch(Protocol):
    bridges: dict[str, Any]
    external_ids: dict[str, str]

    def add_bridge(self, name: str, fail_mode: str | None = None) -> Any: ...


class Controller(Protocol):
    def packet_in(self, event: Any) -> Any: ...

    def periodic(self, now: float) -> Any: ...


def as_ip(value: Any) -> int:
    """Tunnel addresses may arrive as ints or dotted strings."""
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value and value != "flow":
        return _parse_ip(value)
    return 0


@functools.lru_cache(maxsize=4096)
def _parse_ip(text: str) -> int:
    return ip(text)  # port options are parsed per packet: remember them


def udp_source_port(inner: Packet) -> int:
    """OVS picks the outer UDP source port from a hash of the inner flow (ECMP entropy)."""
    key = struct.pack("!QQIIBHH", inner.eth_src, inner.eth_dst, inner.ip_src, inner.ip_dst,
                      inner.ip_proto, inner.tp_src, inner.tp_dst)
    return 32768 + zlib.crc32(key) % 28232


def encapsulate(inner: Packet, *, vni: int, metadata0: int, src: int, dst: int,
                ip_id: int = 0) -> Packet:
    """The underlay IP/UDP/Geneve packet (L2 is the host stack's job)."""
    option = GeneveOption(OVN_GENEVE_CLASS, TUN_METADATA0_TYPE,
                          (metadata0 & 0xFFFFFFFF).to_bytes(4, "big"))
    return Packet(eth_type=ETH_IP, ip_src=src, ip_dst=dst, ip_proto=PROTO_UDP, ip_ttl=64,
                  ip_id=ip_id, tp_src=udp_source_port(inner), tp_dst=GENEVE_PORT,
                  geneve=Geneve(vni=vni & 0xFFFFFF, inner=inner, options=(option,)))


def metadata0_of(geneve: Geneve) -> int:
    for opt in geneve.options:
        if opt.cls == OVN_GENEVE_CLASS and opt.type == TUN_METADATA0_TYPE:
            return int.from_bytes(opt.data, "big")
    return 0
