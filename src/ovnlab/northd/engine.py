"""ovn-northd: NB → SB on the incremental-processing engine (northd/inc-proc-northd.c).

    NB ──────────────► en_northd ──► en_lflow ──────────► northd_output
    SB Chassis ───────►    │                                   ▲
    SB Port_Binding ──────►└──────► port status (NB up) ───────┘

The database listeners only push their changes into the source nodes; a `run()` runs the
engine inside one NB and one SB transaction (as ovn-northd's main loop holds both). The
first run, and one after `recompute()`, computes everything; later runs hand each node the
changes since, and a node whose handler cannot cope recomputes.

Flows are grouped by *owner* (owners.py), the NB row whose generator produced them; an NB
change dirties owners (handlers.py), only those are regenerated and diffed against the SB
(lflow_table.py). A datapath-wide fact changing (a switch's first stateful ACL, a
router's gateway port...) dirties every owner with flows on that datapath.
"""

from __future__ import annotations

from ovnlab.incproc import ChangeSource, Engine, Handled, Node
from ovnlab.northd.en_lflow import LflowNode
from ovnlab.northd.en_northd import NorthdData
from ovnlab.northd.lflow_table import Provenance, RunStats
from ovnlab.northd.status import PortStatus
from ovnlab.ovsdb import Change, Database

__all__ = ["Northd", "Provenance", "RunStats"]


def _unchanged() -> Handled:
    return Handled.UNCHANGED


class Northd:
    """`Northd(nb, sb).run()` computes everything; later `run()` calls apply the changes
    seen since; `recompute()` forces a full run; `pending` says whether a run has work."""

    def __init__(self, nb: Database, sb: Database) -> None:
        self.nb = nb
        self.sb = sb
        self.nb_input: ChangeSource[Change] = ChangeSource("NB")
        self.chassis_input: ChangeSource[Change] = ChangeSource("SB_chassis")
        self.pb_input: ChangeSource[Change] = ChangeSource("SB_port_binding")
        self.data = NorthdData(nb, sb, self.nb_input, self.chassis_input)
        self.lflow = LflowNode(self.data)
        self.status = PortStatus(self.data, self.pb_input)
        self.engine = self._wire()
        nb.subscribe(self.nb_input.push)
        sb.subscribe(self._on_sb)

    def _wire(self) -> Engine:
        """inc_proc_northd_init(): the nodes and who feeds whom."""
        data, lflow, status = self.data, self.lflow, self.status
        en_northd = Node("northd", run=data.run,
                         inputs=[(self.nb_input, data.on_nb),
                                 (self.chassis_input, data.on_chassis)],
                         snapshot=data.snapshot, clear_tracked=data.clear_tracked)
        en_lflow = Node("lflow", run=lflow.run, inputs=[(en_northd, lflow.on_northd)],
                        snapshot=lflow.table.snapshot)
        en_status = Node("port_status", run=status.run,
                         inputs=[(en_northd, status.on_northd),
                                 (self.pb_input, status.on_port_binding)],
                         snapshot=status.snapshot)
        return Engine(Node("northd_output", run=lambda: False,
                           inputs=[(en_lflow, _unchanged), (en_status, _unchanged)]))

    def _on_sb(self, changes: list[Change]) -> None:
        """The SB tables northd reads, each into its source (as ovn-northd monitors only
        the tables and columns it reads)."""
        self.chassis_input.push(c for c in changes if c.table == "Chassis")
        self.pb_input.push(c for c in changes if c.table == "Port_Binding")

    # ------------------------------------------------------------------ entry points
    @property
    def pending(self) -> bool:
        return self.engine.pending

    def run(self) -> RunStats:
        self.lflow.stats = RunStats()
        with self.nb.transaction(), self.sb.transaction():
            self.engine.run()
        return self.lflow.stats

    def recompute(self) -> RunStats:
        """Full recompute (what real ovn-northd 22.03 does on every change)."""
        self.engine.force_recompute()
        return self.run()

    def check(self) -> list[str]:
        """The nodes whose incremental data differs from a recompute (none, if every
        change handler is right); see incproc.Engine.check."""
        with self.nb.transaction(), self.sb.transaction():
            return self.engine.check()

    def provenance(self, lflow_uuid: str) -> list[Provenance]:
        """The generators and NB rows behind one SB Logical_Flow."""
        return self.lflow.table.provenance(lflow_uuid)
