"""update_sb_monitors (ovn-controller.c, OVN 22.03): the Southbound rows a chassis is
sent. With `ovn-monitor-all` false (the default) it monitors, of Port_Binding, the
patch, chassisredirect and external ports, those bound or requested here, the l2/l3
gateway ports that name it, its local lports and their children, and every port of its
local datapaths; of Logical_Flow, MAC_Binding and Multicast_Group, the rows of its
local datapaths (and every logical flow of a datapath group); of Chassis_Private, its
own row. It has the other tables whole. With `ovn-monitor-all=true` it has everything.

ovsdb-server filters each update with the condition in force: a row that starts to
match arrives as an insert, one that stops matching as a delete (`Monitor.filter`).
When a run moves the local datapaths or lports, the condition moves with them: the rows
that now match arrive as inserts, those that no longer do as deletes, and the next
iteration processes them (`Monitor.move_to`), as the real one does a round trip later.
The chassis reads the lab's one SB through `MonitoredSb`, which shows it only the rows
its condition admits, as its IDL would hold them.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

from ovnlab.controller.sb_index import DATAPATH_COLUMN, SbIndex
from ovnlab.errors import NotFound
from ovnlab.ovsdb import Change, Database, Row

# the tables a condition filters: by datapath, and Chassis_Private by this chassis's name
CONDITIONAL = frozenset((*DATAPATH_COLUMN, "Chassis_Private"))
_ALWAYS_TYPES = frozenset(("patch", "chassisredirect", "external"))
_GATEWAY_TYPES = frozenset(("l2gateway", "l3gateway"))


@dataclass(frozen=True, slots=True)
class Condition:
    """One chassis's monitor condition, from what its last run derived."""

    monitor_all: bool = False
    chassis: str | None = None  # this chassis's Chassis row (None before it registers)
    name: str = ""
    local_lports: frozenset[str] = frozenset()
    local_dps: frozenset[str] = frozenset()

    def admits(self, table: str, row: Row) -> bool:
        if self.monitor_all or table not in CONDITIONAL:
            return True
        if table == "Port_Binding":
            return self._port_binding(row)
        if table == "Logical_Flow":
            return row["logical_datapath"] in self.local_dps or bool(row["logical_dp_group"])
        if table == "Chassis_Private":  # every one until this chassis registers
            return self.chassis is None or row["name"] == self.name
        return row["datapath"] in self.local_dps

    def _port_binding(self, row: Row) -> bool:
        if row["type"] in _ALWAYS_TYPES or row["datapath"] in self.local_dps:
            return True
        if self.chassis is None:  # until it registers, the ports it may claim at once
            return row["type"] in _GATEWAY_TYPES
        if self.chassis in (row["chassis"], row["requested_chassis"]):
            return True
        opts = row["options"]
        if self.name in (opts.get("l2gateway-chassis"), opts.get("l3gateway-chassis")):
            return True
        return row["logical_port"] in self.local_lports \
            or (row["parent_port"] or None) in self.local_lports


class Monitor:
    """What one chassis is sent of the SB under its condition."""

    def __init__(self, sb: Database, index: SbIndex, cond: Condition) -> None:
        self.sb = sb
        self.index = index
        self.cond = cond
        self.view = MonitoredSb(sb, self)

    def filter(self, changes: list[Change]) -> list[Change]:
        """`changes` as the server sends them under the condition in force."""
        cond = self.cond
        if cond.monitor_all:
            return changes
        out: list[Change] = []
        for c in changes:
            if c.table not in CONDITIONAL:
                out.append(c)
                continue
            was = c.old is not None and cond.admits(c.table, c.old)
            now = c.new is not None and cond.admits(c.table, c.new)
            if was == (c.old is not None) and now == (c.new is not None):
                out.append(c)
            elif now:
                out.append(Change(c.table, "insert", c.uuid, None, c.new))
            elif was:
                out.append(Change(c.table, "delete", c.uuid, c.old, None))
        return out

    def move_to(self, cond: Condition) -> list[Change]:
        """Set the condition to `cond`: the rows that start matching, as inserts, and
        those that stop, as deletes (what the server sends for a condition change)."""
        old, self.cond = self.cond, cond
        if old == cond:
            return []
        if (old.monitor_all, old.chassis, old.name) != (cond.monitor_all, cond.chassis,
                                                         cond.name):
            candidates = [(t, u) for t in CONDITIONAL for u in self.sb.tables[t]]
        else:
            candidates = self._candidates(old.local_dps ^ cond.local_dps,
                                          old.local_lports ^ cond.local_lports)
        out: list[Change] = []
        for table, uuid in candidates:
            row = self.sb.tables[table].get(uuid)
            if row is None:
                continue
            was, now = old.admits(table, row), cond.admits(table, row)
            if now and not was:
                out.append(Change(table, "insert", uuid, None, row))
            elif was and not now:
                out.append(Change(table, "delete", uuid, row, None))
        return out

    def _candidates(self, dps: frozenset[str],
                    lports: frozenset[str]) -> list[tuple[str, str]]:
        found: dict[tuple[str, str], None] = {}
        for dp in dps:
            for table in DATAPATH_COLUMN:
                found.update(dict.fromkeys((table, u) for u in self.index.on_datapath(table, dp)))
        for name in lports:
            uuids = self.index.port_named(name) | self.index.children(name)
            found.update(dict.fromkeys(("Port_Binding", u) for u in uuids))
        return list(found)


def idl_cells(sb: Database) -> int:
    """memory/show's idl-cells-OVN_Southbound for an IDL holding `sb`'s rows: rows × the
    columns of their table in the IDL class (ovsdb_idl_get_memory_usage counts them all,
    monitored or not)."""
    columns = _sb_idl_columns()
    return sum(len(sb.tables[t]) * columns.get(t, 0) for t in sb.tables)


@functools.cache
def _sb_idl_columns() -> dict[str, int]:
    """The real schema's columns per table; the IDL class adds Logical_Flow's `hash`
    (lib/ovn-sb-idl.ann), a column the server does not have."""
    text = resources.files("ovnlab").joinpath("schemas", "ovn-sb.ovsschema").read_text()
    columns = {t: len(spec["columns"]) for t, spec in json.loads(text)["tables"].items()}
    columns["Logical_Flow"] += 1
    return columns


class MonitoredSb:
    """The SB as one chassis's IDL holds it: the conditional tables show the rows its
    condition admits; everything else, writes included, is the lab's SB."""

    def __init__(self, sb: Database, monitor: Monitor) -> None:
        self._sb = sb
        self._monitor = monitor
        self.tables = _Tables(sb, monitor)

    def rows(self, table: str) -> list[Row]:
        return list(self.tables[table].values())

    def get(self, table: str, key: str) -> Row:
        row = self._sb.get(table, key)
        if not self._monitor.cond.admits(table, row):
            raise NotFound(f"{table} row {key!r} not found")
        return row

    def lookup(self, table: str, key: str) -> Row | None:
        row = self._sb.lookup(table, key)
        return row if row is not None and self._monitor.cond.admits(table, row) else None

    def find(self, table: str, **conditions: Any) -> list[Row]:
        admits = self._monitor.cond.admits
        return [r for r in self._sb.find(table, **conditions) if admits(table, r)]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sb, name)  # transactions, listeners, seqnos, schema


class _Tables(Mapping[str, Mapping[str, Row]]):
    def __init__(self, sb: Database, monitor: Monitor) -> None:
        self._sb = sb
        self._monitor = monitor

    def __getitem__(self, table: str) -> Mapping[str, Row]:
        rows = self._sb.tables[table]
        return _Admitted(table, rows, self._monitor) if table in CONDITIONAL else rows

    def __iter__(self) -> Iterator[str]:
        return iter(self._sb.tables)

    def __len__(self) -> int:
        return len(self._sb.tables)


class _Admitted(Mapping[str, Row]):
    """One conditional table's rows that the condition admits, by uuid."""

    __slots__ = ("_table", "_rows", "_monitor")

    def __init__(self, table: str, rows: dict[str, Row], monitor: Monitor) -> None:
        self._table = table
        self._rows = rows
        self._monitor = monitor

    def __getitem__(self, uuid: str) -> Row:
        row = self._rows[uuid]
        if not self._monitor.cond.admits(self._table, row):
            raise KeyError(uuid)
        return row

    def __iter__(self) -> Iterator[str]:
        admits, table = self._monitor.cond.admits, self._table
        return (u for u, r in list(self._rows.items()) if admits(table, r))

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def values(self) -> list[Row]:  # type: ignore[override]
        admits, table = self._monitor.cond.admits, self._table
        return [r for r in self._rows.values() if admits(table, r)]
