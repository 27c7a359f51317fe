"""One ovn-trace run: find the datapath, parse the microflow, trace, print (trace() and
trace_parse() in ovn-trace.c).  Errors the real tool prints on stdout come back as text."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from ovnlab.controller import expr as ex
from ovnlab.controller.lexer import SyntaxError_
from ovnlab.ovntrace import render
from ovnlab.ovntrace.db import Datapath, TraceDb
from ovnlab.ovntrace.engine import Tracer
from ovnlab.ovntrace.exprfmt import annotated
from ovnlab.ovntrace.node import Node, NodeType
from ovnlab.ovntrace.uflow import Uflow, flow_format

INPORT = "reg14"


@dataclass(frozen=True, slots=True)
class Options:
    detailed: bool = False
    summary: bool = False
    minimal: bool = False
    ct_states: tuple[int, ...] = ()
    lb_dst: tuple[ipaddress.IPv4Address | ipaddress.IPv6Address, int] | None = None


@dataclass
class Result:
    stdout: str
    warnings: list[str] = field(default_factory=list)


def _find_inport(node: ex.Node) -> set[str]:
    """expr_find_inports(): every `inport == "name"` in the parsed expression."""
    if isinstance(node, ex.Cmp):
        if node.ref.symbol.name == "inport" and node.relop == "==":
            return {c.string for c in node.values if c.is_string}
        return set()
    if isinstance(node, ex.AndOr):
        return set().union(*(_find_inport(s) for s in node.subs))
    if isinstance(node, ex.Not):
        return _find_inport(node.sub)
    return set()


def _datapath(db: TraceDb, dp_name: str | None, flow_s: str) -> Datapath | str:
    if dp_name is not None:
        dp = db.datapath_by_name(dp_name)
        return dp if dp is not None else f'unknown datapath "{dp_name}"\n'
    try:
        inports = _find_inport(ex.parse_match(flow_s))
    except SyntaxError_ as exc:
        return f"error parsing flow: {exc.message}\n"
    if len(inports) != 1:
        why = "does not match on inport" if not inports else "matches on multiple inports"
        return f"error parsing flow: flow match expression {why}\n"
    name = next(iter(inports))
    port = db.ports.get(name)
    if port is None:
        return f'unknown port "{name}"\n'
    return db.datapaths[port.dp]


def parse_microflow(db: TraceDb, dp: Datapath, flow_s: str) -> Uflow | str:
    """expr_parse_microflow(): the expression must pin down a single packet."""
    try:
        e = ex.annotate(ex.parse_match(flow_s), db.context(dp, microflow=True))
        matches, n_conjs = ex.to_matches(e)
    except SyntaxError_ as exc:
        return exc.message
    if not matches:
        return "Constraints are contradictory."
    if len(matches) > 1 or n_conjs or matches[0].conj:
        return f"Constraints are ambiguous: {annotated(flow_s, db.context(dp))}."
    slots = matches[0].match.slots
    return Uflow({slot: value for slot, (value, _mask) in slots.items()})


def trace(db: TraceDb, dp_name: str | None, flow_s: str, opts: Options) -> str:
    dp = _datapath(db, dp_name, flow_s)
    if isinstance(dp, str):
        return dp
    uflow = parse_microflow(db, dp, flow_s)
    if isinstance(uflow, str):
        return f"error parsing flow: {uflow}\n"
    in_key = uflow.slots.get(INPORT, 0)
    if not in_key:
        db.warnings.append("microflow does not specify ingress port")
    inport = db.port_by_key(dp, in_key)
    out = [f"# {flow_format(uflow)}\n"]
    root = Node(NodeType.PIPELINE, f'ingress(dp="{dp.friendly}", '
                                   f'inport="{inport.friendly if inport else "(unnamed)"}")')
    Tracer(db, list(opts.ct_states), lb_dst=opts.lb_dst).trace(dp, uflow, 0, True, root)
    detailed = opts.detailed or not (opts.summary or opts.minimal)
    multiple = detailed + opts.summary + opts.minimal > 1
    if detailed:
        out.append("# Detailed trace.\n" if multiple else "")
        out.append(render.details([root]))
    if opts.summary:
        out.append("# Summary trace.\n" if multiple else "")
        out.append(render.summary(render.summary_tree([root])))
    if opts.minimal:
        out.append("# Minimal trace.\n" if multiple else "")
        out.append(render.summary(render.minimal_tree([root])))
    return "".join(out)
