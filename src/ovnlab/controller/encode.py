"""What OVN's action encoders share (lib/actions.c, OVN 22.03): the OpenFlow table
numbers, ovnact_encode_params, field arguments resolved to subfields, and the stack
plumbing of encode_setup_args / encode_restore_args."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ovnlab.controller import expr as ex
from ovnlab.controller.lexer import Cursor, SyntaxError_
from ovnlab.flows.actions import Action, Pop, Push, SubField, mask_runs, set_field

OFTABLE_LOG_INGRESS_PIPELINE = 8
OFTABLE_REMOTE_OUTPUT = 37
OFTABLE_LOCAL_OUTPUT = 38
OFTABLE_CHECK_LOOPBACK = 39
OFTABLE_LOG_EGRESS_PIPELINE = 40
OFTABLE_SAVE_INPORT = 64
OFTABLE_LOG_TO_PHY = 65
OFTABLE_MAC_BINDING = 66
OFTABLE_MAC_LOOKUP = 67
OFTABLE_GET_FDB = 71
OFTABLE_LOOKUP_FDB = 72
LOG_PIPELINE_LEN = 29  # lib/ovn-util.h: logical tables per pipeline


@dataclass
class EncodeParams:
    """ovnact_encode_params: where the flow sits and how ports resolve."""

    ingress: bool = True
    cur_table: int = 0  # logical table of the flow
    is_switch: bool = True
    lookup_port: Callable[[str], int | None] = lambda name: None
    common_nat_zone: str = "reg11"  # DNAT zone unless the router has snat-ct-zone
    n_tables: int = LOG_PIPELINE_LEN
    prereqs: list[str] = field(default_factory=list)

    @property
    def first_ptable(self) -> int:
        return OFTABLE_LOG_INGRESS_PIPELINE if self.ingress else OFTABLE_LOG_EGRESS_PIPELINE

    @property
    def output_ptable(self) -> int:
        return OFTABLE_REMOTE_OUTPUT if self.ingress else OFTABLE_SAVE_INPORT


def resolve(ref: ex.FieldRef) -> SubField:
    sym = ref.symbol
    return SubField(sym.mf, sym.ofs + ref.ofs, ref.nbits)


def field_ref(cur: Cursor, ep: EncodeParams, rw: bool = True) -> ex.FieldRef:
    ref = ex.parse_field(cur)
    if rw and not ref.symbol.rw:
        raise SyntaxError_(f"Field {ref.symbol.name} is not modifiable.")
    if ref.symbol.prereq:
        ep.prereqs.append(ref.symbol.prereq)
    return ref


def zone(name: str) -> SubField:
    return SubField(name, 0, 16)


def masked_loads(name: str, value: int, mask: int) -> list[Action]:
    """A masked constant load: one set_field per contiguous run of mask bits (as OVN's
    encode_LOAD gives them to OVS)."""
    return [set_field(name, (value >> ofs) & ((1 << n) - 1), ofs, n)
            for ofs, n in mask_runs(mask)]


def setup_args(args: list[tuple[SubField, str]]) -> list[Action]:
    """encode_setup_args: stash destinations, then move sources in through the stack."""
    acts: list[Action] = []
    moving = [(src, SubField.whole(dst)) for src, dst in args if src.field != dst]
    acts.extend(Push(dst) for _src, dst in moving)
    acts.extend(Push(src) for src, _dst in reversed(moving))
    acts.extend(Pop(dst) for _src, dst in moving)
    return acts


def restore_args(args: list[tuple[SubField, str]]) -> list[Action]:
    return [Pop(SubField.whole(dst)) for src, dst in reversed(args) if src.field != dst]
