"""Northbound commands in ovsdbapp's style, with OVSDB's reference semantics.

Real OVSDB garbage-collects rows of non-root tables once nothing references them (a
Logical_Switch_Port dies with its switch, a Gateway_Chassis with its router port) and drops
weak references to deleted rows (Port_Group.ports, NAT.gateway_port). `ovsdb.Database` is a
plain store, so `delete()` here does both, for every writer of the NB (ml2ovn, ovn-nbctl).
Every command joins the caller's open transaction, or runs in its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ovnlab.errors import Conflict, NotFound
from ovnlab.nb.nat import check_nat_columns
from ovnlab.nb.schema import NB_ROOT_TABLES, NB_SCHEMA, NB_WEAK_REFS
from ovnlab.ovsdb import Database, Row, Schema


class NbApi:
    def __init__(self, db: Database, schema: Schema = NB_SCHEMA) -> None:
        self.db = db
        self.schema = schema
        # table -> [(referencing table, column)], to drop references to deleted rows
        self._referrers: dict[str, list[tuple[str, str]]] = {}
        # table -> (row count when built, name -> uuids): see `by_name`
        self._names: dict[str, tuple[int, dict[str, list[str]]]] = {}
        for table, cols in schema.items():
            for col, spec in cols.items():
                if spec.ref_table:
                    self._referrers.setdefault(spec.ref_table, []).append((table, col))

    # ------------------------------------------------------------------ reads
    def by_name(self, table: str, name: str) -> Row | None:
        """The row named `name`. An index makes this O(1): hits are re-checked against the
        table, and the index is rebuilt when the table's size changed behind our back (row
        names never change in ovnlab's NB; `reset()` after anything unusual)."""
        rows = self.db.tables[table]
        found = [rows[u] for u in self._name_index(table).get(name, ())
                 if u in rows and rows[u]["name"] == name]
        if len(found) > 1:
            raise Conflict(f"multiple rows in {table} named {name!r}")
        return found[0] if found else None

    def reset(self) -> None:
        self._names.clear()

    def _name_index(self, table: str) -> dict[str, list[str]]:
        rows = self.db.tables[table]
        entry = self._names.get(table)
        if entry is None or entry[0] != len(rows):
            index: dict[str, list[str]] = {}
            for uuid, row in rows.items():
                index.setdefault(row["name"], []).append(uuid)
            entry = (len(rows), index)
            self._names[table] = entry
        return entry[1]

    def _indexed(self, row: Row, added: bool) -> None:
        entry = self._names.get(row.table)
        if entry is None or "name" not in self.schema[row.table]:
            return
        count, index = entry
        if added and count + 1 == len(self.db.tables[row.table]):
            index.setdefault(row["name"], []).append(row.uuid)
            self._names[row.table] = (count + 1, index)
        elif not added and count - 1 == len(self.db.tables[row.table]):
            uuids = index.get(row["name"], [])
            if row.uuid in uuids:
                uuids.remove(row.uuid)
            self._names[row.table] = (count - 1, index)
        else:
            del self._names[row.table]

    def must(self, table: str, name: str) -> Row:
        row = self.by_name(table, name)
        if row is None:
            raise NotFound(f"{table} {name} does not exist")
        return row

    def children(self, parent: Row, column: str) -> list[Row]:
        """The rows `parent` (as it is now in the database) references in `column`."""
        table = self.schema[parent.table][column].ref_table
        assert table is not None
        parent = self.db.tables[parent.table].get(parent.uuid, parent)
        rows = self.db.tables[table]
        return [rows[u] for u in _as_set(parent[column]) if u in rows]

    def router_of_port(self, lrp: Row) -> Row | None:
        for lr in self.db.rows("Logical_Router"):
            if lrp.uuid in lr["ports"]:
                return lr
        return None

    def switch_of_port(self, lsp: Row) -> Row | None:
        for ls in self.db.rows("Logical_Switch"):
            if lsp.uuid in ls["ports"]:
                return ls
        return None

    # ------------------------------------------------------------------ generic writes
    def insert(self, table: str, uuid: str | None = None, **cols: Any) -> Row:
        with self.db.transaction() as txn:
            row = txn.insert(table, uuid=uuid, **cols)
        self._indexed(row, added=True)
        return row

    def set(self, row: Row, **cols: Any) -> Row:
        with self.db.transaction() as txn:
            return txn.update(row.table, row.uuid, **cols)

    def add_ref(self, parent: Row, column: str, uuid: str) -> Row:
        parent = self.db.tables[parent.table][parent.uuid]
        if uuid in parent[column]:
            return parent
        return self.set(parent, **{column: (*parent[column], uuid)})

    def remove_ref(self, parent: Row, column: str, uuid: str) -> Row:
        parent = self.db.tables[parent.table][parent.uuid]
        if uuid not in parent[column]:
            return parent
        return self.set(parent, **{column: tuple(u for u in parent[column] if u != uuid)})

    def delete(self, table: str, uuid: str) -> None:
        """Delete a row, the non-root rows it owns, and every reference to it."""
        with self.db.transaction() as txn:
            row = self.db.tables[table].get(uuid)
            if row is None:
                return
            txn.delete(table, uuid)
            self._indexed(row, added=False)
            for col, spec in self.schema[table].items():
                child_table = spec.ref_table
                if child_table and child_table not in NB_ROOT_TABLES \
                        and (table, col) not in NB_WEAK_REFS:
                    for child in _as_set(row[col]):
                        if not self._referenced(child_table, child):
                            self.delete(child_table, child)
            for ref_table, col in self._referrers.get(table, ()):
                for other in list(self.db.tables[ref_table].values()):
                    value = other[col]
                    if isinstance(value, tuple) and uuid in value:
                        txn.update(ref_table, other.uuid,
                                   **{col: tuple(u for u in value if u != uuid)})
                    elif value == uuid and self.schema[ref_table][col].optional:
                        txn.update(ref_table, other.uuid, **{col: None})

    def _referenced(self, table: str, uuid: str) -> bool:
        """Does a strong reference still hold the row?"""
        for ref_table, col in self._referrers.get(table, ()):
            if (ref_table, col) in NB_WEAK_REFS:
                continue
            for other in self.db.tables[ref_table].values():
                value = other[col]
                if value == uuid or (isinstance(value, tuple) and uuid in value):
                    return True
        return False

    # ------------------------------------------------------------------ switches
    def ls_add(self, name: str, **cols: Any) -> Row:
        existing = self.by_name("Logical_Switch", name)
        if existing is not None:
            return self.set(existing, **cols) if cols else existing
        return self.insert("Logical_Switch", name=name, **cols)

    def ls_del(self, name: str) -> None:
        ls = self.by_name("Logical_Switch", name)
        if ls is not None:
            self.delete("Logical_Switch", ls.uuid)

    def lsp_add(self, switch: str, name: str, **cols: Any) -> Row:
        ls = self.must("Logical_Switch", switch)
        if self.by_name("Logical_Switch_Port", name) is not None:
            raise Conflict(f"Logical_Switch_Port {name} already exists")
        lsp = self.insert("Logical_Switch_Port", name=name, **cols)
        self.add_ref(ls, "ports", lsp.uuid)
        return lsp

    def lsp_del(self, name: str) -> None:
        lsp = self.by_name("Logical_Switch_Port", name)
        if lsp is not None:
            self.delete("Logical_Switch_Port", lsp.uuid)

    # ------------------------------------------------------------------ routers
    def lr_add(self, name: str, **cols: Any) -> Row:
        existing = self.by_name("Logical_Router", name)
        if existing is not None:
            return self.set(existing, **cols) if cols else existing
        return self.insert("Logical_Router", name=name, **cols)

    def lr_del(self, name: str) -> None:
        lr = self.by_name("Logical_Router", name)
        if lr is not None:
            self.delete("Logical_Router", lr.uuid)

    def lrp_add(self, router: str, name: str, **cols: Any) -> Row:
        lr = self.must("Logical_Router", router)
        lrp = self.insert("Logical_Router_Port", name=name, **cols)
        self.add_ref(lr, "ports", lrp.uuid)
        return lrp

    def lrp_del(self, name: str) -> None:
        lrp = self.by_name("Logical_Router_Port", name)
        if lrp is not None:
            self.delete("Logical_Router_Port", lrp.uuid)

    def set_gateway_chassis(self, lrp: Row, chassis: list[str]) -> Row:
        """Neutron's `_add_gateway_chassis`: rows `<lrp>_<chassis>`, priorities N..1."""
        keep: list[str] = []
        for prio, name in zip(range(len(chassis), 0, -1), chassis, strict=True):
            gwc_name = f"{lrp['name']}_{name}"
            gwc = self.by_name("Gateway_Chassis", gwc_name)
            if gwc is None:
                gwc = self.insert("Gateway_Chassis", name=gwc_name, chassis_name=name, priority=prio)
            else:
                gwc = self.set(gwc, chassis_name=name, priority=prio)
            keep.append(gwc.uuid)
        old = self.db.tables["Logical_Router_Port"][lrp.uuid]["gateway_chassis"]
        lrp = self.set(lrp, gateway_chassis=tuple(keep))
        for uuid in old:
            if uuid not in keep:
                self.delete("Gateway_Chassis", uuid)
        return lrp

    def gateway_chassis(self, lrp: Row) -> list[Row]:
        """The port's Gateway_Chassis rows, highest priority first."""
        return sorted(self.children(lrp, "gateway_chassis"), key=lambda r: (-r["priority"], r["name"]))

    def lr_route_add(self, router: str, **cols: Any) -> Row:
        lr = self.must("Logical_Router", router)
        route = self.insert("Logical_Router_Static_Route", **cols)
        self.add_ref(lr, "static_routes", route.uuid)
        return route

    def lr_nat_add(self, router: str | Row, uuid: str | None = None, **cols: Any) -> Row:
        """A NAT on the router (by name or row), its columns checked first (nb/nat.py:
        NatError)."""
        check_nat_columns(cols)
        lr = router if isinstance(router, Row) else self.must("Logical_Router", router)
        with self.db.transaction():  # the row and its reference, or neither
            nat = self.insert("NAT", uuid=uuid, **cols)
            self.add_ref(lr, "nat", nat.uuid)
        return nat

    def lr_nat_find(self, router: Row, **cond: Any) -> list[Row]:
        return [n for n in self.children(router, "nat") if all(n[c] == v for c, v in cond.items())]

    # ------------------------------------------------------------------ port groups / ACLs
    def pg_add(self, name: str, **cols: Any) -> Row:
        existing = self.by_name("Port_Group", name)
        if existing is not None:
            return existing
        return self.insert("Port_Group", name=name, **cols)

    def pg_del(self, name: str) -> None:
        pg = self.by_name("Port_Group", name)
        if pg is not None:
            self.delete("Port_Group", pg.uuid)

    def pg_acl_add(self, pg: Row, may_exist: bool = True, **cols: Any) -> Row:
        pg = self.db.tables["Port_Group"][pg.uuid]
        key = (cols.get("direction"), cols.get("priority"), cols.get("match"))
        for acl in self.children(pg, "acls"):
            if (acl["direction"], acl["priority"], acl["match"]) == key:
                if may_exist:
                    return acl
                raise Conflict(f"ACL {key} already exists")
        acl = self.insert("ACL", **cols)
        self.add_ref(pg, "acls", acl.uuid)
        return acl


def _as_set(value: Any) -> Iterable[str]:
    if value is None or value == "":
        return ()
    if isinstance(value, tuple):
        return value
    return (value,)


def merged(base: Mapping[str, str], changes: Mapping[str, str | None]) -> dict[str, str]:
    """A copy of a map column with keys set (value str) or removed (value None)."""
    out = dict(base)
    for k, v in changes.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = v
    return out
