"""ha-chassis.c (OVN 22.03): a gateway port's chassis in priority order, and whether this
chassis is the active one of its group."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass

from ovnlab.ovsdb import Database, Row


def ha_order(sb: Database, pb: Row) -> list[str]:
    """HA chassis names, highest priority first (ha_chassis_get_ordered); from the
    binding's HA_Chassis_Group, else its Gateway_Chassis rows."""
    items: list[tuple[int, str]] = []
    group = pb["ha_chassis_group"]
    if group:
        grp = sb.lookup("HA_Chassis_Group", group)
        for hc in grp["ha_chassis"] if grp else ():
            hrow = sb.lookup("HA_Chassis", hc)
            if hrow and hrow["chassis"]:
                ch = sb.lookup("Chassis", hrow["chassis"])
                if ch:
                    items.append((hrow["priority"], ch["name"]))
    else:
        for gc in pb["gateway_chassis"]:
            grow = sb.lookup("Gateway_Chassis", gc)
            if grow and grow["chassis"]:
                ch = sb.lookup("Chassis", grow["chassis"])
                if ch:
                    items.append((grow["priority"], ch["name"]))
    items.sort(key=lambda t: (-t[0], t[1]))
    return [n for _p, n in items]


@dataclass(frozen=True, slots=True)
class HaGroup:
    """An SB HA_Chassis_Group as bfd_calculate_chassis reads it (chassis names)."""

    members: tuple[str, ...]  # highest priority first
    ref_chassis: frozenset[str]  # northd's: chassis with ports behind the group's gateway


def ha_groups(sb: Database) -> list[HaGroup]:
    """Each SB HA_Chassis_Group's members and ref_chassis."""
    groups = []
    for grp in sb.rows("HA_Chassis_Group"):
        members: list[tuple[int, str]] = []
        for hc in grp["ha_chassis"]:
            hrow = sb.lookup("HA_Chassis", hc)
            ch = sb.lookup("Chassis", hrow["chassis"]) if hrow and hrow["chassis"] \
                else None
            if hrow is not None and ch is not None:
                members.append((hrow["priority"], ch["name"]))
        members.sort(key=lambda t: (-t[0], t[1]))
        refs = (sb.lookup("Chassis", u) for u in grp["ref_chassis"])
        groups.append(HaGroup(tuple(n for _p, n in members),
                              frozenset(r["name"] for r in refs if r is not None)))
    return groups


def is_active(me: str, me_alive: bool, order: list[str],
              active_tunnels: Callable[[], Collection[str]]) -> bool:
    """ha_chassis_group_is_active: this chassis, unless a chassis before it in the
    group's priority order is reachable over BFD; with no BFD peer reachable at all
    (the active tunnels empty: this chassis is cut off) it is not active either."""
    if not me_alive:
        return False  # this chassis declared down: as if its ovn-controller were gone
    if len(order) == 1:
        return order[0] == me
    active = active_tunnels()
    if not active:
        return False
    for ch in order:
        if ch == me:
            return True
        if ch in active:
            return False
    return False
