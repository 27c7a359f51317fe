"""Packets: a compact, immutable header record plus payload bytes.

The datapath classifies and rewrites these fields; the fabric carries them between
interfaces; captures serialise them to real Ethernet frames (pcap) and back.
Addresses are ints (fast to match and mask); `mac()`/`ip()` convert from text.
"""

from __future__ import annotations

import ipaddress
import struct
from dataclasses import dataclass, replace

ETH_IP = 0x0800
ETH_ARP = 0x0806
ETH_IPV6 = 0x86DD
ETH_VLAN = 0x8100
PROTO_ICMP = 1
PROTO_TCP = 6
PROTO_UDP = 17
GENEVE_PORT = 6081
ARP_REQUEST = 1
ARP_REPLY = 2
ICMP_ECHO_REPLY = 0
ICMP_DEST_UNREACH = 3
ICMP_ECHO_REQUEST = 8
ICMP_TIME_EXCEEDED = 11
TCP_FIN, TCP_SYN, TCP_RST, TCP_PSH, TCP_ACK = 0x01, 0x02, 0x04, 0x08, 0x10
# DHCP (RFC 2131): the BOOTP header before the magic cookie, message types, option codes
DHCP_HEADER_LEN = 236
DHCP_MAGIC_COOKIE = 0x63825363
DHCP_DISCOVER, DHCP_OFFER, DHCP_REQUEST, DHCP_ACK, DHCP_NAK = 1, 2, 3, 5, 6
DHCP_OPT_PAD, DHCP_OPT_REQ_IP, DHCP_OPT_MSG_TYPE, DHCP_OPT_END = 0, 50, 53, 255
BROADCAST = 0xFFFFFFFFFFFF
OVN_GENEVE_CLASS = 0x0102  # OVN's option class; type 0x80 carries inport/outport keys


def mac(text: str) -> int:
    return int(text.replace(":", ""), 16)


def mac_str(value: int) -> str:
    raw = f"{value:012x}"
    return ":".join(raw[i:i + 2] for i in range(0, 12, 2))


def ip(text: str) -> int:
    return int(ipaddress.IPv4Address(text))


def ip_str(value: int) -> str:
    return str(ipaddress.IPv4Address(value))


@dataclass(frozen=True, slots=True)
class GeneveOption:
    cls: int
    type: int
    data: bytes


@dataclass(frozen=True, slots=True)
class Geneve:
    """The Geneve header of an underlay frame and the frame it carries."""

    vni: int
    inner: Packet
    options: tuple[GeneveOption, ...] = ()
    critical: bool = True


@dataclass(frozen=True, slots=True)
class Packet:
    eth_src: int = 0
    eth_dst: int = 0
    eth_type: int = ETH_IP
    vlan_tci: int = 0  # 0x1000 | vid when 802.1Q tagged
    # ARP
    arp_op: int = 0
    arp_sha: int = 0
    arp_spa: int = 0
    arp_tha: int = 0
    arp_tpa: int = 0
    # IPv4
    ip_src: int = 0
    ip_dst: int = 0
    ip_proto: int = 0
    ip_ttl: int = 64
    ip_tos: int = 0
    ip_id: int = 0
    ip_frag: int = 0  # OVS nw_frag: 0 not a fragment, 1 the first fragment, 3 a later one
    ip_df: bool = True  # Don't Fragment (Linux sets it on PMTU-probing sockets, not on errors)
    # A fragment (ovnlab.ipfrag) carries its piece of the datagram's L4 bytes, as they are,
    # in `payload`; the first one also has the L4 header fields set (flows match them).
    ip_frag_off: int = 0  # the fragment's offset in bytes
    ip_mf: bool = False  # More Fragments
    # ICMP; id and seq are the header's second word whatever the type (an error's unused
    # word, or frag-needed's next-hop MTU in icmp_seq)
    icmp_type: int = 0
    icmp_code: int = 0
    icmp_id: int = 0
    icmp_seq: int = 0
    # TCP / UDP
    tp_src: int = 0
    tp_dst: int = 0
    tcp_flags: int = 0
    tcp_seq: int = 0
    tcp_ack: int = 0
    payload: bytes = b""
    geneve: Geneve | None = None

    @property
    def is_arp(self) -> bool:
        return self.eth_type == ETH_ARP

    @property
    def is_ip(self) -> bool:
        return self.eth_type == ETH_IP

    @property
    def is_fragment(self) -> bool:
        return self.ip_mf or self.ip_frag_off > 0

    def with_(self, **changes: object) -> Packet:
        return replace(self, **changes)  # type: ignore[arg-type]

    # ------------------------------------------------------------ wire format
    def to_bytes(self) -> bytes:
        eth = self.eth_dst.to_bytes(6, "big") + self.eth_src.to_bytes(6, "big")
        if self.vlan_tci:
            eth += struct.pack("!HH", ETH_VLAN, self.vlan_tci & 0xEFFF)
        eth += struct.pack("!H", self.eth_type)
        if self.eth_type == ETH_ARP:
            return eth + struct.pack(
                "!HHBBH6s4s6s4s", 1, ETH_IP, 6, 4, self.arp_op,
                self.arp_sha.to_bytes(6, "big"), self.arp_spa.to_bytes(4, "big"),
                self.arp_tha.to_bytes(6, "big"), self.arp_tpa.to_bytes(4, "big"),
            )
        if self.eth_type != ETH_IP:
            return eth + self.payload
        return eth + self._ip_bytes()

    def with_l4(self, l4: bytes) -> Packet:
        """This packet's headers around the raw IP payload `l4`, parsed again (a
        reassembled datagram as the receiver sees it)."""
        frame = self.to_bytes()
        head = len(frame) - ip_total_length(self)
        fragment = replace(self, ip_mf=True, ip_frag_off=0, payload=l4)._ip_bytes()
        flags = (0x4000 if self.ip_df else 0)
        header = fragment[:6] + struct.pack("!H", flags) + fragment[8:10] + b"\0\0" \
            + fragment[12:20]
        header = header[:10] + struct.pack("!H", _checksum(header)) + header[12:]
        return Packet.from_bytes(frame[:head] + header + l4)

    def _ip_bytes(self) -> bytes:
        l4 = self.payload if self.is_fragment else self.l4_bytes()
        header = struct.pack(
            "!BBHHHBBH4s4s", 0x45, self.ip_tos, 20 + len(l4), self.ip_id,
            (0x4000 if self.ip_df else 0) | (0x2000 if self.ip_mf else 0)
            | (self.ip_frag_off >> 3),
            self.ip_ttl, self.ip_proto, 0,
            self.ip_src.to_bytes(4, "big"), self.ip_dst.to_bytes(4, "big"),
        )
        header = header[:10] + struct.pack("!H", _checksum(header)) + header[12:]
        return header + l4

    def l4_bytes(self) -> bytes:
        """The IP payload: the L4 header (checksummed) and data."""
        if self.ip_proto == PROTO_ICMP:
            rest = struct.pack("!HH", self.icmp_id, self.icmp_seq)
            body = struct.pack("!BBH", self.icmp_type, self.icmp_code, 0) + rest + self.payload
            return body[:2] + struct.pack("!H", _checksum(body)) + body[4:]
        if self.ip_proto == PROTO_UDP:
            data = self._geneve_bytes() if self.geneve else self.payload
            return struct.pack("!HHHH", self.tp_src, self.tp_dst, 8 + len(data), 0) + data
        if self.ip_proto == PROTO_TCP:
            header = struct.pack("!HHIIBBHHH", self.tp_src, self.tp_dst, self.tcp_seq,
                                 self.tcp_ack, 5 << 4, self.tcp_flags, 65535, 0, 0)
            pseudo = struct.pack("!4s4sBBH", self.ip_src.to_bytes(4, "big"),
                                 self.ip_dst.to_bytes(4, "big"), 0, PROTO_TCP,
                                 len(header) + len(self.payload))
            csum = _checksum(pseudo + header + self.payload)
            return header[:16] + struct.pack("!H", csum) + header[18:] + self.payload
        return self.payload

    def _geneve_bytes(self) -> bytes:
        assert self.geneve is not None
        opts = b"".join(
            struct.pack("!HBB", o.cls, o.type, len(o.data) // 4) + o.data
            for o in self.geneve.options
        )
        flags = 0x01 if self.geneve.critical else 0  # the C bit (tcpdump: "Flags [C]")
        header = struct.pack("!BBHI", len(opts) // 4, flags << 6, 0x6558, self.geneve.vni << 8)
        return header + opts + self.geneve.inner.to_bytes()

    @classmethod
    def from_bytes(cls, frame: bytes) -> Packet:
        dst, src, eth_type = frame[0:6], frame[6:12], struct.unpack("!H", frame[12:14])[0]
        fields: dict[str, object] = {
            "eth_dst": int.from_bytes(dst, "big"), "eth_src": int.from_bytes(src, "big"),
        }
        off = 14
        if eth_type == ETH_VLAN:
            fields["vlan_tci"] = struct.unpack("!H", frame[14:16])[0] | 0x1000
            eth_type = struct.unpack("!H", frame[16:18])[0]
            off = 18
        fields["eth_type"] = eth_type
        body = frame[off:]
        if eth_type == ETH_ARP:
            _, _, _, _, op, sha, spa, tha, tpa = struct.unpack("!HHBBH6s4s6s4s", body[:28])
            fields.update(arp_op=op, arp_sha=int.from_bytes(sha, "big"),
                          arp_spa=int.from_bytes(spa, "big"),
                          arp_tha=int.from_bytes(tha, "big"), arp_tpa=int.from_bytes(tpa, "big"))
            return cls(**fields)  # type: ignore[arg-type]
        if eth_type != ETH_IP:
            return cls(payload=bytes(body), **fields)  # type: ignore[arg-type]
        ihl = (body[0] & 0x0F) * 4
        tos, total, ip_id, frag, ttl, proto = struct.unpack("!xBHHHBB", body[:10])
        offset, more = (frag & 0x1FFF) * 8, bool(frag & 0x2000)
        fields.update(ip_tos=tos, ip_id=ip_id, ip_ttl=ttl, ip_proto=proto,
                      ip_frag=0 if not offset and not more else (3 if offset else 1),
                      ip_df=bool(frag & 0x4000), ip_frag_off=offset, ip_mf=more,
                      ip_src=int.from_bytes(body[12:16], "big"),
                      ip_dst=int.from_bytes(body[16:20], "big"))
        l4 = body[ihl:total]
        if offset or more:  # a fragment: its bytes as they are, the first one's L4 header
            fields["payload"] = bytes(l4)
            if not offset:
                fields.update(_l4_header(proto, l4))
            return cls(**fields)  # type: ignore[arg-type]
        if proto == PROTO_ICMP:
            itype, code = l4[0], l4[1]
            icmp_id, seq = struct.unpack("!HH", l4[4:8])
            fields.update(icmp_type=itype, icmp_code=code, icmp_id=icmp_id, icmp_seq=seq)
            fields["payload"] = bytes(l4[8:])
        elif proto == PROTO_UDP:
            sport, dport = struct.unpack("!HH", l4[:4])
            fields.update(tp_src=sport, tp_dst=dport)
            if dport == GENEVE_PORT:
                fields["geneve"] = _parse_geneve(l4[8:])
            else:
                fields["payload"] = bytes(l4[8:])
        elif proto == PROTO_TCP:
            sport, dport, seq, ack, doff, flags = struct.unpack("!HHIIBB", l4[:14])
            fields.update(tp_src=sport, tp_dst=dport, tcp_seq=seq, tcp_ack=ack,
                          tcp_flags=flags, payload=bytes(l4[(doff >> 4) * 4:]))
        else:
            fields["payload"] = bytes(l4)
        return cls(**fields)  # type: ignore[arg-type]


def _l4_header(proto: int, l4: bytes) -> dict[str, int]:
    """The L4 header fields a first fragment shows (as much of them as it holds)."""
    if proto == PROTO_ICMP and len(l4) >= 8:
        icmp_id, seq = struct.unpack("!HH", l4[4:8])
        return {"icmp_type": l4[0], "icmp_code": l4[1], "icmp_id": icmp_id, "icmp_seq": seq}
    if proto == PROTO_UDP and len(l4) >= 4:
        sport, dport = struct.unpack("!HH", l4[:4])
        return {"tp_src": sport, "tp_dst": dport}
    if proto == PROTO_TCP and len(l4) >= 14:
        sport, dport, seq, ack, _doff, flags = struct.unpack("!HHIIBB", l4[:14])
        return {"tp_src": sport, "tp_dst": dport, "tcp_seq": seq, "tcp_ack": ack,
                "tcp_flags": flags}
    return {}


def ip_total_length(packet: Packet) -> int:
    """An IPv4 packet's total length (header and payload) as to_bytes() lays it out,
    computed without serialising."""
    geneve = packet.geneve
    if geneve is not None:  # outer IP + UDP + Geneve header and options + inner frame
        return 20 + 8 + 8 + sum(4 + len(o.data) for o in geneve.options) \
            + frame_length(geneve.inner)
    if packet.ip_mf or packet.ip_frag_off:
        return 20 + len(packet.payload)
    l4 = {PROTO_ICMP: 8, PROTO_UDP: 8, PROTO_TCP: 20}.get(packet.ip_proto, 0)
    return 20 + l4 + len(packet.payload)


def frame_length(packet: Packet) -> int:
    """An Ethernet frame's length without FCS, as to_bytes() lays it out."""
    l2 = 18 if packet.vlan_tci else 14
    if packet.eth_type == ETH_ARP:
        return l2 + 28
    if packet.eth_type == ETH_IP:
        return l2 + ip_total_length(packet)
    return l2 + len(packet.payload)


def _parse_geneve(data: bytes) -> Geneve:
    ver_optlen, flags, _proto, vni_word = struct.unpack("!BBHI", data[:8])
    optlen = (ver_optlen & 0x3F) * 4
    opts, off = [], 8
    while off < 8 + optlen:
        ocls, otype, olen = struct.unpack("!HBB", data[off:off + 4])
        size = (olen & 0x1F) * 4
        opts.append(GeneveOption(ocls, otype, bytes(data[off + 4:off + 4 + size])))
        off += 4 + size
    return Geneve(vni=vni_word >> 8, inner=Packet.from_bytes(data[8 + optlen:]),
                  options=tuple(opts), critical=bool(flags & 0x40))


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF
