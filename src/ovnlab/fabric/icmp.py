"""ICMP errors as a Linux host makes and reads them (net/ipv4/icmp.c).

`icmp_error` builds the error about a datagram (what a router sends when TTL runs out or
a route, neighbour or port is missing); `embedded_packet` parses the header an error
quotes, which is how sockets, ping, traceroute and the lab's trace match an error to
what they sent. Also the codes and the TTL every locally made datagram starts with.
"""

from __future__ import annotations

from ovnlab.packet import (
    ETH_IP,
    ICMP_ECHO_REPLY,
    ICMP_ECHO_REQUEST,
    PROTO_ICMP,
    PROTO_TCP,
    PROTO_UDP,
    Packet,
)

DEFAULT_TTL = 64  # net.ipv4.ip_default_ttl

# ICMP destination-unreachable codes
NET_UNREACH, HOST_UNREACH, PORT_UNREACH, FRAG_NEEDED = 0, 1, 3, 4

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
