"""A TCP client that sends one request and reads one response (curl's connection), as
events on the lab's clock.

connect() as Linux does it (SYN retransmitted 1, 2, 4... s apart, `tcp_syn_retries`
times), the request in one segment, the response acknowledged segment by segment until
`complete(response)` says it is whole, then close(): FIN, the server's FIN acknowledged.
`timeout` bounds the whole exchange, `connect_timeout` the handshake.
Segments lost after the handshake are not retransmitted (the lab drops none that a
working path would deliver).
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum

from ovnlab.fabric.clock import Timer
from ovnlab.fabric.host import HostStack
from ovnlab.fabric.icmp import DEFAULT_TTL, HOST_UNREACH, NET_UNREACH
from ovnlab.fabric.tcp import TCP_SYN_RETRIES, isn
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


class Outcome(Enum):
    """How the exchange ended, as the socket calls would report it."""

    DONE = "done"
    REFUSED = "Connection refused"
    RESET = "Connection reset by peer"
    NO_ROUTE = "No route to host"
    NET_UNREACHABLE = "Network is unreachable"
    CONNECT_TIMEOUT = "Connection timed out"  # SYN retries exhausted
    TIMEOUT = "timed out"  # the caller's deadline
    MESSAGE_TOO_LONG = "Message too long"


class TcpExchange:
    """`start()`, then `on_done(outcome)`; `connected`, `response` and `elapsed` tell how
    far it got."""

    def __init__(self, stack: HostStack, dst: int, dport: int, request: bytes,
                 complete: Callable[[bytes], bool], on_done: Callable[[Outcome], None],
                 timeout: float | None = None, connect_timeout: float | None = None) -> None:
        self.stack = stack
        self.clock = stack.clock
        self.dst, self.dport = dst, dport
        self.request = request
        self.complete = complete
        self.on_done = on_done
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self.sport = stack.next_port()
        self.key = (self.sport, dst, dport)
        self.isn = isn((0, self.sport, dst, dport))
        self.started = self.clock.now
        self.connected = False
        self.response = bytearray()
        self.outcome: Outcome | None = None
        self._tries = 0
        self._peer_next = 0
        self._timers: list[Timer] = []

    @property
    def elapsed(self) -> float:
        return self.clock.now - self.started

    def start(self) -> None:
        self.stack.tcp.clients[self.key] = self._segment
        if self.timeout is not None:
            self._timers.append(self.clock.call_later(self.timeout, self._finish,
                                                      Outcome.TIMEOUT))
        if self.connect_timeout is not None:
            self._timers.append(self.clock.call_later(self.connect_timeout,
                                                      self._connect_expired))
        self._syn()

    def _connect_expired(self) -> None:
        if not self.connected:
            self._finish(Outcome.TIMEOUT)

    def stop(self) -> None:
        """Killed: no callback, no socket left."""
        self.on_done = lambda outcome: None
        self._finish(Outcome.TIMEOUT)

    def _finish(self, outcome: Outcome, linger: bool = False) -> None:
        if self.outcome is not None:
            return
        self.outcome = outcome
        for timer in self._timers:
            timer.cancel()
        if not linger:
            self.stack.tcp.clients.pop(self.key, None)
        self.on_done(outcome)

    def _send(self, flags: int, seq: int, ack: int = 0, payload: bytes = b"") -> str | None:
        return self.stack.send(Packet(eth_type=ETH_IP, ip_dst=self.dst, ip_proto=PROTO_TCP,
                                      ip_ttl=DEFAULT_TTL, tp_src=self.sport, tp_dst=self.dport,
                                      tcp_flags=flags, tcp_seq=seq & 0xFFFFFFFF,
                                      tcp_ack=ack & 0xFFFFFFFF, payload=payload))

    def _syn(self) -> None:
        if self.outcome is not None or self.connected:
            return
        err = self._send(TCP_SYN, self.isn)
        if err is not None:
            self._finish(Outcome.NET_UNREACHABLE if "unreachable" in err
                         else Outcome.MESSAGE_TOO_LONG)
            return
        delay = float(2 ** self._tries)
        if self._tries < TCP_SYN_RETRIES:
            self._tries += 1
            self._timers.append(self.clock.call_later(delay, self._syn))
        else:
            self._timers.append(self.clock.call_later(delay, self._finish,
                                                      Outcome.CONNECT_TIMEOUT))

    def _segment(self, packet: Packet) -> None:
        if packet.ip_proto == PROTO_ICMP:
            if packet.icmp_type == ICMP_DEST_UNREACH and not self.connected:
                self._finish(Outcome.NO_ROUTE if packet.icmp_code in (NET_UNREACH, HOST_UNREACH)
                             else Outcome.REFUSED)
            return
        flags = packet.tcp_flags
        if self.outcome is not None:  # closing: acknowledge the server's FIN
            if flags & TCP_FIN:
                self._send(TCP_ACK, self.isn + 1 + len(self.request) + 1,
                           packet.tcp_seq + len(packet.payload) + 1)
                self.stack.tcp.clients.pop(self.key, None)
            return
        if flags & TCP_RST:
            self._finish(Outcome.RESET if self.connected else Outcome.REFUSED)
        elif not self.connected and flags & TCP_SYN and flags & TCP_ACK:
            self.connected = True
            self._peer_next = packet.tcp_seq + 1
            self._send(TCP_ACK, self.isn + 1, self._peer_next)
            self._send(TCP_PSH | TCP_ACK, self.isn + 1, self._peer_next, self.request)
        elif self.connected and packet.payload and packet.tcp_seq == self._peer_next:
            self.response += packet.payload
            self._peer_next += len(packet.payload)
            self._send(TCP_ACK, self.isn + 1 + len(self.request), self._peer_next)
            if self.complete(bytes(self.response)):
                self._send(TCP_FIN | TCP_ACK, self.isn + 1 + len(self.request), self._peer_next)
                self._finish(Outcome.DONE, linger=True)
        elif self.connected and flags & TCP_FIN:
            self._peer_next += 1
            self._send(TCP_FIN | TCP_ACK, self.isn + 1 + len(self.request), self._peer_next)
            self._finish(Outcome.DONE, linger=True)
