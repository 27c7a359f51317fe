"""A microflow as OVS's `struct flow` (slot → value), read and written by meta-flow field,
and printed as `flow_format()` prints it (the `# ...` first line of ovn-trace)."""

from __future__ import annotations

from dataclasses import dataclass, field

from ovnlab.controller import expr as ex
from ovnlab.controller import ofields
from ovnlab.controller.ofields import (
    ETH_TYPE_ARP,
    ETH_TYPE_IP,
    ETH_TYPE_IPV6,
    IPPROTO_ICMP,
    IPPROTO_ICMPV6,
    IPPROTO_SCTP,
    IPPROTO_TCP,
    IPPROTO_UDP,
    MF,
)

_FULL = {"tp_src": 0xFFFF, "tp_dst": 0xFFFF, "vlan_tci": 0xFFFF, "nw_frag": 3}


def _parts(mf: MF) -> list[tuple[str, int]]:
    """The (slot, shift) pieces of a field: wide registers span several 32-bit regs."""
    name = mf.name
    if name.startswith("xxreg"):
        k = int(name[5:])
        return [(f"reg{4 * k + j}", 32 * (3 - j)) for j in range(4)]
    if name.startswith("xreg"):
        k = int(name[4:])
        return [(f"reg{2 * k + j}", 32 * (1 - j)) for j in range(2)]
    if name.startswith("reg"):
        return [(name, 0)]
    return [(mf.slot, 0)]


def is_register(mf: MF) -> bool:
    """mf_is_register(): OVS registers (reg, xreg, xxreg), whose loads ovn-trace does not
    list as packet modifications."""
    return mf.name.startswith(("reg", "xreg", "xxreg"))


@dataclass
class Uflow:
    """`struct flow`: every slot not set is zero."""

    slots: dict[str, int] = field(default_factory=dict)

    def copy(self) -> Uflow:
        return Uflow(dict(self.slots))

    def get(self, mf: MF, ofs: int = 0, nbits: int | None = None) -> int:
        value = 0
        for slot, shift in _parts(mf):
            value |= self.slots.get(slot, 0) << shift
        n = mf.bits if nbits is None else nbits
        return (value >> ofs) & ((1 << n) - 1)

    def set(self, mf: MF, value: int, ofs: int = 0, nbits: int | None = None) -> None:
        n = mf.bits if nbits is None else nbits
        mask = ((1 << n) - 1) << ofs
        whole = (self.get(mf) & ~mask) | ((value << ofs) & mask)
        for slot, shift in _parts(mf):
            width = 32 if slot.startswith("reg") else mf.bits
            self.slots[slot] = (whole >> shift) & ((1 << width) - 1)

    def field(self, name: str) -> int:
        return self.get(ofields.FIELDS[name])

    def put(self, name: str, value: int) -> None:
        self.set(ofields.FIELDS[name], value)

    def read(self, ref: ex.FieldRef) -> int:
        sym = ref.symbol
        return self.get(ofields.FIELDS[sym.mf], sym.ofs + ref.ofs, ref.nbits)

    def write(self, ref: ex.FieldRef, value: int) -> None:
        sym = ref.symbol
        self.set(ofields.FIELDS[sym.mf], value, sym.ofs + ref.ofs, ref.nbits)

    @property
    def dl_type(self) -> int:
        return self.slots.get("dl_type", 0)

    @property
    def nw_proto(self) -> int:
        return self.slots.get("nw_proto", 0)

    def is_ip(self) -> bool:
        return self.dl_type in (ETH_TYPE_IP, ETH_TYPE_IPV6)


def evaluate(e: ex.Expr, uflow: Uflow) -> bool:
    """expr_evaluate() on an annotated expression (ports already resolved to keys)."""
    if isinstance(e, ex.Eq):
        return uflow.get(ofields.FIELDS[e.mf]) & e.mask == e.value
    if isinstance(e, ex.And):
        return all(evaluate(s, uflow) for s in e.subs)
    if isinstance(e, ex.Or):
        return any(evaluate(s, uflow) for s in e.subs)
    return e.value


def _relevant_slots(uflow: Uflow) -> list[str]:
    """flow_wildcards_init_for_packet(): the fields that mean something for this packet."""
    slots = ["dl_src", "dl_dst", "dl_type", "vlan_tci"]
    dl_type, proto = uflow.dl_type, uflow.nw_proto
    if dl_type == ETH_TYPE_ARP:
        return slots + ["nw_src", "nw_dst", "nw_proto", "arp_sha", "arp_tha"]
    if dl_type == ETH_TYPE_IP:
        slots += ["nw_src", "nw_dst"]
    elif dl_type == ETH_TYPE_IPV6:
        slots += ["ipv6_src", "ipv6_dst", "ipv6_label"]
    else:
        return slots
    slots += ["nw_proto", "nw_tos", "nw_ecn", "nw_ttl", "nw_frag"]
    if proto in (IPPROTO_TCP, IPPROTO_UDP, IPPROTO_SCTP, IPPROTO_ICMP, IPPROTO_ICMPV6):
        slots += ["tp_src", "tp_dst"]
    if proto == IPPROTO_TCP:
        slots.append("tcp_flags")
    if proto == IPPROTO_ICMPV6 and uflow.slots.get("tp_src") in (135, 136):
        slots += ["nd_target", "arp_sha", "arp_tha"]
    return slots


_CONTEXT = ("pkt_mark", "ct_state", "ct_zone", "ct_mark", "ct_label", "metadata",
            *(f"reg{i}" for i in range(16)))


def flow_format(uflow: Uflow) -> str:
    """flow_format(): the packet's fields exactly, context fields only when non-zero."""
    slots: dict[str, tuple[int, int]] = {}
    for slot in _CONTEXT:
        if uflow.slots.get(slot):
            slots[slot] = (uflow.slots[slot], -1 & _width_mask(slot))
    for slot in _relevant_slots(uflow):
        slots[slot] = (uflow.slots.get(slot, 0), _FULL.get(slot, _width_mask(slot)))
    return ofields.format_match(slots)


def _width_mask(slot: str) -> int:
    widths = {"ct_label": 128, "metadata": 64, "ipv6_src": 128, "ipv6_dst": 128,
              "nd_target": 128, "dl_src": 48, "dl_dst": 48, "arp_sha": 48, "arp_tha": 48,
              "dl_type": 16, "ct_zone": 16, "ipv6_label": 20, "tcp_flags": 12, "nw_proto": 8,
              "nw_ttl": 8, "nw_tos": 6, "nw_ecn": 2, "ct_state": 0xFF}
    bits = widths.get(slot, 32)
    return 0xFF if slot == "ct_state" else (1 << bits) - 1
