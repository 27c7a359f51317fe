"""One SB Logical_Flow → OpenFlow flows (the flow model's `Flow`) for one local datapath
(controller/lflow.c `consider_logical_flow__` + `add_matches_to_flow_table`, OVN 22.03)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field

from ovnlab.controller import expr as ex
from ovnlab.controller.actions import compile_actions
from ovnlab.controller.encode import (
    OFTABLE_LOG_EGRESS_PIPELINE,
    OFTABLE_LOG_INGRESS_PIPELINE,
    EncodeParams,
)
from ovnlab.flows.actions import Action, Conjunction, to_of10
from ovnlab.flows.model import Flow


def cookie_of(uuid: str) -> int:
    """OVN's cookie: the first 32 bits of the row's UUID."""
    return int(uuid[:8], 16)


@dataclass
class LflowEnv:
    """What compiling needs for one datapath on this chassis."""

    dp_key: int
    is_switch: bool
    lookup_port: Callable[[str], int | None]
    is_chassis_resident: Callable[[str], bool]
    address_sets: Mapping[str, Sequence[str]] = field(default_factory=dict)
    port_groups: Mapping[str, Sequence[str]] = field(default_factory=dict)
    related_port_keys: frozenset[int] | None = None  # switch ports local to the chassis
    common_nat_zone: str = "reg11"


@dataclass(slots=True)
class Compiled:
    flows: list[Flow]
    refs: AbstractSet[str]  # port names, "$as", "@pg", "resident:<port>" it depends on
    error: str = ""
    # each flow's logical in/out port key when its match pins it (reg14 on ingress,
    # reg15 on egress), for related_only(); empty once filtered
    ports: tuple[int | None, ...] = ()


def compile_lflow(*, uuid: str, pipeline: str, table_id: int, priority: int, match: str,
                  actions: str, env: LflowEnv, conj_base: int | None = None) -> Compiled:
    """The flows of one logical flow on one datapath of this chassis."""
    return related_only(compile_all_ports(
        uuid=uuid, pipeline=pipeline, table_id=table_id, priority=priority, match=match,
        actions=actions, env=env, conj_base=conj_base), env)


def related_only(comp: Compiled, env: LflowEnv) -> Compiled:
    """lflow.c: on a switch, a flow whose match pins a port that is not local to this
    chassis is skipped ("port in match is not local, skip")."""
    related = env.related_port_keys
    if not env.is_switch or related is None or all(
            p is None or p in related for p in comp.ports):
        return Compiled(comp.flows, comp.refs, comp.error)
    return Compiled([f for f, p in zip(comp.flows, comp.ports, strict=True)
                     if p is None or p in related],
                    comp.refs, comp.error)


def compile_all_ports(*, uuid: str, pipeline: str, table_id: int, priority: int, match: str,
                      actions: str, env: LflowEnv, conj_base: int | None = None) -> Compiled:
    """compile_lflow before related_only(): what any chassis with the same answers to
    the lookups in `refs` compiles (env.related_port_keys is not read)."""
    ingress = pipeline == "ingress"
    ctx = ex.Context(lookup_port=env.lookup_port, is_chassis_resident=env.is_chassis_resident,
                     address_sets=env.address_sets, port_groups=env.port_groups)
    ep = EncodeParams(ingress=ingress, cur_table=table_id, is_switch=env.is_switch,
                      lookup_port=_tracking(env.lookup_port, ctx.refs),
                      common_nat_zone=env.common_nat_zone)
    try:
        acts, prereqs = compile_actions(actions, ep)
        matches, _n_conjs = ex.compile_match(match, ctx, prereqs)
    except Exception as err:  # OVN logs "error parsing match/actions" and skips the flow
        return Compiled([], ctx.refs, f"{type(err).__name__}: {err}")
    ptable = (OFTABLE_LOG_INGRESS_PIPELINE if ingress else OFTABLE_LOG_EGRESS_PIPELINE) + table_id
    cookie = cookie_of(uuid)
    base = (cookie if conj_base is None else conj_base) - 1
    of_acts = to_of10(acts)  # as the switch gives them back (mod_*, load:)
    flows: list[Flow] = []
    ports: list[int | None] = []
    reg = port_register(ingress)
    for m in matches:
        mm = m.match.copy()
        conj_slot = mm.slots.get("conj_id")
        if conj_slot is not None:
            del mm.slots["conj_id"]
            mm.set("conj_id", (conj_slot[0] + base) & 0xFFFFFFFF, 0xFFFFFFFF)
        mm.set("metadata", env.dp_key, (1 << 64) - 1)
        ports.append(pinned_port(mm.slots.get(reg)))
        if m.conj:
            conj_acts: tuple[Action, ...] = tuple(
                Conjunction((cid + base) & 0xFFFFFFFF, k, n) for cid, k, n in m.conj)
            flows.append(Flow(ptable, priority, 0, mm.match(), conj_acts))
        else:
            flows.append(Flow(ptable, priority, cookie, mm.match(), of_acts))
    return Compiled(flows, ctx.refs, ports=tuple(ports))


def port_register(ingress: bool) -> str:
    """Where a flow holds its logical port: inport (reg14) on ingress, outport (reg15)
    on egress."""
    return "reg14" if ingress else "reg15"


def pinned_port(slot: tuple[int, int] | None) -> int | None:
    """The port key a match on port_register() pins, if it matches it exactly."""
    return slot[0] if slot and slot[1] == 0xFFFFFFFF else None


def _tracking(lookup: Callable[[str], int | None], refs: set[str]) -> Callable[[str], int | None]:
    def f(name: str) -> int | None:
        refs.add(name)
        return lookup(name)
    return f
