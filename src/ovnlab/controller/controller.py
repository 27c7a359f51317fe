"""ovn-controller for one chassis (ovn-controller.c, OVN 22.03): wires its parts, each in
the module named for OVN's file — chassis settings and rows (chassis), port claims and the
per-chassis runtime data (binding, ha_chassis, bfd), tunnels (encaps), provider patch
ports (patch), conntrack zones (ct_zones), logical flows compiled to OpenFlow
(lflow_output), physical flows (pflow_output), the desired vs installed table (ofctrl),
and the controller-side actions (pinctrl).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from ovnlab.controller import bfd
from ovnlab.controller import chassis as ch
from ovnlab.controller.binding import RuntimeData, RuntimeState, vif_ports
from ovnlab.controller.chassis import BR_INT, ChassisConfig
from ovnlab.controller.ct_zones import ct_zone_users, update_ct_zones
from ovnlab.controller.lflow import OFFlow
from ovnlab.controller.lflow_output import LflowOutput
from ovnlab.controller.ofctrl import Ofctrl, PacketOut
from ovnlab.controller.pflow_output import PflowOutput
from ovnlab.controller.physical import PortInfo
from ovnlab.controller.pinctrl import HeldPackets, run_buffered
from ovnlab.gc_pause import gc_paused
from ovnlab.ovsdb import Change, Database

__all__ = ["BR_INT", "Controller", "PacketOut"]


class Controller:
    """`Controller(sb, vswitch)`: the chassis named by the vswitch's external_ids."""

    def __init__(self, sb: Database, vswitch: Any, *, install: bool = True) -> None:
        self.sb = sb
        self.vswitch = vswitch
        self.cfg = ChassisConfig.of(vswitch)
        self.name = self.cfg.system_id
        self.install_enabled = install
        self.ct_zones: dict[str, int] = {}
        self.stats: dict[str, float] = {"runs": 0, "full_recomputes": 0, "lflows_compiled": 0,
                                        "address_set_patches": 0,
                                        "last_run_s": 0.0, "last_install_s": 0.0}
        self.liveness = bfd.Liveness(self.name, vswitch)
        self.runtime = RuntimeData(sb, vswitch, self.cfg, self.liveness)
        self.ofctrl = Ofctrl()
        self.lflow = LflowOutput(sb, self.runtime, self.ofctrl, self.stats)
        self.pflow = PflowOutput(sb, self.runtime, self.ofctrl, self.ct_zones)
        self._alive_seen: dict[str, bool] = {}
        self._pending: list[Change] = []
        self._running = False
        self._dirty_all = True
        self._last_snap: tuple[Any, ...] | None = None
        self.garp: Any = None  # pinctrl's GARP state, created lazily
        # pinctrl's buffered packets: (datapath key, next-hop IP) -> held packets
        self.buffered: dict[tuple[int, int], HeldPackets] = {}
        self.clock: Callable[[], float] = lambda: 0.0  # the fabric gives its clock
        self.ready: list[PacketOut] = []
        self.on_ready: Callable[[], None] | None = None  # the fabric's wake-up for `ready`
        self.eager = True  # run on every SB commit (see _on_sb)
        ch.register_chassis(sb, self.cfg)
        for bridge in ch.ensure_bridges(vswitch, self.cfg):
            if hasattr(bridge, "replace_flows"):
                bridge.replace_flows(self.ofctrl.to_engine(
                    [], ["table=0,priority=0,actions=NORMAL"]))
        sb.subscribe(self._on_sb)
        self.run()

    # ------------------------------------------------------------ what the lab reads
    @property
    def br_int(self) -> Any:
        return self.vswitch.bridges[BR_INT]

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

    def flows(self) -> list[OFFlow]:
        """The desired br-int flow table (what ovn-controller would install)."""
        return self.ofctrl.flows()

    def dump_flows(self) -> list[str]:
        """`ovs-ofctl dump-flows br-int` lines without cookie/duration/counters, sorted
        by table, then priority descending."""
        fl = sorted(self.flows(), key=lambda f: (f.table, -f.priority, f.match_text()))
        return [f.dump_text() for f in fl]

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
        """SB changes are queued and, when `eager`, processed at once. A lab of many chassis
        turns `eager` off: the next `run()` (its convergence, or `run_if_pending()` before
        this chassis handles a packet) processes them, so one commit does not cost every
        chassis a full iteration."""
        self._pending.extend(changes)
        if self.eager:
            self.run()
        if self.buffered and run_buffered(self) and self.on_ready is not None:
            self.on_ready()

    def run_if_pending(self) -> None:
        """ovn-controller's main loop woken by an SB update, before a packet is handled."""
        if self._pending or self._dirty_all:
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
        self._last_snap = None
        self.run()

    def recompute(self) -> None:
        """Drop every cached result and rebuild from scratch (ovn-controller's full run)."""
        self.lflow.clear()
        self.pflow.clear()
        self.ofctrl.clear()
        self.runtime.reset()
        self._dirty_all = True
        self._last_snap = None
        self.run()

    def run(self) -> None:
        """One ovn-controller iteration (re-entrant calls fold into the running one)."""
        if self._running:
            return
        ch.sync_cms_options(self.sb, self.vswitch, self.runtime.chassis_uuid())
        self.runtime.vifs = vif_ports(self.br_int)  # OVS is read once per iteration
        live = self.liveness.refresh(self.br_int)
        snap = (tuple(sorted(self.runtime.vifs.items())), tuple(sorted(live.items())))
        if (not self._pending and not self._dirty_all and snap == self._last_snap
                and (self.ofctrl.installed or not self.install_enabled)):
            return  # nothing this chassis watches has changed (the poll loop's no-op)
        self._last_snap = snap
        self._running = True
        t0 = time.perf_counter()
        # The compiled state is millions of small acyclic objects: cyclic GC passes over
        # them would dominate an incremental run, so collection waits until we are done.
        try:
            with gc_paused():
                self._iterate()
                t1 = time.perf_counter()
                if self.install_enabled:
                    self.ofctrl.put(self.br_int)
                ch.store_nb_cfg(self.sb, self.vswitch, self.name)
            self.stats["last_install_s"] = time.perf_counter() - t1
            self.stats["last_run_s"] = time.perf_counter() - t0
            self.stats["runs"] += 1
        finally:
            self._running = False

    def _iterate(self) -> None:
        """Process the queued changes until claims stop writing new ones."""
        for _ in range(8):
            self.liveness.forget_active()  # the SB may have moved since
            if self._only_neighbors():
                changes, self._pending = self._pending, []
                self.pflow.redo_neighbors(dict.fromkeys(c.uuid for c in changes))
            else:
                self.runtime.claim(self._pending, self._dirty_all)
                changes, self._pending = self._pending, []
                self._process(changes)
            if not self._pending:
                break

    def _only_neighbors(self) -> bool:
        """Only MAC_Bindings changed (what a ping-all mostly writes): neither bindings
        nor OVS nor liveness, so nothing but neighbour flows needs a look."""
        return (not self._dirty_all and self.runtime.vifs == self.runtime.claimed_vifs
                and self._alive_seen == self.liveness.live
                and all(c.table == "MAC_Binding" for c in self._pending))

    # ------------------------------------------------------------ incremental compile
    def _process(self, changes: list[Change]) -> None:
        rt = self.runtime
        old = rt.state
        live_moved = self._alive_seen != self.liveness.live
        st = rt.derive(changes, self._dirty_all or live_moved)
        old_zones = dict(self.ct_zones)
        update_ct_zones(self.ct_zones, *ct_zone_users(
            st.local_dps, [*st.vif_ofports, *st.patch_ofports], self.sb))
        rt.state = st
        bfd.sync_bfd_all(self.br_int, rt.bfd_peers(), self.liveness)
        self.lflow.reset_envs()
        tables = {c.table for c in changes}
        names: set[str] = set()
        self.lflow.index_groups(changes, st, old, names, self._dirty_all)
        full_phys = (self._dirty_all or live_moved or self.ct_zones != old_zones
                     or _physical_inputs(st) != _physical_inputs(old))
        pb_changed = {c.uuid for c in changes if c.table == "Port_Binding"}
        pb_names = _changed_names(changes, names)
        names |= {f"resident:{n}" for n in st.resident ^ old.resident}
        # A VIF appearing or leaving changes which switch-port flows are "related" here.
        names |= set(st.vif_ofports.keys() ^ old.vif_ofports.keys())
        self.lflow.process(changes, tables, st, old, names, self._dirty_all)
        self.pflow.process(changes, tables, st, full_phys, names, pb_changed, pb_names)
        self._alive_seen = dict(self.liveness.live)
        self._dirty_all = False

    # ------------------------------------------------------------ controller actions
    def packet_in(self, event: Any) -> list[PacketOut]:
        from ovnlab.controller.pinctrl import packet_in
        return packet_in(self, event)

    def periodic(self, now: float) -> list[PacketOut]:
        from ovnlab.controller.pinctrl import periodic
        self.run()
        return periodic(self, now)


def _physical_inputs(st: RuntimeState) -> tuple[Any, ...]:
    """What every physical flow may read: a change in any redoes them all."""
    return (st.local_dps, st.tunnels, st.patch_ofports, st.vif_ofports, st.active_cr,
            st.dp_keys, st.localnet_of_dp, st.peer_router_macs)


def _changed_names(changes: list[Change], names: set[str]) -> set[str]:
    """Ports whose binding changed, by name (old and new); adds to `names` the port and
    multicast group names whose lookups logical flows see moved."""
    pb_names: set[str] = set()
    for c in changes:
        if c.table == "Port_Binding":
            for r in (c.old, c.new):
                if r is not None:
                    pb_names.add(r["logical_port"])
            # Only what port-name lookups see matters to logical flows (residency is
            # tracked separately).
            if c.old is None or c.new is None or any(
                    c.old[k] != c.new[k] for k in ("logical_port", "tunnel_key", "datapath")):
                names.update(r["logical_port"] for r in (c.old, c.new) if r is not None)
        elif c.table == "Multicast_Group":
            # Logical flows see a group only through its key (`outport = "_MC_flood"`);
            # its members matter to the physical flows alone.
            if c.old is None or c.new is None or any(
                    c.old[k] != c.new[k] for k in ("name", "tunnel_key", "datapath")):
                names.update(r["name"] for r in (c.old, c.new) if r is not None)
    return pb_names
