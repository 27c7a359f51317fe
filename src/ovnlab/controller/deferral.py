"""Which Southbound changes a chassis may leave queued until something observes it.

Not an OVN mechanism: the lab's way of not computing what nobody looks at. A real
ovn-controller processes every update it receives; here a change that can only alter
this chassis's own OpenFlow tables waits until a packet crosses the chassis, a tool or
a view reads its flows, or a change that cannot wait arrives (then the whole queue is
processed, as one iteration of a busy ovn-controller would). A change waits only if it
cannot make the chassis write to the Southbound (claims, `nb_cfg`), reconfigure its
vswitch (tunnels, BFD, localnet patch ports, conntrack zones) or send packets of its own
(GARPs): the logical flows and the sets they match, multicast groups, MAC bindings, the
VIF bindings of other chassis, the NAT addresses of a router port that another chassis
announces (a FIP of a VM elsewhere), and, on a chassis that is no gateway, the chassis
a gateway group serves coming or going when this chassis is not one of them (its BFD
peers stay the same).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ovnlab.controller.pinctrl import announcing_port
from ovnlab.ovsdb import Change, Row, moved_only

FLOW_ONLY_TABLES = frozenset(("Logical_Flow", "Logical_DP_Group", "Address_Set",
                              "Port_Group", "Multicast_Group", "MAC_Binding"))
# columns of a patch port's binding that only say what is announced, and where
ANNOUNCED_COLUMNS = frozenset(("nat_addresses", "external_ids"))


@dataclass(frozen=True, slots=True)
class Here:
    """This chassis as bindings name it (its Chassis row, name and hostname), the VIFs
    plugged on its br-int and the logical ports resident on it."""

    chassis_uuid: str | None
    name: str
    hostname: str
    vifs: Mapping[str, int]
    resident: frozenset[str]
    ha_member: bool  # in an HA chassis group: it runs BFD with every chassis it serves


def can_wait(changes: Iterable[Change], here: Here) -> bool:
    """Whether every change only moves this chassis's flow tables (see the module)."""
    for c in changes:
        if c.table in FLOW_ONLY_TABLES:
            continue
        if c.table == "HA_Chassis_Group" and c.old is not None and c.new is not None \
                and _served_elsewhere(c.old, c.new, here):
            continue
        if c.table != "Port_Binding":
            return False
        if c.old is not None and c.new is not None and _announced_elsewhere(c.old, c.new, here):
            continue
        if not all(_remote_vif(row, here) for row in (c.old, c.new) if row is not None):
            return False
    return True


def _remote_vif(pb: Row, here: Here) -> bool:
    """A VIF binding neither held, requested nor plugged here."""
    return (pb["type"] == "" and pb["chassis"] != here.chassis_uuid
            and pb["logical_port"] not in here.vifs
            and pb["options"].get("requested-chassis") not in (here.name, here.hostname))


def _announced_elsewhere(old: Row, new: Row, here: Here) -> bool:
    """A patch port whose NAT addresses alone changed, none of those that came or went
    announced here (the others are announced as before)."""
    if old["type"] != "patch" or new["type"] != "patch":
        return False
    if not moved_only(old, new, ANNOUNCED_COLUMNS):
        return False
    moved = set(old["nat_addresses"]) ^ set(new["nat_addresses"])
    return all(announcing_port(entry) not in here.resident for entry in moved)


def _served_elsewhere(old: Row, new: Row, here: Here) -> bool:
    """A gateway group's ref_chassis alone changed, neither gaining nor losing this
    chassis, which is no gateway: its BFD peers (bfd_calculate_chassis) stay the same."""
    if not moved_only(old, new, ("ref_chassis", "external_ids")):
        return False
    moved = set(old["ref_chassis"]) ^ set(new["ref_chassis"])
    return not here.ha_member and here.chassis_uuid not in moved
