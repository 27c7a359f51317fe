"""A host's TCP: listening ports, the server side of their connections, and connect().

What the lab observes of Linux's net/ipv4/tcp*.c: a SYN to a listening port is answered
with SYN+ACK, to a closed one with RST+ACK; a stray segment gets RST; the peer's FIN is
answered with FIN+ACK. A listening port with an application (`apps`, haproxy in a
metadata namespace) also takes in-order data and answers once the request is whole, in
segments of at most the route's MSS. `connect` is a client's connect() then close(),
SYNs on the kernel's backoff. Clients register in `clients`, keyed (local port, remote IP,
remote port); the IP layer hands them their segments and the ICMP errors about them.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Protocol

from ovnlab.fabric.clock import Clock, Timer
from ovnlab.fabric.icmp import DEFAULT_TTL, HOST_UNREACH, NET_UNREACH
from ovnlab.packet import (
    ETH_IP,
    ICMP_DEST_UNREACH,
    PROTO_ICMP,
    PROTO_TCP,
    TCP_ACK,
    TCP_FIN,
    TCP_PSH,
    TCP_RST,
    TCP_SYN,
    Packet,
)

TCP_SYN_RETRIES = 6  # net.ipv4.tcp_syn_retries: gives up after 127 s
IP_TCP_HEADERS = 40  # the MSS is the MTU less these

TcpHandler = Callable[[Packet], None]
# A TCP server application: (the segment that completed it, the request so far) -> its
# response once the request is complete, else None (haproxy in a metadata namespace).
TcpApp = Callable[[Packet, bytes], bytes | None]
ConnKey = tuple[int, int, int, int]  # (remote IP, remote port, local IP, local port)


class TcpState(Enum):
    """The server-side states the lab tells apart (tcp_states.h)."""

    SYN_RECV = "SYN_RECV"
    ESTABLISHED = "ESTABLISHED"
    LAST_ACK = "LAST_ACK"


class TcpHost(Protocol):
    """What TCP needs from its host's IP layer."""

    clock: Clock

    def send(self, packet: Packet) -> str | None: ...

    def next_port(self) -> int: ...

    def route_mtu(self, dst: int) -> int: ...


def isn(key: ConnKey) -> int:
    """A deterministic initial sequence number per connection."""
    return zlib.crc32(repr(key).encode())


@dataclass(slots=True)
class _Stream:
    """The server side of a connection to a TCP application: next sequence numbers
    (ours, the peer's), the request so far, whether it has been answered."""

    seq: int
    ack: int
    data: bytearray = field(default_factory=bytearray)
    answered: bool = False


class Tcp:
    """The TCP sockets of one host."""

    __slots__ = ("host", "listening", "apps", "clients", "_conns", "_streams")

    def __init__(self, host: TcpHost) -> None:
        self.host = host
        self.listening: set[int] = set()
        self.apps: dict[int, TcpApp] = {}  # listening ports that exchange data
        self.clients: dict[tuple[int, int, int], TcpHandler] = {}
        self._conns: dict[ConnKey, TcpState] = {}
        self._streams: dict[ConnKey, _Stream] = {}

    def connect(self, dst: int, dport: int, on_done: Callable[[str], None],
                timeout: float | None = None) -> None:
        """A client connect() then close(): `on_done` gets "open", "Connection refused",
        "No route to host", "Network is unreachable" or "timed out"/"Connection timed out"."""
        _Connect(self, dst, dport, on_done).start(timeout)

    # ------------------------------------------------------------ input
    def input(self, packet: Packet) -> None:
        """tcp_v4_rcv(): a segment addressed to this host."""
        client = self.clients.get((packet.tp_dst, packet.ip_src, packet.tp_src))
        if client is not None:
            client(packet)
            return
        key = (packet.ip_src, packet.tp_src, packet.ip_dst, packet.tp_dst)
        flags = packet.tcp_flags
        if flags & TCP_RST:
            self._conns.pop(key, None)
            self._streams.pop(key, None)
        elif flags & TCP_SYN and not flags & TCP_ACK:
            self._syn(key, packet)
        else:
            self._segment(key, packet)

    def _syn(self, key: ConnKey, packet: Packet) -> None:
        if packet.tp_dst not in self.listening:
            self._reply(packet, TCP_RST | TCP_ACK, 0, packet.tcp_seq + 1)
            return
        self._conns[key] = TcpState.SYN_RECV
        if packet.tp_dst in self.apps:
            self._streams[key] = _Stream(isn(key) + 1, packet.tcp_seq + 1)
        self._reply(packet, TCP_SYN | TCP_ACK, isn(key), packet.tcp_seq + 1)

    def _segment(self, key: ConnKey, packet: Packet) -> None:
        flags = packet.tcp_flags
        state = self._conns.get(key)
        if state is None:
            self._reply(packet, TCP_RST, packet.tcp_ack, 0)
        elif state is TcpState.LAST_ACK:  # the peer acknowledged our FIN: closed
            self._conns.pop(key)
        elif flags & TCP_FIN:
            self._conns[key] = TcpState.LAST_ACK
            self._streams.pop(key, None)
            self._reply(packet, TCP_FIN | TCP_ACK, packet.tcp_ack,
                        packet.tcp_seq + len(packet.payload) + 1)
        elif flags & TCP_ACK:
            self._conns[key] = TcpState.ESTABLISHED
            stream = self._streams.get(key)
            if stream is not None and packet.payload:
                self._data(stream, packet)

    def _data(self, stream: _Stream, packet: Packet) -> None:
        """In-order data for a server application: acknowledged, and answered (in
        segments of at most the route's MSS) once the application has a whole request."""
        if packet.tcp_seq != stream.ack:
            self._reply(packet, TCP_ACK, stream.seq, stream.ack)  # a duplicate ACK
            return
        stream.data += packet.payload
        stream.ack += len(packet.payload)
        app = self.apps.get(packet.tp_dst)
        response = app(packet, bytes(stream.data)) if app and not stream.answered else None
        if response is None:
            self._reply(packet, TCP_ACK, stream.seq, stream.ack)
            return
        stream.answered = True
        mss = self.host.route_mtu(packet.ip_src) - IP_TCP_HEADERS
        for start in range(0, len(response), mss):
            chunk = response[start:start + mss]
            last = start + mss >= len(response)
            self._reply(packet, TCP_ACK | (TCP_PSH if last else 0), stream.seq, stream.ack,
                        chunk)
            stream.seq += len(chunk)

    def _reply(self, packet: Packet, flags: int, seq: int, ack: int,
               payload: bytes = b"") -> None:
        self.host.send(Packet(eth_type=ETH_IP, ip_src=packet.ip_dst, ip_dst=packet.ip_src,
                              ip_proto=PROTO_TCP, ip_ttl=DEFAULT_TTL, tp_src=packet.tp_dst,
                              tp_dst=packet.tp_src, tcp_flags=flags, tcp_seq=seq & 0xFFFFFFFF,
                              tcp_ack=ack & 0xFFFFFFFF, payload=payload))


class _Connect:
    """One connect() then close() of a TCP client: SYNs on the kernel's backoff until an
    answer, an ICMP error or the timeout; on SYN+ACK it acknowledges and closes at once."""

    __slots__ = ("tcp", "clock", "dst", "dport", "sport", "key", "isn", "on_done", "done",
                 "tries", "timers")

    def __init__(self, tcp: Tcp, dst: int, dport: int, on_done: Callable[[str], None]) -> None:
        self.tcp, self.clock = tcp, tcp.host.clock
        self.dst, self.dport, self.on_done = dst, dport, on_done
        self.sport = tcp.host.next_port()
        self.key = (self.sport, dst, dport)
        self.isn = isn((0, self.sport, dst, dport))
        self.done = False
        self.tries = 0
        self.timers: list[Timer] = []

    def start(self, timeout: float | None) -> None:
        self.tcp.clients[self.key] = self.segment
        if timeout is not None:
            self.timers.append(self.clock.call_later(timeout, self.finish, "timed out"))
        self.syn()

    def finish(self, result: str, linger: bool = False) -> None:
        if self.done:
            return
        self.done = True
        for t in self.timers:
            t.cancel()
        if not linger:
            self.tcp.clients.pop(self.key, None)
        self.on_done(result)

    def _send(self, flags: int, seq: int, ack: int = 0) -> str | None:
        return self.tcp.host.send(Packet(eth_type=ETH_IP, ip_dst=self.dst, ip_proto=PROTO_TCP,
                                         ip_ttl=DEFAULT_TTL, tp_src=self.sport,
                                         tp_dst=self.dport, tcp_flags=flags, tcp_seq=seq,
                                         tcp_ack=ack))

    def syn(self) -> None:
        if self.done:
            return
        err = self._send(TCP_SYN, self.isn)
        if err is not None:
            self.finish(err)
            return
        if self.tries < TCP_SYN_RETRIES:
            self.timers.append(self.clock.call_later(float(2 ** self.tries), self.syn))
            self.tries += 1
        else:
            self.timers.append(self.clock.call_later(float(2 ** self.tries), self.finish,
                                                     "Connection timed out"))

    def segment(self, packet: Packet) -> None:
        if packet.ip_proto == PROTO_ICMP:
            if packet.icmp_type == ICMP_DEST_UNREACH and not self.done:
                self.finish("No route to host" if packet.icmp_code in (NET_UNREACH, HOST_UNREACH)
                            else "Connection refused")
            return
        flags = packet.tcp_flags
        if self.done:  # closing: acknowledge the server's FIN
            if flags & TCP_FIN:
                self._send(TCP_ACK, packet.tcp_ack, packet.tcp_seq + 1)
                self.tcp.clients.pop(self.key, None)
            return
        if flags & TCP_RST:
            self.finish("Connection refused")
        elif flags & TCP_SYN and flags & TCP_ACK:
            for fl in (TCP_ACK, TCP_FIN | TCP_ACK):
                self._send(fl, self.isn + 1, packet.tcp_seq + 1)
            self.finish("open", linger=True)
