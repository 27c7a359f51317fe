"""Whole-bridge properties: install order never changes what a packet does."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from ovnlab.datapath import Bridge
from ovnlab.flows import Flow, Load, Output, Resubmit, SubField, make_flow
from ovnlab.packet import PROTO_ICMP, Packet

SMALL = st.integers(min_value=0, max_value=3)


@st.composite
def flows(draw: st.DrawFn) -> Flow:
    table = draw(st.integers(min_value=0, max_value=2))
    match: dict[str, int | tuple[int, int]] = {}
    for name in draw(st.lists(st.sampled_from(["reg0", "reg1", "nw_dst", "in_port"]),
                              unique=True, max_size=3)):
        match[name] = draw(st.integers(min_value=1, max_value=3))
    if "nw_dst" in match:
        match["ip"] = 1
    actions = []
    for _ in range(draw(st.integers(min_value=0, max_value=3))):
        kind = draw(st.sampled_from(["load", "out", "resubmit"]))
        if kind == "load":
            actions.append(Load(SubField(draw(st.sampled_from(["reg0", "reg1"])), 0, 32),
                                draw(SMALL)))
        elif kind == "out":
            actions.append(Output(draw(st.integers(min_value=1, max_value=3))))
        elif table < 2:
            actions.append(Resubmit(None, draw(st.integers(min_value=table + 1, max_value=2))))
    return make_flow(table, draw(st.integers(min_value=0, max_value=3)), match, actions)


def _bridge(flow_list: list[Flow]) -> Bridge:
    b = Bridge("br-int")
    for name in ("p1", "p2", "p3"):
        b.add_port(name)
    for f in flow_list:
        b.add_flow(f)
    return b


def _outcome(b: Bridge, packet: Packet, port: str) -> list[tuple[str, Packet]]:
    return [(o.port, o.packet) for o in b.process(packet, port).outputs]


@settings(max_examples=80, deadline=None)
@given(st.lists(flows(), max_size=25), st.integers(min_value=0, max_value=2**32),
       st.lists(st.tuples(st.sampled_from(["p1", "p2", "p3"]), SMALL), min_size=1,
                max_size=6))
def test_install_order_does_not_change_results(flow_list: list[Flow], seed: int,
                                               probes: list[tuple[str, int]]) -> None:
    # Later duplicates of (table, priority, match) replace earlier ones, so keep the last.
    last = {(f.table, f.priority, f.match): f for f in flow_list}
    unique = list(last.values())
    shuffled = unique[:]
    random.Random(seed).shuffle(shuffled)
    a, b = _bridge(unique), _bridge(shuffled)
    for port, dst in probes:
        pkt = Packet(ip_dst=dst, ip_proto=PROTO_ICMP, icmp_type=8)
        assert _outcome(a, pkt, port) == _outcome(b, pkt, port)
