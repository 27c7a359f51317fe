"""en_pflow_output (controller/physical.c, OVN 22.03, and lflow.c's neighbour flows): the
physical flows of br-int kept per port binding, multicast group and MAC_Binding, redone
when their row or the chassis state they read changes. The flows themselves are the pure
functions of `physical`.
"""

from __future__ import annotations

from collections.abc import Iterable

from ovnlab.controller import physical as ph
from ovnlab.controller.binding import RuntimeData, RuntimeState
from ovnlab.controller.lflow_output import changed_lport_names
from ovnlab.controller.mc_groups import McGroups
from ovnlab.controller.ofctrl import Ofctrl
from ovnlab.flows import Flow
from ovnlab.flows.format import format_flow_mod
from ovnlab.ovsdb import Change, Database, Row


class PflowOutput:
    """The physical flows by producing row, and the indexes that find what to redo."""

    def __init__(self, sb: Database, rt: RuntimeData, ofctrl: Ofctrl,
                 ct_zones: dict[str, int]) -> None:
        self.sb = sb
        self.rt = rt
        self.ofctrl = ofctrl
        self.ct_zones = ct_zones
        self.name = rt.name
        self._phys_ports: dict[str, list[Flow]] = {}
        self._phys_mc: dict[str, list[Flow]] = {}
        self._neighbors: dict[str, list[Flow]] = {}
        self._mc = McGroups()
        self._neighbor_port: dict[str, str] = {}
        self._macb_of_port: dict[str, set[str]] = {}
        self._handled = False  # handle() ran in this engine run
        self._zones_used: dict[str, int] = {}  # the ct zones the flows were built with

    # ------------------------------------------------------------ engine node
    def recompute(self) -> bool:
        """en_pflow_output's run: every physical flow."""
        self.process([], set(), self.rt.state, True, set(), set(), set())
        return True

    def snapshot(self) -> list[str]:
        """This node's flows, as text (Engine.check's picture of it)."""
        units = self.ofctrl.units
        keys = [*(("pb", u) for u in self._phys_ports), *(("mc", u) for u in self._phys_mc),
                *(("nb", u) for u in self._neighbors), ("tunnels",), ("fixed",)]
        return sorted(format_flow_mod(f) for key in keys for f in units.get(key, ()))

    def clear_tracked(self) -> None:
        self._handled = False

    def handle(self, changes: list[Change]) -> bool | None:
        """The change handler of the runtime data and the SB's Port_Binding,
        Multicast_Group and MAC_Binding changes, in one pass the first time it is called in
        an engine run. None (recompute) when anything every physical flow reads moved."""
        if self._handled:
            return False
        self._handled = True
        rt = self.rt
        if rt.live_moved or physical_inputs(rt.state) != physical_inputs(rt.before):
            return None
        moved = self._ports_moved(rt.state, rt.before)
        if moved is None:
            return None
        names: set[str] = set(moved)
        pb_names = changed_lport_names(changes, names) | moved
        pb_changed = {c.uuid for c in changes if c.table == "Port_Binding"}
        pb_changed |= {rt.state.ports[n].uuid for n in moved if n in rt.state.ports}
        self.process(changes, {c.table for c in changes}, rt.state, False, names, pb_changed,
                     pb_names)
        return True

    def _ports_moved(self, st: RuntimeState, old: RuntimeState) -> set[str] | None:
        """The ports whose VIF (plugged, unplugged, another ofport) or conntrack zone
        moved: a claim handled here, as pflow_output_runtime_data_handler and
        pflow_output_ct_zones_handler do, not a recompute. None: a datapath's zone
        moved (every flow of it reads it)."""
        zones, used = self.ct_zones, self._zones_used
        moved = {n for n in zones.keys() | used.keys() if zones.get(n) != used.get(n)}
        if any(n[-5:] in ("_dnat", "_snat") and n[:-5] in st.dp_keys for n in moved):
            return None
        if moved:
            self._zones_used = dict(zones)
        vifs, before = st.vif_ofports, old.vif_ofports
        return moved | {n for n in vifs.keys() | before.keys() if vifs.get(n) != before.get(n)}

    def clear(self) -> None:
        self._phys_ports.clear()
        self._phys_mc.clear()
        self._neighbors.clear()

    def process(self, changes: list[Change], tables: set[str], st: RuntimeState,
                          full_phys: bool, names: set[str], pb_changed: set[str],
                          pb_names: set[str]) -> None:
        ctx = self._phys_ctx()
        mcs = self.sb.tables["Multicast_Group"]
        if full_phys:
            self._zones_used = dict(self.ct_zones)
            for uuid in list(self._phys_ports):
                self._put(self._phys_ports, "pb", uuid, None)
            for uuid in list(self._phys_mc):
                self._put(self._phys_mc, "mc", uuid, None)
            for p in st.ports.values():
                self._put(self._phys_ports, "pb", p.uuid, ph.port_flows(ctx, p))
            self._mc.clear()
            for mc in mcs.values():
                self._mc.set_group(ctx, mc, st.dp_keys.get(mc["datapath"], 0), self.rt.pb_names)
                self._put(self._phys_mc, "mc", mc.uuid, self._mc.flows(ctx, mc.uuid))
        else:
            for uuid in pb_changed:
                self._put(self._phys_ports, "pb", uuid, None)
            touch = set(pb_changed)
            touch |= {p.uuid for p in self.rt.special.values()
                      if p.peer in names or p.distributed_port in names}
            for uuid in touch:
                name = self.rt.pb_names.get(uuid)
                if name is not None:
                    self._put(self._phys_ports, "pb", uuid, ph.port_flows(ctx, st.ports[name]))
            self._redo_mc(ctx, changes, pb_changed, pb_names)
        if full_phys or "MAC_Binding" in tables or "Port_Binding" in tables:
            touched = {c.uuid for c in changes if c.table == "MAC_Binding"}
            if full_phys:
                touched |= set(self._neighbors) | set(self.sb.tables["MAC_Binding"])
            else:  # a neighbour flow names its port's keys: redo those of changed ports
                touched |= {u for n in pb_names for u in self._macb_of_port.get(n, ())}
            self.redo_neighbors(touched)
        if full_phys:  # the tunnel ports are part of what full_phys compares
            self.ofctrl.set_unit(("tunnels",), ph.tunnel_flows(ctx))
        if ("fixed",) not in self.ofctrl.units:
            self.ofctrl.set_unit(("fixed",), ph.fixed_flows())

    def _redo_mc(self, ctx: ph.PhysCtx, changes: list[Change], pb_changed: set[str],
                 pb_names: set[str]) -> None:
        """Groups whose row changed, and the parts of members whose binding changed (a
        gateway port's part reads its distributed port too)."""
        mcs = self.sb.tables["Multicast_Group"]
        names = self.rt.pb_names
        dirty: set[str] = set()
        for c in changes:
            if c.table != "Multicast_Group":
                continue
            row = mcs.get(c.uuid)
            if row is None:
                self._mc.drop_group(c.uuid)
                self._put(self._phys_mc, "mc", c.uuid, None)
                continue
            if c.old is None or not self._mc.update_members(ctx, row, names):
                key = self.rt.state.dp_keys.get(row["datapath"], 0)
                self._mc.set_group(ctx, row, key, names)
            dirty.add(c.uuid)
        members = set(pb_changed)
        members |= {p.uuid for p in self.rt.special.values() if p.distributed_port in pb_names}
        for pb in members:
            dirty |= self._mc.update_port(ctx, pb, names)
        for uuid in dirty:
            self._put(self._phys_mc, "mc", uuid, self._mc.flows(ctx, uuid))

    def _index_neighbor(self, uuid: str, row: Row | None) -> None:
        """MAC_Bindings by logical port: a neighbour flow names its port's keys."""
        port = self._neighbor_port.pop(uuid, None)
        if port is not None:
            uuids = self._macb_of_port[port]
            uuids.discard(uuid)
            if not uuids:
                del self._macb_of_port[port]
        if row is not None:
            self._neighbor_port[uuid] = row["logical_port"]
            self._macb_of_port.setdefault(row["logical_port"], set()).add(uuid)

    def redo_neighbors(self, uuids: Iterable[str]) -> None:
        macbs = self.sb.tables["MAC_Binding"]
        for uuid in uuids:
            row = macbs.get(uuid)
            self._index_neighbor(uuid, row)
            self._put(self._neighbors, "nb", uuid, self._neighbor(row) if row is not None else None)

    def _phys_ctx(self) -> ph.PhysCtx:
        st = self.rt.state
        return ph.PhysCtx(chassis=self.name, ports=st.ports, local_dps=st.local_dps,
                          vif_ofports=st.vif_ofports, patch_ofports=st.patch_ofports,
                          tunnels=st.tunnels, ct_zones=self.ct_zones, active_cr=st.active_cr,
                          localnet_of_dp=st.localnet_of_dp,
                          peer_router_macs=st.peer_router_macs)

    def _neighbor(self, row: Row) -> list[Flow]:
        p = self.rt.state.ports.get(row["logical_port"])
        if p is None or p.dp_uuid not in self.rt.state.local_dps:
            return []
        return ph.neighbor_flows(row.uuid, p.dp_key, p.key, row["ip"], row["mac"])

    def _put(self, group: dict[str, list[Flow]], kind: str, uuid: str,
             flows: list[Flow] | None) -> None:
        if flows is None:
            group.pop(uuid, None)
            self.ofctrl.set_unit((kind, uuid), [])
        else:
            group[uuid] = flows
            self.ofctrl.set_unit((kind, uuid), flows)


def physical_inputs(st: RuntimeState) -> tuple[object, ...]:
    """What many physical flows read: a change in any redoes them all (a VIF or a port's
    zone only redoes its port: PflowOutput._ports_moved)."""
    return (st.local_dps, st.tunnels, st.patch_ofports, st.active_cr,
            st.dp_keys, st.localnet_of_dp, st.peer_router_macs)
