"""Connection tracking per zone, with SNAT/DNAT, as OVS's conntrack presents it.

A connection is keyed by its original and reply tuples, `(zone, proto, src, dst, sport,
dport)` (for ICMP echo: the id as both ports; the reply's type is matched by direction).
Uncommitted packets are classified but leave no state. Replies are un-NATed when the ct
action asks for `nat`, as in OVS. Expiry uses the injected clock.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from ovnlab.flows.actions import Nat
from ovnlab.flows.fields import (
    CS_DST_NAT,
    CS_ESTABLISHED,
    CS_INVALID,
    CS_NEW,
    CS_RELATED,
    CS_REPLY_DIR,
    CS_SRC_NAT,
    CS_TRACKED,
)
from ovnlab.packet import PROTO_ICMP, PROTO_TCP, PROTO_UDP, TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN

Tuple5 = tuple[int, int, int, int, int, int]  # zone, proto, src, dst, sport, dport

ICMP_ECHO_REQUEST, ICMP_ECHO_REPLY = 8, 0
ICMP_ERRORS = frozenset({3, 4, 5, 11, 12})

# OVS userspace conntrack default timeouts (seconds).
TIMEOUTS = {
    "icmp_first": 60.0, "icmp_reply": 30.0, "udp_first": 60.0, "udp_multiple": 30.0,
    "tcp_syn_sent": 30.0, "tcp_syn_recv": 30.0, "tcp_established": 86400.0,
    "tcp_fin_wait": 15.0, "tcp_closed": 30.0, "other_first": 60.0, "other_multiple": 30.0,
}


class Connection:
    __slots__ = ("orig", "reply", "mark", "label", "nat_kind", "tcp_state", "seen_reply",
                 "expires", "committed_at")

    def __init__(self, orig: Tuple5, reply: Tuple5, nat_kind: str | None, now: float) -> None:
        self.orig = orig
        self.reply = reply
        self.mark = 0
        self.label = 0
        self.nat_kind = nat_kind  # "src" | "dst" | None
        self.tcp_state = "SYN_SENT"
        self.seen_reply = False
        self.expires = now
        self.committed_at = now


@dataclass(frozen=True, slots=True)
class CtResult:
    """What `ct()` tells the pipeline, plus any NAT it applied to the headers."""

    state: int
    zone: int
    mark: int = 0
    label: int = 0
    nw_src: int | None = None
    nw_dst: int | None = None
    tp_src: int | None = None
    tp_dst: int | None = None
    committed: bool = False
    payload: bytes | None = None  # an ICMP error's quoted datagram, un-NATed


@dataclass(frozen=True, slots=True)
class CtEntry:
    """One row of `ovs-appctl dpctl/dump-conntrack`."""

    zone: int
    proto: int
    orig: Tuple5
    reply: Tuple5
    mark: int
    label: int
    state: str
    expires_in: float


def packet_tuple(zone: int, proto: int, src: int, dst: int, sport: int, dport: int,
                 icmp_type: int, icmp_id: int) -> Tuple5 | None:
    if proto == PROTO_ICMP:
        if icmp_type in (ICMP_ECHO_REQUEST, ICMP_ECHO_REPLY):
            return (zone, proto, src, dst, icmp_id, icmp_id)
        return None
    if proto in (PROTO_TCP, PROTO_UDP):
        return (zone, proto, src, dst, sport, dport)
    return (zone, proto, src, dst, 0, 0)


class Conntrack:
    """All zones of one node's datapath (`ovs-vswitchd` has one conntrack)."""

    def __init__(self, clock: Callable[[], float] | None = None) -> None:
        self.clock: Callable[[], float] = clock or (lambda: 0.0)
        self._by_tuple: dict[Tuple5, tuple[Connection, bool]] = {}  # tuple -> (conn, is_reply)
        self._ops = 0

    def __len__(self) -> int:
        return len({id(c) for c, _ in self._by_tuple.values()})

    def flush(self, zone: int | None = None) -> None:
        if zone is None:
            self._by_tuple.clear()
        else:
            self._by_tuple = {t: v for t, v in self._by_tuple.items() if t[0] != zone}

    def expire(self, now: float | None = None) -> int:
        """Drops connections whose timeout has passed; returns how many."""
        t = self.clock() if now is None else now
        dead = {id(c): c for c, _ in self._by_tuple.values() if c.expires < t}
        for conn in dead.values():
            self._delete(conn)
        return len(dead)

    def _get(self, tup: Tuple5, now: float) -> tuple[Connection, bool] | None:
        found = self._by_tuple.get(tup)
        if found is None:
            return None
        conn = found[0]
        if conn.expires < now:
            self._by_tuple.pop(conn.orig, None)
            self._by_tuple.pop(conn.reply, None)
            return None
        return found

    def execute(self, *, zone: int, proto: int, src: int, dst: int, sport: int, dport: int,
                icmp_type: int, icmp_id: int, tcp_flags: int, payload: bytes,
                commit: bool, nat: Nat | None, mark: tuple[int, int] | None = None,
                label: tuple[int, int] | None = None, force: bool = False) -> CtResult:
        """One pass of a packet through `ct(...)` in `zone`."""
        now = self.clock()
        self._ops += 1
        if not self._ops & 0x3FF:  # amortised sweep of expired connections
            self.expire(now)
        tup = packet_tuple(zone, proto, src, dst, sport, dport, icmp_type, icmp_id)
        if tup is None:
            if proto == PROTO_ICMP and icmp_type in ICMP_ERRORS:
                return self._related(zone, payload, nat, now)
            return CtResult(CS_TRACKED | CS_INVALID, zone)
        found = self._get(tup, now)
        if found is not None and force and found[1] and commit:
            self._delete(found[0])  # force: a reply-direction hit starts a new connection
            found = None
        if found is None:
            if proto == PROTO_ICMP and icmp_type != ICMP_ECHO_REQUEST:
                return CtResult(CS_TRACKED | CS_INVALID, zone)
            if proto == PROTO_TCP and (tcp_flags & (TCP_SYN | TCP_ACK | TCP_RST)) != TCP_SYN:
                return CtResult(CS_TRACKED | CS_INVALID, zone)
            state = CS_TRACKED | CS_NEW
            if not commit:
                return CtResult(state, zone)
            conn = self._create(tup, nat, now)
            return self._finish(conn, False, state, nat, mark, label, committed=True)
        conn, is_reply = found
        if proto == PROTO_TCP and not self._tcp_update(conn, is_reply, tcp_flags):
            return CtResult(CS_TRACKED | CS_INVALID, zone, conn.mark, conn.label)
        if is_reply:
            conn.seen_reply = True
        state = CS_TRACKED | (CS_ESTABLISHED if conn.seen_reply else CS_NEW)
        if is_reply:
            state |= CS_REPLY_DIR
        self._refresh(conn, proto, now)
        return self._finish(conn, is_reply, state, nat, mark, label, committed=commit)

    # ------------------------------------------------------------ internals
    def _finish(self, conn: Connection, is_reply: bool, state: int, nat: Nat | None,
                mark: tuple[int, int] | None, label: tuple[int, int] | None,
                committed: bool) -> CtResult:
        if committed:
            if mark is not None:
                conn.mark = (conn.mark & ~mark[1]) | (mark[0] & mark[1])
            if label is not None:
                conn.label = (conn.label & ~label[1]) | (label[0] & label[1])
        zone = conn.orig[0]
        if nat is None or conn.nat_kind is None:
            return CtResult(state, zone, conn.mark, conn.label, committed=committed)
        # Translate: the original direction to the reply tuple's view, replies back.
        if not is_reply:
            _z, _p, r_src, r_dst, r_sport, r_dport = conn.reply
            new_src, new_dst, new_sport, new_dport = r_dst, r_src, r_dport, r_sport
            bit = CS_SRC_NAT if conn.nat_kind == "src" else CS_DST_NAT
        else:
            _z, _p, o_src, o_dst, o_sport, o_dport = conn.orig
            new_src, new_dst, new_sport, new_dport = o_dst, o_src, o_dport, o_sport
            bit = CS_DST_NAT if conn.nat_kind == "src" else CS_SRC_NAT
        return CtResult(state | bit, zone, conn.mark, conn.label, new_src, new_dst,
                        new_sport, new_dport, committed)

    def _create(self, tup: Tuple5, nat: Nat | None, now: float) -> Connection:
        zone, proto, src, dst, sport, dport = tup
        reply: Tuple5 = (zone, proto, dst, src, dport, sport)
        nat_kind = None
        if nat is not None and nat.kind is not None and nat.ip_min is not None:
            nat_kind = nat.kind
            reply = self._pick_nat(tup, nat)
        conn = Connection(tup, reply, nat_kind, now)
        self._by_tuple[tup] = (conn, False)
        self._by_tuple[reply] = (conn, True)
        self._refresh(conn, proto, now)
        return conn

    def _pick_nat(self, tup: Tuple5, nat: Nat) -> Tuple5:
        """The first free address and port (ICMP: echo id) in the range, deterministically.
        Like OVS, SNAT moves to another source port or id when the tuple is taken."""
        zone, proto, src, dst, sport, dport = tup
        assert nat.ip_min is not None
        ip_max = nat.ip_max if nat.ip_max is not None else nat.ip_min
        src_side = nat.kind == "src"
        orig = sport if src_side else dport
        candidate: Tuple5 | None = None
        for addr in range(nat.ip_min, ip_max + 1):
            for port in _nat_ports(proto, orig, nat, src_side):
                if proto == PROTO_ICMP:
                    candidate = ((zone, proto, dst, addr, port, port) if src_side
                                 else (zone, proto, addr, src, port, port))
                elif src_side:
                    candidate = (zone, proto, dst, addr, dport, port)
                else:
                    candidate = (zone, proto, addr, src, port, sport)
                if candidate not in self._by_tuple:
                    return candidate
        assert candidate is not None
        return candidate  # range exhausted: reuse (OVS would fail the commit)

    def _tcp_update(self, conn: Connection, is_reply: bool, flags: int) -> bool:
        if flags & TCP_RST:
            conn.tcp_state = "CLOSED"
            return True
        st = conn.tcp_state
        if st == "SYN_SENT":
            if is_reply and flags & TCP_SYN and flags & TCP_ACK:
                conn.tcp_state = "SYN_RECV"
            elif not is_reply and flags & TCP_SYN:
                pass  # retransmitted SYN
            elif is_reply:
                return False
        elif st == "SYN_RECV":
            if not is_reply and flags & TCP_ACK and not flags & TCP_SYN:
                conn.tcp_state = "ESTABLISHED"
        elif st == "ESTABLISHED":
            if flags & TCP_FIN:
                conn.tcp_state = "FIN_WAIT"
        elif st == "FIN_WAIT":
            if flags & TCP_FIN:
                conn.tcp_state = "TIME_WAIT"
        elif st in ("TIME_WAIT", "CLOSED") and flags & TCP_SYN and not flags & TCP_ACK:
            return False
        return True

    def _refresh(self, conn: Connection, proto: int, now: float) -> None:
        if proto == PROTO_TCP:
            name = {"SYN_SENT": "tcp_syn_sent", "SYN_RECV": "tcp_syn_recv",
                    "ESTABLISHED": "tcp_established", "FIN_WAIT": "tcp_fin_wait",
                    "TIME_WAIT": "tcp_fin_wait", "CLOSED": "tcp_closed"}[conn.tcp_state]
        elif proto == PROTO_ICMP:
            name = "icmp_reply" if conn.seen_reply else "icmp_first"
        elif proto == PROTO_UDP:
            name = "udp_multiple" if conn.seen_reply else "udp_first"
        else:
            name = "other_multiple" if conn.seen_reply else "other_first"
        conn.expires = now + TIMEOUTS[name]

    def _delete(self, conn: Connection) -> None:
        self._by_tuple.pop(conn.orig, None)
        self._by_tuple.pop(conn.reply, None)

    def _related(self, zone: int, payload: bytes, nat: Nat | None, now: float) -> CtResult:
        """An ICMP error about a tracked connection: +rel (+rpl), un-NATed if asked."""
        inner = _inner_tuple(zone, payload)
        if inner is None:
            return CtResult(CS_TRACKED | CS_INVALID, zone)
        # The error travels opposite to the packet it quotes: look up the reversed tuple.
        z, p, i_src, i_dst, i_sport, i_dport = inner
        found = self._get((z, p, i_dst, i_src, i_dport, i_sport), now)
        if found is None:
            return CtResult(CS_TRACKED | CS_INVALID, zone)
        conn, is_reply = found
        state = CS_TRACKED | CS_RELATED | (CS_REPLY_DIR if is_reply else 0)
        if nat is None or conn.nat_kind is None:
            return CtResult(state, zone, conn.mark, conn.label)
        snat = conn.nat_kind == "src"
        if not is_reply:  # nat_packet: the outer header only, as OVS's userspace conntrack
            if snat:
                return CtResult(state | CS_SRC_NAT, zone, conn.mark, conn.label,
                                nw_src=conn.reply[3])
            return CtResult(state | CS_DST_NAT, zone, conn.mark, conn.label,
                            nw_dst=conn.reply[2])
        # un_nat_packet + reverse_nat_packet: the outer header and the quoted datagram
        # both go back to the connection's original addresses and ports
        _z, _p, o_src, o_dst, o_sport, o_dport = conn.orig
        if snat:
            return CtResult(state | CS_DST_NAT, zone, conn.mark, conn.label, nw_dst=o_src,
                            payload=_rewrite_quoted(payload, src=(o_src, o_sport)))
        return CtResult(state | CS_SRC_NAT, zone, conn.mark, conn.label, nw_src=o_dst,
                        payload=_rewrite_quoted(payload, dst=(o_dst, o_dport)))

    def dump(self, zone: int | None = None) -> list[CtEntry]:
        now = self.clock()
        seen: dict[int, Connection] = {}
        for conn, _ in self._by_tuple.values():
            if conn.expires >= now and (zone is None or conn.orig[0] == zone):
                seen[id(conn)] = conn
        rows = [CtEntry(c.orig[0], c.orig[1], c.orig, c.reply, c.mark, c.label,
                        c.tcp_state if c.orig[1] == PROTO_TCP else "",
                        c.expires - now) for c in seen.values()]
        return sorted(rows, key=lambda r: (r.zone, r.orig))


def _nat_ports(proto: int, orig: int, nat: Nat, src_side: bool) -> Iterator[int]:
    """Ports (or ICMP ids) to try, the packet's own first."""
    if proto in (PROTO_TCP, PROTO_UDP) and nat.port_min is not None:
        p_max = nat.port_max if nat.port_max is not None else nat.port_min
        if nat.port_min <= orig <= p_max:
            yield orig
        yield from (p for p in range(nat.port_min, p_max + 1) if p != orig)
        return
    yield orig
    if proto == PROTO_ICMP:
        yield from (i for i in range(1, 65536) if i != orig)
    elif proto in (PROTO_TCP, PROTO_UDP) and src_side:
        yield from (p for p in range(1024, 65536) if p != orig)


def _inner_tuple(zone: int, payload: bytes) -> Tuple5 | None:
    """The quoted packet's tuple from an ICMP error's payload (IP header + 8 bytes)."""
    if len(payload) < 28 or payload[0] >> 4 != 4:
        return None
    ihl = (payload[0] & 0x0F) * 4
    proto = payload[9]
    src = int.from_bytes(payload[12:16], "big")
    dst = int.from_bytes(payload[16:20], "big")
    l4 = payload[ihl:ihl + 8]
    if proto in (PROTO_TCP, PROTO_UDP) and len(l4) >= 4:
        sport, dport = struct.unpack("!HH", l4[:4])
        return (zone, proto, src, dst, sport, dport)
    if proto == PROTO_ICMP and len(l4) >= 8:
        icmp_id = struct.unpack("!H", l4[4:6])[0]
        return (zone, proto, src, dst, icmp_id, icmp_id)
    return (zone, proto, src, dst, 0, 0)


def _rewrite_quoted(payload: bytes, *, src: tuple[int, int] | None = None,
                    dst: tuple[int, int] | None = None) -> bytes:
    """The quoted datagram with its source (or destination) address and port replaced,
    its IP checksum recomputed and its L4 checksum updated incrementally (RFC 1624), as
    OVS's packet_set_ipv4_addr / packet_set_*_port do on the inner headers."""
    data = bytearray(payload)
    ihl = (data[0] & 0x0F) * 4
    proto = data[9]
    addr_at, port_at = (12, 0) if src is not None else (16, 2)
    addr, port = src if src is not None else dst  # type: ignore[misc]
    csum_at = {PROTO_UDP: 6, PROTO_TCP: 16, PROTO_ICMP: 2}.get(proto)
    if proto == PROTO_ICMP:
        port_at = 4  # the echo id stands for both ports
    old_words = bytes(data[addr_at:addr_at + 4])
    data[addr_at:addr_at + 4] = addr.to_bytes(4, "big")
    updates = [(old_words, bytes(data[addr_at:addr_at + 4]))] if proto != PROTO_ICMP else []
    l4 = ihl + port_at
    if proto in (PROTO_TCP, PROTO_UDP, PROTO_ICMP) and len(data) >= l4 + 2:
        old_port = bytes(data[l4:l4 + 2])
        data[l4:l4 + 2] = port.to_bytes(2, "big")
        updates.append((old_port, bytes(data[l4:l4 + 2])))
    if csum_at is not None and len(data) >= ihl + csum_at + 2:
        at = ihl + csum_at
        old_csum = int.from_bytes(data[at:at + 2], "big")
        if not (proto == PROTO_UDP and old_csum == 0):  # UDP: 0 means "no checksum"
            data[at:at + 2] = _csum_update(old_csum, updates).to_bytes(2, "big")
    data[10:12] = b"\0\0"
    data[10:12] = _csum(bytes(data[:ihl])).to_bytes(2, "big")
    return bytes(data)


def _csum_update(csum: int, updates: list[tuple[bytes, bytes]]) -> int:
    """RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m')."""
    total = ~csum & 0xFFFF
    for old, new in updates:
        for i in range(0, len(old), 2):
            total += (~int.from_bytes(old[i:i + 2], "big") & 0xFFFF) \
                + int.from_bytes(new[i:i + 2], "big")
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def _csum(data: bytes) -> int:
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF
