"""pinctrl's answer to `put_dhcp_opts` (controller/pinctrl.c, pinctrl_handle_put_dhcp_opts):
DHCPDISCOVER gets an OFFER, DHCPREQUEST an ACK (a NAK when it asks for another address
than the port's), built from the request's own headers and the options northd compiled
into the action's userdata. The caller resumes the paused pipeline with the result bit.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from ovnlab.packet import (
    DHCP_ACK,
    DHCP_DISCOVER,
    DHCP_HEADER_LEN,
    DHCP_MAGIC_COOKIE,
    DHCP_NAK,
    DHCP_OFFER,
    DHCP_OPT_END,
    DHCP_OPT_MSG_TYPE,
    DHCP_OPT_PAD,
    DHCP_OPT_REQ_IP,
    DHCP_REQUEST,
    PROTO_UDP,
    Packet,
)

OP_REQUEST, OP_REPLY = 1, 2
BROADCAST_FLAG = 0x8000


@dataclass(frozen=True, slots=True)
class PutDhcpOpts:
    """The action's userdata after OVN's header: where the result bit goes, the offer IP,
    and the options in DHCP wire format."""

    result_header: int  # the NXM/OXM header of the result field
    result_ofs: int
    offer_ip: int
    options: bytes

    @classmethod
    def parse(cls, data: bytes) -> PutDhcpOpts | None:
        if len(data) < 12:
            return None
        header, ofs, offer = struct.unpack_from("!III", data)
        return cls(header, ofs, offer, bytes(data[12:]))


def _options(data: bytes) -> dict[int, bytes]:
    """The request's options (up to END), malformed tails ignored as pinctrl does."""
    out: dict[int, bytes] = {}
    i = 0
    while i < len(data):
        code = data[i]
        if code == DHCP_OPT_END:
            break
        if code == DHCP_OPT_PAD:
            i += 1
            continue
        if i + 2 > len(data) or i + 2 + data[i + 1] > len(data):
            break
        out[code] = data[i + 2:i + 2 + data[i + 1]]
        i += 2 + data[i + 1]
    return out


def reply(request: Packet, action: PutDhcpOpts) -> Packet | None:
    """The DHCP_OFFER/DHCP_ACK/DHCP_NAK for a DHCP request, or None when pinctrl would not answer (not a
    BOOTREQUEST, no magic cookie, no or another message type)."""
    if request.ip_proto != PROTO_UDP:
        return None
    body = request.payload
    if len(body) < DHCP_HEADER_LEN + 4 or body[0] != OP_REQUEST:
        return None
    if struct.unpack_from("!I", body, DHCP_HEADER_LEN)[0] != DHCP_MAGIC_COOKIE:
        return None
    opts = _options(body[DHCP_HEADER_LEN + 4:])
    kind = opts.get(DHCP_OPT_MSG_TYPE)
    if kind is None or len(kind) != 1 or kind[0] not in (DHCP_DISCOVER, DHCP_REQUEST):
        return None
    msg_type = DHCP_OFFER
    if kind[0] == DHCP_REQUEST:
        requested = opts.get(DHCP_OPT_REQ_IP)
        asked = struct.unpack("!I", requested)[0] if requested is not None \
            and len(requested) == 4 else struct.unpack_from("!I", body, 12)[0]  # ciaddr
        msg_type = DHCP_ACK if asked == action.offer_ip else DHCP_NAK
    header = bytearray(body[:DHCP_HEADER_LEN])
    header[0] = OP_REPLY
    header[16:20] = struct.pack("!I", action.offer_ip if msg_type != DHCP_NAK else 0)  # yiaddr
    options = bytes([DHCP_OPT_MSG_TYPE, 1, msg_type])
    if msg_type != DHCP_NAK:
        options += action.options
    options += b"\0" * 4 + bytes([DHCP_OPT_END]) + b"\0" * 4  # padding, END, padding: 12 in all
    flags = struct.unpack_from("!H", header, 10)[0]
    ip_dst = 0xFFFFFFFF if flags & BROADCAST_FLAG else action.offer_ip
    return request.with_(ip_dst=ip_dst,
                         payload=bytes(header) + struct.pack("!I", DHCP_MAGIC_COOKIE) + options)
