"""tcpdump's print-icmp.c: the type and code names, and the texts of the ICMP messages
Formatter does not spell out itself."""

from __future__ import annotations

from collections.abc import Callable

from ovnlab.packet import Packet

ICMP_TYPE_NAMES = {
    0: "echo reply", 3: "unreachable", 4: "source quench", 5: "redirect", 8: "echo request",
    9: "router advertisement", 10: "router solicitation", 11: "time exceeded",
    12: "parameter problem", 13: "time stamp request", 14: "time stamp reply",
    15: "information request", 16: "information reply", 17: "address mask request",
    18: "address mask reply",
}
# print-icmp.c's unreach2str; "%s" is the unreachable destination of the quoted datagram.
ICMP_UNREACH = {
    0: "net %s unreachable", 1: "host %s unreachable",
    5: "%s unreachable - source route failed", 6: "net %s unreachable - unknown",
    7: "host %s unreachable - unknown", 8: "%s unreachable - source host isolated",
    9: "net %s unreachable - admin prohibited", 10: "host %s unreachable - admin prohibited",
    11: "net %s unreachable - tos prohibited", 12: "host %s unreachable - tos prohibited",
    13: "host %s unreachable - admin prohibited filter",
    14: "host %s unreachable - host precedence violation",
    15: "host %s unreachable - precedence cutoff",
}


def icmp_truncated(packet: Packet) -> bool:
    """An ICMP error whose quoted datagram is too short for what tcpdump reads from it."""
    if packet.icmp_type not in (3, 5, 11):
        return False
    quoted = packet.payload
    if len(quoted) < 20:
        return True
    if packet.icmp_type == 3 and packet.icmp_code == 3:  # reads the quoted ports
        return len(quoted) < (quoted[0] & 0x0F) * 4 + 4
    return False


def icmp_bails_out(packet: Packet) -> bool:
    """Whether print-icmp.c leaves a truncated packet by longjmp (GET_* macros) rather than
    by its trunc label; only matters for where -x starts its dump."""
    if packet.icmp_type == 11:
        return False
    return not (packet.icmp_type == 3 and packet.icmp_code == 3 and not packet.payload)


def icmp_other(itype: int, code: int, payload: bytes, host: Callable[[int], str]) -> str:
    # Packet.to_bytes() writes zeros in the 4 bytes after the checksum for these types, so
    # tcpdump reads a zero gateway / pointer / id / seq there.
    if itype == 5:
        dst = host(int.from_bytes(payload[16:20], "big")) if len(payload) >= 20 else "?"
        kind = {0: "redirect %s to net %s", 1: "redirect %s to host %s",
                2: "redirect-tos %s to net %s", 3: "redirect-tos %s to host %s"}.get(
                    code, f"redirect-#{code} %s to net %s")
        return kind % (dst, host(0))
    if itype == 12:
        return "parameter problem - octet 0" if code == 0 else f"parameter problem - code {code}"
    if itype == 9:  # zero addresses, lifetime and entry size: tcpdump stops at the size
        return "router advertisement lifetime 0 0: [size 0]"
    if itype == 13:
        return "time stamp query id 0 seq 0"
    if itype == 14 and len(payload) >= 12:
        org, recv, xmit = (_ms_of_day(payload[i:i + 4]) for i in (0, 4, 8))
        return f"time stamp reply id 0 seq 0: org {org}, recv {recv}, xmit {xmit}"
    if itype == 18 and len(payload) >= 4:
        return f"address mask is 0x{int.from_bytes(payload[:4], 'big'):08x}"
    return ICMP_TYPE_NAMES.get(itype, f"type-#{itype}")


def _ms_of_day(raw: bytes) -> str:
    ms = int.from_bytes(raw, "big")
    return (f"{ms // 3600000:02d}:{ms // 60000 % 60:02d}:{ms // 1000 % 60:02d}."
            f"{ms % 1000:03d}")
