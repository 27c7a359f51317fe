"""OpenFlow actions as ovn-controller emits them: text as `ovs-ofctl dump-flows` prints
(OpenFlow 1.0 + NXM, OVS 3.1 lib/ofp-actions.c) and, for the actions nested in a
`controller(userdata=...)`, OpenFlow 1.5 binary as OVN encodes them (actions.c
`encode_nested_actions`: an 8-byte action_header {opcode, pad} then OF1.5 actions).
"""

from __future__ import annotations

import ipaddress
import struct
from dataclasses import dataclass

from ovnlab.controller.ofields import FIELDS, MF, format_set, subfield

# ACTION_OPCODE_* (include/ovn/actions.h, OVN 22.03), in enum order.
OPCODES = ("ARP", "PUT_ARP", "PUT_DHCP_OPTS", "ND_NA", "PUT_ND", "PUT_DHCPV6_OPTS",
           "DNS_LOOKUP", "LOG", "PUT_ND_RA_OPTS", "ND_NS", "ICMP", "TCP_RESET",
           "ND_NA_ROUTER", "PUT_ICMP4_FRAG_MTU", "ICMP4_ERROR", "EVENT", "IGMP",
           "BIND_VPORT", "HANDLE_SVC_CHECK", "DHCP6_SERVER", "ICMP6_ERROR",
           "PUT_ICMP6_FRAG_MTU", "REJECT", "BFD_MSG", "SCTP_ABORT", "PUT_FDB")
OPCODE = {name: i for i, name in enumerate(OPCODES)}


@dataclass(frozen=True, slots=True)
class Sub:
    """A subfield mf[ofs..ofs+nbits)."""

    mf: MF
    ofs: int
    nbits: int

    def text(self) -> str:
        return subfield(self.mf, self.ofs, self.nbits)

    @classmethod
    def whole(cls, name: str) -> Sub:
        mf = FIELDS[name]
        return cls(mf, 0, mf.bits)


@dataclass(frozen=True, slots=True)
class SetField:
    dst: Sub
    value: int

    def text(self) -> str:
        return format_set(self.dst.mf, self.dst.ofs, self.dst.nbits, self.value)


@dataclass(frozen=True, slots=True)
class Move:
    src: Sub
    dst: Sub

    def text(self) -> str:
        return f"move:{self.src.text()}->{self.dst.text()}"


@dataclass(frozen=True, slots=True)
class Push:
    sub: Sub

    def text(self) -> str:
        return f"push:{self.sub.text()}"


@dataclass(frozen=True, slots=True)
class Pop:
    sub: Sub

    def text(self) -> str:
        return f"pop:{self.sub.text()}"


@dataclass(frozen=True, slots=True)
class Resubmit:
    table: int

    def text(self) -> str:
        return f"resubmit(,{self.table})"


@dataclass(frozen=True, slots=True)
class Output:
    port: int

    def text(self) -> str:
        return f"output:{self.port}"


@dataclass(frozen=True, slots=True)
class Simple:
    """Argument-less actions: ct_clear, strip_vlan."""

    name: str

    def text(self) -> str:
        return self.name


@dataclass(frozen=True, slots=True)
class DecTtl:
    """OVN's `ip.ttl--`: an ofpact_dec_ttl with no controller ids, which OVS encodes as
    NXAST_DEC_TTL_CNT_IDS and dumps as `dec_ttl()` (an expiry reports to no controller)."""

    def text(self) -> str:
        return "dec_ttl()"


@dataclass(frozen=True, slots=True)
class Nat:
    kind: str = ""  # "", "src", "dst"
    ip: str = ""
    port_lo: int = 0
    port_hi: int = 0

    def text(self) -> str:
        if not self.kind:
            return "nat"
        inner = self.kind
        if self.ip:
            addr = self.ip if ":" not in self.ip else f"[{self.ip}]"
            inner += f"={addr}"
            if self.port_lo:
                inner += f":{self.port_lo}"
                if self.port_hi and self.port_hi != self.port_lo:
                    inner += f"-{self.port_hi}"
                inner += ",random" if self.port_hi else ""
        return f"nat({inner})"


@dataclass(frozen=True, slots=True)
class Ct:
    commit: bool = False
    table: int | None = None
    zone: Sub | None = None
    nat: Nat | None = None
    exec_: tuple[Ofpact, ...] = ()

    def text(self) -> str:
        parts = []
        if self.commit:
            parts.append("commit")
        if self.table is not None:
            parts.append(f"table={self.table}")
        if self.zone is not None:
            parts.append(f"zone={self.zone.text()}")
        if self.nat is not None:
            parts.append(self.nat.text())
        if self.exec_:
            parts.append(f"exec({format_actions(self.exec_, empty='')})")
        return f"ct({','.join(parts)})"


@dataclass(frozen=True, slots=True)
class Controller:
    userdata: bytes = b""
    pause: bool = False  # encode_start_controller_op(..., pause): the packet waits for pinctrl

    def text(self) -> str:
        if not self.userdata:
            return "CONTROLLER:65535"
        return ("controller(userdata=" + ".".join(f"{b:02x}" for b in self.userdata)
                + (",pause" if self.pause else "") + ")")


@dataclass(frozen=True, slots=True)
class Clone:
    actions: tuple[Ofpact, ...]

    def text(self) -> str:
        return f"clone({format_actions(self.actions, empty='')})"


@dataclass(frozen=True, slots=True)
class Conjunction:
    id: int
    clause: int
    n_clauses: int

    def text(self) -> str:
        return f"conjunction({self.id},{self.clause}/{self.n_clauses})"


@dataclass(frozen=True, slots=True)
class Bundle:
    """physical.c put_remote_port_redirect_overlay: active/backup over the HA chassis'
    tunnels, in priority order (BFD decides which is up)."""

    members: tuple[int, ...]

    def text(self) -> str:
        members = ",".join(str(m) for m in self.members)
        return f"bundle(eth_src,0,active_backup,ofport,members:{members})"


@dataclass(frozen=True, slots=True)
class CheckPktLarger:
    """`check_pkt_larger(N)->DST` (OVS 2.12+): DST = the frame is longer than N bytes."""

    pkt_len: int
    dst: Sub

    def text(self) -> str:
        return f"check_pkt_larger({self.pkt_len})->{self.dst.text()}"


Ofpact = (Bundle | SetField | Move | Push | Pop | Resubmit | Output | Simple | DecTtl | Ct | Controller
          | Clone | Conjunction | CheckPktLarger)


def format_actions(acts: tuple[Ofpact, ...] | list[Ofpact], empty: str = "drop") -> str:
    return ",".join(a.text() for a in acts) if acts else empty


def load(name: str, value: int, ofs: int = 0, nbits: int | None = None) -> SetField:
    mf = FIELDS[name]
    return SetField(Sub(mf, ofs, mf.bits if nbits is None else nbits), value)


# ------------------------------------------------------------------ OpenFlow 1.5 binary

# (class, field, bytes) of the OXM/NXM header OVS picks for OpenFlow 1.5.
_OXM: dict[str, tuple[int, int, int]] = {
    "in_port": (0x8000, 0, 4), "metadata": (0x8000, 2, 8), "eth_dst": (0x8000, 3, 6),
    "eth_src": (0x8000, 4, 6), "eth_type": (0x8000, 5, 2), "vlan_tci": (0x0000, 4, 2),
    "ip_dscp": (0x8000, 8, 1), "ip_ecn": (0x8000, 9, 1), "ip_proto": (0x8000, 10, 1),
    "ip_src": (0x8000, 11, 4), "ip_dst": (0x8000, 12, 4), "tcp_src": (0x8000, 13, 2),
    "tcp_dst": (0x8000, 14, 2), "udp_src": (0x8000, 15, 2), "udp_dst": (0x8000, 16, 2),
    "icmp_type": (0x8000, 19, 1), "icmp_code": (0x8000, 20, 1), "arp_op": (0x8000, 21, 2),
    "arp_spa": (0x8000, 22, 4), "arp_tpa": (0x8000, 23, 4), "arp_sha": (0x8000, 24, 6),
    "arp_tha": (0x8000, 25, 6), "ipv6_src": (0x8000, 26, 16), "ipv6_dst": (0x8000, 27, 16),
    "icmpv6_type": (0x8000, 29, 1), "icmpv6_code": (0x8000, 30, 1),
    "nd_target": (0x8000, 31, 16), "nd_sll": (0x8000, 32, 6), "nd_tll": (0x8000, 33, 6),
    "tun_id": (0x8000, 38, 8), "ip_ttl": (0x0001, 29, 1), "pkt_mark": (0x0001, 33, 4),
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
    "eth_type": (0x0000, 3, 2), "vlan_tci": (0x0000, 4, 2), "ip_dscp": (0x0000, 5, 1),
    "ip_proto": (0x0000, 6, 1), "ip_src": (0x0000, 7, 4), "ip_dst": (0x0000, 8, 4),
    "tcp_src": (0x0000, 9, 2), "tcp_dst": (0x0000, 10, 2), "udp_src": (0x0000, 11, 2),
    "udp_dst": (0x0000, 12, 2), "icmp_type": (0x0000, 13, 1), "icmp_code": (0x0000, 14, 1),
    "arp_op": (0x0000, 15, 2), "arp_spa": (0x0000, 16, 4), "arp_tpa": (0x0000, 17, 4),
    "tun_id": (0x0001, 16, 8), "arp_sha": (0x0001, 17, 6), "arp_tha": (0x0001, 18, 6),
    "ipv6_src": (0x0001, 19, 16), "ipv6_dst": (0x0001, 20, 16),
    "icmpv6_type": (0x0001, 21, 1), "icmpv6_code": (0x0001, 22, 1),
    "nd_target": (0x0001, 23, 16), "nd_sll": (0x0001, 24, 6), "nd_tll": (0x0001, 25, 6),
    "ip_ecn": (0x0001, 28, 1), "ip_ttl": (0x0001, 29, 1), "pkt_mark": (0x0001, 33, 4),
    "ct_state": (0x0001, 105, 4), "ct_mark": (0x0001, 107, 4), "ct_label": (0x0001, 108, 16),
    **{f"reg{i}": (0x0001, i, 4) for i in range(16)},
    **{f"xxreg{i}": (0x0001, 111 + i, 16) for i in range(4)},
}
_BY_HEADER = {(c, f): name for table in (_OXM, _NXM) for name, (c, f, _n) in table.items()}
NX_VENDOR = 0x00002320
NXAST_CONTROLLER2 = 37
NXAC2PT_USERDATA, NXAC2PT_PAUSE = 3, 4
OFPP_IN_PORT = 0xFFF8


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


def _pad8(b: bytes) -> bytes:
    return b + b"\0" * (-len(b) % 8)


def encode_of15(acts: tuple[Ofpact, ...] | list[Ofpact]) -> bytes:
    """OpenFlow 1.5 encoding of the subset OVN nests in controller actions."""
    out = b""
    for a in acts:
        if isinstance(a, SetField):
            mf, n = a.dst.mf, a.dst.nbits
            whole = a.dst.ofs == 0 and n == mf.bits
            header, nbytes = _oxm_header(mf.name, not whole)
            value = (a.value << a.dst.ofs).to_bytes(nbytes, "big")
            body = struct.pack("!I", header) + value
            if not whole:
                mask = (((1 << n) - 1) << a.dst.ofs).to_bytes(nbytes, "big")
                body += mask
            raw = struct.pack("!HH", 25, 0) + body
            raw = _pad8(raw)
            out += struct.pack("!HH", 25, len(raw)) + raw[4:]
        elif isinstance(a, Resubmit):
            out += struct.pack("!HHIHHB3x", 0xFFFF, 16, NX_VENDOR, 14, OFPP_IN_PORT, a.table)
        elif isinstance(a, Push | Pop):
            header = _nxm_header(a.sub.mf.name)
            body = struct.pack("!HHIHHIH", 0xFFFF, 24, NX_VENDOR, 27 if isinstance(a, Push)
                               else 28, a.sub.ofs, header, a.sub.nbits)
            out += _pad8(body)
        elif isinstance(a, Move):
            src, _ = _oxm_header(a.src.mf.name, False)
            dst, _ = _oxm_header(a.dst.mf.name, False)
            out += struct.pack("!HHHHH2xII4x", 28, 24, a.src.nbits, a.src.ofs, a.dst.ofs, src,
                               dst)
        elif isinstance(a, DecTtl):  # NXAST_DEC_TTL_CNT_IDS, no ids
            out += struct.pack("!HHIHH4x", 0xFFFF, 16, NX_VENDOR, 21, 0)
        elif isinstance(a, Controller):  # NXAST_CONTROLLER2: userdata and pause properties
            props = _pad8(struct.pack("!HH", NXAC2PT_USERDATA, 4 + len(a.userdata))
                          + a.userdata)
            if a.pause:
                props += struct.pack("!HH4x", NXAC2PT_PAUSE, 4)
            out += struct.pack("!HHIH6x", 0xFFFF, 16 + len(props), NX_VENDOR,
                               NXAST_CONTROLLER2) + props
        else:
            raise ValueError(f"action {a.text()} cannot be nested in a controller action")
    return out


def _sub_from_header(header: int, ofs: int, nbits: int) -> Sub:
    name = _BY_HEADER.get((header >> 16, (header >> 9) & 0x7F))
    if name is None:
        raise ValueError(f"unknown OXM header {header:#x}")
    return Sub(FIELDS[name], ofs, nbits)


def decode_of15(data: bytes) -> list[Ofpact]:
    acts: list[Ofpact] = []
    i = 0
    while i + 4 <= len(data):
        typ, length = struct.unpack_from("!HH", data, i)
        if length < 8 or i + length > len(data):
            raise ValueError("bad OpenFlow action length")
        if typ == 25:
            header = struct.unpack_from("!I", data, i + 4)[0]
            hasmask = bool(header & 0x100)
            n = (header & 0xFF) // (2 if hasmask else 1)
            name = _BY_HEADER[(header >> 16, (header >> 9) & 0x7F)]
            mf = FIELDS[name]
            value = int.from_bytes(data[i + 8:i + 8 + n], "big")
            if hasmask:
                mask = int.from_bytes(data[i + 8 + n:i + 8 + 2 * n], "big")
                ofs = (mask & -mask).bit_length() - 1
                nbits = mask.bit_length() - ofs
                acts.append(SetField(Sub(mf, ofs, nbits), value >> ofs))
            else:
                acts.append(SetField(Sub(mf, 0, mf.bits), value))
        elif typ == 0xFFFF:
            vendor, sub = struct.unpack_from("!IH", data, i + 4)
            if vendor != NX_VENDOR:
                raise ValueError("unknown experimenter action")
            if sub == 21:
                acts.append(DecTtl())
            elif sub == 14:
                acts.append(Resubmit(data[i + 12]))
            elif sub in (27, 28):
                ofs, header, nbits = struct.unpack_from("!HIH", data, i + 10)
                s = _sub_from_header(header, ofs, nbits)
                acts.append(Push(s) if sub == 27 else Pop(s))
            elif sub == NXAST_CONTROLLER2:
                acts.append(_decode_controller2(data[i + 16:i + length]))
            else:
                raise ValueError(f"unsupported NX action subtype {sub}")
        elif typ == 28:
            nbits, sofs, dofs, src, dst = struct.unpack_from("!HHH2xII", data, i + 4)
            acts.append(Move(_sub_from_header(src, sofs, nbits), _sub_from_header(dst, dofs, nbits)))
        elif typ == 24:
            acts.append(DecTtl())
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
    return Controller(userdata, pause)


def controller_userdata(opcode: str, nested: tuple[Ofpact, ...] | list[Ofpact] = ()) -> bytes:
    return struct.pack("!I4x", OPCODE[opcode]) + encode_of15(nested)


def nxm_header(name: str) -> bytes:
    """nx_put_header() of a whole field, OpenFlow 1.5 (no mask)."""
    return struct.pack("!I", _oxm_header(name, False)[0])


def field_of_header(header: int) -> str | None:
    """The field an unmasked NXM/OXM header names (nx_pull_header), or None."""
    for name in _OXM:
        if _oxm_header(name, False)[0] == header:
            return name
    return None


def parse_userdata(data: bytes) -> tuple[str, list[Ofpact]]:
    """(opcode name, nested actions) of a controller action's userdata."""
    if len(data) < 8:
        raise ValueError("userdata shorter than OVN's action header")
    op = struct.unpack_from("!I", data)[0]
    if op >= len(OPCODES):
        raise ValueError(f"unknown OVN action opcode {op}")
    return OPCODES[op], decode_of15(data[8:])


def ip_text(value: int) -> str:
    return str(ipaddress.IPv4Address(value))
