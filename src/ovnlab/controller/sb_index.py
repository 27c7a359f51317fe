"""Southbound indexes every chassis of the process reads (ovn-controller's
ovsdb_idl_index_create, kept once for all the emulated chassis): the rows of each
datapath in the tables conditional monitoring filters by datapath, the port bindings by
name and by parent port, and the logical flows by the port they are tagged with
(`tags:in_out_port`). Kept current by one SB listener.
"""

from __future__ import annotations

from ovnlab.ovsdb import Change, Database, Row

# the column a table's rows name their datapath in (update_sb_monitors' clauses)
DATAPATH_COLUMN = {"Port_Binding": "datapath", "Logical_Flow": "logical_datapath",
                   "MAC_Binding": "datapath", "Multicast_Group": "datapath"}


def _tag(row: Row) -> str | None:
    tags = row["tags"]
    return tags.get("in_out_port") if tags else None


class SbIndex:
    def __init__(self, sb: Database) -> None:
        self.sb = sb
        self._by_dp: dict[str, dict[str, set[str]]] = {t: {} for t in DATAPATH_COLUMN}
        self._tagged: dict[str, set[str]] = {}  # port → Logical_Flow uuids
        self._children: dict[str, set[str]] = {}  # parent port → Port_Binding uuids
        self._named: dict[str, set[str]] = {}  # logical_port → Port_Binding uuids
        for table in DATAPATH_COLUMN:
            for row in sb.rows(table):
                self._index(table, row, add=True)
        sb.subscribe(self._on_sb)

    def on_datapath(self, table: str, dp: str) -> set[str]:
        """The uuids of `table`'s rows on datapath `dp`."""
        return self._by_dp[table].get(dp, set())

    def tagged(self, port: str) -> set[str]:
        """The logical flows tagged with `port` (tags:in_out_port), by uuid."""
        return self._tagged.get(port, set())

    def port_named(self, name: str) -> set[str]:
        """The port bindings of logical port `name` (one, but for a moment two)."""
        return self._named.get(name, set())

    def children(self, parent: str) -> set[str]:
        """The port bindings whose parent_port is `parent` (containers in a VM)."""
        return self._children.get(parent, set())

    def _on_sb(self, changes: list[Change]) -> None:
        for c in changes:
            if c.table in DATAPATH_COLUMN:
                if c.old is not None:
                    self._index(c.table, c.old, add=False)
                if c.new is not None:
                    self._index(c.table, c.new, add=True)

    def _index(self, table: str, row: Row, add: bool) -> None:
        _put(self._by_dp[table], row[DATAPATH_COLUMN[table]] or None, row.uuid, add)
        if table == "Logical_Flow":
            _put(self._tagged, _tag(row), row.uuid, add)
        elif table == "Port_Binding":
            _put(self._named, row["logical_port"], row.uuid, add)
            _put(self._children, row["parent_port"] or None, row.uuid, add)


def _put(index: dict[str, set[str]], key: str | None, uuid: str, add: bool) -> None:
    if key is None:
        return
    if add:
        index.setdefault(key, set()).add(uuid)
    elif (uuids := index.get(key)) is not None:
        uuids.discard(uuid)
        if not uuids:
            del index[key]
