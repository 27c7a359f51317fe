"""A host's IPv4 stack: addresses, routes, ARP, ICMP, a TCP listener and UDP.

It behaves like Linux where the lab can observe it: ARP requests retried 3 times a second
apart, neighbour states (INCOMPLETE, REACHABLE, STALE, DELAY, PROBE, FAILED) with a 30 s
reachable time, packets queued while their next hop resolves, `arp_accept=0` (a
gratuitous ARP updates an existing entry but never creates one), forwarding with TTL
handling and ICMP errors for routers, echo replies, RST for closed TCP ports and ICMP port
unreachable for closed UDP ports.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from dataclasses import fields as dataclass_fields
from enum import Enum
from typing import Any

from ovnlab.fabric.clock import Clock, Timer
from ovnlab.fabric.link import Interface
from ovnlab.ipfrag import Reassembler, fragment
from ovnlab.packet import (
    ARP_REPLY,
    ARP_REQUEST,
    BROADCAST,
    ETH_ARP,
    ETH_IP,
    ICMP_DEST_UNREACH,
    ICMP_ECHO_REPLY,
    ICMP_ECHO_REQUEST,
    ICMP_TIME_EXCEEDED,
    PROTO_ICMP,
    PROTO_TCP,
    PROTO_UDP,
    TCP_ACK,
    TCP_FIN,
    TCP_PSH,
    TCP_RST,
    TCP_SYN,
    Packet,
    ip_str,
    ip_total_length,
)
from ovnlab.packet import ip as parse_ip

ARP_RETRIES = 3  # mcast_solicit / ucast_solicit
ARP_RETRANS = 1.0  # retrans_time_ms
REACHABLE_TIME = 30.0  # base_reachable_time (Linux randomises it; the lab does not)
DELAY_FIRST_PROBE = 5.0  # delay_first_probe_time
UNRES_QLEN = 101  # packets queued per unresolved neighbour
DEFAULT_TTL = 64
TCP_SYN_RETRIES = 6  # net.ipv4.tcp_syn_retries: gives up after 127 s

# ICMP destination-unreachable codes
NET_UNREACH, HOST_UNREACH, PORT_UNREACH, FRAG_NEEDED = 0, 1, 3, 4
MESSAGE_TOO_LONG = "Message too long"  # strerror(EMSGSIZE)

IcmpHandler = Callable[[Packet, Packet | None], None]
TcpHandler = Callable[[Packet], None]
# A TCP server application: (the segment that completed it, the request so far) -> its
# response once the request is complete, else None (haproxy in a metadata namespace).
TcpApp = Callable[[Packet, bytes], bytes | None]
UdpHandler = Callable[[Packet], None]
Tap = Callable[[Packet], bool]
Observer = Callable[[str, str, Packet, str], None]


class Pmtudisc(Enum):
    """IP_MTU_DISCOVER: DF on what fits and fragment the rest (want, Linux's default),
    DF always and refuse what does not fit (do), never DF (dont). What does not fit leaves
    in fragments (ovnlab.ipfrag), which the receiver reassembles."""

    WANT = "want"
    DO = "do"
    DONT = "dont"


_PACKET_FIELDS = tuple(f.name for f in dataclass_fields(Packet))
_set = object.__setattr__


def rewrite(packet: Packet, **changes: Any) -> Packet:
    """`packet.with_(...)` at half the cost (dataclasses.replace re-validates every field;
    the fabric rewrites L2 headers on every hop)."""
    new = object.__new__(Packet)
    for name in _PACKET_FIELDS:
        _set(new, name, getattr(packet, name))
    for name, value in changes.items():
        _set(new, name, value)
    return new


def _mask(prefixlen: int) -> int:
    return (0xFFFFFFFF << (32 - prefixlen)) & 0xFFFFFFFF if prefixlen else 0


@dataclass(frozen=True, slots=True)
class Address:
    ip: int
    prefixlen: int
    dev: str

    @property
    def network(self) -> int:
        return self.ip & _mask(self.prefixlen)

    @property
    def broadcast(self) -> int:
        return self.network | (~_mask(self.prefixlen) & 0xFFFFFFFF)

    def contains(self, ip: int) -> bool:
        return ip & _mask(self.prefixlen) == self.network


@dataclass(frozen=True, slots=True)
class Route:
    """One routing-table entry; `proto` and `scope` as `ip route` prints them."""

    dst: int
    prefixlen: int
    dev: str
    via: int | None = None
    src: int | None = None
    proto: str = "boot"
    scope: str = "global"
    metric: int = 0

    def matches(self, ip: int) -> bool:
        return ip & _mask(self.prefixlen) == self.dst

    @property
    def prefix(self) -> str:
        return "default" if self.prefixlen == 0 else (
            ip_str(self.dst) if self.prefixlen == 32 and self.proto != "kernel"
            else f"{ip_str(self.dst)}/{self.prefixlen}")


@dataclass(slots=True)
class Neighbour:
    """An ARP cache entry (`ip neigh`)."""

    ip: int
    dev: str
    mac: int | None = None
    state: str = "INCOMPLETE"
    confirmed: float = 0.0
    probes: int = 0
    timer: Timer | None = None
    pending: list[tuple[Packet, bool]] = field(default_factory=list)


class HostStack:
    """The IP stack of one node (a VM, a router, an external host, a chassis's eth1)."""

    def __init__(self, name: str, clock: Clock, *, forwarding: bool = False) -> None:
        self.name = name
        self.clock = clock
        self.forwarding = forwarding
        self.interfaces: dict[str, Interface] = {}
        self.addresses: list[Address] = []
        self.routes: list[Route] = []
        self.neighbours: dict[tuple[str, int], Neighbour] = {}
        self.tcp_listening: set[int] = set()
        self.tcp_apps: dict[int, TcpApp] = {}  # listening ports that exchange data
        self.udp_handlers: dict[int, UdpHandler] = {}
        self.icmp_sockets: dict[int, IcmpHandler] = {}
        self.tcp_clients: dict[tuple[int, int, int], TcpHandler] = {}
        self.taps: list[Tap] = []
        self.packet_sockets: list[Tap] = []  # AF_PACKET: frames before IP (a DHCP client)
        self.observer: Observer | None = None  # the fabric's journey recorder
        self.nameservers: list[int] = []  # /etc/resolv.conf (a DHCP lease writes it)
        self.reassembly = Reassembler()  # fragments of datagrams addressed here
        self.search_domain: str | None = None
        seed = zlib.crc32(name.encode("utf-8", "surrogatepass"))  # any str names a host
        self._ip_id = seed & 0xFFFF
        self._icmp_ident = (seed >> 8) & 0x7FFF or 1
        self._ephemeral = 32768 + seed % 28000
        self._tcp_conns: dict[tuple[int, int, int, int], str] = {}  # server side state
        self._tcp_streams: dict[tuple[int, int, int, int], _Stream] = {}  # and its data
        # (number of addresses it was made from, local IPs, (dev, IP) pairs): every ARP
        # frame a chassis's eth1 hears on a big underlay asks "is this mine?"
        self._local: tuple[int, frozenset[int], frozenset[tuple[str, int]]] = (
            0, frozenset(), frozenset())

    # ------------------------------------------------------------ configuration
    def add_interface(self, iface: Interface) -> None:
        self.interfaces[iface.name] = iface

    def add_address(self, dev: str, cidr: str) -> Address:
        """`ip addr add CIDR dev DEV`: also adds the connected route, like the kernel."""
        if dev not in self.interfaces:
            raise ValueError(f"{self.name}: no interface {dev!r}")
        ip_text, _, plen = cidr.partition("/")
        addr = Address(parse_ip(ip_text), int(plen or 32), dev)
        self.addresses.append(addr)
        if addr.prefixlen < 32:
            self.routes.append(Route(addr.network, addr.prefixlen, dev, src=addr.ip,
                                     proto="kernel", scope="link"))
        return addr

    def add_route(self, dst: str, *, via: str | None = None, dev: str | None = None,
                  src: str | None = None, metric: int = 0) -> Route:
        """`ip route add DST [via GW] [dev DEV]`; the device is found from GW if omitted."""
        net_text, _, plen_text = ("0.0.0.0/0" if dst == "default" else dst).partition("/")
        plen = int(plen_text or 32)
        gw = parse_ip(via) if via else None
        if dev is None:
            if gw is None:
                raise ValueError(f"{self.name}: route {dst} needs via or dev")
            hop = self.lookup_route(gw)
            if hop is None or hop.via is not None:
                raise ValueError(f"{self.name}: Nexthop has invalid gateway ({via})")
            dev = hop.dev
        route = Route(parse_ip(net_text) & _mask(plen), plen, dev, gw,
                      parse_ip(src) if src else None,
                      scope="global" if gw is not None else "link", metric=metric)
        self.routes.append(route)
        return route

    def listen_tcp(self, *ports: int) -> None:
        self.tcp_listening.update(ports)

    def bind_udp(self, port: int, handler: UdpHandler) -> None:
        self.udp_handlers[port] = handler

    # ------------------------------------------------------------ lookups
    def _locals(self) -> tuple[int, frozenset[int], frozenset[tuple[str, int]]]:
        cached = self._local
        if cached[0] != len(self.addresses):
            cached = self._local = (len(self.addresses), frozenset(a.ip for a in self.addresses),
                                    frozenset((a.dev, a.ip) for a in self.addresses))
        return cached

    @property
    def local_ips(self) -> frozenset[int]:
        return self._locals()[1]

    def primary_ip(self, dev: str | None = None) -> int | None:
        for a in self.addresses:
            if dev is None or a.dev == dev:
                return a.ip
        return None

    def lookup_route(self, dst: int) -> Route | None:
        best: Route | None = None
        for r in self.routes:
            if r.matches(dst) and (best is None or r.prefixlen > best.prefixlen
                                   or (r.prefixlen == best.prefixlen and r.metric < best.metric)):
                best = r
        return best

    def source_for(self, route: Route, dst: int) -> int:
        if route.src is not None:
            return route.src
        on_dev = [a for a in self.addresses if a.dev == route.dev]
        hop = route.via if route.via is not None else dst
        for a in on_dev:
            if a.contains(hop):
                return a.ip
        if on_dev:
            return on_dev[0].ip
        return self.primary_ip() or 0

    def neighbour_state(self, n: Neighbour) -> str:
        if n.state == "REACHABLE" and self.clock.now - n.confirmed >= REACHABLE_TIME:
            n.state = "STALE"
        return n.state

    # ------------------------------------------------------------ identifiers
    def next_icmp_ident(self) -> int:
        self._icmp_ident = self._icmp_ident % 0xFFFF + 1
        return self._icmp_ident

    def next_port(self) -> int:
        self._ephemeral = 32768 + (self._ephemeral - 32768 + 1) % 28232
        return self._ephemeral

    def _next_ip_id(self) -> int:
        self._ip_id = (self._ip_id + 1) & 0xFFFF
        return self._ip_id

    def _note(self, action: str, dev: str, packet: Packet, note: str = "") -> None:
        if self.observer is not None:
            self.observer(action, dev, packet, note)

    # ------------------------------------------------------------ sending
    def send(self, packet: Packet, pmtudisc: Pmtudisc = Pmtudisc.WANT) -> str | None:
        """Send a locally generated IPv4 packet (L2 fields and DF are filled in here).

        Returns None when it left (or was queued for ARP), else the errno text the
        application would see ("Network is unreachable", "Message too long, mtu=1442")."""
        if packet.ip_dst in self.local_ips or packet.ip_dst >> 24 == 127:
            if not packet.ip_src:
                packet = packet.with_(ip_src=packet.ip_dst)
            self._note("loopback", "lo", packet)
            self.clock.call_later(0.0, self._deliver_local, None, packet)
            return None
        route = self.lookup_route(packet.ip_dst)
        if route is None:
            self._note("drop", "", packet, "no route to host: Network is unreachable")
            return "Network is unreachable"
        mtu = self.interfaces[route.dev].mtu
        fits = ip_total_length(packet) <= mtu
        if pmtudisc is Pmtudisc.DO and not fits:
            # the kernel refuses what it may not fragment (EMSGSIZE)
            self._note("drop", route.dev, packet, f"message too long, mtu={mtu}")
            return f"{MESSAGE_TOO_LONG}, mtu={mtu}"
        changes: dict[str, Any] = {}
        df = pmtudisc is Pmtudisc.DO or (pmtudisc is Pmtudisc.WANT and fits)
        if df != packet.ip_df:
            changes["ip_df"] = df
        if not packet.ip_src:
            changes["ip_src"] = self.source_for(route, packet.ip_dst)
        if not packet.ip_id:
            changes["ip_id"] = self._next_ip_id()
        if not fits:  # ip_fragment(): what may be fragmented leaves in pieces
            for piece in fragment(rewrite(packet, **changes), mtu):
                self._output(route, piece, local=True)
            return None
        self._output(route, packet, local=True, changes=changes)
        return None

    def _output(self, route: Route, packet: Packet, *, local: bool,
                changes: dict[str, Any] | None = None) -> None:
        """Send on the route's device: L2 addresses (and any pending header `changes`)
        are written in one rewrite."""
        iface = self.interfaces[route.dev]
        hop = route.via if route.via is not None else packet.ip_dst
        changes = changes if changes is not None else {}
        changes["eth_src"] = iface.mac
        changes["eth_type"] = ETH_IP
        if hop == 0xFFFFFFFF or any(a.dev == route.dev and a.broadcast == hop
                                    and a.prefixlen < 31 for a in self.addresses):
            changes["eth_dst"] = BROADCAST
            iface.send(rewrite(packet, **changes))
            return
        n = self.neighbours.get((route.dev, hop))
        state = self.neighbour_state(n) if n is not None else "NONE"
        if n is not None and n.mac is not None and state != "FAILED" and state != "INCOMPLETE":
            if state == "STALE":
                self._start_delay(n)
            changes["eth_dst"] = n.mac
            iface.send(rewrite(packet, **changes))
            return
        packet = rewrite(packet, **changes)
        if n is None or state == "FAILED":
            n = Neighbour(hop, route.dev)
            self.neighbours[(route.dev, hop)] = n
            n.pending.append((packet, local))
            self._solicit(n)
            n.timer = self.clock.call_later(ARP_RETRANS, self._arp_retry, n)
        elif len(n.pending) < UNRES_QLEN:
            n.pending.append((packet, local))

    def _solicit(self, n: Neighbour, unicast: int | None = None) -> None:
        iface = self.interfaces[n.dev]
        spa = next((a.ip for a in self.addresses if a.dev == n.dev and a.contains(n.ip)),
                   self.primary_ip(n.dev) or 0)
        iface.send(Packet(eth_src=iface.mac, eth_dst=unicast if unicast is not None else BROADCAST,
                          eth_type=ETH_ARP, arp_op=ARP_REQUEST, arp_sha=iface.mac, arp_spa=spa,
                          arp_tha=0, arp_tpa=n.ip))

    def _arp_retry(self, n: Neighbour) -> None:
        if self.neighbours.get((n.dev, n.ip)) is not n or n.state not in ("INCOMPLETE", "PROBE"):
            return
        n.probes += 1
        if n.probes >= ARP_RETRIES:
            self._fail(n)
            return
        self._solicit(n, n.mac if n.state == "PROBE" else None)
        n.timer = self.clock.call_later(ARP_RETRANS, self._arp_retry, n)

    def _fail(self, n: Neighbour) -> None:
        n.state, n.mac, n.timer = "FAILED", None, None
        pending, n.pending = n.pending, []
        for packet, local in pending:
            self._note("drop", n.dev, packet, f"ARP for {ip_str(n.ip)} failed")
            self._unreachable(packet, HOST_UNREACH, local)

    def _start_delay(self, n: Neighbour) -> None:
        n.state = "DELAY"
        n.timer = self.clock.call_later(DELAY_FIRST_PROBE, self._delay_expired, n)

    def _delay_expired(self, n: Neighbour) -> None:
        if n.state != "DELAY":
            return
        if self.clock.now - n.confirmed < DELAY_FIRST_PROBE:
            n.state = "REACHABLE"
            return
        n.state, n.probes = "PROBE", 0
        self._solicit(n, n.mac)
        n.timer = self.clock.call_later(ARP_RETRANS, self._arp_retry, n)

    def _unreachable(self, packet: Packet, code: int, local: bool) -> None:
        """Report a packet that could not be delivered: to the local socket if we sent it,
        else with an ICMP error to its source (as a Linux router does)."""
        if local:
            me = packet.ip_src or self.primary_ip() or 0
            err = icmp_error(packet, ICMP_DEST_UNREACH, code, me)
            if err is not None:
                self.clock.call_later(0.0, self._deliver_local, None, err)
        else:
            self._send_icmp_error(packet, ICMP_DEST_UNREACH, code, None)

    def _send_icmp_error(self, packet: Packet, type_: int, code: int, dev: str | None, *,
                         mtu: int = 0) -> None:
        src = self.primary_ip(dev) if dev else None
        if src is None:
            route = self.lookup_route(packet.ip_src)
            src = self.source_for(route, packet.ip_src) if route else self.primary_ip()
        err = icmp_error(packet, type_, code, src or 0, mtu=mtu)
        if err is not None:
            self.send(err.with_(ip_id=self._next_ip_id()), Pmtudisc.DONT)  # icmp_sk: no DF

    # ------------------------------------------------------------ receiving
    def receive(self, iface: Interface, packet: Packet) -> None:
        dst = packet.eth_dst
        if dst != iface.mac and dst != BROADCAST and not dst & (1 << 40):
            return  # not promiscuous: another host's unicast flooded by the segment
        for sock in list(self.packet_sockets):
            if sock(packet):
                return
        if packet.eth_type == ETH_ARP:
            self._arp_input(iface, packet)
        elif packet.eth_type == ETH_IP:
            self._ip_input(iface, packet)

    def _arp_input(self, iface: Interface, packet: Packet) -> None:
        dev, spa, tpa = iface.name, packet.arp_spa, packet.arp_tpa
        mine = (dev, tpa) in self._locals()[2]
        gratuitous = spa == tpa
        n = self.neighbours.get((dev, spa))
        if spa and (n is not None or (mine and not gratuitous)):
            self._confirm(dev, spa, packet.arp_sha)
        if packet.arp_op == ARP_REQUEST and mine and not gratuitous:
            self._note("arp-reply", dev, packet, f"{ip_str(tpa)} is-at {iface.name}")
            iface.send(Packet(eth_src=iface.mac, eth_dst=packet.arp_sha, eth_type=ETH_ARP,
                              arp_op=ARP_REPLY, arp_sha=iface.mac, arp_spa=tpa,
                              arp_tha=packet.arp_sha, arp_tpa=spa))

    def _confirm(self, dev: str, ip: int, mac: int) -> None:
        n = self.neighbours.get((dev, ip))
        if n is None:
            n = self.neighbours[(dev, ip)] = Neighbour(ip, dev)
        if n.timer is not None:
            n.timer.cancel()
            n.timer = None
        n.mac, n.state, n.confirmed, n.probes = mac, "REACHABLE", self.clock.now, 0
        pending, n.pending = n.pending, []
        iface = self.interfaces[dev]
        for queued, _local in pending:
            iface.send(rewrite(queued, eth_dst=mac))

    def _is_local_dst(self, iface: Interface, ip: int) -> bool:
        if ip == 0xFFFFFFFF or ip in self.local_ips:
            return True
        return any(a.dev == iface.name and a.broadcast == ip for a in self.addresses)

    def _ip_input(self, iface: Interface, packet: Packet) -> None:
        if self._is_local_dst(iface, packet.ip_dst):
            self._deliver_local(iface, packet)
            return
        if not self.forwarding:
            self._note("drop", iface.name, packet, "not for this host (forwarding off)")
            return
        if packet.ip_ttl <= 1:
            self._note("drop", iface.name, packet, "TTL exceeded")
            self._send_icmp_error(packet, ICMP_TIME_EXCEEDED, 0, iface.name)
            return
        route = self.lookup_route(packet.ip_dst)
        if route is None:
            self._note("drop", iface.name, packet, "no route")
            self._send_icmp_error(packet, ICMP_DEST_UNREACH, NET_UNREACH, iface.name)
            return
        mtu = self.interfaces[route.dev].mtu
        fits = ip_total_length(packet) <= mtu
        if packet.ip_df and not fits:
            self._note("drop", iface.name, packet, f"needs fragmentation, mtu {mtu}")
            self._send_icmp_error(packet, ICMP_DEST_UNREACH, FRAG_NEEDED, iface.name, mtu=mtu)
            return
        if self.observer is not None:
            self._note("forward", route.dev, packet,
                       f"ttl {packet.ip_ttl}->{packet.ip_ttl - 1}, routed via "
                       f"{ip_str(route.via) if route.via is not None else 'direct'} dev {route.dev}")
        if not fits:
            for piece in fragment(rewrite(packet, ip_ttl=packet.ip_ttl - 1), mtu):
                self._output(route, piece, local=False)
            return
        self._output(route, packet, local=False, changes={"ip_ttl": packet.ip_ttl - 1})

    def _deliver_local(self, iface: Interface | None, packet: Packet) -> None:
        if packet.ip_mf or packet.ip_frag_off:  # ip_defrag(): wait for the whole datagram
            whole = self.reassembly.add(packet, self.clock.now)
            if whole is None:
                self._note("queue", iface.name if iface else "lo", packet, "fragment queued")
                return
            packet = whole[0]
        self._note("deliver", iface.name if iface else "lo", packet)
        for tap in list(self.taps):
            if tap(packet):
                return
        if packet.ip_proto == PROTO_ICMP:
            self._icmp_input(iface, packet)
        elif packet.ip_proto == PROTO_TCP:
            self._tcp_input(packet)
        elif packet.ip_proto == PROTO_UDP:
            handler = self.udp_handlers.get(packet.tp_dst)
            if handler is not None:
                handler(packet)
            elif packet.ip_dst != 0xFFFFFFFF:
                self._send_icmp_error(packet, ICMP_DEST_UNREACH, PORT_UNREACH, None)

    def _icmp_input(self, iface: Interface | None, packet: Packet) -> None:
        if packet.icmp_type == ICMP_ECHO_REQUEST:
            self.send(Packet(eth_type=ETH_IP, ip_src=packet.ip_dst if packet.ip_dst
                             in self.local_ips else 0, ip_dst=packet.ip_src,
                             ip_proto=PROTO_ICMP, ip_ttl=DEFAULT_TTL,
                             icmp_type=ICMP_ECHO_REPLY, icmp_id=packet.icmp_id,
                             icmp_seq=packet.icmp_seq, payload=packet.payload))
        elif packet.icmp_type == ICMP_ECHO_REPLY:
            handler = self.icmp_sockets.get(packet.icmp_id)
            if handler is not None:
                handler(packet, None)
        elif packet.icmp_type in (ICMP_DEST_UNREACH, ICMP_TIME_EXCEEDED):
            original = embedded_packet(packet)
            if original is None:
                return
            if original.ip_proto == PROTO_ICMP:
                handler = self.icmp_sockets.get(original.icmp_id)
                if handler is not None:
                    handler(packet, original)
            elif original.ip_proto == PROTO_TCP:
                tcp = self.tcp_clients.get((original.tp_src, original.ip_dst, original.tp_dst))
                if tcp is not None:
                    tcp(packet)

    # ------------------------------------------------------------ TCP
    def _tcp_input(self, packet: Packet) -> None:
        client = self.tcp_clients.get((packet.tp_dst, packet.ip_src, packet.tp_src))
        if client is not None:
            client(packet)
            return
        key = (packet.ip_src, packet.tp_src, packet.ip_dst, packet.tp_dst)
        flags = packet.tcp_flags
        if flags & TCP_RST:
            self._tcp_conns.pop(key, None)
            self._tcp_streams.pop(key, None)
            return
        if flags & TCP_SYN and not flags & TCP_ACK:
            if packet.tp_dst in self.tcp_listening:
                self._tcp_conns[key] = "SYN_RECV"
                if packet.tp_dst in self.tcp_apps:
                    self._tcp_streams[key] = _Stream(_isn(key) + 1, packet.tcp_seq + 1)
                self._tcp_reply(packet, TCP_SYN | TCP_ACK, _isn(key), packet.tcp_seq + 1)
            else:
                self._tcp_reply(packet, TCP_RST | TCP_ACK, 0, packet.tcp_seq + 1)
            return
        state = self._tcp_conns.get(key)
        if state is None:
            self._tcp_reply(packet, TCP_RST, packet.tcp_ack, 0)
        elif state == "LAST_ACK":  # the peer acknowledged our FIN: closed
            self._tcp_conns.pop(key)
        elif flags & TCP_FIN:
            self._tcp_conns[key] = "LAST_ACK"
            self._tcp_streams.pop(key, None)
            self._tcp_reply(packet, TCP_FIN | TCP_ACK, packet.tcp_ack,
                            packet.tcp_seq + len(packet.payload) + 1)
        elif flags & TCP_ACK:
            self._tcp_conns[key] = "ESTABLISHED"
            stream = self._tcp_streams.get(key)
            if stream is not None and packet.payload:
                self._tcp_data(key, stream, packet)

    def _tcp_data(self, key: tuple[int, int, int, int], stream: _Stream,
                  packet: Packet) -> None:
        """In-order data for a server application: acknowledged, and answered (in
        segments of at most the route's MSS) once the application has a whole request."""
        if packet.tcp_seq != stream.ack:
            self._tcp_reply(packet, TCP_ACK, stream.seq, stream.ack)  # a duplicate ACK
            return
        stream.data += packet.payload
        stream.ack += len(packet.payload)
        app = self.tcp_apps.get(packet.tp_dst)
        response = app(packet, bytes(stream.data)) if app and not stream.answered else None
        if response is None:
            self._tcp_reply(packet, TCP_ACK, stream.seq, stream.ack)
            return
        stream.answered = True
        route = self.lookup_route(packet.ip_src)
        mss = (self.interfaces[route.dev].mtu if route else 1500) - 40
        for start in range(0, len(response), mss):
            chunk = response[start:start + mss]
            last = start + mss >= len(response)
            self.send(Packet(eth_type=ETH_IP, ip_src=packet.ip_dst, ip_dst=packet.ip_src,
                             ip_proto=PROTO_TCP, ip_ttl=DEFAULT_TTL, tp_src=packet.tp_dst,
                             tp_dst=packet.tp_src,
                             tcp_flags=TCP_ACK | (TCP_PSH if last else 0),
                             tcp_seq=stream.seq & 0xFFFFFFFF, tcp_ack=stream.ack & 0xFFFFFFFF,
                             payload=chunk))
            stream.seq += len(chunk)

    def _tcp_reply(self, packet: Packet, flags: int, seq: int, ack: int) -> None:
        self.send(Packet(eth_type=ETH_IP, ip_src=packet.ip_dst, ip_dst=packet.ip_src,
                         ip_proto=PROTO_TCP, ip_ttl=DEFAULT_TTL, tp_src=packet.tp_dst,
                         tp_dst=packet.tp_src, tcp_flags=flags, tcp_seq=seq & 0xFFFFFFFF,
                         tcp_ack=ack & 0xFFFFFFFF))

    def connect_tcp(self, dst: int, dport: int, on_done: Callable[[str], None],
                    timeout: float | None = None) -> None:
        """A client connect() then close(): `on_done` gets "open", "Connection refused",
        "No route to host", "Network is unreachable" or "timed out"/"Connection timed out"."""
        _TcpConnect(self, dst, dport, on_done).start(timeout)


class _TcpConnect:
    """One connect() then close() of a TCP client: SYNs on the kernel's backoff until an
    answer, an ICMP error or the timeout; on SYN+ACK it acknowledges and closes at once."""

    __slots__ = ("stack", "dst", "dport", "sport", "key", "isn", "on_done", "done", "tries",
                 "timers")

    def __init__(self, stack: HostStack, dst: int, dport: int,
                 on_done: Callable[[str], None]) -> None:
        self.stack, self.dst, self.dport, self.on_done = stack, dst, dport, on_done
        self.sport = stack.next_port()
        self.key = (self.sport, dst, dport)
        self.isn = _isn((0, self.sport, dst, dport))
        self.done = False
        self.tries = 0
        self.timers: list[Timer] = []

    def start(self, timeout: float | None) -> None:
        self.stack.tcp_clients[self.key] = self.segment
        if timeout is not None:
            self.timers.append(self.stack.clock.call_later(timeout, self.finish, "timed out"))
        self.syn()

    def finish(self, result: str, linger: bool = False) -> None:
        if self.done:
            return
        self.done = True
        for t in self.timers:
            t.cancel()
        if not linger:
            self.stack.tcp_clients.pop(self.key, None)
        self.on_done(result)

    def _send(self, flags: int, seq: int, ack: int = 0) -> str | None:
        return self.stack.send(Packet(eth_type=ETH_IP, ip_dst=self.dst, ip_proto=PROTO_TCP,
                                      ip_ttl=DEFAULT_TTL, tp_src=self.sport, tp_dst=self.dport,
                                      tcp_flags=flags, tcp_seq=seq, tcp_ack=ack))

    def syn(self) -> None:
        if self.done:
            return
        err = self._send(TCP_SYN, self.isn)
        if err is not None:
            self.finish(err)
            return
        clock = self.stack.clock
        if self.tries < TCP_SYN_RETRIES:
            self.timers.append(clock.call_later(float(2 ** self.tries), self.syn))
            self.tries += 1
        else:
            self.timers.append(clock.call_later(float(2 ** self.tries), self.finish,
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
                self.stack.tcp_clients.pop(self.key, None)
            return
        if flags & TCP_RST:
            self.finish("Connection refused")
        elif flags & TCP_SYN and flags & TCP_ACK:
            for fl in (TCP_ACK, TCP_FIN | TCP_ACK):
                self._send(fl, self.isn + 1, packet.tcp_seq + 1)
            self.finish("open", linger=True)


@dataclass(slots=True)
class _Stream:
    """The server side of a connection to a TCP application: next sequence numbers
    (ours, the peer's), the request so far, whether it has been answered."""

    seq: int
    ack: int
    data: bytearray = field(default_factory=bytearray)
    answered: bool = False


def _isn(key: tuple[int, int, int, int]) -> int:
    """A deterministic initial sequence number per connection."""
    return zlib.crc32(repr(key).encode())


ICMP_ERROR_ROOM = 576 - 20 - 8  # icmp_send: at most 576 bytes, less the IP and ICMP headers
IPTOS_PREC_INTERNETCONTROL = 0xC0


def icmp_error(packet: Packet, type_: int, code: int, src: int, *, mtu: int = 0) -> Packet | None:
    """The ICMP error about `packet` as Linux's icmp_send makes it (as much of the datagram
    as fits in 576 bytes, TOS precedence "internetwork control", no DF; frag-needed carries
    the next hop's `mtu`), or None where RFC 1122 forbids one (about an ICMP error, to a
    broadcast, about a later fragment)."""
    if packet.ip_proto == PROTO_ICMP and packet.icmp_type not in (ICMP_ECHO_REQUEST,
                                                                  ICMP_ECHO_REPLY):
        return None
    if packet.ip_dst == 0xFFFFFFFF or not packet.ip_src:
        return None
    quoted = packet.to_bytes()[14 + (4 if packet.vlan_tci else 0):][:ICMP_ERROR_ROOM]
    return Packet(eth_type=ETH_IP, ip_src=src, ip_dst=packet.ip_src, ip_proto=PROTO_ICMP,
                  ip_ttl=DEFAULT_TTL, ip_tos=(packet.ip_tos & 0x1E) | IPTOS_PREC_INTERNETCONTROL,
                  ip_df=False, icmp_type=type_, icmp_code=code, icmp_seq=mtu, payload=quoted)


def embedded_packet(error: Packet) -> Packet | None:
    """The header quoted in an ICMP error, parsed (addresses, ports / echo id and seq)."""
    data = error.payload
    if len(data) < 28 or data[0] >> 4 != 4:
        return None
    ihl = (data[0] & 0x0F) * 4
    l4 = data[ihl:ihl + 8]
    if len(l4) < 8:
        return None
    fields: dict[str, int] = {
        "ip_proto": data[9], "ip_ttl": data[8],
        "ip_src": int.from_bytes(data[12:16], "big"), "ip_dst": int.from_bytes(data[16:20], "big"),
    }
    if data[9] == PROTO_ICMP:
        fields.update(icmp_type=l4[0], icmp_code=l4[1], icmp_id=int.from_bytes(l4[4:6], "big"),
                      icmp_seq=int.from_bytes(l4[6:8], "big"))
    elif data[9] in (PROTO_TCP, PROTO_UDP):
        fields.update(tp_src=int.from_bytes(l4[0:2], "big"), tp_dst=int.from_bytes(l4[2:4], "big"))
    return Packet(eth_type=ETH_IP).with_(**fields)
