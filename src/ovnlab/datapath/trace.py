"""A packet's trip through a bridge, rendered like `ovs-appctl ofproto/trace`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ovnlab.datapath import key as K
from ovnlab.flows.format import format_match
from ovnlab.flows.model import OFP_DEFAULT_PRIORITY, Flow, Match
from ovnlab.packet import ETH_ARP, ETH_IP, PROTO_ICMP, PROTO_TCP, PROTO_UDP

if TYPE_CHECKING:
    from ovnlab.datapath.pipeline import RawStep, TraceStep

_RULE = "=" * 79


@dataclass(frozen=True, slots=True)
class TracePass:
    """One pass through the tables: the first, or a conntrack recirculation (`recirc`)."""

    recirc: int | None
    table: int
    start: tuple[int, ...]
    raw: tuple[RawStep, ...]
    final: tuple[int, ...]
    dp_actions: tuple[str, ...]

    @property
    def steps(self) -> tuple[TraceStep, ...]:
        from ovnlab.datapath.pipeline import TraceStep

        out = []
        for kind, depth, table, flow, detail, key, indent in self.raw:
            text = detail if isinstance(detail, str) else detail.format()
            out.append(TraceStep(kind, depth, table, flow, "    " * indent + text, key))
        return tuple(out)


@dataclass(frozen=True, slots=True)
class Trace:
    bridge: str
    passes: tuple[TracePass, ...]

    @property
    def steps(self) -> tuple[TraceStep, ...]:
        return tuple(s for p in self.passes for s in p.steps)

    @property
    def tables(self) -> list[int]:
        """Tables whose flows matched, in order (all passes)."""
        return [s.table for s in self.steps if s.kind == "table" and s.table is not None]

    def render(self) -> str:
        return render_trace(self)

    def __str__(self) -> str:
        return self.render()


def key_flow_text(key: tuple[int, ...] | list[int], *, recirc: int | None = None) -> str:
    """The `Flow:` line of ofproto/trace: every meaningful field of the key."""
    items: list[tuple[str, int, int]] = []

    def put(name: str, slot: int, mask: int, always: bool = False) -> None:
        if always or key[slot]:
            items.append((name, key[slot] & mask, mask))

    put("ct_state", K.CT_STATE, 0xFFFFFFFF)
    put("ct_zone", K.CT_ZONE, 0xFFFF)
    put("ct_mark", K.CT_MARK, 0xFFFFFFFF)
    put("ct_label", K.CT_LABEL, (1 << 128) - 1)
    for i in range(16):
        put(f"reg{i}", K.REG0 + i, 0xFFFFFFFF)
    put("tun_id", K.TUN_ID, (1 << 64) - 1)
    put("tun_src", K.TUN_SRC, 0xFFFFFFFF)
    put("tun_dst", K.TUN_DST, 0xFFFFFFFF)
    put("tun_metadata0", K.TUN_METADATA0, 0xFFFFFFFF)
    put("metadata", K.METADATA, (1 << 64) - 1)
    put("in_port", K.IN_PORT, 0xFFFF, True)
    put("vlan_tci", K.VLAN_TCI, 0xFFFF, True)
    put("dl_src", K.DL_SRC, (1 << 48) - 1, True)
    put("dl_dst", K.DL_DST, (1 << 48) - 1, True)
    put("dl_type", K.DL_TYPE, 0xFFFF, True)
    dl_type = key[K.DL_TYPE]
    if dl_type == ETH_IP:
        proto = key[K.NW_PROTO]
        put("nw_src", K.NW_SRC, 0xFFFFFFFF, True)
        put("nw_dst", K.NW_DST, 0xFFFFFFFF, True)
        put("nw_proto", K.NW_PROTO, 0xFF, True)
        put("nw_tos", K.NW_TOS, 0xFF, True)
        put("nw_ttl", K.NW_TTL, 0xFF, True)
        put("nw_frag", K.NW_FRAG, 3, True)
        if proto == PROTO_ICMP:
            put("icmp_type", K.ICMP_TYPE, 0xFF, True)
            put("icmp_code", K.ICMP_CODE, 0xFF, True)
        elif proto in (PROTO_TCP, PROTO_UDP):
            put("tp_src", K.TP_SRC, 0xFFFF, True)
            put("tp_dst", K.TP_DST, 0xFFFF, True)
            if proto == PROTO_TCP:
                put("tcp_flags", K.TCP_FLAGS, 0xFFF, True)
    elif dl_type == ETH_ARP:
        put("arp_spa", K.ARP_SPA, 0xFFFFFFFF, True)
        put("arp_tpa", K.ARP_TPA, 0xFFFFFFFF, True)
        put("arp_op", K.ARP_OP, 0xFFFF, True)
        put("arp_sha", K.ARP_SHA, (1 << 48) - 1, True)
        put("arp_tha", K.ARP_THA, (1 << 48) - 1, True)
    from ovnlab.flows.model import canonical_match

    match: Match = canonical_match({n: (v, m) for n, v, m in items})
    text = format_match(match, OFP_DEFAULT_PRIORITY)
    return (f"recirc_id={recirc:#x}," if recirc else "") + text


def _table_line(kind: str, table: int | None, flow: Flow | None) -> str:
    head = f"{table:2d}. "
    if kind == "miss" or flow is None:
        return head + "No match."
    text = format_match(flow.match, OFP_DEFAULT_PRIORITY)
    line = head + (text + ", " if text else "") + f"priority {flow.priority}"
    if flow.cookie:
        line += f", cookie {flow.cookie:#x}"
    return line


def render_pass(bridge: str, p: TracePass) -> list[str]:
    out = [f"Flow: {key_flow_text(p.start, recirc=p.recirc)}", ""]
    out += [f'bridge("{bridge}")', "-" * (len(bridge) + 10)]
    if p.recirc:
        out += ["    thaw", f"        Resuming from table {p.table}"]
    for kind, _depth, table, flow, detail, _key, indent in p.raw:
        pad = "    " * indent
        if kind in ("table", "miss"):
            out.append(pad + _table_line(kind, table, flow))
            if kind == "miss":
                out.append(pad + "    drop")
        elif kind == "action":
            out.append(pad + "    " + (detail if isinstance(detail, str) else detail.format()))
        elif kind in ("note", "ct"):
            out.append(pad + "     -> " + str(detail))
        elif kind == "output":
            out.append(pad + f"     -> output to {detail}")
    final = key_flow_text(p.final, recirc=p.recirc)
    out.append("")
    out.append("Final flow: " + ("unchanged" if p.final == p.start else final))
    out.append("Datapath actions: " + (",".join(p.dp_actions) or "drop"))
    return out


def render_trace(trace: Trace) -> str:
    lines: list[str] = []
    for p in trace.passes:
        if p.recirc:
            state = key_flow_text(p.start).split(",")[0]
            lines += ["", _RULE, f"recirc({p.recirc:#x}) - resume conntrack with {state}",
                      _RULE, ""]
        lines += render_pass(trace.bridge, p)
    return "\n".join(lines) + "\n"
