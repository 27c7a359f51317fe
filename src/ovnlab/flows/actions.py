"""OpenFlow actions as typed values, printed exactly as `ovs-ofctl dump-flows` prints them.

The set mirrors what OVS shows in its default (OpenFlow 1.0 + Nicira extensions) output:
`set_field` is normalised on input into what OVS would print (`mod_dl_src:`, `load:...`),
so printing a parsed flow gives the text `ovs-ofctl` itself would give.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ovnlab.flows.fields import (
    FIELDS,
    OFPP_CONTROLLER,
    OFPP_IN_PORT,
    RESERVED_PORT_NAMES,
)

PortNamer = Callable[[int], str]


def format_port(port: int, namer: PortNamer | None = None) -> str:
    """A port number as ofputil_format_port prints it (reserved ports by name)."""
    name = RESERVED_PORT_NAMES.get(port)
    if name is not None:
        return name
    if namer is not None:
        return namer(port)
    return str(port)


def hex_int(value: int) -> str:
    """C's `%#x`: `0` for zero, `0x..` otherwise."""
    return "0" if value == 0 else f"{value:#x}"


@dataclass(frozen=True, slots=True)
class SubField:
    """`NXM_NX_REG11[0..15]`: bits [ofs, ofs+nbits) of a field (canonical field name)."""

    field: str
    ofs: int
    nbits: int

    @classmethod
    def whole(cls, field: str) -> SubField:
        return cls(field, 0, FIELDS[field].width)

    def __str__(self) -> str:
        f = FIELDS[self.field]
        if self.ofs == 0 and self.nbits == f.width:
            return f"{f.nxm}[]"
        if self.nbits == 1:
            return f"{f.nxm}[{self.ofs}]"
        return f"{f.nxm}[{self.ofs}..{self.ofs + self.nbits - 1}]"


@dataclass(frozen=True, slots=True)
class Output:
    port: int

    def format(self, namer: PortNamer | None = None) -> str:
        if self.port >= 0xFF00:
            if self.port == OFPP_CONTROLLER:
                return "CONTROLLER:65535"
            return format_port(self.port)
        return "output:" + format_port(self.port, namer)


@dataclass(frozen=True, slots=True)
class OutputReg:
    src: SubField

    def format(self, namer: PortNamer | None = None) -> str:
        return f"output:{self.src}"


@dataclass(frozen=True, slots=True)
class Resubmit:
    """`resubmit(port,table)`; `port=None` keeps in_port, `table=None` the current table."""

    port: int | None = None
    table: int | None = None

    def format(self, namer: PortNamer | None = None) -> str:
        port = self.port if self.port not in (None, OFPP_IN_PORT) else None
        if port is not None and self.table is None:
            return "resubmit:" + format_port(port, namer)
        p = format_port(port, namer) if port is not None else ""
        t = str(self.table) if self.table is not None else ""
        return f"resubmit({p},{t})"


@dataclass(frozen=True, slots=True)
class Load:
    dst: SubField
    value: int

    def format(self, namer: PortNamer | None = None) -> str:
        return f"load:{hex_int(self.value)}->{self.dst}"


@dataclass(frozen=True, slots=True)
class Move:
    src: SubField
    dst: SubField

    def format(self, namer: PortNamer | None = None) -> str:
        return f"move:{self.src}->{self.dst}"


@dataclass(frozen=True, slots=True)
class SetField:
    """What stays `set_field` in OVS's OpenFlow 1.0 output (tunnel metadata)."""

    field: str
    value: int
    mask: int | None = None

    def format(self, namer: PortNamer | None = None) -> str:
        v = hex_int(self.value)
        if self.mask is not None:
            v += "/" + hex_int(self.mask)
        return f"set_field:{v}->{self.field}"


MOD_FIELDS = ("dl_src", "dl_dst", "nw_src", "nw_dst", "tp_src", "tp_dst", "nw_tos", "vlan_vid",
              "vlan_pcp")


@dataclass(frozen=True, slots=True)
class Mod:
    """`mod_dl_src:MAC`, `mod_nw_dst:IP`, `mod_tp_src:PORT`, `mod_nw_tos:TOS`,
    `mod_vlan_vid:VID` (tags an untagged packet), `mod_vlan_pcp:PCP`."""

    field: str  # one of MOD_FIELDS (a key slot name)
    value: int

    def format(self, namer: PortNamer | None = None) -> str:
        if self.field in ("dl_src", "dl_dst"):
            raw = f"{self.value:012x}"
            text = ":".join(raw[i:i + 2] for i in range(0, 12, 2))
        elif self.field in ("nw_src", "nw_dst"):
            v = self.value
            text = f"{v >> 24 & 255}.{v >> 16 & 255}.{v >> 8 & 255}.{v & 255}"
        else:
            text = str(self.value)
        return f"mod_{self.field}:{text}"


@dataclass(frozen=True, slots=True)
class DecTtl:
    ids: tuple[int, ...] | None = None  # controller ids; None = plain `dec_ttl`

    def format(self, namer: PortNamer | None = None) -> str:
        if self.ids is None:
            return "dec_ttl"
        return "dec_ttl(" + ",".join(str(i) for i in self.ids) + ")"


@dataclass(frozen=True, slots=True)
class Nat:
    """`nat`, `nat(src=A[-B][:P[-Q]][,random|persistent|hash])`, `nat(dst=...)`."""

    kind: str | None = None  # "src" | "dst" | None (un-NAT / reuse existing)
    ip_min: int | None = None
    ip_max: int | None = None
    port_min: int | None = None
    port_max: int | None = None
    flags: tuple[str, ...] = ()

    def format(self, namer: PortNamer | None = None) -> str:
        if self.kind is None:
            return "nat"
        text = f"nat({self.kind}"
        if self.ip_min is not None:
            text += "=" + _ip(self.ip_min)
            if self.ip_max is not None and self.ip_max != self.ip_min:
                text += "-" + _ip(self.ip_max)
            if self.port_min is not None:
                text += f":{self.port_min}"
                if self.port_max is not None and self.port_max != self.port_min:
                    text += f"-{self.port_max}"
        for flag in self.flags:
            text += "," + flag
        return text + ")"


def _ip(v: int) -> str:
    return f"{v >> 24 & 255}.{v >> 16 & 255}.{v >> 8 & 255}.{v & 255}"


@dataclass(frozen=True, slots=True)
class Ct:
    """`ct(...)`: `actions` holds nat and exec actions in their input order (as OVS does)."""

    commit: bool = False
    force: bool = False
    table: int | None = None
    zone: int = 0
    zone_src: SubField | None = None
    actions: tuple[Action, ...] = ()
    alg: str | None = None

    @property
    def nat(self) -> Nat | None:
        for a in self.actions:
            if isinstance(a, Nat):
                return a
        return None

    @property
    def exec_actions(self) -> tuple[Action, ...]:
        return tuple(a for a in self.actions if not isinstance(a, Nat))

    def format(self, namer: PortNamer | None = None) -> str:
        parts: list[str] = []
        if self.commit:
            parts.append("commit")
        if self.force:
            parts.append("force")
        if self.table is not None:
            parts.append(f"table={self.table}")
        if self.zone_src is not None:
            parts.append(f"zone={self.zone_src}")
        elif self.zone:
            parts.append(f"zone={self.zone}")
        rest = self.actions
        if rest and isinstance(rest[0], Nat):
            parts.append(rest[0].format())
            rest = rest[1:]
        if rest:
            parts.append("exec(" + format_actions(rest, namer) + ")")
        if self.alg:
            parts.append(f"alg={self.alg}")
        return "ct(" + ",".join(parts) + ")"


@dataclass(frozen=True, slots=True)
class StripVlan:
    def format(self, namer: PortNamer | None = None) -> str:
        return "strip_vlan"


@dataclass(frozen=True, slots=True)
class CtClear:
    def format(self, namer: PortNamer | None = None) -> str:
        return "ct_clear"


CONTROLLER_REASONS = ("no_match", "action", "invalid_ttl", "action_set", "group",
                      "packet_out")


@dataclass(frozen=True, slots=True)
class Controller:
    max_len: int = 65535
    reason: str = "action"
    controller_id: int = 0
    userdata: bytes = b""
    pause: bool = False

    def format(self, namer: PortNamer | None = None) -> str:
        if (self.reason == "action" and not self.controller_id and not self.userdata
                and not self.pause):
            return f"CONTROLLER:{self.max_len}"
        parts: list[str] = []
        if self.reason != "action":
            parts.append(f"reason={self.reason}")
        if self.max_len != 65535:
            parts.append(f"max_len={self.max_len}")
        if self.controller_id:
            parts.append(f"id={self.controller_id}")
        if self.userdata:
            parts.append("userdata=" + ".".join(f"{b:02x}" for b in self.userdata))
        if self.pause:
            parts.append("pause")
        return "controller(" + ",".join(parts) + ")"


@dataclass(frozen=True, slots=True)
class Clone:
    actions: tuple[Action, ...]

    def format(self, namer: PortNamer | None = None) -> str:
        return "clone(" + format_actions(self.actions, namer) + ")"


@dataclass(frozen=True, slots=True)
class Conjunction:
    id: int
    clause: int  # 1-based, as written: conjunction(id,k/n)
    n_clauses: int

    def format(self, namer: PortNamer | None = None) -> str:
        return f"conjunction({self.id},{self.clause}/{self.n_clauses})"


@dataclass(frozen=True, slots=True)
class Note:
    data: bytes  # already padded as OVS pads it

    def format(self, namer: PortNamer | None = None) -> str:
        return "note:" + ".".join(f"{b:02x}" for b in self.data)

    @staticmethod
    def padded(data: bytes) -> bytes:
        # The NXAST_NOTE action is 10 bytes + data, padded to a multiple of 8.
        total = (10 + len(data) + 7) // 8 * 8
        return data + b"\0" * (total - 10 - len(data))


@dataclass(frozen=True, slots=True)
class Push:
    src: SubField

    def format(self, namer: PortNamer | None = None) -> str:
        return f"push:{self.src}"


@dataclass(frozen=True, slots=True)
class Pop:
    dst: SubField

    def format(self, namer: PortNamer | None = None) -> str:
        return f"pop:{self.dst}"


@dataclass(frozen=True, slots=True)
class Bundle:
    """`bundle(fields,basis,algorithm,ofport,members:P,...)` (lib/bundle.c): output to one
    of `members`; active_backup takes the first that is up."""

    fields: str
    basis: int
    algorithm: str  # "active_backup" | "hrw"
    members: tuple[int, ...]

    def format(self, namer: PortNamer | None = None) -> str:
        members = ",".join(format_port(p, namer) for p in self.members)
        return f"bundle({self.fields},{self.basis},{self.algorithm},ofport,members:{members})"


@dataclass(frozen=True, slots=True)
class CheckPktLarger:
    """`check_pkt_larger(N)->DST`: DST (one bit) = whether the packet is longer than N
    bytes (its L2 frame, as OVS counts it)."""

    pkt_len: int
    dst: SubField

    def format(self, namer: PortNamer | None = None) -> str:
        return f"check_pkt_larger({self.pkt_len})->{self.dst}"


Action = (Output | OutputReg | Resubmit | Load | Move | SetField | Mod | DecTtl | Nat | Ct
          | CtClear | Controller | Clone | Conjunction | Note | Push | Pop | StripVlan | Bundle
          | CheckPktLarger)


def format_actions(actions: tuple[Action, ...], namer: PortNamer | None = None) -> str:
    if not actions:
        return "drop"
    return ",".join(a.format(namer) for a in actions)


# ----------------------------------------------------------------------------- set_field
def set_field(field: str, value: int, ofs: int = 0, nbits: int | None = None) -> SetField:
    """OpenFlow's set_field of bits [ofs, ofs+nbits) of `field` (the whole field when
    nbits is None), as ovn-controller builds it (an ofpact_set_field: value and mask)."""
    width = FIELDS[field].width
    n = width - ofs if nbits is None else nbits
    if ofs == 0 and n == width:
        return SetField(field, value)
    return SetField(field, value << ofs, ((1 << n) - 1) << ofs)


def to_of10(actions: tuple[Action, ...] | list[Action]) -> tuple[Action, ...]:
    """The actions as OVS gives them back in OpenFlow 1.0 + NXM (what dump-flows prints):
    each set_field becomes `mod_*` or `load:` actions (ofp-actions.c
    set_field_to_legacy_openflow), inside ct(exec(...)) and clone(...) too."""
    out: list[Action] = []
    for a in actions:
        if isinstance(a, SetField):
            out.extend(set_field_of10(a))
        elif isinstance(a, Ct) and a.actions:
            out.append(Ct(a.commit, a.force, a.table, a.zone, a.zone_src,
                          to_of10(a.actions), a.alg))
        elif isinstance(a, Clone):
            out.append(Clone(to_of10(a.actions)))
        else:
            out.append(a)
    return tuple(out)


def set_field_of10(a: SetField) -> list[Action]:
    """One set_field in OpenFlow 1.0 form: `mod_dl_src:...` for a whole field that has a
    legacy action, `set_field` for tunnel metadata (NXAST_REG_LOAD2), otherwise one
    `load:` per contiguous run of mask bits (NXAST_REG_LOAD carries at most 64 bits)."""
    f = FIELDS[a.field]
    full = (1 << f.width) - 1
    mask = full if a.mask is None else a.mask
    if f.mod and mask == full:
        return [Mod(f.mod, a.value << f.slot_shift)]
    if a.field.startswith("tun_metadata"):
        return [a]
    out: list[Action] = []
    for start, n in mask_runs(mask):
        out.extend(loads(a.field, start, n, (a.value >> start) & ((1 << n) - 1)))
    return out


def mask_runs(mask: int) -> list[tuple[int, int]]:
    """The runs of contiguous 1-bits of a mask, low bits first: (offset, nbits)."""
    out = []
    while mask:
        start = (mask & -mask).bit_length() - 1
        run = mask >> start
        n = (~run & (run + 1)).bit_length() - 1
        out.append((start, n))
        mask &= ~(((1 << n) - 1) << start)
    return out


def loads(field: str, ofs: int, nbits: int, value: int) -> list[Action]:
    """`load:` of `value` into field[ofs..ofs+nbits), split in 64-bit pieces as OVS does."""
    if field.startswith("tun_metadata"):
        return [set_field(field, value, ofs, nbits)]
    out: list[Action] = []
    pos = 0
    while pos < nbits:
        n = min(64, nbits - pos)
        out.append(Load(SubField(field, ofs + pos, n), (value >> pos) & ((1 << n) - 1)))
        pos += n
    return out
