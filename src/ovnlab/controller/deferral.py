"""Which Southbound changes a chassis may leave queued until something observes it.

Not an OVN mechanism: the lab's way of not computing what nobody looks at. A real
ovn-controller processes every update it receives; here a change that can only alter
this chassis's own OpenFlow tables waits until a packet crosses the chassis, a tool or
a view reads its flows, or a change that cannot wait arrives (then the whole queue is
processed, as one iteration of a busy ovn-controller would). A change waits only if it
cannot make the chassis write to the Southbound (claims, `nb_cfg`), reconfigure its
vswitch (tunnels, BFD, localnet patch ports, conntrack zones) or send packets of its own
(GARPs): the logical flows and the sets they match, multicast groups, MAC bindings, and
the VIF bindings of other chassis.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ovnlab.ovsdb import Change, Row

FLOW_ONLY_TABLES = frozenset(("Logical_Flow", "Logical_DP_Group", "Address_Set",
                              "Port_Group", "Multicast_Group", "MAC_Binding"))


@dataclass(frozen=True, slots=True)
class Me:
    """How bindings name this chassis: its Chassis row, its name and its hostname."""

    chassis_uuid: str | None
    name: str
    hostname: str


def can_wait(changes: Iterable[Change], me: Me, vifs: Mapping[str, int]) -> bool:
    """Whether every change only moves this chassis's flow tables (see the module)."""
    for c in changes:
        if c.table in FLOW_ONLY_TABLES:
            continue
        if c.table != "Port_Binding" or not all(
                _remote_vif(row, me, vifs) for row in (c.old, c.new) if row is not None):
            return False
    return True


def _remote_vif(pb: Row, me: Me, vifs: Mapping[str, int]) -> bool:
    """A VIF binding neither held, requested nor plugged here."""
    return (pb["type"] == "" and pb["chassis"] != me.chassis_uuid
            and pb["logical_port"] not in vifs
            and pb["options"].get("requested-chassis") not in (me.name, me.hostname))
