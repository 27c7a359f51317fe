"""binding.c and en_runtime_data (OVN 22.03): claim the port bindings plugged here and the
gateway ports this chassis leads, and the per-chassis view of the Southbound derived from
them (local datapaths, residency, the ports' ofports).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ovnlab.controller import bfd, ha_chassis
from ovnlab.controller.chassis import BR_INT, ChassisConfig
from ovnlab.controller.encaps import sync_tunnels
from ovnlab.controller.patch import sync_patches
from ovnlab.controller.physical import PortInfo
from ovnlab.ovsdb import Change, Database, Row

# SB tables whose change re-derives every port binding (chassis names, HA order, keys)
FULL_TABLES = frozenset(("Chassis", "Encap", "HA_Chassis_Group", "HA_Chassis",
                         "Gateway_Chassis", "Datapath_Binding"))
CLAIMED_TYPES = ("", "virtual", "external")


@dataclass
class RuntimeState:
    """Derived per-chassis state; a change in it triggers wider recomputation."""

    ports: dict[str, PortInfo] = field(default_factory=dict)
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


def vif_ports(br_int: Any) -> dict[str, int]:
    """iface-id → ofport of the VIFs plugged into br-int (OVS is read once per iteration)."""
    out: dict[str, int] = {}
    for port in br_int.ports.values():
        iface = (getattr(port, "external_ids", None) or {}).get("iface-id")
        if iface and getattr(port, "type", "") in ("", "internal", "system"):
            out[iface] = int(getattr(port, "ofport", 0) or 0)
    return out


class RuntimeData:
    """Port bindings by name, updated from the changes; the ones bound here and the
    non-VIF ones (few) are what the derived state is computed from."""

    def __init__(self, sb: Database, vswitch: Any, cfg: ChassisConfig,
                 liveness: bfd.Liveness) -> None:
        self.sb = sb
        self.vswitch = vswitch
        self.cfg = cfg
        self.name = cfg.system_id
        self.liveness = liveness
        self.state = RuntimeState()
        self.ports: dict[str, PortInfo] = {}
        self.pb_names: dict[str, str] = {}
        self.bound: set[str] = set()
        self.special: dict[str, PortInfo] = {}
        self.claimed_vifs: dict[str, int] = {}
        self.vifs: dict[str, int] = {}  # iface-id → ofport on br-int, read by each run
        self._chassis_uuid = ""
        self._peers_memo: tuple[tuple[int, ...], set[str]] | None = None  # (seqnos, peers)
        # tracked data of this engine run, for the nodes that read this one's changes
        self.prev: RuntimeState | None = None  # the state before this run's changes
        self.live_moved = False  # liveness changed: everything physical is redone

    def reset(self) -> None:
        self.state = RuntimeState()
        self.claimed_vifs = {}

    def clear_tracked(self) -> None:
        self.prev = None
        self.live_moved = False

    @property
    def before(self) -> RuntimeState:
        """The state before this engine run's changes (the current one if none)."""
        return self.prev if self.prev is not None else self.state

    # ------------------------------------------------------------ engine node
    def recompute(self) -> bool:
        """en_runtime_data's run: claim and derive from every binding."""
        self._update([], full=True)
        self.live_moved = True
        return True

    def handle_port_binding(self, changes: list[Change]) -> bool:
        """runtime_data_sb_port_binding_handler: claim and re-index the changed bindings.
        True if the derived state moved (the bindings themselves are their consumers'
        own input)."""
        return self._update(changes, full=False)

    def handle_liveness(self) -> bool:
        """The tunnels' BFD state moved: which gateway ports this chassis leads, and so
        claims and holds resident, is worked out again. Nothing else derived here, and no
        physical flow, reads it (the datapath's bundle() follows BFD by itself)."""
        return self._update([], full=False)

    def handle_vifs(self) -> bool:
        """runtime_data_ovs_interface_handler: VIFs plugged or unplugged."""
        if self.vifs == self.claimed_vifs:
            return False
        return self._update([], full=False)

    def _update(self, changes: list[Change], full: bool) -> bool:
        if self.prev is None:
            self.prev = self.state
        self.liveness.forget_active()  # the SB may have moved since
        self.claim(changes, full)
        before, self.state = self.state, self.derive(changes, full)
        return self.state != before

    def chassis_uuid(self) -> str:
        row = self.sb.tables["Chassis"].get(self._chassis_uuid)
        if row is None or row["name"] != self.name:
            self._chassis_uuid = self.sb.get("Chassis", self.name).uuid
        return self._chassis_uuid

    # ------------------------------------------------------------ HA and BFD
    def is_active_gw(self, order: list[str]) -> bool:
        lv = self.liveness
        return ha_chassis.is_active(self.name, lv.is_alive(self.name), order,
                                    lambda: lv.active_tunnels(self.bfd_peers()))

    def bfd_peers(self) -> set[str]:
        """bfd.bfd_peers, worked out again only when a table it reads changed (it reads
        every HA group's members and ref_chassis, and is asked at every iteration)."""
        seen = tuple(self.sb.table_seqno.get(t, 0) for t in bfd.PEER_TABLES)
        if self._peers_memo is None or self._peers_memo[0] != seen:
            self._peers_memo = (seen, bfd.bfd_peers(self.name, self.sb))
        return self._peers_memo[1]

    def ha_orders_unchanged(self) -> bool:
        """Whether every gateway port's HA chassis, by priority, are still those it was
        indexed with: 22.03's northd re-creates a gateway port's HA_Chassis rows at each
        of its runs, which moves nothing here (its ovn-controller does not even watch
        these tables: they are read when a binding changes)."""
        pbs = self.sb.tables["Port_Binding"]
        return all(p.uuid in pbs and tuple(ha_chassis.ha_order(self.sb, pbs[p.uuid]))
                   == p.ha_chassis for p in self.special.values()
                   if p.type == "chassisredirect")

    # ------------------------------------------------------------ claims
    def _claim_candidates(self, pending: list[Change], full: bool) -> list[Row]:
        """Only candidates are looked at: the bindings that changed, VIFs plugged or
        unplugged since the last claim, and the few gateway ports; every binding after a
        full recompute or a chassis/HA change."""
        pbs = self.sb.tables["Port_Binding"]
        if full or any(c.table in FULL_TABLES for c in pending):
            return list(pbs.values())
        cand = {c.uuid for c in pending if c.table == "Port_Binding"}
        for name in self.vifs.keys() ^ self.claimed_vifs.keys():
            p = self.ports.get(name)
            if p is not None:
                cand.add(p.uuid)
        cand |= {p.uuid for p in self.special.values()
                 if p.type in ("chassisredirect", "l3gateway")}
        return [pbs[u] for u in cand if u in pbs]

    def _wants(self, pb: Row, mine: bool) -> bool | None:
        """Whether this chassis should hold `pb` (None: not a binding it claims)."""
        typ = pb["type"]
        if typ in CLAIMED_TYPES:
            # binding.c: a VIF is claimed where its iface-id is plugged, unless
            # options:requested-chassis names another chassis.
            req = pb["options"].get("requested-chassis")
            return (typ == "" and pb["logical_port"] in self.vifs
                    and (not req or req in (self.name, self.cfg.hostname)))
        if typ == "chassisredirect":
            order = ha_chassis.ha_order(self.sb, pb)
            return self.is_active_gw(order) if order else mine
        if typ == "l3gateway":
            return bool(pb["options"].get("l3gateway-chassis") == self.name)
        return None

    def claim(self, pending: list[Change], full: bool) -> None:
        """binding.c: claim what is plugged here (and the gateway ports this chassis
        leads), release what is not."""
        me = self.chassis_uuid()
        rows = self._claim_candidates(pending, full)
        self.claimed_vifs = self.vifs
        updates: list[tuple[str, dict[str, Any]]] = []
        for pb in rows:
            typ = pb["type"]
            mine = pb["chassis"] == me
            want = self._wants(pb, mine)
            if want is None:
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
    def derive(self, changes: list[Change], full: bool) -> RuntimeState:
        """The per-chassis view of the SB. Port bindings are indexed once and then
        updated from the changes (runtime_data's incremental handlers); everything derived
        from them is computed from the ports bound here and the few non-VIF ports."""
        st = RuntimeState()
        if full or any(c.table in FULL_TABLES for c in changes):
            self._index_all(st)
        else:
            self._index_changes(st, changes)
        st.ports = self.ports
        self._gateways(st)
        st.local_dps = frozenset(self._local_datapaths(st))
        # binding.c: a localport is never claimed, and is local wherever it is plugged
        st.vif_ofports = {n: o for n, o in self.vifs.items() if n in self.bound
                          or (n in self.special and self.special[n].type == "localport")}
        st.resident = frozenset(
            {n for n in self.bound if self.ports[n].type != "chassisredirect"} | st.active_cr)
        st.patch_ofports = sync_patches(self.sb, self.vswitch, self.special.values(),
                                        st.local_dps, self.cfg.mappings)
        return st

    def _index_all(self, st: RuntimeState) -> None:
        for dp in self.sb.rows("Datapath_Binding"):
            st.dp_keys[dp.uuid] = dp["tunnel_key"]
            ext = dp["external_ids"]
            st.dp_switch[dp.uuid] = "logical-router" not in ext
            st.dp_snat_zone[dp.uuid] = "snat-ct-zone" in ext
        self.ports, self.pb_names, self.bound, self.special = {}, {}, set(), {}
        for pb in self.sb.rows("Port_Binding"):
            self._index_port(pb, st.dp_keys)
        st.tunnels = sync_tunnels(self.vswitch.bridges[BR_INT], self.sb, self.name)

    def _index_changes(self, st: RuntimeState, changes: list[Change]) -> None:
        old = self.state
        st.dp_keys, st.dp_switch, st.dp_snat_zone = old.dp_keys, old.dp_switch, old.dp_snat_zone
        st.tunnels = old.tunnels
        pbs = self.sb.tables["Port_Binding"]
        for uuid in dict.fromkeys(c.uuid for c in changes if c.table == "Port_Binding"):
            self._forget_port(uuid)
            row = pbs.get(uuid)
            if row is not None:
                self._index_port(row, st.dp_keys)

    def _gateways(self, st: RuntimeState) -> None:
        """Active chassisredirect ports, localnet ports and patch peers' router MACs."""
        ports = self.ports
        active: set[str] = set()
        for p in self.special.values():
            if p.type == "chassisredirect":
                if p.ha_chassis and self.name in p.ha_chassis:
                    if self.is_active_gw(list(p.ha_chassis)):
                        active.add(p.name)
                elif not p.ha_chassis and p.chassis == self.name:
                    active.add(p.name)
            elif p.type == "localnet":
                st.localnet_of_dp[p.dp_uuid] = p.name
        macs: dict[str, list[tuple[str, str]]] = {}
        for p in self.special.values():
            if p.type == "patch" and p.peer in ports and ports[p.peer].mac:
                macs.setdefault(p.dp_uuid, []).append((ports[p.peer].uuid, ports[p.peer].mac))
        st.peer_router_macs = {dp: tuple(sorted(v)) for dp, v in macs.items()}
        st.active_cr = frozenset(active)

    def _local_datapaths(self, st: RuntimeState) -> set[str]:
        """Where this chassis has a bound port, plus HA-member routers, closed over patch
        peers (binding.c add_local_datapath__)."""
        ports = self.ports
        ha_member = {p.dp_uuid for p in self.special.values()
                     if p.type == "chassisredirect" and p.ha_chassis
                     and self.name in p.ha_chassis}
        seeds = {ports[n].dp_uuid for n in self.bound
                 if ports[n].type not in ("patch", "localnet")} | ha_member
        seeds |= {ports[n].dp_uuid for n in st.active_cr}
        peers: dict[str, list[str]] = {}
        for p in self.special.values():
            if p.peer in ports and self._floods_to_peer(p):
                peers.setdefault(p.dp_uuid, []).append(ports[p.peer].dp_uuid)
        local: set[str] = set()
        todo = list(seeds)
        while todo:
            dpu = todo.pop()
            if dpu not in local:
                local.add(dpu)
                todo.extend(peers.get(dpu, ()))
        return local

    def _floods_to_peer(self, p: PortInfo) -> bool:
        """local_data.c need_add_peer_to_local: an l3gateway port leads on where it is
        bound here, a patch port always, except a distributed gateway port whose
        chassisredirect port redirects always (centralized NAT only) and may not be held
        here: beyond it (the provider network) nothing is processed locally."""
        if p.type == "l3gateway":
            return p.chassis == self.name
        if p.type != "patch":
            return False
        if not p.chassis_redirect_port:
            return True
        cr = self.ports.get(p.chassis_redirect_port)
        if cr is None:
            return False
        return not cr.always_redirect or self.name in cr.ha_chassis

    def _index_port(self, pb: Row, dp_keys: dict[str, int]) -> None:
        order = ha_chassis.ha_order(self.sb, pb) if pb["type"] == "chassisredirect" else []
        ch_row = self.sb.tables["Chassis"].get(pb["chassis"]) if pb["chassis"] else None
        info = PortInfo(
            uuid=pb.uuid, name=pb["logical_port"], type=pb["type"], dp_uuid=pb["datapath"],
            dp_key=dp_keys.get(pb["datapath"], 0), key=pb["tunnel_key"],
            chassis=ch_row["name"] if ch_row is not None else None,
            peer=pb["options"].get("peer", ""),
            mac=pb["mac"][0].split(" ", 1)[0] if pb["mac"] and pb["type"] == "patch" else "",
            distributed_port=pb["options"].get("distributed-port", ""), tag=pb["tag"],
            chassis_redirect_port=pb["options"].get("chassis-redirect-port", ""),
            always_redirect=pb["options"].get("always-redirect") == "true",
            ha_chassis=tuple(order))
        self.ports[info.name] = info
        self.pb_names[pb.uuid] = info.name
        if info.chassis == self.name:
            self.bound.add(info.name)
        if info.type:
            self.special[info.name] = info

    def _forget_port(self, uuid: str) -> None:
        name = self.pb_names.pop(uuid, None)
        if name is not None and name in self.ports and self.ports[name].uuid == uuid:
            del self.ports[name]
            self.bound.discard(name)
            self.special.pop(name, None)

