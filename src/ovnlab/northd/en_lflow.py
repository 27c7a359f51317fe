"""en_lflow (northd/en-lflow.c of later releases): the logical flows, regenerated per
dirty owner on en_northd's tracked changes, or all of them on its recompute."""

from __future__ import annotations

from ovnlab.incproc import Handled
from ovnlab.northd.en_northd import NorthdData
from ovnlab.northd.lflow_table import LflowTable, RunStats, all_owners


class LflowNode:
    def __init__(self, northd: NorthdData) -> None:
        self.northd = northd
        self.table = LflowTable(northd.sb, northd.bindings)
        self.stats = RunStats()

    def run(self) -> bool:
        """Every owner the NB holds, plus the owners that vanished (their flows go)."""
        nb = self.northd.nb
        owners = all_owners(nb)
        stale = set(self.table.owner_flows) - set(owners)
        before = self.stats.writes()
        self.stats.full = True
        with self.northd.sb.transaction() as txn:
            self.table.sync(txn, self.northd.env, owners + sorted(stale), self.stats)
            self.table.drop_unwanted(txn, self.stats)
        return self.stats.writes() != before

    def on_northd(self) -> Handled:
        """The owners en_northd dirtied, and every owner of a datapath whose context
        moved."""
        d = self.northd.tracked
        if d.full:
            return Handled.UNHANDLED
        owners = set(d.owners)
        for dp in d.contexts:
            owners.update(self.table.dp_owners.get(dp, ()))
        if not owners:
            return Handled.UNCHANGED
        before = self.stats.writes()
        with self.northd.sb.transaction() as txn:
            self.table.sync(txn, self.northd.env, sorted(owners), self.stats)
        changed = self.stats.writes() != before
        return Handled.UPDATED if changed else Handled.UNCHANGED
