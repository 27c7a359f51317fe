"""The driver's Northbound on a real ovsdb-server, through ovsdbapp (the library Neutron's
ML2/OVN driver uses).

The driver reads and writes an `ovsdb.Database`. In-process that database *is* the NB.
Here it is what ovsdbapp's IDL is to Neutron: a replica of the server's rows, with the same
row UUIDs (inserts persist their UUID, OVSDB's `insert` with `uuid`). Each driver
transaction is committed to the server first, as one OVSDB transaction of IDL row
operations (`Replicate`, an ovsdbapp command); a refusal rolls the replica back and fails
the API request. What the OVN side writes into the NB and Neutron reads back
(`Logical_Switch_Port.up` set by ovn-northd, NB_Global's `*_cfg`) is pulled into the
replica, where the driver's own listeners see it (port status, as Neutron's
LogicalSwitchPortUpdateUpEvent). The SB chassis the driver schedules gateways on are
mirrored read-only the same way.
"""

from __future__ import annotations

import uuid as uuidlib
from collections.abc import Iterable, Mapping
from typing import Any

from ovsdbapp.backend.ovs_idl import command, connection, idlutils
from ovsdbapp.schema.ovn_northbound.impl_idl import OvnNbApiIdlImpl
from ovsdbapp.schema.ovn_southbound.impl_idl import OvnSbApiIdlImpl

from ovnlab.controller import ha_chassis
from ovnlab.errors import Conflict, OvnlabError
from ovnlab.ovsdb import Change, Column, Database

TIMEOUT = 30  # seconds for an OVSDB transaction, as Neutron's ovsdb_timeout default (180) is for a cloud
# Columns the OVN side writes into the NB (the driver never does), pulled back.
NB_PULLED = {"Logical_Switch_Port": ("up",),
             "NB_Global": ("nb_cfg", "sb_cfg", "hv_cfg", "nb_cfg_timestamp",
                           "sb_cfg_timestamp", "hv_cfg_timestamp")}
SB_MIRRORED = ("Chassis", "Encap", "Chassis_Private")  # what the scheduler and agents read


class NorthboundRefused(Conflict):
    """The real ovsdb-server refused a transaction (a constraint ovnlab did not check)."""


def _connect(remote: str, schema: str, impl: type[Any]) -> Any:
    helper = idlutils.get_schema_helper(remote, schema)
    helper.register_all()
    idl = connection.OvsdbIdl(remote, helper)
    # ovsdbapp keeps one connection per API class: a class of its own per lab
    cls = type(f"Lab{impl.__name__}", (impl,), {"_ovsdb_connection": None})
    return cls(connection.Connection(idl, timeout=TIMEOUT))


# ---------------------------------------------------------------- value conversion


def to_idl(spec: Column, value: Any) -> Any:
    def atom(v: Any) -> Any:
        return uuidlib.UUID(v) if spec.ref_table else v

    if spec.kind == "map":
        return dict(value)
    if spec.kind == "set":
        return [atom(v) for v in value]
    if spec.optional:
        return [] if value is None else [atom(value)]
    return atom(value)


def to_local(spec: Column, value: Any) -> Any:
    def atom(v: Any) -> Any:
        return str(getattr(v, "uuid", v)) if spec.ref_table or isinstance(v, uuidlib.UUID) else v

    if spec.kind == "map":
        return {k: atom(v) for k, v in value.items()}
    if spec.kind == "set":
        return tuple(atom(v) for v in value)
    if spec.optional:
        return atom(value[0]) if value else None
    return atom(value)


def _holds(me: str, order: list[str], active_tunnels: set[str]) -> bool:
    """Whether chassis `me` believes it is the gateway of a group in priority `order`."""
    return ha_chassis.is_active(me, True, order, lambda: active_tunnels)


def _rows(api: Any, table: str) -> list[Any]:
    """A table's IDL rows, read under the connection's lock (its thread updates them)."""
    with api.ovsdb_connection.lock:
        return list(api.tables[table].rows.values())


def _local_row(db: Database, table: str, idl_row: Any, columns: Iterable[str]) -> dict[str, Any]:
    schema = db.schema[table]
    return {c: to_local(schema[c], getattr(idl_row, c)) for c in columns
            if c in schema and hasattr(idl_row, c)}


# ---------------------------------------------------------------- writing


class Replicate(command.BaseCommand):
    """One driver transaction's row changes as IDL operations in one OVSDB transaction."""

    def __init__(self, api: Any, db: Database, changes: list[Change]) -> None:
        super().__init__(api)
        self.db = db
        self.changes = changes

    def run_idl(self, txn: Any) -> None:
        inserted: dict[str, Any] = {}
        for ch in self.changes:
            table = self.api.tables[ch.table]
            real = table.columns
            schema = self.db.schema[ch.table]
            if ch.op == "insert":
                assert ch.new is not None
                row = txn.insert(table, new_uuid=uuidlib.UUID(ch.uuid), persist_uuid=True)
                inserted[ch.uuid] = row
                for col, value in ch.new.items():
                    if col in real and value != schema[col].default:
                        setattr(row, col, to_idl(schema[col], value))
                continue
            row = inserted.get(ch.uuid) or table.rows.get(uuidlib.UUID(ch.uuid))
            if row is None:
                continue  # already gone on the server (garbage-collected with its parent)
            if ch.op == "delete":
                row.delete()
                continue
            assert ch.new is not None and ch.old is not None
            for col, value in ch.new.items():
                if col in real and ch.old[col] != value:
                    setattr(row, col, to_idl(schema[col], value))


class RealNorthbound:
    """The server side of the driver's NB replica (`db.backing`), and its SB mirror."""

    def __init__(self, nb_remote: str, sb_remote: str, nb: Database, sb: Database) -> None:
        self.nb, self.sb = nb, sb
        self.nb_api = _connect(nb_remote, "OVN_Northbound", OvnNbApiIdlImpl)
        self.sb_api = _connect(sb_remote, "OVN_Southbound", OvnSbApiIdlImpl)
        self._pulling = False
        self._load()
        nb.backing = self._commit

    def close(self) -> None:
        self.nb.backing = None
        for api in (self.nb_api, self.sb_api):
            api.ovsdb_connection.stop()

    def _commit(self, changes: list[Change]) -> None:
        if self._pulling:
            return
        try:
            with self.nb_api.transaction(check_error=True) as txn:
                txn.add(Replicate(self.nb_api, self.nb, changes))
        except OvnlabError:
            raise
        except Exception as exc:  # noqa: BLE001 - ovsdbapp raises its own and RuntimeError
            raise NorthboundRefused(f"the OVN Northbound refused the change: {exc}") from None

    def _load(self) -> None:
        """The replica starts as the server's NB (a resumed lab's rows, ovn-nbctl init's
        NB_Global); the driver's resync then reconciles it with the cloud."""
        self._pulling = True
        try:
            with self.nb.transaction() as txn:
                for table in self.nb.schema:
                    if table not in self.nb_api.tables:
                        continue
                    for row in _rows(self.nb_api, table):
                        txn.insert(table, uuid=str(row.uuid),
                                   **_local_row(self.nb, table, row, self.nb.schema[table]))
        finally:
            self._pulling = False
        self.pull()

    def pull(self) -> bool:
        """Bring the OVN side's writes into the replicas; True when anything changed."""
        self._pulling = True
        try:
            return self._pull_nb() | self._pull_sb()
        finally:
            self._pulling = False

    def _pull_nb(self) -> bool:
        seqno = self.nb.seqno
        with self.nb.transaction() as txn:
            for table, columns in NB_PULLED.items():
                local = self.nb.tables[table]
                for row in _rows(self.nb_api, table):
                    mine = local.get(str(row.uuid))
                    if mine is not None:
                        txn.update(table, mine.uuid, **_local_row(self.nb, table, row, columns))
        return self.nb.seqno != seqno

    def _pull_sb(self) -> bool:
        seqno = self.sb.seqno
        with self.sb.transaction() as txn:
            for table in SB_MIRRORED:
                wanted = {str(r.uuid): _local_row(self.sb, table, r, self.sb.schema[table])
                          for r in _rows(self.sb_api, table)}
                local = self.sb.tables[table]
                for uuid in [u for u in local if u not in wanted]:
                    txn.delete(table, uuid)
                for uuid, cols in wanted.items():
                    if uuid in local:
                        txn.update(table, uuid, **cols)
                    else:
                        txn.insert(table, uuid=uuid, **cols)
        return self.sb.seqno != seqno

    # ------------------------------------------------------------ waiting for OVN
    def chassis_caught_up(self, alive: set[str], target: int) -> bool:
        """Every chassis in `alive` (system-ids) reported nb_cfg >= target (`--wait=hv`
        for the chassis that run: a dead one never reports, and hv_cfg would wait for it)."""
        seen = {r.name: int(r.nb_cfg) for r in _rows(self.sb_api, "Chassis_Private")}
        return all(seen.get(name, -1) >= target for name in alive)

    def gateways_settled(self, active_tunnels: Mapping[str, set[str]]) -> bool:
        """Every router gateway's chassisredirect port is held by exactly one of the
        running chassis (the keys of `active_tunnels`, each chassis's BFD view) by that
        chassis's own reckoning (ha_chassis_group_is_active: the first in priority order
        it can reach), and bound to it in the Southbound. While BFD comes up, a chassis
        that has not heard the best one yet believes it is the gateway and SNATs as it;
        before any session is up, none does (what lab.sh waits out)."""
        chassis = {str(r.uuid): r.name for r in _rows(self.sb_api, "Chassis")}
        lrps = {r["name"]: r for r in self.nb.rows("Logical_Router_Port")}
        gw_rows = self.nb.tables["Gateway_Chassis"]
        for pb in _rows(self.sb_api, "Port_Binding"):
            if pb.type != "chassisredirect":
                continue
            lrp = lrps.get(pb.logical_port.removeprefix("cr-"))
            gws = sorted((gw_rows[u] for u in (lrp["gateway_chassis"] if lrp else ())
                          if u in gw_rows), key=lambda g: -g["priority"])
            order = [g["chassis_name"] for g in gws]
            if not any(name in active_tunnels for name in order):
                continue  # none of its chassis runs: nobody can hold it
            holders = [me for me, tunnels in active_tunnels.items()
                       if me in order and _holds(me, order, tunnels)]
            bound = chassis.get(str(pb.chassis[0].uuid)) if pb.chassis else None
            if holders != [bound]:
                return False
        return True
