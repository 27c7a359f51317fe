"""HA_Chassis_Group.ref_chassis (northd.c 22.03: build_lrouter_groups,
handle_port_binding_changes, update_sb_ha_group_ref_chassis): for each group of two or
more gateway chassis, the chassis that bound a port on a switch attached to a router of
the group's lr_group (the routers that reach each other through switches or directly).
ovn-controller runs BFD from the group's members to these (bfd_calculate_chassis).

Worked out from the SB's own rows (patch ports link datapaths; a chassisredirect port
names its router and its group), once per claim or topology change, in one place rather
than on every chassis."""

from __future__ import annotations

from ovnlab.ovsdb import Database

BOUND_TYPES = ("", "virtual", "external")  # switch ports a chassis claims


def ref_chassis(sb: Database) -> dict[str, tuple[str, ...]]:
    """By HA_Chassis_Group uuid (groups of two or more members), its ref_chassis
    (Chassis uuids, sorted); every other group's is empty."""
    pbs = sb.tables["Port_Binding"].values()
    dp_of = {pb["logical_port"]: pb["datapath"] for pb in pbs}
    links: dict[str, set[str]] = {}
    bound: dict[str, set[str]] = {}
    groups_at: dict[str, set[str]] = {}  # router datapath -> its gateway ports' groups
    for pb in pbs:
        peer = pb["options"].get("peer") if pb["type"] == "patch" else None
        if peer in dp_of:
            links.setdefault(pb["datapath"], set()).add(dp_of[peer])
            links.setdefault(dp_of[peer], set()).add(pb["datapath"])
        if pb["chassis"] and pb["type"] in BOUND_TYPES:
            bound.setdefault(pb["datapath"], set()).add(pb["chassis"])
        if pb["type"] == "chassisredirect" and pb["ha_chassis_group"]:
            groups_at.setdefault(pb["datapath"], set()).add(pb["ha_chassis_group"])
    groups = sb.tables["HA_Chassis_Group"]
    refs: dict[str, tuple[str, ...]] = {u: () for u in groups}
    for component in _components(links):
        chassis = {c for dp in component for c in bound.get(dp, ())}
        for dp in component:
            for g in groups_at.get(dp, ()):
                if g in groups and len(groups[g]["ha_chassis"]) > 1:
                    refs[g] = tuple(sorted(set(refs[g]) | chassis))
    return refs


def _components(links: dict[str, set[str]]) -> list[set[str]]:
    """The datapaths that patch ports connect, as connected sets (a router's lr_group
    with the switches attached to its routers)."""
    seen: set[str] = set()
    components = []
    for start in links:
        if start in seen:
            continue
        component, todo = {start}, [start]
        while todo:
            for nxt in links[todo.pop()]:
                if nxt not in component:
                    component.add(nxt)
                    todo.append(nxt)
        seen |= component
        components.append(component)
    return components


def sync_ref_chassis(sb: Database) -> None:
    """Write each group's ref_chassis where it changed."""
    wanted = ref_chassis(sb)
    groups = sb.tables["HA_Chassis_Group"]
    stale = {u: refs for u, refs in wanted.items() if tuple(sorted(groups[u]["ref_chassis"]))
             != refs}
    if stale:
        with sb.transaction() as txn:
            for u, refs in stale.items():
                txn.update("HA_Chassis_Group", u, ref_chassis=refs)
