"""A small in-memory OVSDB: tables of rows named as OVN names them, atomic transactions
and change notification (the contract ovsdbapp gives Neutron, without a server).

Rows are immutable snapshots; an update replaces the row. Column values are plain Python:
str / int / bool for scalars, tuple for sets (references are row UUID strings), dict for maps.
A column missing from an insert gets the schema's default.
"""

from __future__ import annotations

import random
import uuid as uuidlib
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from ovnlab.errors import Conflict, NotFound


@dataclass(frozen=True, slots=True)
class Column:
    """`kind` is one of string, integer, boolean, uuid (a reference), and for sets/maps
    `set` / `map`; `optional` marks a 0..1 set (printed `[]` when empty)."""

    kind: str = "string"
    default: Any = ""
    optional: bool = False
    ref_table: str | None = None


Schema = Mapping[str, Mapping[str, Column]]


class Row(Mapping[str, Any]):
    """A read-only view of one row (ovsdbapp's RowView): `row["name"]`, `row.uuid`."""

    __slots__ = ("table", "uuid", "_data")

    def __init__(self, table: str, uuid: str, data: dict[str, Any]) -> None:
        self.table = table
        self.uuid = uuid
        self._data = data

    def __getitem__(self, key: str) -> Any:
        if key == "_uuid":
            return self.uuid
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        return f"Row({self.table}, {self.uuid[:8]}, {self._data!r})"

    def replace(self, **changes: Any) -> Row:
        return Row(self.table, self.uuid, {**self._data, **changes})


@dataclass(frozen=True, slots=True)
class Change:
    """One row change: op is insert, update or delete; old/new are None where absent."""

    table: str
    op: str
    uuid: str
    old: Row | None
    new: Row | None


def moved_only(old: Row, new: Row, columns: Collection[str]) -> bool:
    """Whether two states of a row differ in no column but `columns`."""
    return all(old[k] == new[k] for k in new if k not in columns)


def net_changes(changes: Iterable[Change]) -> list[Change]:
    """What a sequence of changes did to each row, as an IDL's change tracking reports it
    between two runs: one change per row, from its state before the first to its state
    after the last (a row inserted then deleted is gone), rows in order of first change."""
    first: dict[tuple[str, str], Change] = {}
    last: dict[tuple[str, str], Change] = {}
    for c in changes:
        key = (c.table, c.uuid)
        first.setdefault(key, c)
        last[key] = c
    out: list[Change] = []
    for key, a in first.items():
        b = last[key]
        if a is b:
            out.append(a)
        elif a.old is None and b.new is None:
            continue
        else:
            op = "insert" if a.old is None else "delete" if b.new is None else "update"
            out.append(Change(a.table, op, a.uuid, a.old, b.new))
    return out


Listener = Callable[[list[Change]], None]


@dataclass
class Database:
    name: str
    schema: Schema
    seed: int = 0
    tables: dict[str, dict[str, Row]] = field(init=False)
    seqno: int = field(init=False, default=0)
    table_seqno: dict[str, int] = field(init=False, default_factory=dict)  # last change's
    _listeners: list[Listener] = field(init=False, default_factory=list)
    _rng: random.Random = field(init=False)
    _txn: Transaction | None = field(init=False, default=None)
    # A server behind this database (the real backend's Northbound, `backends.ovn`): it
    # commits each transaction's changes first and raises if the server refuses them.
    backing: Callable[[list[Change]], None] | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self.tables = {t: {} for t in self.schema}
        self._rng = random.Random(f"{self.name}:{self.seed}")

    # ------------------------------------------------------------ reads
    def rows(self, table: str) -> list[Row]:
        return list(self._table(table).values())

    def get(self, table: str, key: str) -> Row:
        """A row by UUID, or by its `name` column (as ovn-nbctl accepts either)."""
        rows = self._table(table)
        if key in rows:
            return rows[key]
        if "name" in self.schema[table]:
            matches = [r for r in rows.values() if r["name"] == key]
            if len(matches) == 1:
                return matches[0]
            if len(matches) > 1:
                raise Conflict(f"multiple rows in {table} named {key!r}")
        raise NotFound(f"{table} row {key!r} not found")

    def find(self, table: str, **conditions: Any) -> list[Row]:
        return [r for r in self._table(table).values()
                if all(r[c] == v for c, v in conditions.items())]

    def lookup(self, table: str, key: str) -> Row | None:
        try:
            return self.get(table, key)
        except NotFound:
            return None

    def _table(self, table: str) -> dict[str, Row]:
        try:
            return self.tables[table]
        except KeyError:
            raise NotFound(f"unknown table {table!r}") from None

    # ------------------------------------------------------------ writes
    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def unsubscribe(self, listener: Listener) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def new_uuid(self) -> str:
        return str(uuidlib.UUID(int=self._rng.getrandbits(128), version=4))

    @property
    def in_transaction(self) -> bool:
        """Whether a transaction is open (a new `transaction()` would join it)."""
        return self._txn is not None

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """One atomic batch; nested calls join the open transaction (as ovsdbapp's do)."""
        if self._txn is not None:
            yield self._txn
            return
        txn = Transaction(self)
        self._txn = txn
        try:
            yield txn
            if txn.changes and self.backing is not None:
                self.backing(txn.changes)
        except BaseException:
            txn.rollback()
            raise
        finally:
            self._txn = None
        if txn.changes:
            self.seqno += 1
            for table in {c.table for c in txn.changes}:
                self.table_seqno[table] = self.seqno
            changes = list(txn.changes)  # one list for every listener: they only read it
            for listener in list(self._listeners):
                listener(changes)


class Transaction:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.changes: list[Change] = []

    def insert(self, table: str, uuid: str | None = None, **columns: Any) -> Row:
        cols = self.db.schema[table]
        unknown = set(columns) - set(cols)
        if unknown:
            raise KeyError(f"{table} has no column {sorted(unknown)[0]!r}")
        data = {c: columns.get(c, _fresh(spec.default)) for c, spec in cols.items()}
        row = Row(table, uuid or self.db.new_uuid(), data)
        if row.uuid in self.db.tables[table]:
            raise Conflict(f"{table} row {row.uuid} already exists")
        self.db.tables[table][row.uuid] = row
        self.changes.append(Change(table, "insert", row.uuid, None, row))
        return row

    def update(self, table: str, uuid: str, **columns: Any) -> Row:
        old = self.db.tables[table][uuid]
        unknown = set(columns) - set(self.db.schema[table])
        if unknown:
            raise KeyError(f"{table} has no column {sorted(unknown)[0]!r}")
        new = old.replace(**columns)
        if new == old:
            return old
        self.db.tables[table][uuid] = new
        self.changes.append(Change(table, "update", uuid, old, new))
        return new

    def delete(self, table: str, uuid: str) -> None:
        old = self.db.tables[table].pop(uuid)
        self.changes.append(Change(table, "delete", uuid, old, None))

    def rollback(self) -> None:
        for ch in reversed(self.changes):
            rows = self.db.tables[ch.table]
            if ch.old is None:
                rows.pop(ch.uuid, None)
            else:
                rows[ch.uuid] = ch.old
        self.changes.clear()


def _fresh(default: Any) -> Any:
    return dict(default) if isinstance(default, dict) else default
