"""ovn-northd: NB → SB, computed as a whole once, then incrementally per NB change.

Flows are grouped by *owner*, the NB row whose generator produced them (a switch, a switch
port, a router, a router port, a NAT rule, an ACL). An NB change marks owners dirty; only
dirty owners are regenerated and their flows diffed against the SB. A datapath-wide fact
changing (a switch's first stateful ACL, a router's gateway port...) dirties every owner
with flows on that datapath.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from ovnlab.northd.bindings import Bindings
from ovnlab.northd.env import Env
from ovnlab.northd.features import ChassisFeatures
from ovnlab.northd.lflow import FlowSink, LFlow
from ovnlab.northd.model import NBIndex, parse_mac
from ovnlab.northd.router import gen_nat, gen_router, gen_router_port
from ovnlab.northd.switch import gen_acl, gen_self_orig, gen_switch, gen_switch_port
from ovnlab.ovsdb import Change, Database, Row, Transaction

Owner = tuple[str, str]  # (kind, NB uuid)
_KIND_TABLE = {"ls": "Logical_Switch", "lsp": "Logical_Switch_Port", "selforig":
               "Logical_Switch_Port", "lr": "Logical_Router", "lrp": "Logical_Router_Port",
               "nat": "NAT", "acl": "ACL"}
# Columns northd itself writes back into the NB: changes to them alone dirty nothing.
_NB_STATUS_COLUMNS = {"Logical_Switch_Port": {"up"}, "Logical_Router_Port": {"status"}}


@dataclass
class RunStats:
    owners: int = 0
    lflows_added: int = 0
    lflows_deleted: int = 0
    full: bool = False


@dataclass(frozen=True, slots=True)
class Provenance:
    """Why a Logical_Flow exists: its stage, the northd.c function ovnlab mirrors, the NB
    row that owns it (`owner_table`/`owner_uuid`, what an incremental run regenerates) and
    the NB row OVN would name as its stage-hint."""

    stage: str
    source: str
    owner_table: str
    owner_uuid: str
    hint_uuid: str | None


@dataclass
class _SbFlow:
    uuid: str
    refs: int
    owners: list[Owner] = field(default_factory=list)


class Northd:
    """`Northd(nb, sb).run()` computes everything; later `run()` calls apply the NB changes
    seen since (it subscribes to the NB); `recompute()` forces a full run."""

    def __init__(self, nb: Database, sb: Database) -> None:
        self.nb = nb
        self.sb = sb
        self.idx = NBIndex.build(nb)
        self.env = Env(nb, self.idx)
        self.bindings = Bindings(self.env, sb)
        self.owner_flows: dict[Owner, list[LFlow]] = {}
        self.dp_owners: dict[str, set[Owner]] = {}
        self.sb_flows: dict[tuple[str, str, int, int, str, str], _SbFlow] = {}
        self._key_of_sb: dict[str, tuple[str, str, int, int, str, str]] = {}
        self._adopted = self._adopt_lflows()
        self._pending: list[Change] = []
        self._pg_span: dict[str, frozenset[str]] = {}
        self._chassis_dirty = False
        self._features_dirty = False
        self._svc_monitor_mac = ""
        self._started = False
        self._writing_nb = False
        nb.subscribe(self._on_nb)
        sb.subscribe(self._on_sb)

    # ------------------------------------------------------------------ entry points
    def run(self) -> RunStats:
        if not self._started:
            self._chassis_dirty = self._features_dirty = False
            return self.recompute()
        if self._features_dirty:
            self._features_dirty = False
            if ChassisFeatures.of(self.sb.rows("Chassis")) != self.env.features:
                # Every flow spelled by a feature changes: northd recomputes.
                self._chassis_dirty = False
                return self.recompute()
        changes, self._pending = self._pending, []
        chassis_dirty, self._chassis_dirty = self._chassis_dirty, False
        if not changes and not chassis_dirty:
            return RunStats()
        self.idx.apply(changes)
        return self._incremental(changes, chassis_dirty)

    def recompute(self) -> RunStats:
        """Full recompute (what real ovn-northd 22.03 does on every change)."""
        self._pending = []
        self.idx = NBIndex.build(self.nb)
        self.env = Env(self.nb, self.idx, ChassisFeatures.of(self.sb.rows("Chassis")))
        self.bindings.env = self.env
        self.bindings.pg_sync.env = self.env
        self._pg_span = {r.uuid: self._span(r) for r in self.nb.rows("Port_Group")}
        self._sync_globals()
        self._started = True
        nb = self.nb
        owners: list[Owner] = []
        dps = [r.uuid for r in nb.rows("Logical_Switch")] + [r.uuid for r in nb.rows("Logical_Router")]
        ports = ([("Logical_Switch_Port", r.uuid) for r in nb.rows("Logical_Switch_Port")]
                 + [("Logical_Router_Port", r.uuid) for r in nb.rows("Logical_Router_Port")])
        for r in nb.rows("Logical_Switch"):
            owners.append(("ls", r.uuid))
        for r in nb.rows("Logical_Switch_Port"):
            owners.append(("lsp", r.uuid))
            if r["type"] == "router":
                owners.append(("selforig", r.uuid))
        for r in nb.rows("ACL"):
            owners.append(("acl", r.uuid))
        for r in nb.rows("Logical_Router"):
            owners.append(("lr", r.uuid))
        for r in nb.rows("Logical_Router_Port"):
            owners.append(("lrp", r.uuid))
        for r in nb.rows("NAT"):
            owners.append(("nat", r.uuid))
        stale = set(self.owner_flows) - set(owners)
        stats = self._apply(dps, ports, [r.uuid for r in nb.rows("Logical_Switch")],
                            owners + sorted(stale), full=True)
        return stats

    def provenance(self, lflow_uuid: str) -> list[Provenance]:
        """The generators and NB rows behind one SB Logical_Flow (several when identical
        flows from different owners were merged, as ovn_lflow_add merges them)."""
        key = self._key_of_sb.get(lflow_uuid)
        sbf = self.sb_flows.get(key) if key is not None else None
        if sbf is None:
            return []
        out = []
        for owner in sbf.owners:
            for f in self.owner_flows.get(owner, ()):
                if f.key == key:
                    out.append(Provenance(f.stage.name, f.source, _KIND_TABLE[owner[0]],
                                          owner[1], f.hint))
                    break
        return out

    def _adopt_lflows(self) -> dict[tuple[str, str, int, int, str, str], str]:
        """Logical_Flow rows a previous northd left in the SB, by flow identity; the first
        full run keeps the ones it still wants and deletes the rest."""
        nb_of_dp = {sb_dp: nb_dp for nb_dp, sb_dp in self.bindings.dp_of.items()}
        out: dict[tuple[str, str, int, int, str, str], str] = {}
        for f in self.sb.rows("Logical_Flow"):
            dp = nb_of_dp.get(f["logical_datapath"] or "")
            if dp is not None:
                out.setdefault((dp, f["pipeline"], f["table_id"], f["priority"], f["match"],
                                f["actions"]), f.uuid)
        return out

    # ------------------------------------------------------------------ globals
    def _sync_globals(self) -> None:
        """ovnnb_db_run(): NB_Global exists and carries mac_prefix / svc_monitor_mac /
        max_tunid; SB_Global copies NB_Global's options and nb_cfg; NB sb_cfg follows.
        The random MACs real northd picks are derived from the database name here
        (deterministic runs)."""
        nb_rows = self.nb.rows("NB_Global")
        seed = hashlib.sha256(f"{self.nb.name}:{self.nb.seed}".encode()).digest()
        self._writing_nb = True
        try:
            with self.nb.transaction() as txn:
                nbg = nb_rows[0] if nb_rows else txn.insert("NB_Global")
                opts = dict(nbg["options"])
                if parse_mac("00:00:00:" + opts.get("mac_prefix", "")) is None:
                    opts["mac_prefix"] = ":".join(f"{b:02x}" for b in seed[:3])
                if parse_mac(opts.get("svc_monitor_mac")) is None:
                    # eth_addr_random(): locally administered, unicast
                    first = (seed[3] & 0xFC) | 0x02
                    opts["svc_monitor_mac"] = ":".join(
                        f"{b:02x}" for b in (first, *seed[4:9]))
                # OVN_MAX_DP_KEY_LOCAL (geneve): 2^24 - 1 - OVN_MAX_DP_GLOBAL_NUM
                opts["max_tunid"] = str((1 << 24) - 1 - (1 << 16))
                if opts != nbg["options"]:
                    nbg = txn.update("NB_Global", nbg.uuid, options=opts)
        finally:
            self._writing_nb = False
        self._svc_monitor_mac = nbg["options"]["svc_monitor_mac"]
        with self.sb.transaction() as txn:
            sb_rows = self.sb.rows("SB_Global")
            sbg = sb_rows[0] if sb_rows else txn.insert("SB_Global")
            txn.update("SB_Global", sbg.uuid, options=dict(nbg["options"]),
                       nb_cfg=nbg["nb_cfg"], ipsec=nbg["ipsec"])
        if nbg["sb_cfg"] != nbg["nb_cfg"]:
            self._writing_nb = True
            try:
                with self.nb.transaction() as txn:
                    txn.update("NB_Global", nbg.uuid, sb_cfg=nbg["nb_cfg"])
            finally:
                self._writing_nb = False

    # ------------------------------------------------------------------ listeners
    def _on_nb(self, changes: list[Change]) -> None:
        if self._writing_nb:
            return
        self._pending.extend(changes)

    def _on_sb(self, changes: list[Change]) -> None:
        """Port_Binding.up / chassis from the controllers → NB Logical_Switch_Port.up and
        Logical_Router_Port.status:hosting-chassis (as ovn-northd does)."""
        if any(c.table == "Chassis" and (c.op != "update" or c.old is None or c.new is None
                                         or c.old["name"] != c.new["name"]
                                         or c.old["hostname"] != c.new["hostname"])
               for c in changes):
            self._chassis_dirty = True
        if any(c.table == "Chassis" and (c.old is None or c.new is None
                                         or c.old["other_config"] != c.new["other_config"])
               for c in changes):
            self._features_dirty = True
        updates = [c for c in changes if c.table == "Port_Binding" and c.new is not None
                   and (c.old is None or c.old["up"] != c.new["up"]
                        or c.old["chassis"] != c.new["chassis"])]
        if updates:
            self.sync_nb_status([c.new for c in updates if c.new is not None])

    def sync_nb_status(self, pbs: Iterable[Row]) -> None:
        self._writing_nb = True
        try:
            with self.nb.transaction() as txn:
                for pb in pbs:
                    self._status_of(txn, pb)
        finally:
            self._writing_nb = False

    def _status_of(self, txn: Transaction, pb: Row) -> None:
        live = self.sb.tables["Port_Binding"].get(pb.uuid)
        if live is None:  # deleted since the change was queued
            return
        pb = live  # a queued change may carry a row the controllers have updated since
        name = pb["logical_port"]
        if pb["type"] == "chassisredirect":
            lrp = self.env.lrp_named(pb["options"].get("distributed-port", ""))
            if lrp is None:
                return
            status = dict(lrp["status"])
            ch = self.sb.tables["Chassis"].get(pb["chassis"]) if pb["chassis"] else None
            if ch is not None:
                status["hosting-chassis"] = ch["name"]
            else:
                status.pop("hosting-chassis", None)
            txn.update("Logical_Router_Port", lrp.uuid, status=status)
            return
        lsp = self.env.lsp_named(name)
        if lsp is None:
            return
        if lsp["type"] == "router":
            up = True
        elif pb["chassis"] is not None:
            # handle_port_binding_changes(): with the chassis's port-up notification the
            # controller's Port_Binding.up decides; without, being bound is enough.
            ch = self.sb.tables["Chassis"].get(pb["chassis"])
            notif = ch is not None and ch["other_config"].get("port-up-notif") == "true"
            up = bool(pb["up"]) if notif else True
        else:
            up = False
        if lsp["up"] != up:
            txn.update("Logical_Switch_Port", lsp.uuid, up=up)

    # ------------------------------------------------------------------ incremental
    def _incremental(self, changes: list[Change], chassis_dirty: bool = False) -> RunStats:
        env = self.env
        idx = self.idx
        owners: set[Owner] = set()
        dps: set[str] = set()
        ports: set[tuple[str, str]] = set()
        mcast: set[str] = set()
        ctx_sw: set[str] = set()
        ctx_rt: set[str] = set()
        pg_dirty: set[str] = set()
        address_sets = False
        if chassis_dirty:
            # SB Chassis rows appeared/vanished: HA_Chassis.chassis and requested_chassis
            # references are resolved by name again.
            for lrp in self.nb.rows("Logical_Router_Port"):
                if lrp["gateway_chassis"] or lrp["ha_chassis_group"] is not None:
                    ports.add(("Logical_Router_Port", lrp.uuid))
            for lsp in self.nb.rows("Logical_Switch_Port"):
                if lsp["options"].get("requested-chassis"):
                    ports.add(("Logical_Switch_Port", lsp.uuid))

        def lrp_peers(lrp_name: str) -> None:
            for u in idx.router_lsps_by_peer.get(lrp_name, ()):
                owners.add(("lsp", u))
                owners.add(("selforig", u))
                ports.add(("Logical_Switch_Port", u))

        for ch in changes:
            t, u = ch.table, ch.uuid
            rows = [r for r in (ch.old, ch.new) if r is not None]
            if ch.op == "update" and t in _NB_STATUS_COLUMNS and ch.old is not None \
                    and ch.new is not None:
                diff = {k for k in ch.new if ch.new[k] != ch.old[k]}
                if diff <= _NB_STATUS_COLUMNS[t]:
                    continue
            if t == "Logical_Switch":
                owners.add(("ls", u))
                dps.add(u)
                mcast.add(u)
                ctx_sw.add(u)
                old = set(ch.old["ports"]) if ch.old is not None else set()
                new = set(ch.new["ports"]) if ch.new is not None else set()
                for p in old ^ new:
                    owners.add(("lsp", p))
                    owners.add(("selforig", p))
                    ports.add(("Logical_Switch_Port", p))
                    pg_dirty.update(idx.pgs_of_lsp.get(p, ()))
                    moved = env.row("Logical_Switch_Port", p)
                    if moved is not None and moved["type"] in ("router", "localnet"):
                        self._touch_routers_of_switch(u, ctx_rt)
                oa = set(ch.old["acls"]) if ch.old is not None else set()
                na = set(ch.new["acls"]) if ch.new is not None else set()
                owners.update(("acl", a) for a in oa ^ na)
            elif t == "Logical_Switch_Port":
                pg_dirty.update(idx.pgs_of_lsp.get(u, ()))
                owners.add(("lsp", u))
                ports.add((t, u))
                ls = idx.ls_of_lsp.get(u)
                if ls is not None:
                    ctx_sw.add(ls)
                    mcast.add(ls)
                for r in rows:
                    if r["type"] == "router":
                        owners.add(("selforig", u))
                        peer = r["options"].get("router-port")
                        if peer:
                            lrp_u = idx.lrp_by_name.get(peer)
                            if lrp_u is not None:
                                owners.add(("lrp", lrp_u))
                                ports.add(("Logical_Router_Port", lrp_u))
                                lr = idx.lr_of_lrp.get(lrp_u)
                                if lr is not None:
                                    ctx_rt.add(lr)
                                    # the router's FIPs are ARPed for on its switches
                                    self._router_nat_owners(lr, owners)
                    for n in idx.nats_by_lport.get(r["name"], ()):
                        owners.add(("nat", n))
                    if r["type"] == "localnet" and ls is not None:
                        # its VLAN tag sizes the gateway_mtu check of routers on the switch
                        rts: set[str] = set()
                        self._touch_routers_of_switch(ls, rts)
                        for lr_u in rts:
                            self._gateway_mtu_owners(lr_u, owners)
            elif t == "ACL":
                owners.add(("acl", u))
                for ls in self._acl_switches(u):
                    ctx_sw.add(ls)
            elif t == "Port_Group":
                pg_dirty.add(u)
                if ch.old is None or ch.new is None or ch.old["acls"] != ch.new["acls"]:
                    for r in rows:
                        owners.update(("acl", a) for a in r["acls"])
                    ctx_sw.update(self._pg_span.get(u, ()))
                    if ch.new is not None:
                        ctx_sw.update(self._span(ch.new))
            elif t == "Logical_Router":
                owners.add(("lr", u))
                dps.add(u)
                if not self._only_fip_membership(ch):
                    ctx_rt.add(u)
                for col, kind, table in (("ports", "lrp", "Logical_Router_Port"),
                                         ("nat", "nat", "NAT")):
                    old = set(ch.old[col]) if ch.old is not None else set()
                    new = set(ch.new[col]) if ch.new is not None else set()
                    for p in old ^ new:
                        owners.add((kind, p))
                        if kind == "lrp":
                            ports.add((table, p))
                if ch.old is not None and ch.new is not None and \
                        set(ch.old["nat"]) != set(ch.new["nat"]):
                    self._nat_dependents(u, owners, ports)
                self._gateway_mtu_owners(u, owners)
                if ch.old is None or ch.new is None or ch.old["ports"] != ch.new["ports"]:
                    self._router_nat_owners(u, owners)
            elif t == "Logical_Router_Port":
                owners.add(("lrp", u))
                ports.add((t, u))
                lr = idx.lr_of_lrp.get(u)
                if lr is not None:
                    ctx_rt.add(lr)
                    self._gateway_mtu_owners(lr, owners)
                    if ch.op != "update" or (ch.old is not None and ch.new is not None and (
                            ch.old["enabled"] != ch.new["enabled"]
                            or ch.old["name"] != ch.new["name"])):
                        self._router_nat_owners(lr, owners)
                for r in rows:
                    lrp_peers(r["name"])
                    if ch.op != "update" or (ch.old is not None and ch.new is not None and
                                             (ch.old["networks"] != ch.new["networks"]
                                              or ch.old["mac"] != ch.new["mac"])):
                        self._switch_ports_behind(r["name"], owners)
            elif t == "NAT":
                owners.add(("nat", u))
                lr = idx.lr_of_nat.get(u)
                if lr is not None:
                    env.nat_changed(lr, u)
                    if any(r["type"] == "snat" for r in rows):
                        ctx_rt.add(lr)  # SNAT IPs are part of the router context
                    self._nat_dependents(lr, owners, ports)
            elif t == "Logical_Router_Static_Route":
                lr = idx.lr_of_route.get(u)
                if lr is not None:
                    owners.add(("lr", lr))
            elif t == "DHCP_Options":
                for lsp_u in idx.lsps_of_dhcp.get(u, ()):
                    owners.add(("lsp", lsp_u))
            elif t == "Address_Set":
                address_sets = True
            elif t == "NB_Global":
                self._sync_globals()
                address_sets = True
            elif t in ("Gateway_Chassis", "HA_Chassis_Group", "HA_Chassis"):
                for lrp in self.nb.rows("Logical_Router_Port"):
                    ports.add(("Logical_Router_Port", lrp.uuid))
        # ACL flows move when the set of switches a port group spans changes (ports added
        # to the group, or its ports moving between switches).
        for pg_u in pg_dirty:
            pg_row = env.row("Port_Group", pg_u)
            old_span = self._pg_span.pop(pg_u, frozenset())
            new_span = self._span(pg_row) if pg_row is not None else frozenset()
            if pg_row is not None:
                self._pg_span[pg_u] = new_span
            if old_span != new_span:
                owners.update(("acl", a) for a in (pg_row["acls"] if pg_row is not None else ()))
                ctx_sw.update(old_span ^ new_span)
        # Datapath-wide facts: a changed context dirties every owner on that datapath.
        for ls in ctx_sw:
            before = env.cached_switch(ls)
            env.forget(ls)
            after = env.switch(ls)
            if before != after:
                owners.update(self.dp_owners.get(ls, ()))
                for name in (after.router_ports if after is not None else ()):
                    rp = idx.lsp_by_name.get(name)
                    if rp is not None:
                        owners.add(("selforig", rp))
                if after is not None and before is not None and \
                        before.localnet_ports != after.localnet_ports:
                    self._touch_routers_of_switch(ls, ctx_rt)
        for lr in ctx_rt:
            before_r = env.cached_router(lr)
            env.forget(lr)
            after_r = env.router(lr)
            if before_r != after_r:
                owners.update(self.dp_owners.get(lr, ()))
                lr_row = env.row("Logical_Router", lr)
                for p in (lr_row["ports"] if lr_row is not None else ()):
                    lrp_row = env.row("Logical_Router_Port", p)
                    if lrp_row is not None:
                        lrp_peers(lrp_row["name"])
                        ports.add(("Logical_Router_Port", p))
        return self._apply(sorted(dps), sorted(ports), sorted(mcast), sorted(owners), full=False,
                           pgs=pg_dirty, address_sets=address_sets,
                           dirty_lsps=[u for t, u in ports if t == "Logical_Switch_Port"])

    def _only_fip_membership(self, ch: Change) -> bool:
        """A router update that only adds/removes non-snat NAT rows (one more FIP) leaves
        its context (gateway port, SNAT IPs, has-NAT) as it was."""
        if ch.old is None or ch.new is None:
            return False
        if any(ch.old[k] != ch.new[k] for k in ch.new if k != "nat"):
            return False
        if bool(ch.old["nat"]) != bool(ch.new["nat"]):
            return False
        old, new = set(ch.old["nat"]), set(ch.new["nat"])
        nats = self.nb.tables["NAT"]
        for u in old ^ new:
            row = nats.get(u)
            if row is None or row["type"] == "snat":
                return False  # a deleted row's type is unknown here: be conservative
        return True

    def _touch_routers_of_switch(self, ls_uuid: str, ctx_rt: set[str]) -> None:
        ls = self.env.row("Logical_Switch", ls_uuid)
        for u in (ls["ports"] if ls is not None else ()):
            lsp = self.env.row("Logical_Switch_Port", u)
            if lsp is not None and lsp["type"] == "router":
                lrp = self.idx.lrp_by_name.get(lsp["options"].get("router-port", ""))
                lr = self.idx.lr_of_lrp.get(lrp) if lrp else None
                if lr is not None:
                    ctx_rt.add(lr)

    def _switch_ports_behind(self, lrp_name: str, owners: set[Owner]) -> None:
        """VIF ports whose router-side ARP resolution depends on this LRP's networks."""
        for u in self.idx.router_lsps_by_peer.get(lrp_name, ()):
            ls = self.idx.ls_of_lsp.get(u)
            row = self.env.row("Logical_Switch", ls) if ls else None
            for p in (row["ports"] if row is not None else ()):
                owners.add(("lsp", p))

    def _router_nat_owners(self, lr: str, owners: set[Owner]) -> None:
        """NAT rows emit their ARP-request flows on the switch of every router port."""
        row = self.env.row("Logical_Router", lr)
        owners.update(("nat", n) for n in (row["nat"] if row is not None else ()))

    def _gateway_mtu_owners(self, lr: str, owners: set[Owner]) -> None:
        """Router ports with options:gateway_mtu emit flows for every other port of the
        router (lr_in_larger_pkts) and size their check by the peer switch's VLAN tag."""
        row = self.env.row("Logical_Router", lr)
        if row is None:
            return
        for p in row["ports"]:
            lrp = self.env.row("Logical_Router_Port", p)
            if lrp is not None and "gateway_mtu" in lrp["options"]:
                owners.add(("lrp", p))
                owners.update(("nat", n) for n in row["nat"])  # FIP admission checks

    def _nat_dependents(self, lr: str, owners: set[Owner],
                        ports: set[tuple[str, str]]) -> None:
        """Router-port peers (self-originated ARP MACs, nat_addresses) and the
        chassisredirect port (always-redirect) depend on the router's NAT list."""
        row = self.env.row("Logical_Router", lr)
        for p in (row["ports"] if row is not None else ()):
            lrp = self.env.row("Logical_Router_Port", p)
            if lrp is None:
                continue
            ports.add(("Logical_Router_Port", p))
            for u in self.idx.router_lsps_by_peer.get(lrp["name"], ()):
                owners.add(("selforig", u))
                ports.add(("Logical_Switch_Port", u))

    def _acl_switches(self, acl_uuid: str) -> list[str]:
        out = []
        ls = self.idx.ls_of_acl.get(acl_uuid)
        if ls is not None:
            out.append(ls)
        for pg in self.idx.pgs_of_acl.get(acl_uuid, ()):
            row = self.env.row("Port_Group", pg)
            for p in (row["ports"] if row is not None else ()):
                s = self.idx.ls_of_lsp.get(p)
                if s is not None and s not in out:
                    out.append(s)
        return out

    def _span(self, pg: Row) -> frozenset[str]:
        """The switches holding at least one port of this port group."""
        return frozenset(sw.uuid for sw in self.nb.tables["Logical_Switch"].values()
                         if not self.env.port_set(sw).isdisjoint(pg["ports"]))

    # ------------------------------------------------------------------ apply
    def _generate(self, owner: Owner) -> list[LFlow]:
        kind, uuid = owner
        row = self.env.row(_KIND_TABLE[kind], uuid)
        if row is None:
            return []
        sink = FlowSink()
        gen: Callable[..., None]
        if kind == "acl":
            gen_acl(self.env, row, self._acl_switches(uuid), sink)
            return sink.flows
        gen = {"ls": gen_switch, "lsp": gen_switch_port, "selforig": gen_self_orig,
               "lr": gen_router, "lrp": gen_router_port, "nat": gen_nat}[kind]
        gen(self.env, row, sink)
        return sink.flows

    def _sync_lsp_status(self, lsp_uuids: Iterable[str]) -> None:
        pbs = []
        for u in lsp_uuids:
            pb_uuid = self.bindings.pb_of_lsp.get(u)
            pb = self.sb.tables["Port_Binding"].get(pb_uuid) if pb_uuid else None
            if pb is not None:
                pbs.append(pb)
        if pbs:
            self.sync_nb_status(pbs)

    def _apply(self, dps: Iterable[str], ports: Iterable[tuple[str, str]], mcast: Iterable[str],
               owners: Iterable[Owner], full: bool, pgs: Iterable[str] = (),
               address_sets: bool = False, dirty_lsps: Iterable[str] = ()) -> RunStats:
        dirty_lsps = list(dirty_lsps)
        stats = RunStats(full=full)
        with self.sb.transaction() as txn:
            for dp in dps:
                self.bindings.sync_datapath(txn, dp)
            # Datapaths that vanished without their own change (full recompute).
            if full:
                live = {r.uuid for r in self.nb.rows("Logical_Switch")} | \
                    {r.uuid for r in self.nb.rows("Logical_Router")}
                for dp in list(self.bindings.dp_of):
                    if dp not in live:
                        self.bindings.sync_datapath(txn, dp)
            ports = list(ports)
            for table, u in ports:
                self.bindings.sync_port(txn, table, u)
            if full:
                live_ports = {r.uuid for t in ("Logical_Switch_Port", "Logical_Router_Port")
                              for r in self.nb.rows(t)}
                for u in list(self.bindings.ports_of_nb):
                    if u not in live_ports:
                        table = ("Logical_Switch_Port" if u in self.nb.tables["Logical_Switch_Port"]
                                 else "Logical_Router_Port")
                        self.bindings.sync_port(txn, table, u)
            for ls in mcast:
                self.bindings.sync_mcast(txn, ls, dirty_lsps)
            pg_sync = self.bindings.pg_sync
            if full:
                gone = [u for u in pg_sync.written if u not in self.nb.tables["Port_Group"]]
                pg_sync.sync(txn, self.bindings,
                             [r.uuid for r in self.nb.rows("Port_Group")] + gone, ())
                pg_sync.sync_address_sets(txn, self._svc_monitor_mac)
            else:
                if pgs:
                    pg_sync.sync(txn, self.bindings, sorted(pgs), dirty_lsps)
                if address_sets:
                    pg_sync.sync_address_sets(txn, self._svc_monitor_mac)
            for owner in owners:
                stats.owners += 1
                new = self._generate(owner)
                old = self.owner_flows.get(owner, [])
                if old == new:
                    continue
                self._replace(txn, owner, old, new, stats)
            if full:
                # Whatever a previous northd wrote and this one does not want.
                keep = {s.uuid for s in self.sb_flows.values()}
                for f in list(self.sb.tables["Logical_Flow"].values()):
                    if f.uuid not in keep:
                        txn.delete("Logical_Flow", f.uuid)
                        stats.lflows_deleted += 1
                self._adopted = {}
        self._sync_lsp_status(
            [r.uuid for r in self.nb.rows("Logical_Switch_Port")] if full
            else [u for t, u in ports if t == "Logical_Switch_Port"])
        return stats

    def _replace(self, txn: Transaction, owner: Owner, old: list[LFlow], new: list[LFlow],
                 stats: RunStats) -> None:
        new_keys = {f.key for f in new}
        old_keys = {f.key for f in old}
        for f in old:
            if f.key in new_keys:
                continue
            sbf = self.sb_flows.get(f.key)
            if sbf is None:
                continue
            sbf.refs -= 1
            if owner in sbf.owners:
                sbf.owners.remove(owner)
            if sbf.refs <= 0:
                del self.sb_flows[f.key]
                self._key_of_sb.pop(sbf.uuid, None)
                txn.delete("Logical_Flow", sbf.uuid)
                stats.lflows_deleted += 1
        for f in new:
            if f.key in old_keys:
                continue
            sbf = self.sb_flows.get(f.key)
            if sbf is not None:
                sbf.refs += 1
                sbf.owners.append(owner)
                continue
            dp_sb = self.bindings.dp_of.get(f.datapath)
            if dp_sb is None:
                continue
            adopted = self._adopted.pop(f.key, None)
            if adopted is not None and adopted in self.sb.tables["Logical_Flow"]:
                self.sb_flows[f.key] = _SbFlow(adopted, 1, [owner])
                self._key_of_sb[adopted] = f.key
                continue
            ids = {"stage-name": f.stage.name, "source": f.source}
            if f.hint:
                ids["stage-hint"] = f.hint[:8]
            row = txn.insert("Logical_Flow", logical_datapath=dp_sb,
                             pipeline=f.stage.pipeline.value, table_id=f.stage.table,
                             priority=f.priority, match=f.match, actions=f.actions,
                             tags={"in_out_port": f.io_port} if f.io_port else {},
                             external_ids=ids)
            self.sb_flows[f.key] = _SbFlow(row.uuid, 1, [owner])
            self._key_of_sb[row.uuid] = f.key
            stats.lflows_added += 1
        # Keep the datapath → owners index for context-change fan-out.
        for f in old:
            s = self.dp_owners.get(f.datapath)
            if s is not None:
                s.discard(owner)
        if new:
            self.owner_flows[owner] = new
            for f in new:
                self.dp_owners.setdefault(f.datapath, set()).add(owner)
        else:
            self.owner_flows.pop(owner, None)
