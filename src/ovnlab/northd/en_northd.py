"""en_northd (northd/en-northd.c, northd.c ovnnb_db_run): the NB parsed into northd's
data (index, per-datapath contexts, NAT facts) and the SB structure derived from it
(Datapath_Binding, Port_Binding, Multicast_Group, Port_Group, Address_Set, HA groups).

Its change handlers apply NB and SB Chassis changes and track, for its consumers (en_lflow,
the port status sync), what they dirtied (`Dirty`); its full recompute rebuilds all.
"""

from __future__ import annotations

from typing import Any

from ovnlab.incproc import ChangeSource, Handled
from ovnlab.northd.bindings import Bindings
from ovnlab.northd.env import Env
from ovnlab.northd.features import ChassisFeatures
from ovnlab.northd.handlers import LRP_TABLE, LSP_TABLE, Dirty, Scope, handle
from ovnlab.northd.model import NBIndex
from ovnlab.northd.status import sync_globals
from ovnlab.ovsdb import Change, Database, Transaction

# The SB tables en_northd writes (what Engine.check() compares after a recompute).
SB_TABLES = ("SB_Global", "Datapath_Binding", "Port_Binding", "Multicast_Group", "Port_Group",
             "Address_Set", "HA_Chassis_Group", "HA_Chassis")


class NorthdData:
    """The node's data and its run / change handlers (wired in inc.py)."""

    def __init__(self, nb: Database, sb: Database, nb_input: ChangeSource[Change],
                 chassis_input: ChangeSource[Change]) -> None:
        self.nb = nb
        self.sb = sb
        self.nb_input = nb_input
        self.chassis_input = chassis_input
        self.idx = NBIndex.build(nb)
        self.env = Env(nb, self.idx)
        self.bindings = Bindings(self.env, sb)
        self.scope = Scope(self.env)
        self.svc_monitor_mac = ""
        self.tracked = Dirty()

    def clear_tracked(self) -> None:
        self.tracked = Dirty()

    # ------------------------------------------------------------ full recompute
    def run(self) -> bool:
        """Everything from the NB (what real ovn-northd 22.03 does on every change)."""
        self.idx = NBIndex.build(self.nb)
        self.env = Env(self.nb, self.idx, ChassisFeatures.of(self.sb.rows("Chassis")))
        self.bindings.env = self.bindings.pg_sync.env = self.env
        self.scope.reset(self.env)
        self.svc_monitor_mac = sync_globals(self.nb, self.sb)
        nb = self.nb
        d = self.tracked = Dirty(full=True)
        d.dps = {r.uuid for t in ("Logical_Switch", "Logical_Router") for r in nb.rows(t)}
        d.ports = {(t, r.uuid) for t in (LSP_TABLE, LRP_TABLE) for r in nb.rows(t)}
        with self.sb.transaction() as txn:
            self._sync_all(txn, d)
        return True

    def _sync_all(self, txn: Transaction, d: Dirty) -> None:
        nb, bindings = self.nb, self.bindings
        for dp in [r.uuid for r in nb.rows("Logical_Switch")] + \
                [r.uuid for r in nb.rows("Logical_Router")]:
            bindings.sync_datapath(txn, dp)
        for dp in [dp for dp in bindings.dp_of if dp not in d.dps]:
            bindings.sync_datapath(txn, dp)  # vanished without their own change
        lsps = [r.uuid for r in nb.rows(LSP_TABLE)]
        for table in (LSP_TABLE, LRP_TABLE):
            for r in nb.rows(table):
                bindings.sync_port(txn, table, r.uuid)
        for u in [u for u in bindings.ports_of_nb if (LSP_TABLE, u) not in d.ports
                  and (LRP_TABLE, u) not in d.ports]:
            table = LSP_TABLE if u in nb.tables[LSP_TABLE] else LRP_TABLE
            bindings.sync_port(txn, table, u)
        for r in nb.rows("Logical_Switch"):
            bindings.sync_mcast(txn, r.uuid, lsps)
        pg_sync = bindings.pg_sync
        gone = [u for u in pg_sync.written if u not in nb.tables["Port_Group"]]
        pg_sync.sync(txn, bindings, [r.uuid for r in nb.rows("Port_Group")] + gone, ())
        pg_sync.sync_address_sets(txn, self.svc_monitor_mac)

    # ------------------------------------------------------------ change handlers
    def on_nb(self) -> Handled:
        """NB changes, through the per-table handlers."""
        changes = self.nb_input.tracked
        self.idx.apply(changes)
        d = Dirty()
        handle(self.scope, changes, d)
        if d.globals:
            self.svc_monitor_mac = sync_globals(self.nb, self.sb)
        self._apply(d)
        return Handled.UNCHANGED if d.empty else Handled.UPDATED

    def on_chassis(self) -> Handled:
        """SB Chassis: a changed feature set respells flows everywhere (recompute); a
        chassis appearing, going or renamed re-resolves HA_Chassis.chassis and
        requested-chassis references."""
        changes = self.chassis_input.tracked
        if any(_features_may_change(c) for c in changes) and \
                ChassisFeatures.of(self.sb.rows("Chassis")) != self.env.features:
            return Handled.UNHANDLED
        if not any(_names_may_change(c) for c in changes):
            return Handled.UNCHANGED
        d = Dirty()
        for lrp in self.nb.rows(LRP_TABLE):
            if lrp["gateway_chassis"] or lrp["ha_chassis_group"] is not None:
                d.ports.add((LRP_TABLE, lrp.uuid))
        for lsp in self.nb.rows(LSP_TABLE):
            if lsp["options"].get("requested-chassis"):
                d.ports.add((LSP_TABLE, lsp.uuid))
        self._apply(d)
        return Handled.UPDATED if d.ports else Handled.UNCHANGED

    def _apply(self, d: Dirty) -> None:
        """Sync the SB structure `d` names and hand `d` on to the consumers."""
        bindings = self.bindings
        lsps = d.lsps()
        with self.sb.transaction() as txn:
            for dp in sorted(d.dps):
                bindings.sync_datapath(txn, dp)
            for table, u in sorted(d.ports):
                bindings.sync_port(txn, table, u)
            for ls in sorted(d.mcast):
                bindings.sync_mcast(txn, ls, lsps)
            if d.pgs:
                bindings.pg_sync.sync(txn, bindings, sorted(d.pgs), lsps)
            if d.address_sets:
                bindings.pg_sync.sync_address_sets(txn, self.svc_monitor_mac)
        _merge(self.tracked, d)

    def snapshot(self) -> dict[str, Any]:
        return {t: {r.uuid: dict(r) for r in self.sb.rows(t)} for t in SB_TABLES}


def _merge(into: Dirty, d: Dirty) -> None:
    into.owners |= d.owners
    into.ports |= d.ports
    into.contexts |= d.contexts


def _features_may_change(c: Change) -> bool:
    return c.old is None or c.new is None or c.old["other_config"] != c.new["other_config"]


def _names_may_change(c: Change) -> bool:
    return (c.op != "update" or c.old is None or c.new is None
            or c.old["name"] != c.new["name"] or c.old["hostname"] != c.new["hostname"])
