"""`Lab.export`: the lab's NB / SB as standalone OVSDB files under the real 22.03 schemas,
read back here with the `ovs` library and, where installed, with Debian's `ovsdb-tool`."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import uuid as uuidlib
from pathlib import Path
from typing import Any

import pytest
from ovs.db.data import Datum
from ovs.db.schema import DbSchema

from ovnlab.errors import BadRequest
from ovnlab.lab import Lab
from ovnlab.scenario import run_article


@pytest.fixture(scope="module")
def lab() -> Lab:
    lab = Lab.build("seed")
    run_article(lab.openstack)
    return lab


def _records(data: bytes) -> list[Any]:
    """Parse the log as ovsdb/log.c reads it, checking each record's length and SHA-1."""
    out, pos = [], 0
    while pos < len(data):
        end = data.index(b"\n", pos)
        magic1, magic2, length, sha1 = data[pos:end].decode().split(" ")
        assert (magic1, magic2) == ("OVSDB", "JSON")
        body = data[end + 1:end + 1 + int(length)]
        assert len(body) == int(length) and body.endswith(b"\n")
        assert hashlib.sha1(body).hexdigest() == sha1
        out.append(json.loads(body))
        pos = end + 1 + int(length)
    return out


@pytest.mark.parametrize("database", ["nb", "sb"])
def test_export_is_the_schema_then_every_row(lab: Lab, database: str) -> None:
    db = lab.nb if database == "nb" else lab.sb
    schema_json, txn = _records(lab.export(database))
    schema = DbSchema.from_json(schema_json)
    assert (schema.name, schema.version) == (db.name, "6.1.0" if database == "nb" else "20.21.0")
    exported = {t: rows for t, rows in txn.items() if not t.startswith("_")}
    assert exported == {t: exported[t] for t in schema.tables if db.tables.get(t)}
    for table, rows in exported.items():
        assert set(rows) == {r.uuid for r in db.rows(table)}
        for row in db.rows(table):
            columns = schema.tables[table].columns
            for name, value in rows[row.uuid].items():
                datum = Datum.from_json(columns[name].type, value)  # checks constraints
                assert _plain(datum) == _plain_lab(row[name]), (table, name)
            for name in set(row) & set(columns) - set(rows[row.uuid]):
                assert not _plain_lab(row[name]) or row[name] in (0, False, ""), (table, name)


def _plain(datum: Datum) -> Any:
    if datum.type.is_map():
        return {_atom(k.value): _atom(v.value) for k, v in datum.values.items()}
    return sorted(_atom(k.value) for k in datum.values)


def _plain_lab(value: Any) -> Any:
    if isinstance(value, dict):
        return dict(value)
    if value is None:
        return []
    if isinstance(value, (tuple, list)):
        return sorted(value)
    return [value]


def _atom(value: Any) -> Any:
    return str(value) if isinstance(value, uuidlib.UUID) else value


def test_a_column_newer_than_22_03_is_left_out() -> None:
    lab = Lab.build("seed")
    run_article(lab.openstack)
    nat = lab.nb.find("NAT", type="snat")[0]
    lrp = lab.nb.rows("Logical_Router_Port")[0]
    with lab.nb.transaction() as txn:  # as Neutron does against OVN 22.06+
        txn.update("NAT", nat.uuid, gateway_port=lrp.uuid)
    _, exported = _records(lab.export("nb"))
    assert "gateway_port" not in exported["NAT"][nat.uuid]
    assert exported["NAT"][nat.uuid]["type"] == "snat"


def test_unknown_database_is_a_clear_error(lab: Lab) -> None:
    with pytest.raises(BadRequest, match="unknown database 'vswitch' .expected nb or sb."):
        lab.export("vswitch")


@pytest.mark.oracle
@pytest.mark.skipif(shutil.which("ovsdb-tool") is None, reason="needs Debian's openvswitch-common")
@pytest.mark.parametrize("database", ["nb", "sb"])
def test_ovsdb_tool_opens_the_export(lab: Lab, database: str, tmp_path: Path) -> None:
    path = tmp_path / f"{database}.db"
    path.write_bytes(lab.export(database))
    name = subprocess.run(["ovsdb-tool", "db-name", str(path)], capture_output=True, text=True)
    assert name.stdout.strip() == lab.nb.name if database == "nb" else lab.sb.name
    log = subprocess.run(["ovsdb-tool", "show-log", str(path)], capture_output=True, text=True)
    assert log.returncode == 0 and 'record 1: "ovnlab export"' in log.stdout, log.stderr
    # ovsdb-tool replays the transaction (referential integrity, constraints) to convert
    converted = tmp_path / "converted.db"
    schema = tmp_path / "schema.json"
    schema.write_text(json.dumps(_records(path.read_bytes())[0]))
    conv = subprocess.run(["ovsdb-tool", "convert", str(path), str(schema), str(converted)],
                          capture_output=True, text=True)
    assert conv.returncode == 0, conv.stderr
