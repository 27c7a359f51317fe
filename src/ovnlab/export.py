"""The lab's Northbound or Southbound database as a standalone OVSDB database file: what
`ovsdb-client backup` writes and `ovsdb-server` / `ovsdb-tool` open, under the real OVN
22.03 schemas (shipped in ovnlab/schemas/, as nothing is fetched at run time).

The file is a log of records (ovsdb/log.c): each is a header line
`OVSDB JSON <length> <sha1>` and then <length> bytes, a JSON value and a newline, whose
SHA-1 the header carries. The first record is the schema, the second one transaction that
inserts every row, as `ovsdb-client backup` writes it.

ovnlab's in-memory rows use OVN's table and column names; a column ovnlab lacks takes the
real schema's default (left out of the record, as OVSDB does for defaults), and columns or
tables newer than 22.03 (e.g. NAT.gateway_port) are left out.
"""

from __future__ import annotations

import enum
import hashlib
import json
import uuid as uuidlib
from functools import cache
from importlib import resources
from typing import Any

import ovs.db.error
from ovs.db.data import Atom, Datum
from ovs.db.schema import DbSchema
from ovs.db.types import BaseType, Type

from ovnlab.errors import BadRequest, OvnlabError
from ovnlab.ovsdb import Database, Row

MAGIC = "OVSDB JSON"


class DbKind(enum.Enum):
    """Which of the lab's databases, by the name `ovnlab export` takes."""

    NB = "nb"
    SB = "sb"

    @property
    def schema_file(self) -> str:
        return f"ovn-{self.value}.ovsschema"

    @classmethod
    def parse(cls, name: str) -> DbKind:
        try:
            return cls(name.lower())
        except ValueError:
            raise BadRequest(f"unknown database {name!r} (expected nb or sb)") from None


class ExportError(OvnlabError):
    """A row ovnlab holds that the real schema would reject: a bug in ovnlab, named."""

    status = 500


def schema_json(kind: DbKind) -> dict[str, Any]:
    text = resources.files("ovnlab").joinpath("schemas", kind.schema_file).read_text()
    parsed: dict[str, Any] = json.loads(text)
    return parsed


@cache
def _schema(kind: DbKind) -> DbSchema:
    return DbSchema.from_json(schema_json(kind))


def export_db(db: Database, kind: DbKind) -> bytes:
    """The standalone database file for `db`, under the real schema of `kind`."""
    schema = _schema(kind)
    if db.name != schema.name:
        raise BadRequest(f"database {db.name} is not {schema.name}")
    return record(schema_json(kind)) + record(_rows_txn(db, schema))


def record(value: Any) -> bytes:
    """One log record: `OVSDB JSON <len> <sha1>\\n` + the JSON text and a newline."""
    data = json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"
    return f"{MAGIC} {len(data)} {hashlib.sha1(data).hexdigest()}\n".encode() + data


def _rows_txn(db: Database, schema: DbSchema) -> dict[str, Any]:
    txn: dict[str, Any] = {}
    for name, table in schema.tables.items():
        if name not in db.tables or not db.tables[name]:
            continue
        txn[name] = {row.uuid: _row_json(row, table.columns) for row in db.rows(name)}
    txn["_comment"] = "ovnlab export"
    return txn


def _row_json(row: Row, columns: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, column in columns.items():
        if name not in row:
            continue  # a column ovnlab does not model: the schema's default
        try:
            datum = _datum(column.type, row[name])
        except (ovs.db.error.Error, ValueError, TypeError) as exc:
            raise ExportError(f"{row.table} row {row.uuid}: column {name}: {exc}") from None
        if not datum.is_default():
            out[name] = datum.to_json()
    return out


def _datum(type_: Type, value: Any) -> Datum:
    """ovnlab's Python value (scalar, None for an empty 0..1, tuple, dict) as a Datum."""
    if value is None:
        values: dict[Atom, Atom | None] = {}
    elif isinstance(value, dict):
        values = {_atom(type_.key, k): _atom(type_.value, v) for k, v in value.items()}
    elif isinstance(value, (tuple, list, set, frozenset)):
        values = {_atom(type_.key, k): None for k in value}
    else:
        values = {_atom(type_.key, value): None}
    datum = Datum(type_, values)
    if not datum.conforms_to_type():
        raise ValueError(f"{len(values)} values where the schema allows "
                         f"{type_.n_min} to {type_.n_max}")
    return datum


def _atom(base: BaseType, value: Any) -> Atom:
    if base.is_ref() or base.type.name == "uuid":
        value = uuidlib.UUID(str(value))
    elif base.type.name == "integer" and isinstance(value, bool):
        raise TypeError(f"expected integer, got {value!r}")
    return Atom.from_python(base, value)
