"""ovn-controller for one chassis (ovn-controller.c, OVN 22.03): wires its parts, each in
the module named for OVN's file — chassis settings and rows (chassis), the SB rows it is
sent (monitor: update_sb_monitors), port claims and the per-chassis runtime data
(binding, ha_chassis, bfd), tunnels (encaps), provider patch ports (patch), conntrack
zones (ct_zones), logical flows compiled to OpenFlow (lflow_output), physical flows
(pflow_output), the desired vs installed table (ofctrl), and the controller-side actions
(pinctrl).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, cast

from ovnlab.controller import bfd
from ovnlab.controller import chassis as ch
from ovnlab.controller.binding import RuntimeData, vif_ports
from ovnlab.controller.chassis import BR_INT, ChassisConfig
from ovnlab.controller.ct_zones import CtZones
from ovnlab.controller.deferral import Here, can_wait
from ovnlab.controller.lflow_cache import SharedCompiles
from ovnlab.controller.lflow_output import LflowOutput
from ovnlab.controller.monitor import Condition, Monitor, idl_cells
from ovnlab.controller.ofctrl import Ofctrl, PacketOut, dump_text
from ovnlab.controller.pflow_output import PflowOutput
from ovnlab.controller.physical import PortInfo
from ovnlab.controller.pinctrl import HeldPackets, run_buffered
from ovnlab.flows import OFPP_NORMAL, Flow, Output
from ovnlab.flows.format import format_flow_mod, format_match
from ovnlab.gc_pause import gc_paused
from ovnlab.incproc import ChangeSource, Engine, Handled, Node, NodeStats
from ovnlab.ovsdb import Change, Database, net_changes

__all__ = ["BR_INT", "Controller", "PacketOut"]


class Controller:
    """`Controller(sb, vswitch)`: the chassis named by the vswitch's external_ids."""

    def __init__(self, sb: Database, vswitch: Any, *, install: bool = True,
                 compiles: SharedCompiles | None = None) -> None:
        self.vswitch = vswitch
        self.cfg = ChassisConfig.of(vswitch)
        self.name = self.cfg.system_id
        compiles = compiles if compiles is not None else SharedCompiles(sb)
        ch.register_chassis(sb, self.cfg, vswitch)
        # every part of this controller reads the SB as its IDL holds it (monitor.py)
        self.monitor = Monitor(sb, compiles.index, Condition(
            monitor_all=ch.monitor_all(vswitch), chassis=sb.get("Chassis", self.name).uuid,
            name=self.name))
        # (MonitoredSb answers Database's reads and hands it everything else)
        self.sb = sb = cast(Database, self.monitor.view)
        self.install_enabled = install
        self.stats: dict[str, float] = {"runs": 0, "full_recomputes": 0, "lflows_compiled": 0,
                                        "address_set_patches": 0,
                                        "inline_set_patches": 0,
                                        "port_group_patches": 0,
                                        "last_run_s": 0.0, "last_install_s": 0.0}
        self.liveness = bfd.Liveness(self.name, vswitch)
        self.runtime = RuntimeData(sb, vswitch, self.cfg, self.liveness)
        self.zones = CtZones(sb, lambda: (self.runtime.state.local_dps, [
            *self.runtime.state.vif_ofports, *self.runtime.state.patch_ofports]))
        self.ofctrl = Ofctrl()
        # compiled flows are shared with the other chassis of this process, if given
        self.lflow = LflowOutput(sb, self.runtime, self.ofctrl, self.stats, compiles)
        self.pflow = PflowOutput(sb, self.runtime, self.ofctrl, self.zones.zones)
        self.inputs = _Inputs()
        self.engine = wire(self)
        self._ovs_seen: tuple[Any, ...] | None = None
        self._ports_seen: tuple[Any, ...] | None = None  # (key, VIFs, liveness) read last
        self._ext_seen: dict[str, str] | None = None  # the external_ids read last
        self._sb_urgent = True  # SB changes queued that cannot wait for an observer
        self._running = False  # ofctrl's writes to br-int do not catch up again
        self.garp: Any = None  # pinctrl's GARP state, created lazily
        # pinctrl's buffered packets: (datapath key, next-hop IP) -> held packets
        self.buffered: dict[tuple[int, int], HeldPackets] = {}
        self.clock: Callable[[], float] = lambda: 0.0  # the fabric gives its clock
        self.ready: list[PacketOut] = []
        self.on_ready: Callable[[], None] | None = None  # the fabric's wake-up for `ready`
        for bridge in ch.ensure_bridges(vswitch, self.cfg):
            if hasattr(bridge, "replace_flows"):
                bridge.replace_flows([Flow(0, 0, 0, (), (Output(OFPP_NORMAL),))])
        sb.subscribe(self._on_sb)
        self.run()

    # ------------------------------------------------------------ what the lab reads
    @property
    def br_int(self) -> Any:
        return self.vswitch.bridges[BR_INT]

    @property
    def ct_zones(self) -> dict[str, int]:
        return self.zones.zones

    @property
    def errors(self) -> dict[str, str]:
        """lflow uuid → why it was skipped."""
        return self.lflow.errors

    @property
    def install_errors(self) -> dict[str, str]:
        """flow text → why the datapath refused it."""
        return self.ofctrl.install_errors

    def special_ports(self) -> list[PortInfo]:
        """The port bindings that are not plain VIFs (patch, localnet, chassisredirect,
        l3gateway...), in SB order: few, whatever the number of VMs."""
        return list(self.runtime.special.values())

    def flows(self) -> list[Flow]:
        """The desired br-int flow table once this chassis has caught up with the SB and
        its vswitch (what `ovn-nbctl --wait=hv` waits for)."""
        self.run_if_pending()
        return self.ofctrl.flows()

    def dump_flows(self) -> list[str]:
        """`ovs-ofctl dump-flows br-int` lines without cookie/duration/counters, sorted
        by table, then priority descending."""
        fl = sorted(self.flows(),
                    key=lambda f: (f.table, -f.priority, format_match(f.match, f.priority)))
        return [dump_text(f) for f in fl]

    def engine_stats(self) -> str:
        """`ovn-appctl -t ovn-controller inc-engine/show-stats`."""
        return self.engine.stats()

    def memory_usage(self) -> dict[str, int]:
        """`ovn-appctl -t ovn-controller memory/show`'s IDL counters: the cells of the SB
        rows this chassis monitors and of the vswitch rows it reads (no transaction is
        ever outstanding: idl-outstanding-txns-* are 0, which memory/show leaves out)."""
        return {"idl-cells-OVN_Southbound": idl_cells(self.sb),
                "idl-cells-Open_vSwitch": ch.ovs_idl_cells(self.vswitch)}

    def clear_engine_stats(self) -> None:
        """`inc-engine/clear-stats`."""
        for node in self.engine.nodes:
            node.stats = NodeStats()

    # ------------------------------------------------------------ liveness
    def set_chassis_alive(self, chassis: str, alive: bool) -> None:
        """This controller's view of a chassis's liveness (BFD), by name or hostname."""
        self.liveness.overrides[self._chassis_name(chassis)] = alive
        self.run()

    def _chassis_name(self, key: str) -> str:
        for row in self.sb.rows("Chassis"):
            if key in (row["name"], row["hostname"]):
                return str(row["name"])
        return key

    def is_alive(self, chassis: str) -> bool:
        return self.liveness.is_alive(chassis)

    # ------------------------------------------------------------ main loop
    def _on_sb(self, changes: list[Change]) -> None:
        """The SB listener only queues the changes for the engine's next run; pinctrl,
        a thread of its own in OVN, releases packets a new MAC_Binding was awaited for."""
        changes = self.monitor.filter(changes)
        self.inputs.push(changes)
        if changes and not self._sb_urgent and not can_wait(changes, self._here()):
            self._sb_urgent = True
        if self.buffered and run_buffered(self) and self.on_ready is not None:
            self.on_ready()

    def _ovs_view(self) -> tuple[Any, ...]:
        """What this chassis watches in its vswitch: the VIFs on br-int, the BFD state of
        its tunnels, and the Open_vSwitch external_ids (ovn-cms-options, ovn-monitor-all
        and the other settings the Chassis row copies). The ports are read again only
        when br-int's port generation (or the liveness overrides) moved since the last
        look."""
        br = self.br_int
        key = (br, getattr(br, "port_generation", None), self.liveness.bfd_driven,
               tuple(self.liveness.overrides.items()))
        if self._ports_seen is None or self._ports_seen[0] != key or key[1] is None:
            live = self.liveness.read(br)
            self._ports_seen = (key, tuple(sorted(vif_ports(br).items())),
                                tuple(sorted(live.items())))
        ext = self.vswitch.external_ids
        if ext != self._ext_seen:  # a copy only when it moved: views compare cheaply
            self._ext_seen = dict(ext)
        return self._ports_seen[1], self._ports_seen[2], self._ext_seen

    @property
    def pending(self) -> bool:
        """Whether a run has work that cannot wait for an observer: the vswitch changed,
        SB changes that do more than move this chassis's flows (deferral.py), or the
        flows are not installed yet."""
        view = self._ovs_view()
        return self._has_work(view) and not self._can_wait(view)

    def _has_work(self, view: tuple[Any, ...]) -> bool:
        return (self.engine.pending or view != self._ovs_seen
                or (self.install_enabled and not self.ofctrl.installed))

    def _can_wait(self, view: tuple[Any, ...]) -> bool:
        """Only SB changes that move flows are queued (the engine has nothing else)."""
        return (not self._sb_urgent and view == self._ovs_seen and self.inputs.queued
                and (self.ofctrl.installed or not self.install_enabled)
                and not self.engine.forced)

    def run_urgent(self) -> None:
        """The main loop as the lab's converger runs it: what can wait for an observer
        waits (deferral.py)."""
        view = self._ovs_view()
        if not self._can_wait(view):
            self._run(view)

    def run_if_pending(self) -> None:
        """Catch up before the flows are read or a packet crosses them (cheap: the
        vswitch is not read; its changes wait for the next run)."""
        if self.inputs.queued and not self._running:
            self.run()

    def take_ready(self) -> list[PacketOut]:
        """Packet-outs that became ready outside a packet-in (buffered packets released
        by a MAC_Binding, possibly learnt on another chassis)."""
        ready, self.ready = self.ready, []
        return ready

    def reinstall(self) -> None:
        """ovs-vswitchd restarted without its flows: ofctrl reconnects and installs the
        whole desired table again."""
        self.ofctrl.forget_installed()
        self.run()

    def recompute(self) -> None:
        """Drop every cached result and rebuild from scratch (ovn-controller's full run,
        `inc-engine/recompute`)."""
        self.lflow.clear()
        self.pflow.clear()
        self.ofctrl.clear()
        self.runtime.reset()
        self.engine.force_recompute()
        self.run()

    def _here(self) -> Here:
        rt = self.runtime
        me = rt.chassis_uuid()
        ha_member = any(hc["chassis"] == me for hc in self.sb.tables["HA_Chassis"].values())
        return Here(me, self.name, self.cfg.hostname, rt.vifs, rt.state.resident, ha_member)

    def run(self) -> None:
        """One ovn-controller iteration: the engine over what changed, until the claims
        it makes stop writing new changes; then the flows go to br-int (ofctrl_put)."""
        self._run(self._ovs_view())

    def _run(self, view: tuple[Any, ...]) -> None:
        if not self._has_work(view):
            return  # nothing this chassis watches has changed (the poll loop's no-op)
        t0 = time.perf_counter()
        self._running = True
        try:
            self._iterate(view)
        finally:
            self._running = False
        self.stats["last_run_s"] = time.perf_counter() - t0
        self.stats["runs"] += 1

    def _iterate(self, view: tuple[Any, ...]) -> None:
        # The compiled state is millions of small acyclic objects: cyclic GC passes over
        # them would dominate an incremental run, so collection waits until we are done.
        with gc_paused():
            for i in range(8):
                self._poll_ovs(view if i == 0 else self._ovs_view())
                if not self.engine.pending:
                    break
                self.engine.run()
                bfd.sync_bfd_all(self.br_int, self.runtime.bfd_peers(), self.liveness)
                # update_sb_monitors: the rows the new condition admits come next
                self.inputs.push(self.monitor.move_to(self._condition()))
            self.inputs.queued = any(s.pending for s in self.inputs.sb.values())
            self._sb_urgent = self.inputs.queued
            t1 = time.perf_counter()
            if self.install_enabled:
                self.ofctrl.put(self.br_int)
            ch.store_nb_cfg(self.sb, self.vswitch, self.name)
        self.stats["last_install_s"] = time.perf_counter() - t1

    def _condition(self) -> Condition:
        rt = self.runtime
        return Condition(monitor_all=ch.monitor_all(self.vswitch), chassis=rt.chassis_uuid(),
                         name=self.name, local_lports=frozenset(rt.vifs.keys() | rt.bound),
                         local_dps=rt.state.local_dps)

    def _poll_ovs(self, view: tuple[Any, ...]) -> None:
        """The vswitch's changes since the last look, into the engine's OVS inputs."""
        if view == self._ovs_seen:
            return
        old, self._ovs_seen = self._ovs_seen, view
        ch.sync_chassis_config(self.sb, self.vswitch, self.cfg, self.runtime.chassis_uuid())
        self.liveness.update(dict(view[1]))
        self.runtime.vifs = dict(view[0])
        if old is None or old[0] != view[0]:
            self.inputs.ovs_interface.push([view[0]])
        if old is None or old[1] != view[1]:
            self.inputs.bfd.push([view[1]])

    # ------------------------------------------------------------ controller actions
    def packet_in(self, event: Any) -> list[PacketOut]:
        from ovnlab.controller.pinctrl import packet_in
        return packet_in(self, event)

    def periodic(self, now: float) -> list[PacketOut]:
        """pinctrl's timers: what they read (claims, gateway ports, NAT addresses) never
        waits, so the flows may (a GARP sent catches up as it enters br-int)."""
        from ovnlab.controller.pinctrl import periodic
        self.run_urgent()
        return periodic(self, now)


class _Inputs:
    """The engine's inputs: an SB table's tracked changes each (the tables ovn-controller
    monitors), and the vswitch's interfaces and BFD state."""

    TABLES = ("SB_Global", "Chassis", "Encap", "Datapath_Binding", "Port_Binding",
              "HA_Chassis_Group", "HA_Chassis", "Gateway_Chassis", "Logical_Flow",
              "Logical_DP_Group", "Address_Set", "Port_Group", "Multicast_Group",
              "MAC_Binding")

    def __init__(self) -> None:
        self.sb: dict[str, ChangeSource[Change]] = {
            # a row changed several times since the last run is seen once, as the IDL
            # tracks it (a chassis catching up on many boots handles each row once)
            t: ChangeSource(f"SB_{t.lower()}", net=net_changes) for t in self.TABLES}
        self.ovs_interface: ChangeSource[Any] = ChangeSource("OVS_interface")
        self.bfd: ChangeSource[Any] = ChangeSource("bfd_chassis")
        self.queued = False  # SB changes pushed since the last run (a cheap `pending`)

    def push(self, changes: list[Change]) -> None:
        by_table: dict[str, list[Change]] = {}
        for c in changes:
            if c.table in self.sb:
                by_table.setdefault(c.table, []).append(c)
        for table, cs in by_table.items():
            self.sb[table].push(cs)
        self.queued = self.queued or bool(by_table)

    def tracked(self, *tables: str) -> list[Change]:
        return [c for t in tables for c in self.sb[t].tracked]


def _handled(updated: bool | None) -> Handled:
    if updated is None:
        return Handled.UNHANDLED
    return Handled.UPDATED if updated else Handled.UNCHANGED


def _ha_rows_handler(rt: RuntimeData, changes: list[Change], bfd_driven: bool) -> Handled:
    """HA_Chassis_Group, HA_Chassis and Gateway_Chassis rewritten without moving any
    gateway port's chassis order: nothing to redo, unless a group's ref_chassis moved
    on a controller without a switch running BFD (it counts every peer up, so the peers
    decide who leads). The BFD peers themselves are worked out again at every iteration
    (bfd_run)."""
    ref_moved = any(c.table == "HA_Chassis_Group" and (
        c.old is None or c.new is None or c.old["ref_chassis"] != c.new["ref_chassis"])
        for c in changes)
    if (ref_moved and not bfd_driven) or not rt.ha_orders_unchanged():
        return Handled.UNHANDLED
    return Handled.UNCHANGED


def wire(ctl: Controller) -> Engine:
    """ovn-controller.c's engine: the nodes and, per input, the change handler that
    copes with it (none: the node recomputes)."""
    sb, rt, lf, pf = ctl.inputs.sb, ctl.runtime, ctl.lflow, ctl.pflow
    tracked = ctl.inputs.tracked
    ha_tables = ("HA_Chassis_Group", "HA_Chassis", "Gateway_Chassis")

    def ha_handler() -> Handled:
        return _ha_rows_handler(rt, tracked(*ha_tables), ctl.liveness.bfd_driven)

    runtime = Node("runtime_data", rt.recompute, [
        *((sb[t], None) for t in ("Chassis", "Encap", "Datapath_Binding")),
        (ctl.inputs.bfd, lambda: _handled(rt.handle_liveness())),
        *((sb[t], ha_handler) for t in ha_tables),
        (sb["Port_Binding"], lambda: _handled(rt.handle_port_binding(tracked("Port_Binding")))),
        (ctl.inputs.ovs_interface, lambda: _handled(rt.handle_vifs())),
    ], snapshot=lambda: rt.state, clear_tracked=rt.clear_tracked)
    ct_zones = Node("ct_zones", ctl.zones.recompute, [(sb["Datapath_Binding"], None),
                                                      (runtime, None)],
                    snapshot=lambda: dict(ctl.zones.zones))
    # Inputs without a handler come first: their change recomputes the node at once.
    lflow_tables = ("Logical_Flow", "Address_Set", "Port_Group", "Multicast_Group",
                    "Port_Binding")

    def lflow_handler() -> Handled:
        return _handled(lf.handle(tracked(*lflow_tables)))

    lflow_output = Node("lflow_output", lf.recompute, [
        (sb["Datapath_Binding"], None), (sb["Logical_DP_Group"], None),
        (runtime, lflow_handler), *((sb[t], lflow_handler) for t in lflow_tables),
    ], snapshot=lf.snapshot, clear_tracked=lf.clear_tracked)
    pflow_tables = ("Port_Binding", "Multicast_Group", "MAC_Binding")

    def pflow_handler() -> Handled:
        return _handled(pf.handle(tracked(*pflow_tables)))

    pflow_output = Node("pflow_output", pf.recompute, [
        (ct_zones, pflow_handler), (runtime, pflow_handler),
        *((sb[t], pflow_handler) for t in pflow_tables),
    ], snapshot=pf.snapshot, clear_tracked=pf.clear_tracked)
    flow_output = Node("flow_output", lambda: True, [
        (lflow_output, lambda: Handled.UPDATED), (pflow_output, lambda: Handled.UPDATED),
        (sb["SB_Global"], lambda: Handled.UNCHANGED)],
        snapshot=lambda: sorted(format_flow_mod(f) for f in ctl.ofctrl.flows()))
    return Engine(flow_output)

