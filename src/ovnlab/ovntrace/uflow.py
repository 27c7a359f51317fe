"""A microflow as OVS's `struct flow` (slot → value), read and written by meta-flow field,
and printed as `flow_format()` prints it (the `# ...` first line of ovn-trace)."""

from __future__ import annotations

from dataclasses import dataclass, field

from ovnlab.controller import expr as ex
from ovnlab.flows.fields import (
    ETH_TYPE_ARP,
    ETH_TYPE_IP,
    ETH_TYPE_IPV6,
    FIELDS,
    IPPROTO_ICMP,
    IPPROTO_ICMPV6,
    IPPROTO_SCTP,
    IPPROTO_TCP,
    IPPROTO_UDP,
    SLOT_WIDTH,
    SLOTS,
    Field,
)
from ovnlab.flows.format import format_match
from ovnlab.flows.model import canonical_match


def is_register(f: Field) -> bool:
    """mf_is_register(): OVS registers (reg, xreg, xxreg), whose loads ovn-trace does not
    list as packet modifications."""
    return f.name.startswith(("reg", "xreg", "xxreg"))


@dataclass
class Uflow:
    """`struct flow`: every slot not set is zero."""

    slots: dict[str, int] = field(default_factory=dict)

    def copy(self) -> Uflow:
        return Uflow(dict(self.slots))

    def get(self, f: Field, ofs: int = 0, nbits: int | None = None) -> int:
        value = 0
        for slot, seg_ofs, seg_bits in f.segments:
            part = self.slots.get(SLOTS[slot], 0) >> f.slot_shift
            value |= (part & ((1 << seg_bits) - 1)) << seg_ofs
        n = f.width if nbits is None else nbits
        return (value >> ofs) & ((1 << n) - 1)

    def set(self, f: Field, value: int, ofs: int = 0, nbits: int | None = None) -> None:
        n = f.width if nbits is None else nbits
        mask = ((1 << n) - 1) << ofs
        whole = (self.get(f) & ~mask) | ((value << ofs) & mask)
        for slot, seg_ofs, seg_bits in f.segments:
            name, bits = SLOTS[slot], (1 << seg_bits) - 1
            keep = self.slots.get(name, 0) & ~(bits << f.slot_shift)
            self.slots[name] = keep | (((whole >> seg_ofs) & bits) << f.slot_shift)

    def field(self, name: str) -> int:
        return self.get(FIELDS[name])

    def put(self, name: str, value: int) -> None:
        self.set(FIELDS[name], value)

    def read(self, ref: ex.FieldRef) -> int:
        sym = ref.symbol
        return self.get(FIELDS[sym.mf], sym.ofs + ref.ofs, ref.nbits)

    def write(self, ref: ex.FieldRef, value: int) -> None:
        sym = ref.symbol
        self.set(FIELDS[sym.mf], value, sym.ofs + ref.ofs, ref.nbits)

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
        return uflow.get(FIELDS[e.mf]) & e.mask == e.value
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
        return slots + ["arp_spa", "arp_tpa", "arp_op", "arp_sha", "arp_tha"]
    if dl_type == ETH_TYPE_IP:
        slots += ["nw_src", "nw_dst"]
    elif dl_type == ETH_TYPE_IPV6:
        slots += ["ipv6_src", "ipv6_dst", "ipv6_label"]
    else:
        return slots
    slots += ["nw_proto", "nw_tos", "nw_ttl", "nw_frag"]  # nw_tos holds the ECN bits too
    if proto in (IPPROTO_TCP, IPPROTO_UDP, IPPROTO_SCTP):
        slots += ["tp_src", "tp_dst"]
    elif proto in (IPPROTO_ICMP, IPPROTO_ICMPV6):
        slots += ["icmp_type", "icmp_code"]
    if proto == IPPROTO_TCP:
        slots.append("tcp_flags")
    if proto == IPPROTO_ICMPV6 and uflow.slots.get("icmp_type") in (135, 136):
        slots += ["nd_target", "nd_sll", "nd_tll"]
    return slots


_CONTEXT = ("pkt_mark", "ct_state", "ct_zone", "ct_mark", "ct_label", "metadata",
            *(f"reg{i}" for i in range(16)))


def flow_format(uflow: Uflow) -> str:
    """flow_format(): the packet's fields exactly, context fields only when non-zero."""
    slots: dict[str, tuple[int, int]] = {}
    for slot in _CONTEXT:
        if uflow.slots.get(slot):
            slots[slot] = (uflow.slots[slot], (1 << SLOT_WIDTH[slot]) - 1)
    for slot in _relevant_slots(uflow):
        slots[slot] = (uflow.slots.get(slot, 0), (1 << SLOT_WIDTH[slot]) - 1)
    return format_match(canonical_match(slots))
