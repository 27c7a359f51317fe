"""Parsing ovs-ofctl flow syntax: `add-flow` input and `dump-flows` output lines.

Normalises the way ovs-ofctl does before printing in OpenFlow 1.0 + NXM form:
`set_field:MAC->eth_src` becomes `mod_dl_src:MAC`, `set_field:V->reg15` becomes
`load:V->NXM_NX_REG15[]`, `goto_table:N` becomes `resubmit(,N)`. Unlike ovs-ofctl, a match
field whose prerequisites are missing is an error rather than silently dropped.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

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


@dataclass
class _Head:
    """What precedes `actions=`: the flow's keys and its match items."""

    items: dict[str, tuple[int, int]] = field(default_factory=dict)
    table: int = 0
    priority: int = OFP_DEFAULT_PRIORITY
    has_priority: bool = False
    cookie: int = 0
    cookie_mask: int | None = None
    out_port: int | None = None
    idle_timeout: int = 0
    hard_timeout: int = 0
    importance: int = 0
    stats: dict[str, float] = field(default_factory=dict)


def parse_flow_full(text: str, *, port_map: PortMap | None = None) -> ParsedFlow:
    head_text, actions_text = _split_actions(text)
    head = _parse_head(head_text, port_map)
    items = head.items
    check_prerequisites(items)
    set_fields: list[str] = []
    actions = (parse_actions(actions_text, port_map=port_map, set_fields=set_fields)
               if actions_text is not None else ())
    check_actions(items, actions, tuple(set_fields))
    if actions_text and "goto_table" in actions_text and \
            split_top(actions_text)[-1].startswith("goto_table"):
        last = actions[-1]
        if isinstance(last, Resubmit) and last.table is not None and last.table <= head.table:
            raise FlowError("actions are invalid with specified match (OFPBIC_BAD_TABLE_ID)")
    flow = Flow(head.table, head.priority, head.cookie, canonical_match(items), actions,
                head.idle_timeout, head.hard_timeout, head.importance)
    st = None
    stats = head.stats
    if stats:
        hard_age = stats.get("hard_age")
        st = FlowStats(stats.get("duration", 0.0), int(stats.get("n_packets", 0)),
                       int(stats.get("n_bytes", 0)), int(stats.get("idle_age", 0)),
                       int(hard_age) if hard_age is not None else None)
    return ParsedFlow(flow, st, head.cookie_mask, head.out_port, actions_text is not None,
                      head.has_priority)


def _parse_head(text: str, port_map: PortMap | None) -> _Head:
    head = _Head()
    items = head.items
    seen: set[str] = set()
    for token in text.replace(",", " ").split():
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
        if not _head_key(head, key, value, port_map):
            canon = MATCH_ALIASES.get(key, key)
            if canon in seen:
                raise FlowError(f"field {canon} set multiple times")
            seen.add(canon)
            add_match_text(items, key, value, port_map)
    return head


def _head_key(head: _Head, key: str, value: str, port_map: PortMap | None) -> bool:
    """A flow key (table, priority, cookie, timeouts, out_port, a dump's statistics)
    into `head`; False: a match field."""
    if key == "table":
        head.table = parse_int(value, "table")
        if not 0 <= head.table <= 254:
            raise FlowError(f"{value}: table must be between 0 and 254")
    elif key == "priority":
        head.priority = parse_int(value, "priority")
        head.has_priority = True
    elif key == "cookie":
        c, _, m = value.partition("/")
        head.cookie = parse_int(c, "cookie")
        if m:
            head.cookie_mask = (1 << 64) - 1 if m == "-1" else parse_int(m, "cookie mask")
    elif key in ("idle_timeout", "hard_timeout", "importance"):
        setattr(head, key, parse_int(value, key))
    elif key == "out_port":
        head.out_port = parse_port(value, port_map, "out_port")
    elif key in _STAT_KEYS:
        try:
            head.stats[key] = float(value.rstrip("s"))
        except ValueError:
            raise FlowError(f"{value}: bad syntax for {key}") from None
    else:
        return False
    return True


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
