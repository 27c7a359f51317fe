"""Parsing ovs-ofctl flow syntax: `add-flow` input and `dump-flows` output lines.

Normalises the way ovs-ofctl does before printing in OpenFlow 1.0 + NXM form:
`set_field:MAC->eth_src` becomes `mod_dl_src:MAC`, `set_field:V->reg15` becomes
`load:V->NXM_NX_REG15[]`, `goto_table:N` becomes `resubmit(,N)`. Unlike ovs-ofctl, a match
field whose prerequisites are missing is an error rather than silently dropped.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ovnlab.flows.actions import Action, Resubmit, SetField
from ovnlab.flows.model import (
    MATCH_ALIASES,
    OFP_DEFAULT_PRIORITY,
    PROTOCOLS,
    Flow,
    FlowError,
    FlowStats,
    Match,
    _merge,
    canonical_match,
    check_action_prerequisites,
    check_prerequisites,
)
from ovnlab.flows.parse_actions import parse_actions
from ovnlab.flows.values import PortMap, add_match_text, parse_int, parse_port, split_top

_STAT_KEYS = frozenset({"duration", "n_packets", "n_bytes", "idle_age", "hard_age"})
_FLAG_KEYS = frozenset({"send_flow_rem", "check_overlap", "reset_counts", "no_packet_counts",
                        "no_byte_counts"})


@dataclass(frozen=True, slots=True)
class ParsedFlow:
    """Everything a flow text can say: the flow, its stats (dump lines) and filter extras."""

    flow: Flow
    stats: FlowStats | None
    cookie_mask: int | None  # `cookie=V/M` in filters
    out_port: int | None
    has_actions: bool
    has_priority: bool


def parse_flow(text: str, *, port_map: PortMap | None = None) -> Flow:
    """An `add-flow` flow or a `dump-flows` line (stats are ignored; see parse_flow_full)."""
    parsed = parse_flow_full(text, port_map=port_map)
    if not parsed.has_actions:
        raise FlowError("must specify an action")
    return parsed.flow


def parse_match(text: str, *, port_map: PortMap | None = None) -> Match:
    """A match without actions (trace flows, dump-flows filters)."""
    return parse_flow_full(text, port_map=port_map).flow.match


def parse_flow_full(text: str, *, port_map: PortMap | None = None) -> ParsedFlow:
    head, actions_text = _split_actions(text)
    items: dict[str, tuple[int, int]] = {}
    table, priority, cookie = 0, OFP_DEFAULT_PRIORITY, 0
    cookie_mask: int | None = None
    out_port: int | None = None
    idle_t = hard_t = importance = 0
    stats: dict[str, float] = {}
    has_priority = False
    seen: set[str] = set()
    for token in head.replace(",", " ").split():
        key, eq, value = token.partition("=")
        if not eq:
            if key in PROTOCOLS:
                dl_type, proto = PROTOCOLS[key]
                _merge(items, "dl_type", dl_type, 0xFFFF)
                if proto is not None:
                    _merge(items, "nw_proto", proto, 0xFF)
            elif key not in _FLAG_KEYS:
                raise FlowError(f"unknown keyword {key}")
            continue
        if key == "table":
            table = parse_int(value, "table")
            if not 0 <= table <= 254:
                raise FlowError(f"{value}: table must be between 0 and 254")
        elif key == "priority":
            priority = parse_int(value, "priority")
            has_priority = True
        elif key == "cookie":
            c, _, m = value.partition("/")
            cookie = parse_int(c, "cookie")
            if m:
                cookie_mask = (1 << 64) - 1 if m == "-1" else parse_int(m, "cookie mask")
        elif key == "idle_timeout":
            idle_t = parse_int(value, key)
        elif key == "hard_timeout":
            hard_t = parse_int(value, key)
        elif key == "importance":
            importance = parse_int(value, key)
        elif key == "out_port":
            out_port = parse_port(value, port_map, "out_port")
        elif key in _STAT_KEYS:
            try:
                stats[key] = float(value.rstrip("s"))
            except ValueError:
                raise FlowError(f"{value}: bad syntax for {key}") from None
        else:
            canon = MATCH_ALIASES.get(key, key)
            if canon in seen:
                raise FlowError(f"field {canon} set multiple times")
            seen.add(canon)
            add_match_text(items, key, value, port_map)
    check_prerequisites(items)
    set_fields: list[str] = []
    actions = (parse_actions(actions_text, port_map=port_map, set_fields=set_fields)
               if actions_text is not None else ())
    check_actions(items, actions, tuple(set_fields))
    if actions_text and "goto_table" in actions_text and \
            split_top(actions_text)[-1].startswith("goto_table"):
        last = actions[-1]
        if isinstance(last, Resubmit) and last.table is not None and last.table <= table:
            raise FlowError("actions are invalid with specified match (OFPBIC_BAD_TABLE_ID)")
    flow = Flow(table, priority, cookie, canonical_match(items), actions, idle_t, hard_t,
                importance)
    st = None
    if stats:
        hard_age = stats.get("hard_age")
        st = FlowStats(stats.get("duration", 0.0), int(stats.get("n_packets", 0)),
                       int(stats.get("n_bytes", 0)), int(stats.get("idle_age", 0)),
                       int(hard_age) if hard_age is not None else None)
    return ParsedFlow(flow, st, cookie_mask, out_port, actions_text is not None, has_priority)


def check_actions(items: Mapping[str, tuple[int, int]], actions: tuple[Action, ...],
                  set_fields: tuple[str, ...]) -> None:
    """What the match must guarantee for the actions (and for the fields `set_field`
    names, whose prerequisites survive its rewriting into `mod_*` actions)."""
    check_action_prerequisites(items, actions)
    check_action_prerequisites(items, [SetField(f, 0) for f in set_fields])


def _split_actions(text: str) -> tuple[str, str | None]:
    for marker in ("actions=", "action="):
        idx = text.find(marker)
        if idx >= 0 and (idx == 0 or text[idx - 1] in " ,\t"):
            return text[:idx], text[idx + len(marker):].strip()
    return text, None
