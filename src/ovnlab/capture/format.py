"""tcpdump 4.99's one-line packet format, for the packets ovnlab carries.

`Formatter.format(packet, time)` prints what `tcpdump -r file [-n] [-e] [-v]` prints for the
frame `packet.to_bytes()` (the oracle tests compare the two). A Formatter keeps the little
state tcpdump keeps between packets: the initial sequence numbers of TCP conversations
(tcpdump prints sequence numbers relative to them unless -S).

Names: without -n, addresses go through a reverse resolver (`ip -> name | None`, the lab's
DNS), ports through Debian's services table, MAC addresses get tcpdump's "(oui ...)" tag.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass, field

from ovnlab.capture import _services, bootp, print_ascii, print_bfd, print_icmp
from ovnlab.capture.print_icmp import ICMP_TYPE_NAMES, ICMP_UNREACH
from ovnlab.packet import (
    BROADCAST,
    ETH_ARP,
    ETH_IP,
    ETH_IPV6,
    ETH_VLAN,
    PROTO_ICMP,
    PROTO_TCP,
    PROTO_UDP,
    TCP_ACK,
    TCP_FIN,
    TCP_RST,
    TCP_SYN,
    Geneve,
    Packet,
    ip_str,
    mac_str,
)

Reverse = Callable[[str], "str | None"]

ETHERTYPE_NAMES = {
    ETH_IP: "IPv4", ETH_ARP: "ARP", ETH_VLAN: "802.1Q", ETH_IPV6: "IPv6", 0x8035: "Reverse ARP",
    0x6558: "TEB", 0x88A8: "802.1Q-QinQ", 0x88CC: "LLDP", 0x8847: "MPLS unicast",
    0x8848: "MPLS multicast",
}
# tcpdump's own OUI table (oui.c): only these vendors get a name, everything else "Unknown".
OUI_NAMES = {
    0x000000: "Ethernet", 0x00000C: "Cisco", 0x00005E: "IANA", 0x000081: "Nortel Networks SONMP",
    0x0000F8: "Cisco bridged", 0x0019A7: "ITU-T", 0x0080C2: "Ethernet bridged",
    0x00A03E: "ATM Forum", 0x00E02F: "DOCSIS Spanning Tree", 0x080007: "Appletalk",
    0x009069: "Juniper", 0x080009: "Hewlett-Packard", 0x00120F: "IEEE 802.3 Private",
    0x0012BB: "ANSI/TIA", 0x001B21: "DCBX", 0x002320: "Nicira Networks",
    0x5C16C7: "Big Switch Networks", 0xB0D2F5: "Vello Systems", 0x002481: "HP",
    0x0004EA: "HP-Labs", 0x748771: "Infoblox Inc", 0xA42305: "Open Networking Lab",
    0x00049F: "Freescale", 0x0015AD: "Netronome", 0x001018: "Broadcom", 0x00E004: "PMC-Sierra",
    0xD0F0DB: "Ericsson",
}
IP_PROTO_NAMES = {PROTO_ICMP: "ICMP", 2: "IGMP", PROTO_TCP: "TCP", PROTO_UDP: "UDP", 47: "GRE",
                  50: "ESP", 51: "AH", 89: "OSPF", 112: "VRRP", 132: "SCTP"}
TCP_FLAG_CHARS = ((TCP_FIN, "F"), (TCP_SYN, "S"), (TCP_RST, "R"), (0x08, "P"), (TCP_ACK, "."),
                  (0x20, "U"), (0x40, "E"), (0x80, "W"))
TCP_WINDOW = 65535  # what Packet.to_bytes() puts on the wire
GENEVE_FLAG_CHARS = ((0x80, "O"), (0x40, "C"))


@dataclass(frozen=True, slots=True)
class FormatOptions:
    numeric: bool = False       # -n: no address or port names
    link_header: bool = False   # -e: print the Ethernet header
    verbose: int = 0            # -v: IP header details
    timestamps: bool = True     # -t turns them off
    absolute_seq: bool = False  # -S: TCP sequence numbers as on the wire
    hex_dump: int = 0           # -x: 1 = after the link header, 2 (-xx) = the whole frame
    hex_ascii: bool = False     # -X: the dump gets tcpdump's ASCII column
    quiet: bool = False         # -q: less protocol detail


def timestamp(time: float) -> str:
    """HH:MM:SS.ffffff of virtual seconds since lab start (what tcpdump -r prints, TZ=UTC)."""
    usec = round(time * 1_000_000)
    sec, frac = divmod(usec, 1_000_000)
    minutes, s = divmod(sec, 60)
    hours, m = divmod(minutes, 60)
    return f"{hours % 24:02d}:{m:02d}:{s:02d}.{frac:06d}"


# --------------------------------------------------------------------- wire sizes
def l4_length(packet: Packet) -> int:
    """Bytes after the IPv4 header, as Packet.to_bytes() lays them out."""
    if packet.is_fragment:  # its piece of the datagram, L4 header (if first) included
        return len(packet.payload)
    if packet.ip_proto == PROTO_ICMP:
        return 8 + len(packet.payload)
    if packet.ip_proto == PROTO_UDP:
        return 8 + (geneve_length(packet.geneve) if packet.geneve else len(packet.payload))
    if packet.ip_proto == PROTO_TCP:
        return 20 + len(packet.payload)
    return len(packet.payload)


def geneve_length(geneve: Geneve) -> int:
    return 8 + sum(4 + len(o.data) for o in geneve.options) + frame_length(geneve.inner)


def frame_length(packet: Packet) -> int:
    """Length of `packet.to_bytes()` without building it."""
    header = 18 if packet.vlan_tci else 14
    if packet.eth_type == ETH_ARP:
        return header + 28
    if packet.eth_type != ETH_IP:
        return header + len(packet.payload)
    return header + 20 + l4_length(packet)


# --------------------------------------------------------------------- formatter
@dataclass(slots=True)
class _TcpConversation:
    seq: int
    ack: int


@dataclass(slots=True)
class Formatter:
    """Renders packets one per line; keeps tcpdump's TCP relative-sequence state."""

    options: FormatOptions = FormatOptions()
    resolver: Reverse | None = None
    _tcp: dict[tuple[int, int, int], _TcpConversation] = field(default_factory=dict)
    _cut: bool = False  # the last packet ended in a truncation marker

    def format(self, packet: Packet, time: float | None = None) -> str:
        self._cut = False
        body = self.frame(packet)
        if self.options.hex_dump:
            frame = packet.to_bytes()
            # -x skips the link header (tags included) unless the decoder gave up on a
            # truncated packet: tcpdump then no longer knows that length and dumps it all
            if self.options.hex_dump == 1 and not self._cut:
                frame = frame[18 if packet.vlan_tci else 14:]
            body += print_ascii.hexdump(frame) if self.options.hex_ascii else print_ascii.hexwords(frame)
        if time is None or not self.options.timestamps:
            return body
        return f"{timestamp(time)} {body}"

    # ------------------------------------------------------------ names
    def host(self, address: int) -> str:
        text = ip_str(address)
        if self.options.numeric or self.resolver is None:
            return text
        return self.resolver(text) or text

    def ether(self, address: int) -> str:
        text = mac_str(address)
        if self.options.numeric:
            return text
        if address == BROADCAST:
            return "Broadcast"
        return f"{text} (oui {OUI_NAMES.get(address >> 24, 'Unknown')})"

    def port(self, port: int, proto: int) -> str:
        if self.options.numeric:
            return str(port)
        table = _services.TCP if proto == PROTO_TCP else _services.UDP
        return table.get(port, str(port))

    # ------------------------------------------------------------ layers
    def frame(self, packet: Packet) -> str:
        if not self.options.link_header:
            return self.network(packet, prefix=True)
        head = f"{self.ether(packet.eth_src)} > {self.ether(packet.eth_dst)}, "
        length = frame_length(packet)
        kind = self._ethertype
        if packet.vlan_tci:
            vid, pcp = packet.vlan_tci & 0x0FFF, packet.vlan_tci >> 13
            head += (f"{kind(ETH_VLAN)}, length {length}: vlan {vid}, p {pcp}, "
                     f"{kind(packet.eth_type)}, ")
        else:
            head += f"{kind(packet.eth_type)}, length {length}: "
        return head + self.network(packet, prefix=False)

    def _ethertype(self, value: int) -> str:
        if not self.options.quiet:
            return _ethertype(value)
        name = ETHERTYPE_NAMES.get(value)
        return name if name else f"Unknown Ethertype (0x{value:04x})"

    def network(self, packet: Packet, *, prefix: bool) -> str:
        if packet.eth_type == ETH_IP:
            return self.ipv4(packet, prefix=prefix)
        if packet.eth_type == ETH_ARP:
            return self.arp(packet, prefix=prefix)
        dump = "" if self.options.quiet else print_ascii.hexdump(packet.payload)
        if prefix:  # tcpdump shows the link header of frames it cannot decode, even without -e
            return (f"{self.ether(packet.eth_src)} > {self.ether(packet.eth_dst)}, "
                    f"{self._ethertype(packet.eth_type)}, length {frame_length(packet)}: "
                    + dump)
        return dump

    def arp(self, packet: Packet, *, prefix: bool) -> str:
        out = "ARP, " if prefix else ""
        if self.options.verbose:
            out += "Ethernet (len 6), IPv4 (len 4), "
        op, sha, tha = packet.arp_op, packet.arp_sha, packet.arp_tha
        if op == 1:
            out += f"Request who-has {self.host(packet.arp_tpa)}"
            if tha:
                out += f" ({self.ether(tha)})"
            out += f" tell {self.host(packet.arp_spa)}"
        elif op == 2:
            out += f"Reply {self.host(packet.arp_spa)} is-at {self.ether(sha)}"
        elif op in (3, 8):
            kind = "Reverse" if op == 3 else "Inverse"
            out += f"{kind} Request who-is {self.ether(tha)} tell {self.ether(sha)}"
        elif op == 4:
            out += f"Reverse Reply {self.ether(tha)} at {self.host(packet.arp_tpa)}"
        elif op == 9:
            out += f"Inverse Reply {self.ether(sha)} at {self.host(packet.arp_spa)}"
        else:
            name = {10: "NACK Reply"}.get(op, f"Unknown ({op})")
            return out + name + " " + print_ascii.hexdump(packet.to_bytes()[-28:])
        return out + ", length 28"

    def ipv4(self, packet: Packet, *, prefix: bool) -> str:
        out = "IP " if prefix else ""
        if self.options.verbose:
            out += _ip_header_verbose(packet) + "\n    "
        src, dst = self.host(packet.ip_src), self.host(packet.ip_dst)
        if packet.ip_frag_off:  # print-ip.c: a later fragment has no L4 header to decode
            name = f"ip-proto-{packet.ip_proto}" if self.options.numeric else \
                FRAGMENT_PROTO_NAMES.get(packet.ip_proto, f"ip-proto-{packet.ip_proto}")
            return out + f"{src} > {dst}: {name}"
        if packet.ip_proto == PROTO_ICMP:
            if print_icmp.icmp_truncated(packet):  # tcpdump gives up on the whole ICMP text
                self._cut = print_icmp.icmp_bails_out(packet)
                return out + f"{src} > {dst}:  [|icmp]"
            return out + f"{src} > {dst}: " + self.icmp(packet)
        if packet.ip_proto == PROTO_TCP:
            sport, dport = self.port(packet.tp_src, PROTO_TCP), self.port(packet.tp_dst, PROTO_TCP)
            return out + f"{src}.{sport} > {dst}.{dport}: " + self.tcp(packet)
        if packet.ip_proto == PROTO_UDP:
            sport, dport = self.port(packet.tp_src, PROTO_UDP), self.port(packet.tp_dst, PROTO_UDP)
            return out + f"{src}.{sport} > {dst}.{dport}: " + self.udp(packet)
        # tcpdump decodes many more protocols; ovnlab's fabric carries these three only
        name = f"ip-proto-{packet.ip_proto}"
        if not self.options.numeric:
            name = _services.IP_PROTOCOLS.get(packet.ip_proto, name)
        return out + f"{src} > {dst}:  {name} {len(packet.payload)}"

    def icmp(self, packet: Packet) -> str:
        itype, code = packet.icmp_type, packet.icmp_code
        length = l4_length(packet)
        if itype in (0, 8):
            text = (f"{ICMP_TYPE_NAMES[itype]}, id {packet.icmp_id}, seq {packet.icmp_seq}")
        elif itype == 3:
            text = self._unreachable(code, packet.payload, packet.icmp_seq)
        elif itype == 11:
            text = {0: "time exceeded in-transit",
                    1: "ip reassembly time exceeded"}.get(code, f"time exceeded-#{code}")
        else:
            text = print_icmp.icmp_other(itype, code, packet.payload, self.host)
        out = f"ICMP {text}, length {length}"
        if self.options.verbose and itype in (3, 4, 5, 11, 12):
            out += "\n\t" + self._quoted(packet.payload)
        return out

    def _quoted(self, data: bytes) -> str:
        """-v: the datagram an ICMP error quotes (its IP header and first 8 bytes)."""
        if len(data) < 20 or data[0] >> 4 != 4:
            return " [|icmp]"
        tos, total, ip_id, frag, ttl, proto = struct.unpack("!xBHHHBB", data[:10])
        ihl = (data[0] & 0x0F) * 4
        flags = "".join(n for bit, n in ((0x8000, "+"), (0x4000, "DF"), (0x2000, "+"))
                        if frag & bit and n != "+") or "none"
        name = IP_PROTO_NAMES.get(proto, "unknown")
        src = self.host(int.from_bytes(data[12:16], "big"))
        dst = self.host(int.from_bytes(data[16:20], "big"))
        out = ("" if self.options.link_header else "IP ") + (
               f"(tos 0x{tos:x}, ttl {ttl}, id {ip_id}, offset {(frag & 0x1FFF) * 8}, "
               f"flags [{flags}], proto {name} ({proto}), length {total})\n    ")
        l4 = data[ihl:]
        if proto in (PROTO_TCP, PROTO_UDP) and len(l4) < 4:  # no ports to print
            gap = " " if proto == PROTO_TCP else "  "
            return out + f"{src} > {dst}:{gap}[|{name.lower()}]"
        if proto in (PROTO_TCP, PROTO_UDP):
            sport, dport = struct.unpack("!HH", l4[:4])
            ends = (f"{src}.{self.port(sport, proto)} > {dst}.{self.port(dport, proto)}:")
            if proto == PROTO_UDP and len(l4) >= 8:
                if self.options.verbose > 1 and l4[6:8] == b"\0\0":
                    ends += " [no cksum]"
                return out + ends + f" UDP, length {struct.unpack('!H', l4[4:6])[0] - 8}"
            return out + ends + f"  [|{name.lower()}]"
        if proto == PROTO_ICMP and len(l4) >= 8 and l4[0] in (0, 8):
            icmp_id, seq = struct.unpack("!HH", l4[4:8])
            return (out + f"{src} > {dst}: ICMP {ICMP_TYPE_NAMES[l4[0]]}, id {icmp_id}, "
                    f"seq {seq}, length {total - ihl}")
        return out + f"{src} > {dst}:  [|{name.lower()}]"

    def _unreachable(self, code: int, quoted: bytes, mtu: int = 0) -> str:
        if len(quoted) < 20:
            return f"unreachable - #{code}" if code not in ICMP_UNREACH else "unreachable"
        proto = quoted[9]
        dst = self.host(int.from_bytes(quoted[16:20], "big"))
        ihl = (quoted[0] & 0x0F) * 4
        if code == 2:
            return f"{dst} protocol {proto} unreachable"
        if code == 3:
            if len(quoted) < ihl + 4:
                return f"{dst} port unreachable"
            dport = struct.unpack("!H", quoted[ihl + 2:ihl + 4])[0]
            if proto == PROTO_TCP:
                return f"{dst} tcp port {self.port(dport, PROTO_TCP)} unreachable"
            if proto == PROTO_UDP:
                return f"{dst} udp port {self.port(dport, PROTO_UDP)} unreachable"
            return f"{dst} protocol {proto} port {dport} unreachable"
        if code == 4:
            return f"{dst} unreachable - need to frag" + (f" (mtu {mtu})" if mtu else "")
        template = ICMP_UNREACH.get(code)
        return template % dst if template else f"{dst} unreachable - #{code}"

    def tcp(self, packet: Packet) -> str:
        if self.options.quiet:
            return f"tcp {len(packet.payload)}"
        flags = packet.tcp_flags
        seq, ack = packet.tcp_seq, packet.tcp_ack
        if flags & TCP_ACK and not self.options.absolute_seq:
            seq, ack = self._relative(packet, seq, ack)
        names = "".join(c for bit, c in TCP_FLAG_CHARS if flags & bit) or "none"
        length = len(packet.payload)
        out = f"Flags [{names}]"
        if self.options.verbose:
            out += f", cksum 0x{_tcp_checksum(packet):04x} (correct)"
        if self.options.verbose > 1 or length or flags & (TCP_SYN | TCP_FIN | TCP_RST):
            out += f", seq {seq}"
            if length:
                out += f":{(seq + length) & 0xFFFFFFFF}"
        if flags & TCP_ACK:
            out += f", ack {ack}"
        out += f", win {TCP_WINDOW}"
        if flags & 0x20:
            out += ", urg 0"  # Packet.to_bytes() leaves the urgent pointer zero
        out += f", length {length}"
        if flags & TCP_RST and self.options.verbose and length:
            # tcpdump -v shows the text a RST carries (at most 30 bytes, "+" if cut)
            cut = "+" if length > 30 else ""
            out += f" [RST{cut} {print_ascii.printable(packet.payload[:30])}]"
        return out

    def _relative(self, packet: Packet, seq: int, ack: int) -> tuple[int, int]:
        # tcpdump's tcp_seq_hash: one entry per conversation, keyed in a canonical order;
        # the first ACK-carrying packet (or any SYN) records the bases, later ones subtract.
        sport, dport = packet.tp_src, packet.tp_dst
        rev = sport > dport or (sport == dport and packet.ip_src > packet.ip_dst)
        if rev:
            key = (packet.ip_dst, packet.ip_src, (dport << 16) | sport)
        else:
            key = (packet.ip_src, packet.ip_dst, (sport << 16) | dport)
        conv = self._tcp.get(key)
        if conv is None or packet.tcp_flags & TCP_SYN:
            if rev:
                self._tcp[key] = _TcpConversation(seq=(ack - 1) & 0xFFFFFFFF, ack=seq)
            else:
                self._tcp[key] = _TcpConversation(seq=seq, ack=(ack - 1) & 0xFFFFFFFF)
            return seq, ack
        if rev:
            return (seq - conv.ack) & 0xFFFFFFFF, (ack - conv.seq) & 0xFFFFFFFF
        return (seq - conv.seq) & 0xFFFFFFFF, (ack - conv.ack) & 0xFFFFFFFF

    def udp(self, packet: Packet) -> str:
        if self.options.quiet:  # no application or tunnel decoding
            return f"UDP, length {l4_length(packet) - 8}"
        if self.options.verbose > 1:  # Packet.to_bytes() sends UDP without a checksum
            return "[no cksum] " + self._udp_body(packet)
        return self._udp_body(packet)

    def _udp_body(self, packet: Packet) -> str:
        if packet.geneve is not None:
            return self.geneve(packet.geneve)
        if {packet.tp_src, packet.tp_dst} & {67, 68} and len(packet.payload) >= 28:
            if self.options.verbose:
                return bootp.verbose(packet.payload, self.options.verbose > 1)
            return bootp.line(packet.payload)
        if packet.tp_dst == print_bfd.BFD_CONTROL_PORT and len(packet.payload) >= 24:
            return print_bfd.bfd_control(packet.payload, bool(self.options.verbose))
        if packet.ip_mf and len(packet.payload) >= 8:  # a first fragment: the header's length
            return f"UDP, length {int.from_bytes(packet.payload[4:6], 'big') - 8}"
        return f"UDP, length {len(packet.payload)}"

    def geneve(self, geneve: Geneve) -> str:
        flags = 0x40 if geneve.critical else 0
        names = "".join(c for bit, c in GENEVE_FLAG_CHARS if flags & bit) or "none"
        out = f"Geneve, Flags [{names}], vni 0x{geneve.vni:x}"
        if self.options.link_header:
            out += f", proto {ETHERTYPE_NAMES[0x6558]} (0x6558)"
        opts_len = sum(4 + len(o.data) for o in geneve.options)
        if opts_len:
            out += ", options"
            if self.options.verbose:
                out += " [" + " ".join(_geneve_option(o.cls, o.type, o.data,
                                                      self.options.verbose)
                                       for o in geneve.options) + "]"
            else:
                out += f" [{opts_len} bytes]"
        out += "\n\t" if self.options.verbose else ": "
        return out + self.frame(geneve.inner)


def format_packet(packet: Packet, time: float | None = None, *,
                  options: FormatOptions = FormatOptions(),
                  resolver: Reverse | None = None) -> str:
    """One packet on its own (no TCP conversation state carried over)."""
    return Formatter(options, resolver).format(packet, time)


# --------------------------------------------------------------------- helpers
def _ethertype(value: int) -> str:
    return f"ethertype {ETHERTYPE_NAMES.get(value, 'Unknown')} (0x{value:04x})"


FRAGMENT_PROTO_NAMES = {PROTO_ICMP: "icmp", PROTO_TCP: "tcp", PROTO_UDP: "udp"}


def _ip_header_verbose(packet: Packet) -> str:
    total = 20 + l4_length(packet)
    proto = IP_PROTO_NAMES.get(packet.ip_proto, "unknown")
    flags = ("DF" if packet.ip_df else "") + ("+" if packet.ip_mf else "")
    return (f"(tos 0x{packet.ip_tos:x}, ttl {packet.ip_ttl}, id {packet.ip_id}, "
            f"offset {packet.ip_frag_off}, flags [{flags or 'none'}], proto {proto} "
            f"({packet.ip_proto}), length {total})")


def _tcp_checksum(packet: Packet) -> int:
    frame = packet.with_(vlan_tci=0, geneve=None).to_bytes()
    return int(struct.unpack("!H", frame[14 + 20 + 16:14 + 20 + 18])[0])


def _geneve_option(cls: int, otype: int, data: bytes, verbose: int) -> str:
    name = "Open Virtual Networking (OVN)" if cls == 0x0102 else "Unknown"
    crit = "(C)" if otype & 0x80 else ""
    out = f"class {name} (0x{cls:x}) type 0x{otype:x}{crit} len {4 + len(data)}"
    if verbose > 1 and data:
        out += " data " + " ".join(data[i:i + 4].hex() for i in range(0, len(data), 4))
    return out
