"""busybox's `udhcpc` (1.35, cirros 0.6's DHCP client) as events on the lab's clock.

DISCOVER (broadcast from 0.0.0.0:68 on a packet socket), OFFER, REQUEST ("select"), ACK,
then the lease is applied as cirros's udhcpc script does: the address with its netmask,
the routes (option 121's classless static routes when present, else the router option:
RFC 3442 tells a client to ignore option 3 then), the MTU (option 26) and the name
servers (option 6, cirros's /etc/resolv.conf). A VM boots with it (`Fabric.boot_vms`) and
the `udhcpc` tool runs it in the foreground.

busybox's timers: `-t` discovers (default 3) `-T` seconds apart (default 3); a REQUEST
unanswered as often goes back to discovering once; `-n` fails when no lease comes (a
booting cirros then carries on unaddressed). The lease is not renewed: the client stops
once bound (the lab's leases, 43200 s, outlast any lab session's virtual time).
"""

from __future__ import annotations

import ipaddress
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from ovnlab.fabric.clock import Timer
from ovnlab.fabric.host import HostStack
from ovnlab.packet import (
    BROADCAST,
    DHCP_ACK,
    DHCP_DISCOVER,
    DHCP_HEADER_LEN,
    DHCP_MAGIC_COOKIE,
    DHCP_NAK,
    DHCP_OFFER,
    DHCP_OPT_MSG_TYPE,
    DHCP_OPT_REQ_IP,
    DHCP_REQUEST,
    ETH_IP,
    PROTO_UDP,
    Packet,
    ip_str,
)

VERSION = "1.35.0"
OPT_NETMASK, OPT_ROUTER, OPT_DNS, OPT_DOMAIN, OPT_MTU = 1, 3, 6, 15, 26
OPT_LEASE, OPT_SERVER_ID, OPT_STATIC_ROUTES = 51, 54, 121
OPT_CLIENT_ID, OPT_MAX_SIZE, OPT_PARAMS, OPT_VENDOR = 61, 57, 55, 60
PARAMS = bytes([1, 3, 6, 12, 15, 28, 42])  # what busybox's udhcpc asks for
NAK_PAUSE = 3.0  # busybox sleeps 3 s after a NAK before discovering again

Options = dict[int, bytes]


class State(Enum):
    """busybox's client states (the ones a `-n` client goes through)."""

    INIT_SELECTING = "init"
    REQUESTING = "requesting"
    BOUND = "bound"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class StaticRoute:
    dst: int
    prefixlen: int
    router: int


@dataclass(frozen=True, slots=True)
class Lease:
    """What an ACK gave: the address and the options cirros's script applies."""

    address: int
    prefixlen: int
    server: int
    lease_time: int
    routers: tuple[int, ...]
    static_routes: tuple[StaticRoute, ...]
    mtu: int | None
    dns: tuple[int, ...]
    domain: str | None

    @classmethod
    def from_ack(cls, yiaddr: int, options: Options) -> Lease:
        mask = options.get(OPT_NETMASK, b"\xff\xff\xff\x00")
        net = ipaddress.IPv4Network(f"0.0.0.0/{ip_str(int.from_bytes(mask[:4], 'big'))}")
        mtu = options.get(OPT_MTU)
        domain = options.get(OPT_DOMAIN)
        return cls(address=yiaddr, prefixlen=net.prefixlen,
                   server=_int(options.get(OPT_SERVER_ID, b"")),
                   lease_time=_int(options.get(OPT_LEASE, b"")),
                   routers=_ips(options.get(OPT_ROUTER, b"")),
                   static_routes=_static_routes(options.get(OPT_STATIC_ROUTES, b"")),
                   mtu=struct.unpack("!H", mtu)[0] if mtu and len(mtu) == 2 else None,
                   dns=_ips(options.get(OPT_DNS, b"")),
                   domain=domain.decode(errors="replace") if domain else None)


def _int(data: bytes) -> int:
    return int.from_bytes(data, "big") if len(data) == 4 else 0


def _ips(data: bytes) -> tuple[int, ...]:
    return tuple(int.from_bytes(data[i:i + 4], "big") for i in range(0, len(data) - 3, 4))


def _static_routes(data: bytes) -> tuple[StaticRoute, ...]:
    """RFC 3442: (width, significant destination octets, router) triples."""
    routes: list[StaticRoute] = []
    i = 0
    while i < len(data):
        width = data[i]
        octets = (width + 7) // 8
        if width > 32 or i + 1 + octets + 4 > len(data):
            break  # malformed: busybox stops where the option stops making sense
        dst = int.from_bytes(data[i + 1:i + 1 + octets].ljust(4, b"\0"), "big")
        router = int.from_bytes(data[i + 1 + octets:i + 5 + octets], "big")
        routes.append(StaticRoute(dst, width, router))
        i += 5 + octets
    return tuple(routes)


def parse_options(body: bytes) -> Options:
    options: Options = {}
    i = DHCP_HEADER_LEN + 4
    while i + 1 < len(body) and body[i] != 255:
        if body[i] == 0:
            i += 1
            continue
        options[body[i]] = body[i + 2:i + 2 + body[i + 1]]
        i += 2 + body[i + 1]
    return options


class DhcpClient:
    """One `udhcpc -n` run on `stack`'s `iface`; `on_done(client)` when bound or failed."""

    def __init__(self, stack: HostStack, iface: str, *, discovers: int = 3,
                 timeout: float = 3.0, on_done: Callable[[DhcpClient], None] | None = None
                 ) -> None:
        self.stack = stack
        self.clock = stack.clock
        self.iface = stack.interfaces[iface]
        self.discovers = max(discovers, 1)
        self.timeout = timeout
        self.on_done = on_done
        self.xid = zlib.crc32(f"{stack.name}/{iface}/{self.clock.now}".encode())
        self.state = State.INIT_SELECTING
        self.lines = [f"udhcpc: started, v{VERSION}"]
        self.lease: Lease | None = None
        self._sent = 0
        self._requeried = False
        self._offer: tuple[int, Options] | None = None
        self._timer: Timer | None = None

    # ------------------------------------------------------------ lifecycle
    def start(self) -> None:
        self.stack.packet_sockets.append(self._socket)
        self._discover()

    def stop(self) -> None:
        """Killed before it finished: no socket, no timer, no callback."""
        if not self.done:
            self.on_done = None
            self._finish(State.FAILED)

    @property
    def done(self) -> bool:
        return self.state in (State.BOUND, State.FAILED)

    def _finish(self, state: State) -> None:
        self.state = state
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._socket in self.stack.packet_sockets:
            self.stack.packet_sockets.remove(self._socket)
        if self.on_done is not None:
            self.on_done(self)

    def _arm(self, callback: Callable[[], None], delay: float) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer = self.clock.call_later(delay, callback)

    # ------------------------------------------------------------ the states
    def _discover(self) -> None:
        self.state = State.INIT_SELECTING
        if self._sent >= self.discovers:
            self.lines.append("udhcpc: no lease, failing")
            self._finish(State.FAILED)
            return
        self._sent += 1
        self.lines.append("udhcpc: broadcasting discover")
        self._send(DHCP_DISCOVER, {})
        self._arm(self._discover, self.timeout)

    def _select(self) -> None:
        assert self._offer is not None
        yiaddr, options = self._offer
        if self._sent >= self.discovers:
            if self._requeried:
                self.lines.append("udhcpc: no lease, failing")
                self._finish(State.FAILED)
                return
            self._requeried, self._sent = True, 0  # busybox: back to INIT_SELECTING
            self._discover()
            return
        self._sent += 1
        self.lines.append(f"udhcpc: broadcasting select for {ip_str(yiaddr)}, "
                          f"server {_server_text(options)}")
        self._send(DHCP_REQUEST, {DHCP_OPT_REQ_IP: struct.pack("!I", yiaddr),
                                  OPT_SERVER_ID: options.get(OPT_SERVER_ID, b"")})
        self._arm(self._select, self.timeout)

    def _socket(self, packet: Packet) -> bool:
        """The packet socket: a BOOTP reply to our xid, on our interface's MAC."""
        if packet.eth_type != ETH_IP or packet.ip_proto != PROTO_UDP or packet.tp_dst != 68:
            return False
        body = packet.payload
        if len(body) < DHCP_HEADER_LEN + 4 or body[0] != 2 or \
                struct.unpack_from("!I", body, 4)[0] != self.xid:
            return False
        options = parse_options(body)
        kind = options.get(DHCP_OPT_MSG_TYPE, b"\0")[0]
        yiaddr = struct.unpack_from("!I", body, 16)[0]
        if kind == DHCP_OFFER and self.state is State.INIT_SELECTING:
            self._offer, self._sent = (yiaddr, options), 0
            self._select()
        elif kind == DHCP_ACK and self.state is State.REQUESTING:
            self._bind(yiaddr, options)
        elif kind == DHCP_NAK and self.state is State.REQUESTING:
            self.lines.append("udhcpc: received DHCP NAK")
            self._offer = None
            self._arm(self._discover, NAK_PAUSE)
            self.state = State.INIT_SELECTING
        return True

    def _bind(self, yiaddr: int, options: Options) -> None:
        lease = self.lease = Lease.from_ack(yiaddr, options)
        self.lines.append(f"udhcpc: lease of {ip_str(yiaddr)} obtained from "
                          f"{_server_text(options)}, lease time {lease.lease_time}")
        apply_lease(self.stack, self.iface.name, lease)
        self._finish(State.BOUND)

    # ------------------------------------------------------------ the wire
    def _send(self, kind: int, extra: Options) -> None:
        if kind == DHCP_REQUEST:
            self.state = State.REQUESTING
        mac = self.iface.mac
        header = struct.pack("!BBBBIHHIIII", 1, 1, 6, 0, self.xid, 0, 0, 0, 0, 0, 0)
        header += mac.to_bytes(6, "big") + b"\0" * 10 + b"\0" * 192
        options = {DHCP_OPT_MSG_TYPE: bytes([kind]), **extra,
                   OPT_MAX_SIZE: struct.pack("!H", 576), OPT_PARAMS: PARAMS,
                   OPT_VENDOR: f"udhcp {VERSION}".encode(),
                   OPT_CLIENT_ID: b"\x01" + mac.to_bytes(6, "big")}  # busybox's order
        body = header + struct.pack("!I", DHCP_MAGIC_COOKIE) + b"".join(
            bytes([code, len(value)]) + value for code, value in options.items()) + b"\xff"
        body += b"\0" * max(0, 300 - len(body))  # BOOTP's minimum, as busybox pads
        self.iface.send(Packet(eth_src=mac, eth_dst=BROADCAST, eth_type=ETH_IP, ip_src=0,
                               ip_dst=0xFFFFFFFF, ip_proto=PROTO_UDP, ip_ttl=64, ip_df=False,
                               tp_src=68, tp_dst=67, payload=body))


def _server_text(options: Options) -> str:
    server = options.get(OPT_SERVER_ID, b"")
    return ip_str(int.from_bytes(server, "big")) if len(server) == 4 else "?"


def apply_lease(stack: HostStack, dev: str, lease: Lease) -> None:
    """cirros's udhcpc script on `bound`: address/netmask, routes, MTU, resolv.conf."""
    if not any(a.ip == lease.address and a.dev == dev for a in stack.addresses):
        stack.add_address(dev, f"{ip_str(lease.address)}/{lease.prefixlen}")
    if lease.mtu:
        stack.interfaces[dev].mtu = lease.mtu
    if lease.static_routes:
        for route in lease.static_routes:
            dst = "default" if route.prefixlen == 0 else \
                f"{ip_str(route.dst)}/{route.prefixlen}"
            if _has_route(stack, route.dst, route.prefixlen):
                continue
            if route.router:
                stack.add_route(dst, via=ip_str(route.router), dev=dev)
            else:
                stack.add_route(dst, dev=dev)
    elif lease.routers and not _has_route(stack, 0, 0):
        stack.add_route("default", via=ip_str(lease.routers[0]), dev=dev)
    stack.nameservers = list(lease.dns)
    stack.search_domain = lease.domain


def _has_route(stack: HostStack, dst: int, prefixlen: int) -> bool:
    return any(r.dst == dst and r.prefixlen == prefixlen for r in stack.routes)
