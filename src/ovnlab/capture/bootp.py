"""tcpdump 4.99's print-bootp.c for the DHCP the lab carries (busybox udhcpc, OVN's
pinctrl): the one-line form, and with -v the header fields and the options (the ones a
cirros VM and OVN exchange decoded, others as their raw bytes)."""

from __future__ import annotations

import struct

BOOTP_HEADER = 236
MAGIC = 0x63825363
MESSAGE_TYPES = {1: "Discover", 2: "Offer", 3: "Request", 4: "Decline", 5: "ACK", 6: "NACK",
                 7: "Release", 8: "Inform"}
# print-bootp.c's tag names (the ones the lab's clients and pinctrl use, and their kin)
TAGS = {1: "Subnet-Mask", 2: "Time-Zone", 3: "Default-Gateway", 6: "Domain-Name-Server",
        12: "Hostname", 15: "Domain-Name", 26: "MTU", 28: "BR", 42: "NTP", 50: "Requested-IP",
        51: "Lease-Time", 53: "DHCP-Message", 54: "Server-ID", 55: "Parameter-Request",
        57: "MSZ", 58: "RN", 59: "RB", 60: "Vendor-Class", 61: "Client-ID",
        119: "Domain-Search", 121: "Classless-Static-Route"}
_IP_TAGS = {1, 3, 6, 28, 42, 50, 54}
_INT_TAGS = {26: 2, 57: 2, 51: 4, 58: 4, 59: 4}
_STRING_TAGS = {12, 15, 60}


def _ip(data: bytes) -> str:
    return ".".join(str(b) for b in data)


def _mac(data: bytes) -> str:
    return ":".join(f"{b:02x}" for b in data)


def line(body: bytes) -> str:
    """Without -v: the op, the client's hardware address for a request."""
    if body[0] == 1:
        return f"BOOTP/DHCP, Request from {_mac(body[28:34])}, length {len(body)}"
    if body[0] == 2:
        return f"BOOTP/DHCP, Reply, length {len(body)}"
    return f"BOOTP/DHCP, op-#{body[0]}, length {len(body)}"


def verbose(body: bytes, vv: bool) -> str:
    """-v (and -vv, which adds the flags word in hex)."""
    out = line(body)
    if len(body) < BOOTP_HEADER:
        return out + " [|bootp]"
    xid, flags = struct.unpack_from("!I", body, 4)[0], struct.unpack_from("!H", body, 10)[0]
    out += f", xid 0x{xid:x}"
    secs = struct.unpack_from("!H", body, 8)[0]
    if secs:
        out += f", secs {secs}"
    out += f", Flags [{'Broadcast' if flags & 0x8000 else 'none'}]"
    if vv:
        out += f" (0x{flags:04x})"
    for name, off in (("Client-IP", 12), ("Your-IP", 16), ("Server-IP", 20),
                      ("Gateway-IP", 24)):
        if body[off:off + 4] != b"\0\0\0\0":
            out += f"\n\t  {name} {_ip(body[off:off + 4])}"
    out += f"\n\t  Client-Ethernet-Address {_mac(body[28:34])}"
    if len(body) < BOOTP_HEADER + 4 or struct.unpack_from("!I", body, BOOTP_HEADER)[0] != MAGIC:
        return out
    out += f"\n\t  Vendor-rfc1048 Extensions\n\t    Magic Cookie 0x{MAGIC:08x}"
    i = BOOTP_HEADER + 4
    while i < len(body):
        tag = body[i]
        if tag == 255:
            break  # END (-vv would print it; the lab's replies end there too)
        if tag == 0:
            i += 1
            continue
        if i + 1 >= len(body):
            break
        size = body[i + 1]
        value = body[i + 2:i + 2 + size]
        out += f"\n\t    {TAGS.get(tag, 'Unknown')} ({tag}), length {size}: " + _value(tag, value)
        i += 2 + size
    return out


def _value(tag: int, value: bytes) -> str:
    if tag == 53 and len(value) == 1:
        return MESSAGE_TYPES.get(value[0], f"Unknown ({value[0]})")
    if tag in _IP_TAGS and len(value) % 4 == 0:
        return ",".join(_ip(value[j:j + 4]) for j in range(0, len(value), 4))
    if tag in _INT_TAGS and len(value) == _INT_TAGS[tag]:
        return str(int.from_bytes(value, "big"))
    if tag in _STRING_TAGS:
        return '"' + value.decode("ascii", "replace") + '"'
    if tag == 55:
        names = [f"{TAGS.get(b, f'Option {b}')} ({b})" for b in value]
        return "".join(("\n\t      " if k % 4 == 0 else ", ") + n for k, n in enumerate(names))
    if tag == 61 and len(value) == 7 and value[0] == 1:
        return f"ether {_mac(value[1:])}"
    if tag == 121:
        return _static_routes(value)
    return "".join(f"{b:02x}" for b in value)


def _static_routes(value: bytes) -> str:
    parts: list[str] = []
    i = 0
    while i < len(value):
        width = value[i]
        octets = (width + 7) // 8
        if width > 32 or i + 1 + octets + 4 > len(value):
            return ",".join(parts) + " [|bootp]"
        dst = value[i + 1:i + 1 + octets] + b"\0" * (4 - octets)
        gw = value[i + 1 + octets:i + 5 + octets]
        net = "default" if width == 0 else f"{_ip(dst)}/{width}"
        parts.append(f"({net}:{_ip(gw)})")
        i += 5 + octets
    return ",".join(parts)
