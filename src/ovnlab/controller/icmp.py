"""The packets pinctrl composes for `icmp4 {}`, `icmp4_error {}`, `tcp_reset {}` and
`reject {}` (controller/pinctrl.c, OVN 22.03: pinctrl_handle_icmp, pinctrl_handle_tcp_reset,
pinctrl_handle_reject). The nested actions then rewrite them (type, addresses, TTL).
"""

from __future__ import annotations

from ovnlab.packet import (
    ETH_IP,
    ICMP_DEST_UNREACH,
    PROTO_ICMP,
    PROTO_TCP,
    PROTO_UDP,
    TCP_ACK,
    TCP_RST,
    Packet,
)

ICMP4_ROOM = 576 - (14 + 20 + 8)  # RFC 1812's 576 bytes less Ethernet, IP and ICMP headers
CODE_HOST_UNREACH, CODE_PORT_UNREACH = 1, 3
RESET_TTL = 63


def l3_bytes(packet: Packet) -> bytes:
    """The IPv4 datagram of a frame (header and payload, no Ethernet header)."""
    return packet.to_bytes()[14 + (4 if packet.vlan_tci else 0):]


def icmp4(packet: Packet, *, set_icmp_code: bool, loopback: bool) -> Packet | None:
    """pinctrl_handle_icmp: destination unreachable (code 1, or 3 for UDP when
    `set_icmp_code`), TTL 255, DF, the packet's TOS, quoting as much of the invoking
    datagram as fits in 576 bytes. `loopback` swaps the addresses (reject does)."""
    if not packet.is_ip:
        return None
    eth_src, eth_dst = packet.eth_src, packet.eth_dst
    ip_src, ip_dst = packet.ip_src, packet.ip_dst
    if loopback:
        eth_src, eth_dst, ip_src, ip_dst = eth_dst, eth_src, ip_dst, ip_src
    code = CODE_PORT_UNREACH if set_icmp_code and packet.ip_proto == PROTO_UDP \
        else CODE_HOST_UNREACH
    return Packet(eth_src=eth_src, eth_dst=eth_dst, eth_type=ETH_IP, vlan_tci=packet.vlan_tci,
                  ip_src=ip_src, ip_dst=ip_dst, ip_proto=PROTO_ICMP, ip_ttl=255,
                  ip_tos=packet.ip_tos, ip_id=0, ip_df=True, icmp_type=ICMP_DEST_UNREACH,
                  icmp_code=code, payload=l3_bytes(packet)[:ICMP4_ROOM])


def tcp_reset(packet: Packet, *, loopback: bool) -> Packet | None:
    """pinctrl_handle_tcp_reset: RST|ACK with seq 0 acknowledging the segment's seq + 1,
    ports swapped, TTL 63."""
    if not packet.is_ip or packet.ip_proto != PROTO_TCP:
        return None
    eth_src, eth_dst = packet.eth_src, packet.eth_dst
    ip_src, ip_dst = packet.ip_src, packet.ip_dst
    if loopback:
        eth_src, eth_dst, ip_src, ip_dst = eth_dst, eth_src, ip_dst, ip_src
    return Packet(eth_src=eth_src, eth_dst=eth_dst, eth_type=ETH_IP, vlan_tci=packet.vlan_tci,
                  ip_src=ip_src, ip_dst=ip_dst, ip_proto=PROTO_TCP, ip_ttl=RESET_TTL,
                  ip_id=0, tp_src=packet.tp_dst, tp_dst=packet.tp_src,
                  tcp_flags=TCP_RST | TCP_ACK, tcp_seq=0,
                  tcp_ack=(packet.tcp_seq + 1) & 0xFFFFFFFF)


def reject(packet: Packet) -> Packet | None:
    """pinctrl_handle_reject: a TCP reset for TCP, else ICMP port (UDP) or host
    unreachable, addressed back to the sender (SCTP's abort is not modelled)."""
    if packet.is_ip and packet.ip_proto == PROTO_TCP:
        return tcp_reset(packet, loopback=True)
    return icmp4(packet, set_icmp_code=True, loopback=True)
