"""Resync of the NB from the cloud's full state (Neutron's `ovn_db_sync.py`, repair mode).

`build` replays the resources a `View` holds (the cloud's own: no copy) through a scratch
driver into an empty NB, reading LSP `up` and existing gateway chassis from the live NB;
`reconcile` then applies the differences to the live NB, matching rows by their natural keys so their UUIDs survive. `canonical`
gives a UUID-free view of the driver-managed tables, for comparing two databases.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from ovnlab.ml2ovn import names as n
from ovnlab.ml2ovn.view import Kind, View
from ovnlab.nb.schema import NB_SCHEMA
from ovnlab.ovsdb import Database, Row

if TYPE_CHECKING:
    from ovnlab.ml2ovn.driver import OVNMechanismDriver

# The tables the driver owns, parents first.
MANAGED = ("DHCP_Options", "Port_Group", "ACL", "Logical_Switch", "Logical_Switch_Port", "Logical_Router",
           "Logical_Router_Port", "Gateway_Chassis", "Logical_Router_Static_Route", "NAT")
# Columns other writers own (northd sets `up`).
_FOREIGN = {("Logical_Switch_Port", "up")}
# Non-root tables: identified within their parent.
_PARENT = {
    "ACL": (("Port_Group", "acls"), ("Logical_Switch", "acls")),
    "Logical_Switch_Port": (("Logical_Switch", "ports"),),
    "Logical_Router_Port": (("Logical_Router", "ports"),),
    "Gateway_Chassis": (("Logical_Router_Port", "gateway_chassis"),),
    "Logical_Router_Static_Route": (("Logical_Router", "static_routes"),),
    "NAT": (("Logical_Router", "nat"),),
}


def build(view: View, scratch: Callable[[View], OVNMechanismDriver]) -> OVNMechanismDriver:
    """Replay every resource `view` holds into a scratch driver's empty NB (one reading LSP
    `up` and existing gateway chassis from the live NB, and the resources from `view`)."""
    drv = scratch(view)
    ports = list(view.values(Kind.PORTS))
    routers = list(view.values(Kind.ROUTERS))
    for net in view.values(Kind.NETWORKS):
        drv.create_network(net)
    for subnet in view.values(Kind.SUBNETS):
        drv.create_subnet(subnet)
    for sg in view.values(Kind.SECURITY_GROUPS):
        drv.create_security_group(sg)
    for port in ports:
        drv.create_port(port)
    for router in routers:
        plain = {**router, "external_gateway_info": None}
        drv.create_router(plain)
        for port in ports:
            if port.get("device_owner") == n.OWNER_ROUTER_INTF and port.get("device_id") == router["id"]:
                drv.add_router_interface(plain, port)
    # Gateways last, in the order their ports were created: the order they were set, which
    # is the order the least-loaded scheduler saw them in.
    position = {p["id"]: i for i, p in enumerate(ports)}

    def gw_order(router: dict[str, Any]) -> int:
        gw = router.get("gw_port_id") or (router.get("gw_port") or {}).get("id")
        return position.get(gw, len(position)) if gw else len(position)

    for router in sorted(routers, key=gw_order):
        if router.get("external_gateway_info"):
            drv.update_router(router)
    for fip in view.values(Kind.FLOATINGIPS):
        drv.create_floatingip(fip)
    return drv


def _owner(db: Database, row: Row, index: dict[tuple[str, str], str]) -> str:
    for parent_table, _col in _PARENT.get(row.table, ()):
        parent = index.get((parent_table, row.uuid))
        if parent is not None:
            return f"{parent_table}:{parent}"
    return ""


def _parent_index(db: Database) -> dict[tuple[str, str], str]:
    """(parent table, child uuid) -> parent's key."""
    out: dict[tuple[str, str], str] = {}
    for parents in _PARENT.values():
        for parent_table, col in parents:
            for parent in db.rows(parent_table):
                for child in parent[col]:
                    out[(parent_table, child)] = parent["name"]
    return out


def _key(db: Database, row: Row, index: dict[tuple[str, str], str]) -> tuple[Any, ...]:
    t = row.table
    if t in ("Port_Group", "Logical_Switch", "Logical_Router", "Logical_Switch_Port",
             "Logical_Router_Port", "Gateway_Chassis"):
        return (row["name"],)
    if t == "DHCP_Options":
        return (row["external_ids"].get("subnet_id"), row["external_ids"].get("port_id"))
    owner = _owner(db, row, index)
    if t == "ACL":
        return (owner, row["direction"], row["priority"], row["match"])
    if t == "Logical_Router_Static_Route":
        return (owner, row["ip_prefix"], row["nexthop"], row["policy"], row["route_table"])
    if t == "NAT":
        return (owner, row["type"], row["external_ip"], row["logical_ip"], row["external_port_range"])
    raise KeyError(t)


def _keyed(db: Database) -> dict[str, dict[tuple[Any, ...], Row]]:
    index = _parent_index(db)
    return {t: {_key(db, r, index): r for r in sorted(db.rows(t), key=lambda r: r.uuid)}
            for t in MANAGED}


def reconcile(live: Database, desired: Database) -> None:
    """Make the managed tables of `live` hold `desired`'s rows (inside the caller's txn)."""
    have = _keyed(live)
    want = _keyed(desired)
    uuid_map: dict[str, str] = {}
    used = {u for rows in live.tables.values() for u in rows}
    index = _parent_index(desired)
    dupes = [(r.uuid, want[t][_key(desired, r, index)].uuid) for t in MANAGED for r in desired.rows(t)
             if want[t][_key(desired, r, index)].uuid != r.uuid]
    for table in MANAGED:
        for key, row in want[table].items():
            old = have[table].get(key)
            if old is not None:
                uuid_map[row.uuid] = old.uuid
            elif _forced_uuid(row) and row.uuid not in used:
                uuid_map[row.uuid] = row.uuid
            else:
                uuid_map[row.uuid] = live.new_uuid()
    for dup, kept in dupes:  # two rows with one identity: one row, as OVSDB indexes would force
        uuid_map[dup] = uuid_map[kept]
    with live.transaction() as txn:
        for table in MANAGED:
            for key, old in have[table].items():
                if key not in want[table]:
                    txn.delete(table, old.uuid)
            for key, row in want[table].items():
                cols = {c: _translate(table, c, v, uuid_map) for c, v in row.items()
                        if (table, c) not in _FOREIGN}
                old = have[table].get(key)
                if old is None:
                    txn.insert(table, uuid=uuid_map[row.uuid], **cols)
                else:
                    changed = {c: v for c, v in cols.items() if _same(table, c, old[c], v) is False}
                    if changed:
                        txn.update(table, old.uuid, **changed)


def _same(table: str, col: str, a: Any, b: Any) -> bool:
    """Equal as OVSDB values: a set's order does not matter."""
    if NB_SCHEMA[table][col].kind == "set":
        return sorted(a) == sorted(b)
    return bool(a == b)


def _forced_uuid(row: Row) -> bool:
    """Neutron forces a FIP's NAT row UUID to the FIP id; other UUIDs are the server's."""
    return row.table == "NAT" and row["external_ids"].get(n.FIP_ID) == row.uuid


def _translate(table: str, col: str, value: Any, uuid_map: Mapping[str, str]) -> Any:
    if not NB_SCHEMA[table][col].ref_table:
        return value
    if isinstance(value, tuple):
        return tuple(dict.fromkeys(uuid_map.get(u, u) for u in value))
    if isinstance(value, str) and value:
        return uuid_map.get(value, value)
    return value


def canonical(db: Database, *, with_up: bool = False,
              revisions: bool = True) -> dict[str, list[tuple[Any, ...]]]:
    """The managed tables without UUIDs: references become the referenced row's key.
    `revisions=False` drops `neutron:revision_number` (Neutron bumps a network's revision
    when a subnet is added without telling the driver; its maintenance task catches up)."""
    index = _parent_index(db)
    keys = {r.uuid: _key(db, r, index) for t in MANAGED for r in db.rows(t)}
    out: dict[str, list[tuple[Any, ...]]] = {}
    for table in MANAGED:
        rows = []
        for r in db.rows(table):
            cols = []
            for c, v in sorted(r.items()):
                if (table, c) in _FOREIGN and not with_up:
                    continue
                if NB_SCHEMA[table][c].ref_table:
                    refs = v if isinstance(v, tuple) else ((v,) if v else ())
                    v = tuple(sorted(repr(keys.get(u, u)) for u in refs))
                elif isinstance(v, dict):
                    v = tuple(sorted((k, x) for k, x in v.items() if revisions or k != n.REVISION))
                cols.append((c, v))
            rows.append(tuple(cols))
        out[table] = sorted(rows, key=repr)
    return out
