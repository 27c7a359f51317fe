"""`udhcpc` (busybox 1.35, cirros 0.6's DHCP client) on a lab VM, in virtual time.

    udhcpc [-i IFACE] [-n] [-q] [-t DISCOVERS] [-T SECONDS]

DISCOVER (broadcast from 0.0.0.0:68 on a packet socket), OFFER, REQUEST ("select"), ACK,
then the lease is applied as cirros's script does: the address with its netmask, the
default route through the router option, the MTU option. It always behaves as with `-n
-q` (fail when no lease comes, exit once one is obtained): `ovnlab exec` cannot leave a
daemon behind.

`checkpoint` is called between the clock's events (see tools/ping.py).
"""

from __future__ import annotations

import ipaddress
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ovnlab.errors import NotFound
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
from ovnlab.tools import ToolResult, fail
from ovnlab.turns import no_slices

VERSION = "1.35.0"
OPT_NETMASK, OPT_ROUTER, OPT_MTU, OPT_LEASE, OPT_SERVER_ID = 1, 3, 26, 51, 54
OPT_CLIENT_ID, OPT_MAX_SIZE, OPT_PARAMS, OPT_VENDOR = 61, 57, 55, 60
PARAMS = bytes([1, 3, 6, 12, 15, 28, 42])  # what busybox's udhcpc asks for


@dataclass(slots=True)
class _Options:
    iface: str = "eth0"
    discovers: int = 3
    timeout: float = 3.0


@dataclass(slots=True)
class _Exchange:
    xid: int
    replies: list[tuple[int, Packet, dict[int, bytes]]] = field(default_factory=list)


def _parse(argv: list[str]) -> _Options | ToolResult:
    opts = _Options()
    args = list(argv)
    while args:
        arg = args.pop(0)
        if arg in ("-n", "-q", "-f", "-b"):
            continue
        if arg in ("-i", "-t", "-T"):
            if not args:
                return fail(f"udhcpc: option requires an argument -- '{arg[1]}'", 1)
            value = args.pop(0)
            if arg == "-i":
                opts.iface = value
                continue
            try:
                number = int(value)
            except ValueError:
                return fail(f"udhcpc: invalid number '{value}'", 1)
            if arg == "-t":
                opts.discovers = number
            else:
                opts.timeout = float(number)
            continue
        return fail(f"udhcpc: unrecognized option '{arg}'", 1)
    return opts


def run(fabric: Any, node: str, argv: list[str],
        checkpoint: Callable[[], None] = no_slices) -> ToolResult:
    parsed = _parse(argv)
    if isinstance(parsed, ToolResult):
        return parsed
    opts = parsed
    try:
        stack: HostStack = fabric.ip_node(node).stack
    except NotFound as exc:
        return fail(f"udhcpc: {exc.message}", 1)
    if opts.iface not in stack.interfaces:
        return fail("udhcpc: ioctl 0x8933 failed: No such device", 1)
    client = _Client(fabric, stack, opts, checkpoint)
    return client.run()


class _Client:
    def __init__(self, fabric: Any, stack: HostStack, opts: _Options,
                 checkpoint: Callable[[], None]) -> None:
        self.clock = fabric.clock
        self.stack = stack
        self.opts = opts
        self.checkpoint = checkpoint
        self.iface = stack.interfaces[opts.iface]
        seed = f"{stack.name}/{opts.iface}/{self.clock.now}".encode()
        self.exchange = _Exchange(zlib.crc32(seed))
        self.lines = [f"udhcpc: started, v{VERSION}"]

    def run(self) -> ToolResult:
        self.stack.packet_sockets.append(self._socket)
        try:
            offer = None
            for _ in range(max(self.opts.discovers, 1)):
                self.lines.append("udhcpc: broadcasting discover")
                self._send(DHCP_DISCOVER, {})
                offer = self._await({DHCP_OFFER})
                if offer is not None:
                    break
            if offer is None:
                self.lines.append("udhcpc: no lease, failing")
                return ToolResult(1, "", "\n".join(self.lines) + "\n")
            _, packet, options = offer
            yiaddr = struct.unpack_from("!I", packet.payload, 16)[0]
            server = options.get(OPT_SERVER_ID, b"")
            server_text = ip_str(int.from_bytes(server, "big")) if len(server) == 4 else "?"
            self.lines.append(f"udhcpc: broadcasting select for {ip_str(yiaddr)}, "
                              f"server {server_text}")
            self._send(DHCP_REQUEST, {DHCP_OPT_REQ_IP: struct.pack("!I", yiaddr),
                                 OPT_SERVER_ID: options.get(OPT_SERVER_ID, b"")})
            answer = self._await({DHCP_ACK, DHCP_NAK})
            if answer is None or answer[0] == DHCP_NAK:
                self.lines.append("udhcpc: received DHCP DHCP_NAK" if answer else
                                  "udhcpc: no lease, failing")
                return ToolResult(1, "", "\n".join(self.lines) + "\n")
            lease = struct.unpack("!I", answer[2].get(OPT_LEASE, b"\0\0\0\0"))[0]
            self.lines.append(f"udhcpc: lease of {ip_str(yiaddr)} obtained from {server_text}, "
                              f"lease time {lease}")
            self._apply(yiaddr, answer[2])
            return ToolResult(0, "", "\n".join(self.lines) + "\n")
        finally:
            self.stack.packet_sockets.remove(self._socket)

    def _send(self, kind: int, extra: dict[int, bytes]) -> None:
        mac = self.iface.mac
        header = struct.pack("!BBBBIHHIIII", 1, 1, 6, 0, self.exchange.xid, 0, 0, 0, 0, 0, 0)
        header += mac.to_bytes(6, "big") + b"\0" * 10 + b"\0" * 192
        options = {DHCP_OPT_MSG_TYPE: bytes([kind]), **extra, OPT_MAX_SIZE: struct.pack("!H", 576),
                   OPT_PARAMS: PARAMS, OPT_VENDOR: f"udhcp {VERSION}".encode(),
                   OPT_CLIENT_ID: b"\x01" + mac.to_bytes(6, "big")}  # busybox's order
        body = header + struct.pack("!I", DHCP_MAGIC_COOKIE) + b"".join(
            bytes([code, len(value)]) + value for code, value in options.items()) + b"\xff"
        body += b"\0" * max(0, 300 - len(body))  # BOOTP's minimum, as busybox pads
        self.iface.send(Packet(eth_src=mac, eth_dst=BROADCAST, eth_type=ETH_IP, ip_src=0,
                               ip_dst=0xFFFFFFFF, ip_proto=PROTO_UDP, ip_ttl=64, ip_df=False,
                               tp_src=68, tp_dst=67, payload=body))

    def _socket(self, packet: Packet) -> bool:
        if packet.eth_type != ETH_IP or packet.ip_proto != PROTO_UDP or packet.tp_dst != 68:
            return False
        body = packet.payload
        if len(body) < DHCP_HEADER_LEN + 4 or body[0] != 2 or \
                struct.unpack_from("!I", body, 4)[0] != self.exchange.xid:
            return False
        options: dict[int, bytes] = {}
        i = DHCP_HEADER_LEN + 4
        while i + 1 < len(body) and body[i] != 255:
            if body[i] == 0:
                i += 1
                continue
            options[body[i]] = body[i + 2:i + 2 + body[i + 1]]
            i += 2 + body[i + 1]
        kind = options.get(DHCP_OPT_MSG_TYPE, b"\0")[0]
        self.exchange.replies.append((kind, packet, options))
        return True

    def _await(self, kinds: set[int]) -> tuple[int, Packet, dict[int, bytes]] | None:
        end = self.clock.now + self.opts.timeout
        while True:
            for reply in self.exchange.replies:
                if reply[0] in kinds:
                    self.exchange.replies.clear()
                    return reply
            nxt = self.clock.next_time()
            if nxt is None or nxt > end:
                self.clock.run_until(end)
                return None
            self.checkpoint()
            self.clock.step()

    def _apply(self, address: int, options: dict[int, bytes]) -> None:
        """cirros's udhcpc script: address/netmask, default route, MTU."""
        mask = options.get(OPT_NETMASK, b"\xff\xff\xff\x00")
        prefix = ipaddress.IPv4Network(f"0.0.0.0/{ip_str(int.from_bytes(mask, 'big'))}")
        dev = self.opts.iface
        if not any(a.ip == address and a.dev == dev for a in self.stack.addresses):
            self.stack.add_address(dev, f"{ip_str(address)}/{prefix.prefixlen}")
        router = options.get(OPT_ROUTER)
        if router and len(router) >= 4 and self.stack.lookup_route(0) is None:
            self.stack.add_route("default", via=ip_str(int.from_bytes(router[:4], "big")),
                                 dev=dev)
        mtu = options.get(OPT_MTU)
        if mtu and len(mtu) == 2:
            self.iface.mtu = struct.unpack("!H", mtu)[0]
