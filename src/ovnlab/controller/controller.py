"""ovn-controller for one chassis: registers the Chassis, claims port bindings, keeps the
tunnel and localnet patch ports, and keeps br-int's OpenFlow tables current, recomputing
only what an SB change touches (flows are indexed by the SB row that produced them).
"""

from __future__ import annotations

import dataclasses
import functools
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ovnlab.controller import physical as ph
from ovnlab.controller.expr import parse_address
from ovnlab.controller.lflow import Compiled, LflowEnv, OFFlow, compile_lflow
from ovnlab.controller.ofpacts import Conjunction
from ovnlab.controller.pinctrl import HeldPackets, run_buffered
from ovnlab.flows import Flow, FlowError, parse_actions, parse_flow, parse_match
from ovnlab.flows.parse import check_actions
from ovnlab.gc_pause import gc_paused
from ovnlab.ovsdb import Change, Database, Row
from ovnlab.packet import Packet
from ovnlab.sb.features import advertised
from ovnlab.topology import NodeSpec

BR_INT = "br-int"
# SB tables whose change re-derives every port binding (chassis names, HA order, keys)
_FULL_TABLES = frozenset(("Chassis", "Encap", "HA_Chassis_Group", "HA_Chassis",
                          "Gateway_Chassis", "Datapath_Binding"))
_PG_DP_PREFIX = re.compile(r"^\d+_")  # northd 22.03 names a datapath's group <key>_<name>
# OFFlow (without its cookie) → the engine's Flow, or why the engine refused it; its
# match and its actions alone → parsed. Pure functions of their keys, so shared by all
# chassis, which share most matches and actions even where whole flows differ (the
# number of a tunnel port, a conntrack zone).
_FLOW_CACHE: dict[tuple[Any, ...], Flow | str] = {}
_MATCH_CACHE: dict[Any, tuple[Any, dict[str, tuple[int, int]]]] = {}
_ACTIONS_CACHE: dict[tuple[Any, ...], tuple[tuple[Any, ...], tuple[str, ...]]] = {}
_CACHE_LIMIT = 200_000


def engine_flow(f: OFFlow) -> Flow | str:
    """`f` as the flow engine's Flow, exactly what `parse_flow(f.ofctl())` gives, or why
    the engine refuses it (an action it lacks)."""
    try:
        match = _MATCH_CACHE.get(f.match)
        if match is None:
            parsed = parse_match(f.match_text())
            match = _MATCH_CACHE[f.match] = (parsed, {n: (v, m) for n, v, m in parsed})
        actions = _ACTIONS_CACHE.get(f.actions)
        if actions is None:
            set_fields: list[str] = []
            actions = _ACTIONS_CACHE[f.actions] = (
                parse_actions(f.actions_text(), set_fields=set_fields), tuple(set_fields))
        check_actions(match[1], *actions)
    except (FlowError, ValueError) as err:
        return str(err)
    return Flow(f.table, f.priority, f.cookie, match[0], actions[0])


@dataclass(frozen=True, slots=True)
class PacketOut:
    """A packet the controller sends: resumed into `bridge` at `table` with `regs`
    (OVN's packet-out/resume), or sent straight out of port `output`."""

    packet: Packet
    in_port: str | None = "CONTROLLER"
    table: int | None = None
    regs: dict[str, int] | None = None
    output: str | None = None
    bridge: str = BR_INT
    tunnel: Any = None


@dataclass
class _State:
    """Derived per-chassis state; a change in it triggers wider recomputation."""

    ports: dict[str, ph.PortInfo] = field(default_factory=dict)
    local_dps: frozenset[str] = frozenset()
    vif_ofports: dict[str, int] = field(default_factory=dict)
    patch_ofports: dict[str, int] = field(default_factory=dict)
    tunnels: dict[str, int] = field(default_factory=dict)
    active_cr: frozenset[str] = frozenset()
    resident: frozenset[str] = frozenset()
    localnet_of_dp: dict[str, str] = field(default_factory=dict)
    # dp uuid → (uuid, MAC) of the router ports its patch ports lead to (ld->peer_ports)
    peer_router_macs: dict[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)
    dp_keys: dict[str, int] = field(default_factory=dict)
    dp_switch: dict[str, bool] = field(default_factory=dict)
    dp_snat_zone: dict[str, bool] = field(default_factory=dict)


class Controller:
    """`Controller(sb, vswitch, node)`; see the module docstring."""

    def __init__(self, sb: Database, vswitch: Any, node: NodeSpec, *,
                 install: bool = True) -> None:
        self.sb = sb
        self.vswitch = vswitch
        self.node = node
        self.name = node.system_id
        self.install_enabled = install
        self.errors: dict[str, str] = {}  # lflow uuid → why it was skipped
        self.install_errors: dict[str, str] = {}  # flow text → why the engine refused it
        self.ct_zones: dict[str, int] = {}
        self._alive: dict[str, bool] = {}  # set_chassis_alive's overrides
        self._live: dict[str, bool] = {}  # this iteration's liveness (overrides + BFD)
        self._alive_seen: dict[str, bool] = {}
        self._active_memo: set[str] | None = None
        self._ref_memo: tuple[int, dict[tuple[str, ...], set[str]]] | None = None
        self._state = _State()
        self._lflows: dict[tuple[str, str], Compiled] = {}  # (lflow, dp) → flows
        self._refs: dict[str, set[tuple[str, str]]] = {}
        self._by_lflow: dict[str, set[tuple[str, str]]] = {}
        self._envs: dict[str, LflowEnv] = {}
        self._as_index: dict[str, tuple[str, ...]] = {}
        self._as_delta: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {}
        # (lflow, datapath) → the flows its placeholders alone compile to, while it stands
        self._as_base: dict[tuple[str, str], tuple[tuple[str, tuple[str, ...]], set[OFFlow]]] = {}
        self._pg_local: dict[str, tuple[str, ...]] = {}  # SB Port_Group → its ports bound here
        self._mc_index: dict[tuple[str, str], int] = {}
        self._mc_rows: dict[str, tuple[str, str]] = {}
        self._mc_members: dict[str, tuple[str, ...]] = {}
        self._mc_of_port: dict[str, set[str]] = {}
        self._neighbor_port: dict[str, str] = {}
        self._macb_of_port: dict[str, set[str]] = {}
        # Port bindings by name, updated from the changes; the ones bound here and the
        # non-VIF ones (few) are what the derived state is computed from.
        self._ports: dict[str, ph.PortInfo] = {}
        self._pb_names: dict[str, str] = {}
        self._bound: set[str] = set()
        self._special: dict[str, ph.PortInfo] = {}
        self._claimed_vifs: dict[str, int] = {}
        self._vifs: dict[str, int] = {}  # iface-id → ofport on br-int, read by each run
        self._chassis_uuid = ""
        self._phys_ports: dict[str, list[OFFlow]] = {}
        self._phys_mc: dict[str, list[OFFlow]] = {}
        self._neighbors: dict[str, list[OFFlow]] = {}
        # The desired table, maintained per producing unit (an lflow on a datapath, a port
        # binding, a multicast group...): flow key → the flows units want there.
        self._units: dict[Any, dict[OFFlow, None]] = {}
        self._contrib: dict[tuple[int, int, Any], list[OFFlow]] = {}
        self._dirty_keys: set[tuple[int, int, Any]] = set()
        self._pending: list[Change] = []
        self._running = False
        self._dirty_all = True
        self._last_snap: tuple[Any, ...] | None = None
        self._installed: dict[tuple[int, int, Any], OFFlow] | None = None
        self.stats: dict[str, float] = {"runs": 0, "full_recomputes": 0, "lflows_compiled": 0,
                                        "address_set_patches": 0,
                                        "last_run_s": 0.0, "last_install_s": 0.0}
        self.garp: Any = None  # pinctrl's GARP state, created lazily
        # pinctrl's buffered packets: (datapath key, next-hop IP) -> held packets
        self.buffered: dict[tuple[int, int], HeldPackets] = {}
        self.clock: Callable[[], float] = lambda: 0.0  # the fabric gives its clock
        self.ready: list[PacketOut] = []
        self.on_ready: Callable[[], None] | None = None  # the fabric's wake-up for `ready`
        self.eager = True  # run on every SB commit (see _on_sb)
        self._register_chassis()
        self._ensure_bridges()
        sb.subscribe(self._on_sb)
        self.run()

    # ------------------------------------------------------------ chassis
    def _register_chassis(self) -> None:
        node = self.node
        mappings = ",".join(f"{p}:{b}" for p, b in node.ovn_bridge_mappings)
        cms = ",".join(node.ovn_cms_options)
        cfg = {"ovn-bridge-mappings": mappings, "ovn-cms-options": cms}
        ext = getattr(self.vswitch, "external_ids", None)
        if isinstance(ext, dict):
            ext.update({"system-id": node.system_id, "ovn-bridge-mappings": mappings,
                        "ovn-encap-ip": node.tunnel_ip, "ovn-encap-type": "geneve",
                        "ovn-cms-options": cms, "hostname": node.hostname})
        with self.sb.transaction() as txn:
            row = self.sb.lookup("Chassis", node.system_id)
            if row is None:
                encap = txn.insert("Encap", type="geneve", ip=node.tunnel_ip,
                                   options={"csum": "true"}, chassis_name=node.system_id)
                txn.insert("Chassis", name=node.system_id, hostname=node.hostname,
                           encaps=(encap.uuid,), other_config={**cfg, **advertised()},
                           external_ids=dict(cfg))
            else:
                txn.update("Chassis", row.uuid, hostname=node.hostname,
                           other_config={**cfg, **advertised()}, external_ids=dict(cfg))
            if not self.sb.find("Chassis_Private", name=node.system_id):
                ch = self.sb.get("Chassis", node.system_id)
                txn.insert("Chassis_Private", name=node.system_id, chassis=ch.uuid)

    def _sync_cms_options(self) -> None:
        """`ovs-vsctl set open . external_ids:ovn-cms-options=...` reaches the Chassis row
        (as ovn-controller's chassis_run does), so Neutron can reschedule gateways."""
        ext = getattr(self.vswitch, "external_ids", None)
        row = self.sb.tables["Chassis"].get(self._my_chassis_uuid())
        if not isinstance(ext, dict) or row is None:
            return
        cms = ext.get("ovn-cms-options", "")
        if row["other_config"].get("ovn-cms-options", "") == cms:
            return
        with self.sb.transaction() as txn:
            txn.update("Chassis", row.uuid,
                       other_config={**row["other_config"], "ovn-cms-options": cms},
                       external_ids={**row["external_ids"], "ovn-cms-options": cms})

    def _ensure_bridges(self) -> None:
        bridges = self.vswitch.bridges
        if BR_INT not in bridges:
            self.vswitch.add_bridge(BR_INT, fail_mode="secure")
        for _physnet, br in self.node.ovn_bridge_mappings:
            if br not in bridges:
                self.vswitch.add_bridge(br)
            bridge = bridges[br]
            if hasattr(bridge, "replace_flows"):
                bridge.replace_flows(self._to_engine([], ["table=0,priority=0,actions=NORMAL"]))

    @property
    def br_int(self) -> Any:
        return self.vswitch.bridges[BR_INT]

    def set_chassis_alive(self, chassis: str, alive: bool) -> None:
        """This controller's view of a chassis's liveness (BFD), by name or hostname."""
        name = self._chassis_name(chassis)
        self._alive[name] = alive
        self.run()

    def _chassis_name(self, key: str) -> str:
        for row in self.sb.rows("Chassis"):
            if key in (row["name"], row["hostname"]):
                return str(row["name"])
        return key

    def is_alive(self, chassis: str) -> bool:
        """Whether `chassis` counts as up here: with BFD running on the tunnels, a peer
        is up while its tunnel's session forwards (bfd_calculate_active_tunnels)."""
        if chassis == self.name or not self._bfd_driven():
            return self._alive.get(chassis, True)
        return self._live.get(chassis, False)

    def _bfd_driven(self) -> bool:
        return bool(getattr(self.vswitch, "runs_bfd", False))

    def _liveness(self) -> dict[str, bool]:
        live = dict(self._alive)
        if self._bfd_driven():
            for port in self.br_int.ports.values():
                ch = (getattr(port, "external_ids", None) or {}).get("ovn-chassis-id")
                if ch and port.bfd.get("enable") == "true":
                    live[ch] = (self._alive.get(ch, True)
                                and port.bfd_status.get("forwarding") == "true")
        return live

    def reinstall(self) -> None:
        """ovs-vswitchd restarted without its flows: ofctrl reconnects and installs the
        whole desired table again."""
        self._installed = None
        self._last_snap = None
        self.run()

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

    def run(self) -> None:
        """One ovn-controller iteration (re-entrant calls fold into the running one)."""
        if self._running:
            return
        self._sync_cms_options()
        self._vifs = self._vif_ports()  # OVS is read once per iteration
        self._live = self._liveness()
        snap = (tuple(sorted(self._vifs.items())), tuple(sorted(self._live.items())))
        if (not self._pending and not self._dirty_all and snap == self._last_snap
                and (self._installed is not None or not self.install_enabled)):
            return  # nothing this chassis watches has changed (the poll loop's no-op)
        self._last_snap = snap
        self._running = True
        t0 = time.perf_counter()
        # The compiled state is millions of small acyclic objects: cyclic GC passes over
        # them would dominate an incremental run, so collection waits until we are done.
        try:
            with gc_paused():
                for _ in range(8):
                    self._active_memo = None  # the SB may have moved since
                    if self._only_neighbors():
                        changes, self._pending = self._pending, []
                        self._redo_neighbors(dict.fromkeys(c.uuid for c in changes))
                    else:
                        self._claim()
                        changes, self._pending = self._pending, []
                        self._process(changes)
                    if not self._pending:
                        break
                t1 = time.perf_counter()
                self._install()
                self._store_nb_cfg()
            self.stats["last_install_s"] = time.perf_counter() - t1
            self.stats["last_run_s"] = time.perf_counter() - t0
            self.stats["runs"] += 1
        finally:
            self._running = False

    def _store_nb_cfg(self) -> None:
        """store_nb_cfg: once the flows of SB_Global's nb_cfg are installed, report it in
        this chassis's Chassis_Private row with a timestamp (ms of the switch's clock:
        the lab's virtual time). Neutron's agent liveness reads this heartbeat."""
        sbg = next(iter(self.sb.rows("SB_Global")), None)
        cur = sbg["nb_cfg"] if sbg is not None else 0
        if not cur:
            return
        mine = self.sb.lookup("Chassis_Private", self.name)
        if mine is None or mine["nb_cfg"] == cur:
            return
        clock = getattr(self.vswitch, "now", None)
        stamp = round(clock() * 1000) if callable(clock) else 0
        with self.sb.transaction() as txn:
            txn.update("Chassis_Private", mine.uuid, nb_cfg=cur, nb_cfg_timestamp=stamp)

    def _only_neighbors(self) -> bool:
        """Only MAC_Bindings changed (what a ping-all mostly writes): neither bindings
        nor OVS nor liveness, so nothing but neighbour flows needs a look."""
        return (not self._dirty_all and self._vifs == self._claimed_vifs
                and self._alive_seen == self._live
                and all(c.table == "MAC_Binding" for c in self._pending))

    def _redo_neighbors(self, uuids: Iterable[str]) -> None:
        macbs = self.sb.tables["MAC_Binding"]
        for uuid in uuids:
            row = macbs.get(uuid)
            self._index_neighbor(uuid, row)
            self._put(self._neighbors, "nb", uuid, self._neighbor(row) if row is not None else None)

    def recompute(self) -> None:
        """Drop every cached result and rebuild from scratch (ovn-controller's full run)."""
        self._lflows.clear()
        self._as_base.clear()
        self._refs.clear()
        self._by_lflow.clear()
        self._phys_ports.clear()
        self._phys_mc.clear()
        self._neighbors.clear()
        for unit in list(self._units):
            self._set_unit(unit, [])
        self._state = _State()
        self._dirty_all = True
        self._last_snap = None
        self.run()

    # ------------------------------------------------------------ binding
    def _my_chassis_uuid(self) -> str:
        row = self.sb.tables["Chassis"].get(self._chassis_uuid)
        if row is None or row["name"] != self.name:
            self._chassis_uuid = self.sb.get("Chassis", self.name).uuid
        return self._chassis_uuid

    def _vif_ports(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for pname, port in self.br_int.ports.items():
            iface = (getattr(port, "external_ids", None) or {}).get("iface-id")
            if iface and getattr(port, "type", "") in ("", "internal", "system"):
                out[iface] = int(getattr(port, "ofport", 0) or 0)
            del pname
        return out

    def _ha_order(self, pb: Row) -> list[str]:
        """HA chassis names, highest priority first (ha_chassis_get_ordered)."""
        items: list[tuple[int, str]] = []
        group = pb["ha_chassis_group"]
        if group:
            grp = self.sb.lookup("HA_Chassis_Group", group)
            for hc in grp["ha_chassis"] if grp else ():
                hrow = self.sb.lookup("HA_Chassis", hc)
                if hrow and hrow["chassis"]:
                    ch = self.sb.lookup("Chassis", hrow["chassis"])
                    if ch:
                        items.append((hrow["priority"], ch["name"]))
        else:
            for gc in pb["gateway_chassis"]:
                grow = self.sb.lookup("Gateway_Chassis", gc)
                if grow and grow["chassis"]:
                    ch = self.sb.lookup("Chassis", grow["chassis"])
                    if ch:
                        items.append((grow["priority"], ch["name"]))
        items.sort(key=lambda t: (-t[0], t[1]))
        return [n for _p, n in items]

    def _is_active_gw(self, order: list[str]) -> bool:
        """ha_chassis_group_is_active: this chassis, unless a chassis before it in the
        group's priority order is reachable over BFD; with no BFD peer reachable at all
        (the active tunnels empty: this chassis is cut off) it is not active either."""
        if not self.is_alive(self.name):
            return False  # this chassis declared down: as if its ovn-controller were gone
        if len(order) == 1:
            return order[0] == self.name
        active = self._active_tunnels()
        if not active:
            return False
        for ch in order:
            if ch == self.name:
                return True
            if ch in active:
                return False
        return False

    def _active_tunnels(self) -> set[str]:
        """bfd_calculate_active_tunnels: the BFD peers whose session forwards (here: not
        declared dead), once per iteration."""
        if self._active_memo is None:
            self._active_memo = {ch for ch in self._bfd_peers() if self.is_alive(ch)}
        return self._active_memo

    def _claim(self) -> None:
        """binding.c: claim what is plugged here (and the gateway ports this chassis
        leads), release what is not. Only candidates are looked at: the bindings that
        changed, VIFs plugged or unplugged since the last claim, and the few gateway
        ports; every binding after a full recompute or a chassis/HA change."""
        me = self._my_chassis_uuid()
        vifs = self._vifs
        pbs = self.sb.tables["Port_Binding"]
        if self._dirty_all or any(c.table in _FULL_TABLES for c in self._pending):
            rows = list(pbs.values())
        else:
            cand = {c.uuid for c in self._pending if c.table == "Port_Binding"}
            for name in vifs.keys() ^ self._claimed_vifs.keys():
                p = self._ports.get(name)
                if p is not None:
                    cand.add(p.uuid)
            cand |= {p.uuid for p in self._special.values()
                     if p.type in ("chassisredirect", "l3gateway")}
            rows = [pbs[u] for u in cand if u in pbs]
        self._claimed_vifs = vifs
        updates: list[tuple[str, dict[str, Any]]] = []
        for pb in rows:
            typ = pb["type"]
            mine = pb["chassis"] == me
            if typ in ("", "virtual", "external"):
                # binding.c: a VIF is claimed where its iface-id is plugged, unless
                # options:requested-chassis names another chassis.
                req = pb["options"].get("requested-chassis")
                want = (typ == "" and pb["logical_port"] in vifs
                        and (not req or req in (self.name, self.node.hostname)))
            elif typ == "chassisredirect":
                order = self._ha_order(pb)
                want = self._is_active_gw(order) if order else mine
            elif typ == "l3gateway":
                want = pb["options"].get("l3gateway-chassis") == self.name
            else:
                continue
            if want and not (mine and (typ != "" or pb["up"] is True)):
                cols: dict[str, Any] = {"chassis": me}
                if typ == "":
                    cols["up"] = True
                updates.append((pb.uuid, cols))
            elif not want and mine:
                cols = {"chassis": None}
                if typ == "":
                    cols["up"] = False
                updates.append((pb.uuid, cols))
        if updates:
            with self.sb.transaction() as txn:
                for uuid, cols in updates:
                    txn.update("Port_Binding", uuid, **cols)

    # ------------------------------------------------------------ derived state
    def _derive(self, changes: list[Change]) -> _State:
        """The per-chassis view of the SB. Port bindings are indexed once and then
        updated from the changes (runtime_data's incremental handlers); everything derived
        from them is computed from the ports bound here and the few non-VIF ports."""
        old = self._state
        st = _State()
        if self._dirty_all or self._alive_seen != self._live or any(
                c.table in _FULL_TABLES for c in changes):
            for dp in self.sb.rows("Datapath_Binding"):
                st.dp_keys[dp.uuid] = dp["tunnel_key"]
                ext = dp["external_ids"]
                st.dp_switch[dp.uuid] = "logical-router" not in ext
                st.dp_snat_zone[dp.uuid] = "snat-ct-zone" in ext
            self._ports, self._pb_names, self._bound, self._special = {}, {}, set(), {}
            for pb in self.sb.rows("Port_Binding"):
                self._index_port(pb, st.dp_keys)
            st.tunnels = self._sync_tunnels()
        else:
            st.dp_keys, st.dp_switch, st.dp_snat_zone = old.dp_keys, old.dp_switch, old.dp_snat_zone
            st.tunnels = old.tunnels
            pbs = self.sb.tables["Port_Binding"]
            for uuid in dict.fromkeys(c.uuid for c in changes if c.table == "Port_Binding"):
                self._forget_port(uuid)
                row = pbs.get(uuid)
                if row is not None:
                    self._index_port(row, st.dp_keys)
        st.ports = ports = self._ports
        special = self._special.values()
        active: set[str] = set()
        ha_member: set[str] = set()
        for p in special:
            if p.type == "chassisredirect":
                if p.ha_chassis and self.name in p.ha_chassis:
                    ha_member.add(p.dp_uuid)
                    if self._is_active_gw(list(p.ha_chassis)):
                        active.add(p.name)
                elif not p.ha_chassis and p.chassis == self.name:
                    active.add(p.name)
            elif p.type == "localnet":
                st.localnet_of_dp[p.dp_uuid] = p.name
        macs: dict[str, list[tuple[str, str]]] = {}
        for p in special:
            if p.type == "patch" and p.peer in ports and ports[p.peer].mac:
                macs.setdefault(p.dp_uuid, []).append((ports[p.peer].uuid, ports[p.peer].mac))
        st.peer_router_macs = {dp: tuple(sorted(v)) for dp, v in macs.items()}
        st.active_cr = frozenset(active)
        # Local datapaths: where this chassis has a bound port, plus HA-member routers,
        # closed over patch peers (binding.c add_local_datapath__).
        seeds = {ports[n].dp_uuid for n in self._bound
                 if ports[n].type not in ("patch", "localnet")} | ha_member
        seeds |= {ports[n].dp_uuid for n in active}
        peers: dict[str, list[str]] = {}
        for p in special:
            if p.type in ("patch", "l3gateway") and p.peer in ports:
                peers.setdefault(p.dp_uuid, []).append(ports[p.peer].dp_uuid)
        local: set[str] = set()
        todo = list(seeds)
        while todo:
            dpu = todo.pop()
            if dpu not in local:
                local.add(dpu)
                todo.extend(peers.get(dpu, ()))
        st.local_dps = frozenset(local)
        # binding.c: a localport is never claimed, and is local wherever it is plugged
        st.vif_ofports = {n: o for n, o in self._vifs.items() if n in self._bound
                          or (n in self._special and self._special[n].type == "localport")}
        st.resident = frozenset(
            {n for n in self._bound if ports[n].type != "chassisredirect"} | active)
        st.patch_ofports = self._sync_patches(st)
        return st

    def _index_port(self, pb: Row, dp_keys: dict[str, int]) -> None:
        order = self._ha_order(pb) if pb["type"] == "chassisredirect" else []
        ch_row = self.sb.tables["Chassis"].get(pb["chassis"]) if pb["chassis"] else None
        info = ph.PortInfo(
            uuid=pb.uuid, name=pb["logical_port"], type=pb["type"], dp_uuid=pb["datapath"],
            dp_key=dp_keys.get(pb["datapath"], 0), key=pb["tunnel_key"],
            chassis=ch_row["name"] if ch_row is not None else None,
            peer=pb["options"].get("peer", ""),
            mac=pb["mac"][0].split(" ", 1)[0] if pb["mac"] and pb["type"] == "patch" else "",
            distributed_port=pb["options"].get("distributed-port", ""), tag=pb["tag"],
            ha_chassis=tuple(order))
        self._ports[info.name] = info
        self._pb_names[pb.uuid] = info.name
        if info.chassis == self.name:
            self._bound.add(info.name)
        if info.type:
            self._special[info.name] = info

    def special_ports(self) -> list[ph.PortInfo]:
        """The port bindings that are not plain VIFs (patch, localnet, chassisredirect,
        l3gateway...), in SB order: few, whatever the number of VMs."""
        return list(self._special.values())

    def _forget_port(self, uuid: str) -> None:
        name = self._pb_names.pop(uuid, None)
        if name is not None and name in self._ports and self._ports[name].uuid == uuid:
            del self._ports[name]
            self._bound.discard(name)
            self._special.pop(name, None)

    def _sync_tunnels(self) -> dict[str, int]:
        """encaps.c: one geneve port per remote chassis, `ovn-<id[:6]>-<n>` with the first
        free n (tunnel_create_name), so chassis ids sharing 6 characters still differ."""
        br = self.br_int
        existing = {p.name: p for p in br.ports.values()
                    if (getattr(p, "external_ids", None) or {}).get("ovn-chassis-id")}
        current = {p.external_ids["ovn-chassis-id"]: name for name, p in existing.items()}
        want: dict[str, tuple[str, str]] = {}
        taken: set[str] = set()
        remote: list[tuple[str, str]] = []
        for ch in sorted(self.sb.rows("Chassis"), key=lambda c: c["name"]):
            if ch["name"] == self.name:
                continue
            for eu in ch["encaps"]:
                enc = self.sb.lookup("Encap", eu)
                if enc and enc["type"] == "geneve":
                    remote.append((ch["name"], enc["ip"]))
                    break
        for ch_name, ip in remote:  # chassis that already have a port keep its name
            if ch_name in current:
                want[ch_name] = (current[ch_name], ip)
                taken.add(current[ch_name])
        for ch_name, ip in remote:
            if ch_name not in want:
                n = 0
                while f"ovn-{ch_name[:6]}-{n}" in taken:
                    n += 1
                want[ch_name] = (f"ovn-{ch_name[:6]}-{n}", ip)
                taken.add(want[ch_name][0])
        out: dict[str, int] = {}
        names = {n for n, _ip in want.values()}
        for pname in list(existing):
            if pname not in names:
                br.del_port(pname)
        for ch_name, (pname, ip) in sorted(want.items()):
            port = br.ports.get(pname)
            opts = {"remote_ip": ip, "key": "flow", "csum": "true"}
            if port is None or dict(getattr(port, "options", {}) or {}) != opts:
                if port is not None:
                    br.del_port(pname)
                port = br.add_port(pname, type="geneve", options=opts,
                                   external_ids={"ovn-chassis-id": ch_name})
            out[ch_name] = int(port.ofport)
        return out

    def _sync_bfd_all(self) -> None:
        """bfd_run over the tunnel ports, once the state of this iteration is known."""
        peers = self._bfd_peers()
        for port in self.br_int.ports.values():
            ch = (getattr(port, "external_ids", None) or {}).get("ovn-chassis-id")
            if ch:
                self._sync_bfd(port, ch in peers, self.is_alive(ch), self._bfd_driven())

    def _bfd_peers(self) -> set[str]:
        """bfd.c bfd_calculate_chassis: for each HA chassis group of two or more, a member
        runs BFD to the other members and to the group's ref_chassis; a ref chassis (one
        whose local datapaths the group's gateway port serves) to the members."""
        local = self._state.local_dps
        served = {p.ha_chassis for p in self._special.values()
                  if p.type == "chassisredirect" and p.dp_uuid in local}
        refs = self._ref_chassis()
        peers: set[str] = set()
        for group in self._ha_groups():
            if len(group) < 2:
                continue
            if self.name in group:
                peers |= set(group) | refs.get(group, set())
            elif group in served:
                peers |= set(group)
        peers.discard(self.name)
        return peers

    def _ref_chassis(self) -> dict[tuple[str, ...], set[str]]:
        """What northd's HA_Chassis_Group.ref_chassis holds in real OVN (ovnlab's northd
        leaves it empty): by group, the chassis with ports bound on the switches attached
        to any router of the gateway router's lr_group (the routers it reaches through
        switches). Recomputed once per SB change."""
        if self._ref_memo is not None and self._ref_memo[0] == self.sb.seqno:
            return self._ref_memo[1]
        pbs = self.sb.tables["Port_Binding"].values()
        dp_of = {pb["logical_port"]: pb["datapath"] for pb in pbs}
        links: dict[str, set[str]] = {}  # datapath -> datapaths its patch ports reach
        bound: dict[str, set[str]] = {}  # datapath -> chassis (uuids) with ports bound
        for pb in pbs:
            peer = pb["options"].get("peer") if pb["type"] == "patch" else None
            if peer in dp_of:
                links.setdefault(pb["datapath"], set()).add(dp_of[peer])
                links.setdefault(dp_of[peer], set()).add(pb["datapath"])
            if pb["chassis"] and pb["type"] in ("", "virtual", "external"):
                bound.setdefault(pb["datapath"], set()).add(pb["chassis"])
        chassis = self.sb.tables["Chassis"]
        refs: dict[tuple[str, ...], set[str]] = {}
        for p in self._special.values():
            if p.type == "chassisredirect" and p.ha_chassis:
                names = refs.setdefault(p.ha_chassis, set())
                for dp in _reachable(p.dp_uuid, links):
                    names.update(chassis[c]["name"] for c in bound.get(dp, ()) if c in chassis)
        self._ref_memo = (self.sb.seqno, refs)
        return refs

    def _ha_groups(self) -> list[tuple[str, ...]]:
        """Each SB HA_Chassis_Group's chassis names, highest priority first."""
        groups = []
        for grp in self.sb.rows("HA_Chassis_Group"):
            members: list[tuple[int, str]] = []
            for hc in grp["ha_chassis"]:
                hrow = self.sb.lookup("HA_Chassis", hc)
                ch = self.sb.lookup("Chassis", hrow["chassis"]) if hrow and hrow["chassis"] \
                    else None
                if hrow is not None and ch is not None:
                    members.append((hrow["priority"], ch["name"]))
            members.sort(key=lambda t: (-t[0], t[1]))
            groups.append(tuple(n for _p, n in members))
        return groups

    @staticmethod
    def _sync_bfd(port: Any, enabled: bool, alive: bool, driven: bool) -> None:
        """bfd_run: BFD on the tunnel iff its chassis is a BFD peer. When the switch runs
        the sessions (`driven`) their status is theirs; otherwise (a controller without
        a fabric) the status is this controller's belief about the peer, which the
        datapath's bundle() follows (a tunnel without BFD forwards unless its peer is
        declared dead)."""
        bfd, status = getattr(port, "bfd", None), getattr(port, "bfd_status", None)
        if not isinstance(bfd, dict) or not isinstance(status, dict):
            return
        want = {"enable": "true", "check_tnl_key": "true"} if enabled else {}
        if bfd != want:
            bfd.clear()
            bfd.update(want)
        if driven:
            return
        state = "up" if alive else "down"
        if not enabled:
            status.clear()
            if not alive:
                status["forwarding"] = "false"
            return
        flaps = int(status.get("flap_count", "0"))
        if status.get("forwarding") != ("true" if alive else "false"):
            flaps += 1 if alive or status else 0
        status.update(diagnostic="No Diagnostic" if alive else "Control Detection Time Expired",
                      flap_count=str(flaps), forwarding="true" if alive else "false",
                      remote_diagnostic="No Diagnostic", remote_state=state, state=state)

    def _sync_patches(self, st: _State) -> dict[str, int]:
        """patch.c: a patch pair per localnet port of a local datapath whose network has a
        bridge mapping here."""
        mappings = self.node.bridge_mappings
        want: dict[str, str] = {}
        for p in self._special.values():
            if p.type != "localnet" or p.dp_uuid not in st.local_dps:
                continue
            row = self.sb.lookup("Port_Binding", p.uuid)
            net = row["options"].get("network_name", "") if row else ""
            if net in mappings and mappings[net] in self.vswitch.bridges:
                want[p.name] = mappings[net]
        br = self.br_int
        out: dict[str, int] = {}
        for pname, port in list(br.ports.items()):
            lport = (getattr(port, "external_ids", None) or {}).get("ovn-localnet-port")
            if lport and lport not in want:
                br.del_port(pname)
                peer = (getattr(port, "options", None) or {}).get("peer", "")
                for other in self.vswitch.bridges.values():
                    if peer in other.ports:
                        other.del_port(peer)
        for lport, brname in sorted(want.items()):
            n1, n2 = f"patch-{BR_INT}-to-{lport}", f"patch-{lport}-to-{BR_INT}"
            ext = {"ovn-localnet-port": lport}
            port = br.ports.get(n1)
            if port is None:
                port = br.add_port(n1, type="patch", options={"peer": n2}, external_ids=ext)
            other = self.vswitch.bridges[brname]
            if n2 not in other.ports:
                other.add_port(n2, type="patch", options={"peer": n1}, external_ids=ext)
            out[lport] = int(port.ofport)
        return out

    def _zones(self, st: _State) -> None:
        """Conntrack zones (ovn-controller.c update_ct_zones): one per local lport and a
        DNAT and an SNAT zone per local datapath (switches too, as OVN 22.03 does);
        `snat-ct-zone` requests are honoured; zones stay put while their user exists and
        new users get the lowest free ids."""
        users = set(st.vif_ofports) | set(st.patch_ofports)
        requested: dict[str, int] = {}
        for dp in st.local_dps:
            users |= {f"{dp}_dnat", f"{dp}_snat"}
            row = self.sb.tables["Datapath_Binding"].get(dp)
            req = row["external_ids"].get("snat-ct-zone") if row is not None else None
            if req is not None and req.isdigit():
                requested[f"{dp}_snat"] = int(req)
        for u in list(self.ct_zones):
            if u not in users:
                del self.ct_zones[u]
        for u, zone in requested.items():
            for other, z in list(self.ct_zones.items()):
                if z == zone and other != u:
                    del self.ct_zones[other]
            self.ct_zones[u] = zone
        used = set(self.ct_zones.values())
        nxt = 1
        for u in sorted(users - set(self.ct_zones)):
            while nxt in used:
                nxt += 1
            self.ct_zones[u] = nxt
            used.add(nxt)

    # ------------------------------------------------------------ incremental compile
    def _process(self, changes: list[Change]) -> None:
        old = self._state
        st = self._derive(changes)
        old_zones = dict(self.ct_zones)
        self._zones(st)
        self._state = st
        self._sync_bfd_all()
        self._envs = {}
        tables = {c.table for c in changes}
        names: set[str] = set()
        self._index_groups(changes, st, old, names)
        full_phys = (self._dirty_all or st.local_dps != old.local_dps
                     or st.tunnels != old.tunnels or st.patch_ofports != old.patch_ofports
                     or st.vif_ofports != old.vif_ofports or self.ct_zones != old_zones
                     or st.active_cr != old.active_cr or st.dp_keys != old.dp_keys
                     or st.localnet_of_dp != old.localnet_of_dp
                     or st.peer_router_macs != old.peer_router_macs
                     or self._alive_seen != self._live)
        pb_changed = {c.uuid for c in changes if c.table == "Port_Binding"}
        pb_names: set[str] = set()  # ports whose binding changed, by name (old and new)
        for c in changes:
            if c.table == "Port_Binding":
                for r in (c.old, c.new):
                    if r is not None:
                        pb_names.add(r["logical_port"])
                # Only what port-name lookups see matters to logical flows (residency is
                # tracked separately below).
                if c.old is None or c.new is None or any(
                        c.old[k] != c.new[k] for k in ("logical_port", "tunnel_key", "datapath")):
                    for r in (c.old, c.new):
                        if r is not None:
                            names.add(r["logical_port"])
            elif c.table == "Multicast_Group":
                # Logical flows see a group only through its key (`outport = "_MC_flood"`);
                # its members matter to the physical flows alone (handled below).
                if c.old is None or c.new is None or any(
                        c.old[k] != c.new[k] for k in ("name", "tunnel_key", "datapath")):
                    for r in (c.old, c.new):
                        if r is not None:
                            names.add(r["name"])
        names |= {f"resident:{n}" for n in st.resident ^ old.resident}
        # A VIF appearing or leaving changes which switch-port flows are "related" here.
        names |= set(st.vif_ofports.keys() ^ old.vif_ofports.keys())
        self._process_lflows(changes, tables, st, old, names)
        self._process_physical(changes, tables, st, full_phys, names, pb_changed, pb_names)
        self._alive_seen = dict(self._live)
        self._dirty_all = False

    def _index_groups(self, changes: list[Change], st: _State, old: _State,
                      names: set[str]) -> None:
        """Address sets, multicast groups and port groups by name. A port group is seen
        only through its ports bound here (port_groups_cs_local, filtered by the related
        lports, as ovn-controller 22.03 does): a remote port joining a group changes no
        logical flow here."""
        as_before: dict[str, tuple[str, ...] | None] = {}
        if self._dirty_all:
            self._as_index = {r["name"]: tuple(r["addresses"])
                              for r in self.sb.rows("Address_Set")}
            self._mc_index = {(r["datapath"], r["name"]): int(r["tunnel_key"])
                              for r in self.sb.rows("Multicast_Group")}
            self._mc_rows = {r.uuid: (r["datapath"], r["name"])
                             for r in self.sb.rows("Multicast_Group")}
        else:
            for c in changes:
                if c.table == "Address_Set":
                    for r in (c.old, c.new):
                        if r is not None and r["name"] not in as_before:
                            as_before[r["name"]] = self._as_index.get(r["name"])
                    if c.old is not None:
                        self._as_index.pop(c.old["name"], None)
                    row = self.sb.tables["Address_Set"].get(c.uuid)
                    if row is not None:
                        self._as_index[row["name"]] = tuple(row["addresses"])
                elif c.table == "Multicast_Group":
                    gone = self._mc_rows.pop(c.uuid, None)
                    if gone is not None:
                        self._mc_index.pop(gone, None)
                    row = self.sb.tables["Multicast_Group"].get(c.uuid)
                    if row is not None:
                        self._mc_rows[c.uuid] = (row["datapath"], row["name"])
                        self._mc_index[(row["datapath"], row["name"])] = int(row["tunnel_key"])
        for name, before in as_before.items():
            after = self._as_index.get(name)
            if before is not None and after is not None and before != after:
                self._as_delta[name] = (before, after)  # tried incrementally first
            elif before != after:
                names.add("$" + name)
        local = st.vif_ofports.keys()
        groups = {r["name"]: r for r in self.sb.rows("Port_Group")}
        if self._dirty_all or local != old.vif_ofports.keys():
            stale = set(groups) | set(self._pg_local)
        else:
            stale = {r["name"] for c in changes if c.table == "Port_Group"
                     for r in (c.old, c.new) if r is not None}
        for name in stale:
            row = groups.get(name)
            members = None if row is None else tuple(n for n in row["ports"] if n in local)
            before = self._pg_local.get(name)
            if members == before:
                continue
            if members is None:
                del self._pg_local[name]
            else:
                self._pg_local[name] = members
            short = _PG_DP_PREFIX.sub("", name)
            # A datapath's group created or deleted with no port here expands as before
            # (to nothing), unless the name falls back to a plain group of that name.
            if (members or ()) != (before or ()) or (short != name and short in self._pg_local):
                names.add("@" + name)
                names.add("@" + short)

    def _process_lflows(self, changes: list[Change], tables: set[str], st: _State,
                        old: _State, names: set[str]) -> None:
        if self._dirty_all or "Datapath_Binding" in tables or "Logical_DP_Group" in tables \
                or st.dp_snat_zone != old.dp_snat_zone or st.dp_switch != old.dp_switch:
            self.stats["full_recomputes"] += 1
            self._as_delta.clear()
            for key in list(self._lflows):
                self._drop(key)
            for lf in self.sb.rows("Logical_Flow"):
                self._compile_row(lf)
            return
        dps_added = st.local_dps - old.local_dps
        dps_removed = old.local_dps - st.local_dps
        if dps_removed:
            for key in list(self._lflows):
                if key[1] in dps_removed:
                    self._drop(key)
        redo: set[str] = {c.uuid for c in changes if c.table == "Logical_Flow"}
        for n in names:
            for key in self._refs.get(n, ()):
                redo.add(key[0])
        if dps_added:
            for lf in self.sb.rows("Logical_Flow"):
                if set(self._lflow_dps(lf)) & dps_added:
                    redo.add(lf.uuid)
        lflows = self.sb.tables["Logical_Flow"]
        for name, (before, after) in self._as_delta.items():
            delta = _AddressSetDelta.of(name, before, after)
            for key in list(self._refs.get("$" + name, ())):
                if key[0] not in redo and not self._patch_address_set(key, delta):
                    redo.add(key[0])
        self._as_delta.clear()
        for uuid in redo:
            for key in list(self._by_lflow.get(uuid, ())):
                self._drop(key)
            row = lflows.get(uuid)
            if row is not None:
                self._compile_row(row)

    def _process_physical(self, changes: list[Change], tables: set[str], st: _State,
                          full_phys: bool, names: set[str], pb_changed: set[str],
                          pb_names: set[str]) -> None:
        ctx = self._phys_ctx()
        mcs = self.sb.tables["Multicast_Group"]
        if full_phys:
            for uuid in list(self._phys_ports):
                self._put(self._phys_ports, "pb", uuid, None)
            for uuid in list(self._phys_mc):
                self._put(self._phys_mc, "mc", uuid, None)
            for p in st.ports.values():
                self._put(self._phys_ports, "pb", p.uuid, ph.port_flows(ctx, p))
            self._mc_of_port, self._mc_members = {}, {}
            for mc in mcs.values():
                self._index_mc(mc.uuid, mc)
                self._put(self._phys_mc, "mc", mc.uuid, ph.mc_flows(ctx, self._mc_info(mc)))
        else:
            for uuid in pb_changed:
                self._put(self._phys_ports, "pb", uuid, None)
            touch = set(pb_changed)
            touch |= {p.uuid for p in self._special.values() if p.peer in names}
            for uuid in touch:
                name = self._pb_names.get(uuid)
                if name is not None:
                    self._put(self._phys_ports, "pb", uuid, ph.port_flows(ctx, st.ports[name]))
            mc_touch = {c.uuid for c in changes if c.table == "Multicast_Group"}
            for uuid in pb_changed:
                mc_touch |= self._mc_of_port.get(uuid, set())
            for uuid in mc_touch:
                self._put(self._phys_mc, "mc", uuid, None)
                group = mcs.get(uuid)
                self._index_mc(uuid, group)
                if group is not None:
                    self._put(self._phys_mc, "mc", uuid,
                              ph.mc_flows(ctx, self._mc_info(group)))
        if full_phys or "MAC_Binding" in tables or "Port_Binding" in tables:
            touched = {c.uuid for c in changes if c.table == "MAC_Binding"}
            if full_phys:
                touched |= set(self._neighbors) | set(self.sb.tables["MAC_Binding"])
            else:  # a neighbour flow names its port's keys: redo those of changed ports
                touched |= {u for n in pb_names for u in self._macb_of_port.get(n, ())}
            self._redo_neighbors(touched)
        if full_phys:  # the tunnel ports are part of what full_phys compares
            self._set_unit(("tunnels",), ph.tunnel_flows(ctx))
        if ("fixed",) not in self._units:
            self._set_unit(("fixed",), ph.fixed_flows())

    def _index_mc(self, uuid: str, row: Row | None) -> None:
        """Multicast groups by member port binding: a binding's change redoes its groups."""
        old = set(self._mc_members.pop(uuid, ()))
        new = set(row["ports"]) if row is not None else set()
        for pu in old - new:
            groups = self._mc_of_port.get(pu)
            if groups is not None:
                groups.discard(uuid)
                if not groups:
                    del self._mc_of_port[pu]
        for pu in new - old:
            self._mc_of_port.setdefault(pu, set()).add(uuid)
        if row is not None:
            self._mc_members[uuid] = tuple(row["ports"])

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

    def _lflow_dps(self, lf: Row) -> list[str]:
        if lf["logical_datapath"]:
            return [lf["logical_datapath"]]
        if lf["logical_dp_group"]:
            grp = self.sb.tables["Logical_DP_Group"].get(lf["logical_dp_group"])
            return list(grp["datapaths"]) if grp else []
        return []

    def _drop(self, key: tuple[str, str]) -> None:
        self._as_base.pop(key, None)
        comp = self._lflows.pop(key, None)
        if comp is None:
            return
        self._set_unit(key, [])
        keys = self._by_lflow.get(key[0])
        if keys is not None:
            keys.discard(key)
            if not keys:
                del self._by_lflow[key[0]]
        for ref in comp.refs:
            s = self._refs.get(ref)
            if s is not None:
                s.discard(key)
                if not s:
                    del self._refs[ref]

    def _compile_row(self, lf: Row) -> None:
        st = self._state
        tagged = lf["tags"].get("in_out_port") if lf["tags"] else None
        for dp in self._lflow_dps(lf):
            if dp not in st.local_dps:
                continue
            env = self._env(dp)
            if tagged and env.is_switch and not self._related(dp, tagged):
                # A flow for a port of another chassis: OVN's conditional monitoring never
                # even sends it (tags:in_out_port); remember the port to revisit it.
                key = (lf.uuid, dp)
                self._lflows[key] = Compiled([], {tagged})
                self._by_lflow.setdefault(lf.uuid, set()).add(key)
                self._refs.setdefault(tagged, set()).add(key)
                continue
            self.stats["lflows_compiled"] += 1
            comp = compile_lflow(uuid=lf.uuid, pipeline=lf["pipeline"], table_id=lf["table_id"],
                                 priority=lf["priority"], match=lf["match"],
                                 actions=lf["actions"], env=env)
            if comp.error:
                self.errors[lf.uuid] = comp.error
            else:
                self.errors.pop(lf.uuid, None)
            key = (lf.uuid, dp)
            self._lflows[key] = comp
            self._set_unit(key, comp.flows)
            self._by_lflow.setdefault(lf.uuid, set()).add(key)
            for ref in comp.refs:
                self._refs.setdefault(ref, set()).add(key)

    def _patch_address_set(self, key: tuple[str, str], delta: _AddressSetDelta | None) -> bool:
        """lflow.c lflow_handle_addr_set_update: when an address set only gained or lost
        addresses, add and remove just the flows of those addresses instead of compiling
        the whole set again. Each side is compiled with the changed addresses plus two
        placeholder addresses, so the expression keeps the shape it has for the whole set
        (a set of one would not produce conjunctions); the flows that the placeholders
        alone produce are subtracted. False: not applicable, recompile the lflow."""
        lf = self.sb.tables["Logical_Flow"].get(key[0])
        comp = self._lflows.get(key)
        if delta is None or lf is None or comp is None or comp.error:
            return False
        token = "$" + delta.name
        if {r for r in comp.refs if r.startswith("$")} != {token} or len(
                re.findall(re.escape(token) + r"(?![\w.-])", lf["match"])) != 1:
            return False  # other sets, or this one twice: the flows cross-multiply
        env = self._env(key[1])

        def flows(addresses: tuple[str, ...]) -> set[OFFlow] | None:
            sub = dataclasses.replace(env, address_sets={delta.name: addresses})
            out = compile_lflow(uuid=lf.uuid, pipeline=lf["pipeline"], table_id=lf["table_id"],
                                priority=lf["priority"], match=lf["match"],
                                actions=lf["actions"], env=sub)
            return None if out.error else set(out.flows)

        cached = self._as_base.get(key)
        if cached is not None and cached[0] == (delta.name, delta.placeholders):
            base: set[OFFlow] | None = cached[1]
        else:
            base = flows(delta.placeholders)
            if base is not None:
                self._as_base[key] = ((delta.name, delta.placeholders), base)
        removed = flows(delta.removed + delta.placeholders) if delta.removed else base
        added = flows(delta.added + delta.placeholders) if delta.added else base
        if base is None or removed is None or added is None:
            return False
        unit = self._units.get(key, {})
        gone = removed - base
        if any(f not in unit for f in gone):
            return False
        self.stats["address_set_patches"] += 1
        self._patch_unit(key, gone, added - base)
        return True

    def _related(self, dp: str, port: str) -> bool:
        p = self._state.ports.get(port)
        if p is None or p.dp_uuid != dp:
            return True  # unknown here: compile it and let the lookup decide
        env = self._env(dp)
        return env.related_port_keys is None or p.key in env.related_port_keys

    def _env(self, dp: str) -> LflowEnv:
        env = self._envs.get(dp)
        if env is None:
            env = self._envs[dp] = self._make_env(dp)
        return env

    def _make_env(self, dp: str) -> LflowEnv:
        st = self._state
        ports = st.ports
        mcs = self._mc_index

        def lookup(name: str) -> int | None:
            if name == "none":  # lflow.c lookup_port_cb: the "no output port yet" key
                return 0
            p = ports.get(name)
            if p is not None and p.dp_uuid == dp:
                return p.key
            return mcs.get((dp, name))

        related = frozenset(
            [ports[n].key for n in st.vif_ofports if ports[n].dp_uuid == dp]
            + [p.key for p in self._special.values() if p.dp_uuid == dp and p.type in (
                "patch", "localnet", "l2gateway", "l3gateway",
                "chassisredirect", "virtual")])  # a localport: where plugged (vif_ofports)
        return LflowEnv(
            dp_key=st.dp_keys.get(dp, 0), is_switch=st.dp_switch.get(dp, True),
            lookup_port=lookup, is_chassis_resident=lambda n: n in st.resident,
            address_sets=self._as_index,
            port_groups=_PortGroups(self._pg_local, st.dp_keys.get(dp, 0)),
            related_port_keys=related,
            common_nat_zone="reg12" if st.dp_snat_zone.get(dp) else "reg11")

    def _phys_ctx(self) -> ph.PhysCtx:
        st = self._state
        return ph.PhysCtx(chassis=self.name, ports=st.ports, local_dps=st.local_dps,
                          vif_ofports=st.vif_ofports, patch_ofports=st.patch_ofports,
                          tunnels=st.tunnels, ct_zones=self.ct_zones, active_cr=st.active_cr,
                          localnet_of_dp=st.localnet_of_dp,
                          peer_router_macs=st.peer_router_macs)

    def _mc_info(self, mc: Row) -> ph.McInfo:
        names = [n for n in map(self._pb_names.get, mc["ports"]) if n is not None]
        return ph.McInfo(mc.uuid, mc["name"], mc["datapath"],
                         self._state.dp_keys.get(mc["datapath"], 0), mc["tunnel_key"],
                         tuple(names))

    def _neighbor(self, row: Row) -> list[OFFlow]:
        p = self._state.ports.get(row["logical_port"])
        if p is None or p.dp_uuid not in self._state.local_dps:
            return []
        return ph.neighbor_flows(row.uuid, p.dp_key, p.key, row["ip"], row["mac"])

    # ------------------------------------------------------------ output
    def _put(self, group: dict[str, list[OFFlow]], kind: str, uuid: str,
             flows: list[OFFlow] | None) -> None:
        if flows is None:
            group.pop(uuid, None)
            self._set_unit((kind, uuid), [])
        else:
            group[uuid] = flows
            self._set_unit((kind, uuid), flows)

    def _set_unit(self, unit: Any, flows: list[OFFlow]) -> None:
        """Replace what one unit contributes to the desired table, noting the keys touched."""
        old = self._units.pop(unit, None)
        if old:
            for f in old:
                self._withdraw(f)
        if flows:
            self._units[unit] = dict.fromkeys(flows)
            for f in self._units[unit]:
                self._contribute(f)

    def _patch_unit(self, unit: Any, removed: set[OFFlow], added: set[OFFlow]) -> None:
        flows = self._units.setdefault(unit, {})
        for f in removed:
            if f in flows:
                del flows[f]
                self._withdraw(f)
        for f in added:
            if f not in flows:
                flows[f] = None
                self._contribute(f)
        if not flows:
            del self._units[unit]

    def _contribute(self, f: OFFlow) -> None:
        k = (f.table, f.priority, f.match)
        self._contrib.setdefault(k, []).append(f)
        self._dirty_keys.add(k)

    def _withdraw(self, f: OFFlow) -> None:
        """Take back one contribution equal to `f` (equal flows are interchangeable)."""
        k = (f.table, f.priority, f.match)
        lst = self._contrib.get(k)
        if lst is not None:
            for i, g in enumerate(lst):
                if g is f or g == f:
                    del lst[i]
                    break
            if not lst:
                del self._contrib[k]
        self._dirty_keys.add(k)

    def _effective(self, key: tuple[int, int, Any]) -> OFFlow | None:
        """The one flow installed for a key: conjunction flows from several lflows merge
        (ofctrl_add_or_append_flow); otherwise the lowest cookie wins, deterministically."""
        lst = self._contrib.get(key)
        if not lst:
            return None
        if len(lst) == 1:
            return lst[0]
        plain = [f for f in lst if not (f.actions and all(type(a) is Conjunction
                                                          for a in f.actions))]
        if plain:
            return min(plain, key=lambda f: (f.cookie, f.actions_text()))
        acts = sorted({a for f in lst for a in f.actions},
                      key=lambda a: (a.id, a.clause))  # type: ignore[union-attr]
        return OFFlow(lst[0].table, lst[0].priority, lst[0].match, tuple(acts), 0)

    def flows(self) -> list[OFFlow]:
        """The desired br-int flow table (what ovn-controller would install)."""
        out = []
        for k in self._contrib:
            f = self._effective(k)
            if f is not None:
                out.append(f)
        return out

    def dump_flows(self) -> list[str]:
        """`ovs-ofctl dump-flows br-int` lines without cookie/duration/counters, sorted
        as ovs-ofctl --rsort would not; sorted by table, then priority descending."""
        fl = sorted(self.flows(), key=lambda f: (f.table, -f.priority, f.match_text()))
        return [f.dump_text() for f in fl]

    def _install(self) -> None:
        """Push the desired table to br-int: the first time all of it, then only the flows
        that differ from what was installed (ofctrl_put's diff)."""
        if not self.install_enabled:
            return
        br = self.br_int
        if not hasattr(br, "replace_flows"):
            return
        prev = self._installed
        if prev is None or not hasattr(br, "add_flow") or not hasattr(br, "del_flows"):
            desired = {(f.table, f.priority, f.match): f for f in self.flows()}
            br.replace_flows(self._to_engine(desired.values(), []))
            self._installed = desired
            self._dirty_keys.clear()
            return
        added: list[OFFlow] = []
        removed: list[OFFlow] = []
        for k in self._dirty_keys:
            new = self._effective(k)
            old = prev.get(k)
            if new is None:
                if old is not None:
                    removed.append(old)
                    del prev[k]
            elif old is not new and old != new:
                added.append(new)
                prev[k] = new
        self._dirty_keys.clear()
        for f in removed:
            for obj in self._to_engine([f], []):
                br.del_flows(obj, strict=True)
        for obj in self._to_engine(added, []):
            br.add_flow(obj)

    def _to_engine(self, flows: Iterable[OFFlow], texts: list[str]) -> list[Flow]:
        out: list[Flow] = []
        for f in flows:
            # Keyed without the cookie: a replaced lflow often yields the same flows under a
            # new cookie. Shared by every chassis: most flows are the same on all of them.
            key = (f.table, f.priority, f.match, f.actions)
            obj = _FLOW_CACHE.get(key)
            if obj is None:
                if len(_FLOW_CACHE) > _CACHE_LIMIT:
                    for cache in (_FLOW_CACHE, _MATCH_CACHE, _ACTIONS_CACHE):
                        cache.clear()
                obj = _FLOW_CACHE[key] = engine_flow(f)
            if isinstance(obj, str):
                self.install_errors[f.ofctl()] = obj
                continue
            if obj.cookie != f.cookie:
                obj = dataclasses.replace(obj, cookie=f.cookie)
            out.append(obj)
        out.extend(parse_flow(t) for t in texts)
        return out

    # ------------------------------------------------------------ controller actions
    def packet_in(self, event: Any) -> list[PacketOut]:
        from ovnlab.controller.pinctrl import packet_in
        return packet_in(self, event)

    def periodic(self, now: float) -> list[PacketOut]:
        from ovnlab.controller.pinctrl import periodic
        self.run()
        return periodic(self, now)


def _reachable(start: str, links: dict[str, set[str]]) -> set[str]:
    """The datapaths connected to `start` through patch ports (a router's lr_group and
    every switch attached to one of its routers)."""
    seen, todo = {start}, [start]
    while todo:
        for nxt in links.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


@dataclass(frozen=True, slots=True)
class _AddressSetDelta:
    """An address set that gained and lost addresses, with two placeholder addresses of
    its family that it does not hold."""

    name: str
    removed: tuple[str, ...]
    added: tuple[str, ...]
    placeholders: tuple[str, ...]

    @classmethod
    @functools.lru_cache(maxsize=64)  # every chassis sees the same change
    def of(cls, name: str, before: tuple[str, ...],
           after: tuple[str, ...]) -> _AddressSetDelta | None:
        if len(before) < 2 or len(after) < 2:
            return None  # a set of 0 or 1 compiles to another shape
        try:
            parsed_before = {parse_address(a) for a in before}
            parsed_after = {parse_address(a) for a in after}
        except ValueError:
            return None
        if len(parsed_before) != len(before) or len(parsed_after) != len(after):
            return None  # two spellings of one address: their flows coincide
        family = parse_address(after[0]).fmt
        placeholders = _PLACEHOLDERS.get(family)
        if placeholders is None or {parse_address(a) for a in placeholders} & (
                parsed_before | parsed_after):
            return None
        old, new = set(before), set(after)
        return cls(name, tuple(a for a in before if a not in new),
                   tuple(a for a in after if a not in old), placeholders)


_PLACEHOLDERS = {"ipv4": ("0.0.0.1", "0.0.0.2"), "ipv6": ("100::1", "100::2"),
                 "mac": ("00:00:00:00:00:01", "00:00:00:00:00:02")}


class _PortGroups(dict):
    """SB Port_Group by name.  OVN 22.03's northd writes one group per datapath,
    `<datapath tunnel key>_<name>`; plain names are accepted too."""

    def __init__(self, index: dict[str, tuple[str, ...]], dp_key: int) -> None:
        super().__init__()
        self._index = index
        self._dp_key = dp_key

    def get(self, name: str, default: Any = ()) -> Any:
        found = self._index.get(f"{self._dp_key}_{name}")
        if found is None:
            found = self._index.get(name)
        return default if found is None else found
