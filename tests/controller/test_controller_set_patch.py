"""A set's members patched in (set_patch): the flows kept, taken out and added must be
what compiling the whole set again gives, for the shapes a set compiles to."""

from __future__ import annotations

import pytest

from ovnlab.controller import LflowEnv, compile_lflow
from ovnlab.controller.expr import Const
from ovnlab.controller.set_patch import (
    PORT_FIELDS,
    PORT_PLACEHOLDER_KEYS,
    PORT_PLACEHOLDERS,
    SetDelta,
    member_flows,
    placeholders_of,
    substitute,
)
from ovnlab.flows import Flow

PORTS = {"p1": 1, "p2": 2, "p3": 3}


def _flows(match: str, pg: tuple[str, ...], members: tuple[str, ...],
           pipeline: str = "egress") -> set[Flow]:
    env = LflowEnv(dp_key=5, is_switch=True, lookup_port=PORTS.get,
                   is_chassis_resident=lambda _: True, address_sets={"as": members},
                   port_groups={"pg": pg})
    out = compile_lflow(uuid="0a0b0c0d-0000-0000-0000-000000000000", pipeline=pipeline,
                        table_id=4, priority=2001, match=match,
                        actions="next;", env=env)
    assert not out.error, out.error
    return set(out.flows)


@pytest.mark.parametrize(("match", "pg", "before", "after"), [
    # a remote-group ACL: conjunctions with several local ports, a cross product with one
    ("outport == @pg && ip4 && ip4.src == $as", ("p1", "p2", "p3"),
     ("10.0.0.1", "10.0.0.2", "10.0.0.3"), ("10.0.0.1", "10.0.0.3", "10.0.0.9", "10.1.0.0/16")),
    ("outport == @pg && ip4 && ip4.src == $as", ("p2",),
     ("10.0.0.1", "10.0.0.2", "10.0.0.3"), ("10.0.0.1", "10.0.0.3", "10.0.0.9")),
    ("outport == @pg && ip4 && ip4.src == $as && tcp.dst == {22, 80}", ("p1", "p3"),
     ("10.0.0.1", "10.0.0.2"), ("10.0.0.2", "10.0.0.5", "10.0.0.6")),
    # the FIP MAC flood of ls_in_l2_lkup, an inline set patched under a name
    ("eth.src == $as && (arp.op == 1 || nd_ns)", (),
     ("fa:16:3e:00:00:01", "fa:16:3e:00:00:02"),
     ("fa:16:3e:00:00:01", "fa:16:3e:00:00:02", "fa:16:3e:00:00:03")),
])
def test_the_members_flows_are_what_a_compile_gives(
        match: str, pg: tuple[str, ...], before: tuple[str, ...],
        after: tuple[str, ...]) -> None:
    delta = SetDelta.of("as", before, after)
    assert delta is not None
    base = _flows(match, pg, delta.placeholders)
    moved = member_flows(base, delta)
    assert moved is not None, "the placeholders' flows mirror each other"
    gone, added = moved
    old, new = _flows(match, pg, before), _flows(match, pg, after)
    assert gone <= old
    assert (old - gone) | added == new


def test_a_set_in_no_field_of_its_own_is_compiled_instead() -> None:
    """Addresses compared with a register: no field to put a member in."""
    delta = SetDelta.of("as", ("10.0.0.1", "10.0.0.2"), ("10.0.0.1", "10.0.0.3"))
    assert delta is not None
    base = _flows("reg0 == $as", (), delta.placeholders)
    assert member_flows(base, delta) is None


@pytest.mark.parametrize(("pipeline", "match"), [
    ("egress", "outport == @pg && ip4 && ip4.src == $as"),
    ("ingress", "inport == @pg && ip4 && ip4.dst == $as && tcp.dst == {22, 80}"),
])
def test_a_port_groups_ports_are_what_a_compile_gives(pipeline: str, match: str) -> None:
    """Ports joining and leaving a group, from one compile with placeholder ports and
    placeholder addresses (the lflow_output patch of a port group)."""
    addresses = ("10.0.0.1", "10.0.0.2", "10.0.0.3")
    stand_in = dict(zip(PORT_PLACEHOLDERS, PORT_PLACEHOLDER_KEYS, strict=True))
    env = LflowEnv(dp_key=5, is_switch=True,
                   lookup_port=lambda n: stand_in.get(n, PORTS.get(n)),
                   is_chassis_resident=lambda _: True,
                   address_sets={"as": placeholders_of(addresses) or ()},
                   port_groups={"pg": PORT_PLACEHOLDERS})
    base = compile_lflow(uuid="0a0b0c0d-0000-0000-0000-000000000000", pipeline=pipeline,
                         table_id=4, priority=2001, match=match, actions="next;", env=env)
    assert not base.error, base.error
    moved = substitute(set(base.flows), PORT_FIELDS, 0xFFFFFFFF, PORT_PLACEHOLDER_KEYS,
                       [Const(PORTS["p2"])], [Const(PORTS["p3"])])
    assert moved is not None
    gone, added = moved
    old = _flows(match, ("p1", "p2"), addresses, pipeline)
    new = _flows(match, ("p1", "p3"), addresses, pipeline)
    assert gone <= old
    assert (old - gone) | added == new
