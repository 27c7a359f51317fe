"""OpenFlow 1.5 binary for the actions ovn-controller nests in a `controller(userdata=...)`
(OVN's actions.c `encode_nested_actions` encodes them with ofpacts_put_openflow_actions
for OpenFlow 1.5), and the OXM/NXM headers that name fields in them (lib/nx-match.c,
lib/meta-flow.xml). Fields are the flow model's (flows/fields.py)."""

from __future__ import annotations

import struct

from ovnlab.flows.actions import (
    Action,
    Controller,
    DecTtl,
    Move,
    Pop,
    Push,
    Resubmit,
    SetField,
    SubField,
)
from ovnlab.flows.fields import FIELDS, OFPP_IN_PORT

# (class, field, bytes) of the OXM header OVS picks for OpenFlow 1.5.
_OXM: dict[str, tuple[int, int, int]] = {
    "in_port": (0x8000, 0, 4), "metadata": (0x8000, 2, 8), "eth_dst": (0x8000, 3, 6),
    "eth_src": (0x8000, 4, 6), "eth_type": (0x8000, 5, 2), "vlan_tci": (0x0000, 4, 2),
    "ip_dscp": (0x8000, 8, 1), "nw_ecn": (0x8000, 9, 1), "nw_proto": (0x8000, 10, 1),
    "ip_src": (0x8000, 11, 4), "ip_dst": (0x8000, 12, 4), "tcp_src": (0x8000, 13, 2),
    "tcp_dst": (0x8000, 14, 2), "udp_src": (0x8000, 15, 2), "udp_dst": (0x8000, 16, 2),
    "icmp_type": (0x8000, 19, 1), "icmp_code": (0x8000, 20, 1), "arp_op": (0x8000, 21, 2),
    "arp_spa": (0x8000, 22, 4), "arp_tpa": (0x8000, 23, 4), "arp_sha": (0x8000, 24, 6),
    "arp_tha": (0x8000, 25, 6), "ipv6_src": (0x8000, 26, 16), "ipv6_dst": (0x8000, 27, 16),
    "icmpv6_type": (0x8000, 29, 1), "icmpv6_code": (0x8000, 30, 1),
    "nd_target": (0x8000, 31, 16), "nd_sll": (0x8000, 32, 6), "nd_tll": (0x8000, 33, 6),
    "tun_id": (0x8000, 38, 8), "nw_ttl": (0x0001, 29, 1), "pkt_mark": (0x0001, 33, 4),
    "ct_state": (0x0001, 105, 4), "ct_mark": (0x0001, 107, 4), "ct_label": (0x0001, 108, 16),
    **{f"reg{i}": (0x0001, i, 4) for i in range(16)},
    **{f"xreg{i}": (0x8001, i, 8) for i in range(8)},
    **{f"xxreg{i}": (0x0001, 111 + i, 16) for i in range(4)},
}
# (class, field, bytes) of the NXM header (OpenFlow 1.0), which OVS's encode_STACK_op
# writes whatever the OpenFlow version (`nx_put_mff_header(..., 0, ...)`); fields without
# one (metadata, xreg) fall back to their OXM header.
_NXM: dict[str, tuple[int, int, int]] = {
    "in_port": (0x0000, 0, 2), "eth_dst": (0x0000, 1, 6), "eth_src": (0x0000, 2, 6),
    "eth_type": (0x0000, 3, 2), "vlan_tci": (0x0000, 4, 2), "nw_tos": (0x0000, 5, 1),
    "nw_proto": (0x0000, 6, 1), "ip_src": (0x0000, 7, 4), "ip_dst": (0x0000, 8, 4),
    "tcp_src": (0x0000, 9, 2), "tcp_dst": (0x0000, 10, 2), "udp_src": (0x0000, 11, 2),
    "udp_dst": (0x0000, 12, 2), "icmp_type": (0x0000, 13, 1), "icmp_code": (0x0000, 14, 1),
    "arp_op": (0x0000, 15, 2), "arp_spa": (0x0000, 16, 4), "arp_tpa": (0x0000, 17, 4),
    "tun_id": (0x0001, 16, 8), "arp_sha": (0x0001, 17, 6), "arp_tha": (0x0001, 18, 6),
    "ipv6_src": (0x0001, 19, 16), "ipv6_dst": (0x0001, 20, 16),
    "icmpv6_type": (0x0001, 21, 1), "icmpv6_code": (0x0001, 22, 1),
    "nd_target": (0x0001, 23, 16), "nd_sll": (0x0001, 24, 6), "nd_tll": (0x0001, 25, 6),
    "nw_ecn": (0x0001, 28, 1), "nw_ttl": (0x0001, 29, 1), "pkt_mark": (0x0001, 33, 4),
    "ct_state": (0x0001, 105, 4), "ct_mark": (0x0001, 107, 4), "ct_label": (0x0001, 108, 16),
    **{f"reg{i}": (0x0001, i, 4) for i in range(16)},
    **{f"xxreg{i}": (0x0001, 111 + i, 16) for i in range(4)},
}
_BY_HEADER = {(c, f): name for table in (_OXM, _NXM) for name, (c, f, _n) in table.items()}
NX_VENDOR = 0x00002320
NXAST_RESUBMIT_TABLE, NXAST_DEC_TTL_CNT_IDS = 14, 21
NXAST_STACK_PUSH, NXAST_STACK_POP, NXAST_CONTROLLER2 = 27, 28, 37
OFPAT_SET_FIELD, OFPAT_COPY_FIELD, OFPAT_DEC_NW_TTL = 25, 28, 24
NXAC2PT_USERDATA, NXAC2PT_PAUSE = 3, 4


def _oxm_header(name: str, hasmask: bool) -> tuple[int, int]:
    try:
        cls, fld, n = _OXM[name]
    except KeyError:
        raise ValueError(f"field {name} cannot be encoded in OpenFlow 1.5") from None
    length = n * 2 if hasmask else n
    return (cls << 16) | (fld << 9) | (int(hasmask) << 8) | length, n


def _nxm_header(name: str) -> int:
    """The header a stack push/pop names its field by (NXM when the field has one)."""
    if name not in _NXM:
        return _oxm_header(name, False)[0]
    cls, fld, n = _NXM[name]
    return (cls << 16) | (fld << 9) | n


def nxm_header(name: str) -> bytes:
    """nx_put_header() of a whole field, OpenFlow 1.5 (no mask)."""
    return struct.pack("!I", _oxm_header(name, False)[0])


def field_of_header(header: int) -> str | None:
    """The field an unmasked NXM/OXM header names (nx_pull_header), or None."""
    for name in _OXM:
        if _oxm_header(name, False)[0] == header:
            return name
    return None


def _pad8(b: bytes) -> bytes:
    return b + b"\0" * (-len(b) % 8)


def _set_field(a: SetField) -> bytes:
    """OFPAT_SET_FIELD: the OXM header, the value, the mask if not the whole field."""
    f = FIELDS[a.field]
    whole = a.mask is None or a.mask == (1 << f.width) - 1
    header, nbytes = _oxm_header(a.field, not whole)
    body = struct.pack("!I", header) + a.value.to_bytes(nbytes, "big")
    if not whole:
        body += (a.mask or 0).to_bytes(nbytes, "big")
    raw = _pad8(struct.pack("!HH", OFPAT_SET_FIELD, 0) + body)
    return struct.pack("!HH", OFPAT_SET_FIELD, len(raw)) + raw[4:]


def _controller2(a: Controller) -> bytes:
    """NXAST_CONTROLLER2: userdata and pause properties."""
    props = _pad8(struct.pack("!HH", NXAC2PT_USERDATA, 4 + len(a.userdata)) + a.userdata)
    if a.pause:
        props += struct.pack("!HH4x", NXAC2PT_PAUSE, 4)
    return struct.pack("!HHIH6x", 0xFFFF, 16 + len(props), NX_VENDOR,
                       NXAST_CONTROLLER2) + props


def encode_of15(acts: tuple[Action, ...] | list[Action]) -> bytes:
    """OpenFlow 1.5 encoding of the subset OVN nests in controller actions."""
    out = b""
    for a in acts:
        if isinstance(a, SetField):
            out += _set_field(a)
        elif isinstance(a, Resubmit) and a.port is None and a.table is not None:
            out += struct.pack("!HHIHHB3x", 0xFFFF, 16, NX_VENDOR, NXAST_RESUBMIT_TABLE,
                               OFPP_IN_PORT, a.table)
        elif isinstance(a, Push | Pop):
            sub = a.src if isinstance(a, Push) else a.dst
            body = struct.pack("!HHIHHIH", 0xFFFF, 24, NX_VENDOR,
                               NXAST_STACK_PUSH if isinstance(a, Push) else NXAST_STACK_POP,
                               sub.ofs, _nxm_header(sub.field), sub.nbits)
            out += _pad8(body)
        elif isinstance(a, Move):
            src, _ = _oxm_header(a.src.field, False)
            dst, _ = _oxm_header(a.dst.field, False)
            out += struct.pack("!HHHHH2xII4x", OFPAT_COPY_FIELD, 24, a.src.nbits, a.src.ofs,
                               a.dst.ofs, src, dst)
        elif isinstance(a, DecTtl) and not a.ids:  # NXAST_DEC_TTL_CNT_IDS, no ids
            out += struct.pack("!HHIHH4x", 0xFFFF, 16, NX_VENDOR, NXAST_DEC_TTL_CNT_IDS, 0)
        elif isinstance(a, Controller):
            out += _controller2(a)
        else:
            raise ValueError(f"action {a.format()} cannot be nested in a controller action")
    return out


def _sub_from_header(header: int, ofs: int, nbits: int) -> SubField:
    name = _BY_HEADER.get((header >> 16, (header >> 9) & 0x7F))
    if name is None:
        raise ValueError(f"unknown OXM header {header:#x}")
    return SubField(name, ofs, nbits)


def _decode_set_field(data: bytes, i: int) -> SetField:
    header = struct.unpack_from("!I", data, i + 4)[0]
    hasmask = bool(header & 0x100)
    n = (header & 0xFF) // (2 if hasmask else 1)
    name = _BY_HEADER.get((header >> 16, (header >> 9) & 0x7F))
    if name is None:
        raise ValueError(f"unknown OXM header {header:#x}")
    value = int.from_bytes(data[i + 8:i + 8 + n], "big")
    mask = int.from_bytes(data[i + 8 + n:i + 8 + 2 * n], "big") if hasmask else None
    return SetField(name, value, mask)


def _decode_nx(data: bytes, i: int, length: int) -> Action:
    vendor, sub = struct.unpack_from("!IH", data, i + 4)
    if vendor != NX_VENDOR:
        raise ValueError("unknown experimenter action")
    if sub == NXAST_DEC_TTL_CNT_IDS:
        return DecTtl(())
    if sub == NXAST_RESUBMIT_TABLE:
        return Resubmit(None, data[i + 12])
    if sub in (NXAST_STACK_PUSH, NXAST_STACK_POP):
        ofs, header, nbits = struct.unpack_from("!HIH", data, i + 10)
        s = _sub_from_header(header, ofs, nbits)
        return Push(s) if sub == NXAST_STACK_PUSH else Pop(s)
    if sub == NXAST_CONTROLLER2:
        return _decode_controller2(data[i + 16:i + length])
    raise ValueError(f"unsupported NX action subtype {sub}")


def decode_of15(data: bytes) -> list[Action]:
    acts: list[Action] = []
    i = 0
    while i + 4 <= len(data):
        typ, length = struct.unpack_from("!HH", data, i)
        if length < 8 or i + length > len(data):
            raise ValueError("bad OpenFlow action length")
        if typ == OFPAT_SET_FIELD:
            acts.append(_decode_set_field(data, i))
        elif typ == 0xFFFF:
            acts.append(_decode_nx(data, i, length))
        elif typ == OFPAT_COPY_FIELD:
            nbits, sofs, dofs, src, dst = struct.unpack_from("!HHH2xII", data, i + 4)
            acts.append(Move(_sub_from_header(src, sofs, nbits),
                             _sub_from_header(dst, dofs, nbits)))
        elif typ == OFPAT_DEC_NW_TTL:
            acts.append(DecTtl(()))
        else:
            raise ValueError(f"unsupported OpenFlow action type {typ}")
        i += length
    return acts


def _decode_controller2(props: bytes) -> Controller:
    userdata, pause, j = b"", False, 0
    while j + 4 <= len(props):
        ptype, plen = struct.unpack_from("!HH", props, j)
        if plen < 4:
            raise ValueError("bad controller2 property length")
        if ptype == NXAC2PT_USERDATA:
            userdata = props[j + 4:j + plen]
        elif ptype == NXAC2PT_PAUSE:
            pause = True
        j += (plen + 7) // 8 * 8
    return Controller(userdata=userdata, pause=pause)
