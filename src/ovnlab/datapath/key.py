"""The flow key: a packet's headers and metadata as a flat list of ints, one per slot.

Classification and actions work on this list (cheap to read, mask and copy); a `Packet` is
rebuilt only for what leaves the bridge.
"""

from __future__ import annotations

from dataclasses import dataclass

from ovnlab.flows.fields import N_SLOTS, SLOT
from ovnlab.packet import ETH_ARP, ETH_IP, PROTO_ICMP, Packet

Key = list[int]

IN_PORT = SLOT["in_port"]
METADATA = SLOT["metadata"]
REG0 = SLOT["reg0"]
PKT_MARK = SLOT["pkt_mark"]
CONJ_ID = SLOT["conj_id"]
DL_SRC, DL_DST, DL_TYPE, VLAN_TCI = SLOT["dl_src"], SLOT["dl_dst"], SLOT["dl_type"], \
    SLOT["vlan_tci"]
NW_SRC, NW_DST, NW_PROTO = SLOT["nw_src"], SLOT["nw_dst"], SLOT["nw_proto"]
NW_TTL, NW_TOS, NW_FRAG = SLOT["nw_ttl"], SLOT["nw_tos"], SLOT["nw_frag"]
TP_SRC, TP_DST, TCP_FLAGS = SLOT["tp_src"], SLOT["tp_dst"], SLOT["tcp_flags"]
ICMP_TYPE, ICMP_CODE = SLOT["icmp_type"], SLOT["icmp_code"]
ARP_OP, ARP_SPA, ARP_TPA = SLOT["arp_op"], SLOT["arp_spa"], SLOT["arp_tpa"]
ARP_SHA, ARP_THA = SLOT["arp_sha"], SLOT["arp_tha"]
CT_STATE, CT_ZONE, CT_MARK, CT_LABEL = SLOT["ct_state"], SLOT["ct_zone"], SLOT["ct_mark"], \
    SLOT["ct_label"]
TUN_ID, TUN_SRC, TUN_DST = SLOT["tun_id"], SLOT["tun_src"], SLOT["tun_dst"]
TUN_METADATA0 = SLOT["tun_metadata0"]
# Not an OpenFlow field: the ICMP echo id rides in the key so conntrack NAT can rewrite it.
ICMP_ID = N_SLOTS
KEY_SIZE = N_SLOTS + 1
# What a fragment's key lacks and its reassembled datagram's has (nw_frag, the L4 header)
L4_SLOTS = (NW_FRAG, TP_SRC, TP_DST, TCP_FLAGS, ICMP_TYPE, ICMP_CODE, ICMP_ID)

# Slots that are packet headers (rebuilt into the Packet on output).
HEADER_SLOTS: tuple[tuple[int, str], ...] = (
    (DL_SRC, "eth_src"), (DL_DST, "eth_dst"), (DL_TYPE, "eth_type"), (VLAN_TCI, "vlan_tci"),
    (NW_SRC, "ip_src"), (NW_DST, "ip_dst"), (NW_PROTO, "ip_proto"), (NW_TTL, "ip_ttl"),
    (NW_TOS, "ip_tos"), (TP_SRC, "tp_src"), (TP_DST, "tp_dst"),
    (ICMP_TYPE, "icmp_type"), (ICMP_CODE, "icmp_code"),
    (ARP_OP, "arp_op"), (ARP_SPA, "arp_spa"), (ARP_TPA, "arp_tpa"), (ARP_SHA, "arp_sha"),
    (ARP_THA, "arp_tha"), (ICMP_ID, "icmp_id"),
)


@dataclass(frozen=True, slots=True)
class TunnelMetadata:
    """What a Geneve tunnel carries besides the frame: VNI, outer addresses, OVN's option."""

    tun_id: int = 0
    tun_src: int = 0
    tun_dst: int = 0
    tun_metadata0: int = 0


def packet_to_key(packet: Packet, in_port: int,
                  tunnel: TunnelMetadata | None = None) -> Key:
    key = [0] * KEY_SIZE
    key[IN_PORT] = in_port
    key[DL_SRC] = packet.eth_src
    key[DL_DST] = packet.eth_dst
    eth_type = packet.eth_type
    key[DL_TYPE] = eth_type
    key[VLAN_TCI] = packet.vlan_tci
    if eth_type == ETH_IP:
        key[NW_SRC] = packet.ip_src
        key[NW_DST] = packet.ip_dst
        proto = packet.ip_proto
        key[NW_PROTO] = proto
        key[NW_TTL] = packet.ip_ttl
        key[NW_TOS] = packet.ip_tos
        key[NW_FRAG] = packet.ip_frag
        if proto == PROTO_ICMP:
            key[ICMP_TYPE] = packet.icmp_type
            key[ICMP_CODE] = packet.icmp_code
            key[ICMP_ID] = packet.icmp_id
        else:
            key[TP_SRC] = packet.tp_src
            key[TP_DST] = packet.tp_dst
            key[TCP_FLAGS] = packet.tcp_flags
    elif eth_type == ETH_ARP:
        key[ARP_OP] = packet.arp_op
        key[ARP_SPA] = packet.arp_spa
        key[ARP_TPA] = packet.arp_tpa
        key[ARP_SHA] = packet.arp_sha
        key[ARP_THA] = packet.arp_tha
    if tunnel is not None:
        key[TUN_ID] = tunnel.tun_id
        key[TUN_SRC] = tunnel.tun_src
        key[TUN_DST] = tunnel.tun_dst
        key[TUN_METADATA0] = tunnel.tun_metadata0
    return key


def key_to_packet(key: Key, original: Packet, start: Key | None = None) -> Packet:
    """`original` with the header slots of `key` written back (others kept). `start` is the
    key `original` was converted to, so unchanged headers cost one comparison each."""
    if start is None:
        start = packet_to_key(original, key[IN_PORT])
    changes = {name: key[slot] for slot, name in HEADER_SLOTS if key[slot] != start[slot]}
    if not changes:
        return original
    eth_type = key[DL_TYPE]
    if eth_type != ETH_IP:  # IP/L4 fields of a non-IP key are not headers
        changes = {n: v for n, v in changes.items() if not n.startswith(("ip_", "tp_", "icmp"))}
    if eth_type != ETH_ARP:
        changes = {n: v for n, v in changes.items() if not n.startswith("arp_")}
    return original.with_(**changes) if changes else original


def packet_length(packet: Packet) -> int:
    """The frame length OVS counts in n_bytes (no FCS), computed without serialising."""
    base = 18 if packet.vlan_tci else 14
    if packet.geneve is not None:
        return len(packet.to_bytes())
    if packet.eth_type == ETH_ARP:
        return max(base + 28, 42)
    if packet.eth_type != ETH_IP or packet.is_fragment:
        return base + (20 if packet.eth_type == ETH_IP else 0) + len(packet.payload)
    if packet.ip_proto == 6:
        l4 = 20
    else:
        l4 = 8
    return base + 20 + l4 + len(packet.payload)
