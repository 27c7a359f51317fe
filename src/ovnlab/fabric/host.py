"""A host's IPv4 layer: sending, receiving, forwarding and local delivery.

`HostStack` is the IP stack of one node (a VM, a router, an external host, a chassis's
eth1). It behaves like Linux where the lab can observe it: locally generated packets get
a source address, an IP id and DF as IP_MTU_DISCOVER says, and leave in fragments when
they may; forwarding (routers) decrements TTL and sends ICMP time-exceeded, net
unreachable and frag-needed; local delivery reassembles fragments, answers echo requests,
answers closed UDP ports with port unreachable and hands the rest to the sockets (ICMP
by echo id, UDP by port, TCP in `tcp.py`). The pieces it uses live beside it: addresses
and routes in `fib.py`, the ARP cache in `neigh.py`, ICMP errors in `icmp.py`.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from enum import Enum
from typing import Any

from ovnlab.fabric import fib
from ovnlab.fabric.clock import Clock
from ovnlab.fabric.fib import Address, Route, netmask
from ovnlab.fabric.icmp import (
    DEFAULT_TTL,
    FRAG_NEEDED,
    NET_UNREACH,
    PORT_UNREACH,
    embedded_packet,
    icmp_error,
)
from ovnlab.fabric.link import Interface
from ovnlab.fabric.neigh import ArpTable, Neighbour, Nud, rewrite
from ovnlab.fabric.tcp import Tcp
from ovnlab.ipfrag import Reassembler, fragment
from ovnlab.packet import (
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
    Packet,
    ip_str,
    ip_total_length,
)
from ovnlab.packet import ip as parse_ip

MESSAGE_TOO_LONG = "Message too long"  # strerror(EMSGSIZE)

IcmpHandler = Callable[[Packet, Packet | None], None]
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


class HostStack:
    """The IP stack of one node (a VM, a router, an external host, a chassis's eth1)."""

    def __init__(self, name: str, clock: Clock, *, forwarding: bool = False) -> None:
        self.name = name
        self.clock = clock
        self.forwarding = forwarding
        self.interfaces: dict[str, Interface] = {}
        self.addresses: list[Address] = []
        self.routes: list[Route] = []
        self.arp = ArpTable(self)
        self.tcp = Tcp(self)
        self.udp_handlers: dict[int, UdpHandler] = {}
        self.icmp_sockets: dict[int, IcmpHandler] = {}
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
        route = Route(parse_ip(net_text) & netmask(plen), plen, dev, gw,
                      parse_ip(src) if src else None,
                      scope="global" if gw is not None else "link", metric=metric)
        self.routes.append(route)
        return route

    def listen_tcp(self, *ports: int) -> None:
        self.tcp.listening.update(ports)

    def bind_udp(self, port: int, handler: UdpHandler) -> None:
        self.udp_handlers[port] = handler

    def connect_tcp(self, dst: int, dport: int, on_done: Callable[[str], None],
                    timeout: float | None = None) -> None:
        """A client connect() then close() (see `Tcp.connect`)."""
        self.tcp.connect(dst, dport, on_done, timeout)

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

    def has_address(self, dev: str, ip: int) -> bool:
        return (dev, ip) in self._locals()[2]

    @property
    def neighbours(self) -> dict[tuple[str, int], Neighbour]:
        """The ARP cache's entries, by (device, IPv4 address) (`ip neigh`)."""
        return self.arp.entries

    def neighbour_state(self, n: Neighbour) -> Nud:
        return self.arp.state(n)

    def primary_ip(self, dev: str | None = None) -> int | None:
        return fib.primary(self.addresses, dev)

    def lookup_route(self, dst: int) -> Route | None:
        return fib.lookup(self.routes, dst)

    def source_for(self, route: Route, dst: int) -> int:
        return fib.source_for(self.addresses, route, dst)

    def route_mtu(self, dst: int) -> int:
        """The MTU of the device the route to `dst` leaves by (1500 without one)."""
        route = self.lookup_route(dst)
        return self.interfaces[route.dev].mtu if route else 1500

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

    def note(self, action: str, dev: str, packet: Packet, note: str = "") -> None:
        """Tell the journey recorder what happened to `packet` here."""
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
            self.note("loopback", "lo", packet)
            self.clock.call_later(0.0, self._deliver_local, None, packet)
            return None
        route = fib.lookup(self.routes, packet.ip_dst)  # per packet: no wrapper call
        if route is None:
            self.note("drop", "", packet, "no route to host: Network is unreachable")
            return "Network is unreachable"
        mtu = self.interfaces[route.dev].mtu
        fits = ip_total_length(packet) <= mtu
        if pmtudisc is Pmtudisc.DO and not fits:
            # the kernel refuses what it may not fragment (EMSGSIZE)
            self.note("drop", route.dev, packet, f"message too long, mtu={mtu}")
            return f"{MESSAGE_TOO_LONG}, mtu={mtu}"
        changes: dict[str, Any] = {}
        df = pmtudisc is Pmtudisc.DO or (pmtudisc is Pmtudisc.WANT and fits)
        if df != packet.ip_df:
            changes["ip_df"] = df
        if not packet.ip_src:
            changes["ip_src"] = fib.source_for(self.addresses, route, packet.ip_dst)
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
        are written in one rewrite, by the neighbour layer unless it is a broadcast."""
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
        self.arp.output(iface, hop, packet, changes, local)

    def unreachable(self, packet: Packet, code: int, local: bool) -> None:
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
            self.arp.input(iface, packet)
        elif packet.eth_type == ETH_IP:
            self._ip_input(iface, packet)

    def _is_local_dst(self, iface: Interface, ip: int) -> bool:
        if ip == 0xFFFFFFFF or ip in self.local_ips:
            return True
        return any(a.dev == iface.name and a.broadcast == ip for a in self.addresses)

    def _ip_input(self, iface: Interface, packet: Packet) -> None:
        if self._is_local_dst(iface, packet.ip_dst):
            self._deliver_local(iface, packet)
        elif not self.forwarding:
            self.note("drop", iface.name, packet, "not for this host (forwarding off)")
        else:
            self._forward(iface, packet)

    def _forward(self, iface: Interface, packet: Packet) -> None:
        """ip_forward(): TTL, route, MTU (frag-needed for DF), then out with TTL - 1."""
        if packet.ip_ttl <= 1:
            self.note("drop", iface.name, packet, "TTL exceeded")
            self._send_icmp_error(packet, ICMP_TIME_EXCEEDED, 0, iface.name)
            return
        route = fib.lookup(self.routes, packet.ip_dst)
        if route is None:
            self.note("drop", iface.name, packet, "no route")
            self._send_icmp_error(packet, ICMP_DEST_UNREACH, NET_UNREACH, iface.name)
            return
        mtu = self.interfaces[route.dev].mtu
        fits = ip_total_length(packet) <= mtu
        if packet.ip_df and not fits:
            self.note("drop", iface.name, packet, f"needs fragmentation, mtu {mtu}")
            self._send_icmp_error(packet, ICMP_DEST_UNREACH, FRAG_NEEDED, iface.name, mtu=mtu)
            return
        if self.observer is not None:
            self.note("forward", route.dev, packet,
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
                self.note("queue", iface.name if iface else "lo", packet, "fragment queued")
                return
            packet = whole[0]
        self.note("deliver", iface.name if iface else "lo", packet)
        for tap in list(self.taps):
            if tap(packet):
                return
        if packet.ip_proto == PROTO_ICMP:
            self._icmp_input(packet)
        elif packet.ip_proto == PROTO_TCP:
            self.tcp.input(packet)
        elif packet.ip_proto == PROTO_UDP:
            handler = self.udp_handlers.get(packet.tp_dst)
            if handler is not None:
                handler(packet)
            elif packet.ip_dst != 0xFFFFFFFF:
                self._send_icmp_error(packet, ICMP_DEST_UNREACH, PORT_UNREACH, None)

    def _icmp_input(self, packet: Packet) -> None:
        """icmp_rcv(): echo requests answered; replies and errors to their sockets (an
        error by the header it quotes: an echo's id, a TCP client's ports)."""
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
                tcp = self.tcp.clients.get((original.tp_src, original.ip_dst, original.tp_dst))
                if tcp is not None:
                    tcp(packet)
