"""SB structure from NB (northd.c build_datapaths / build_ports / build_mcast_groups):
Datapath_Binding, Port_Binding (VIF, patch, localnet, chassisredirect), Multicast_Group,
HA_Chassis_Group from Gateway_Chassis. Tunnel keys: lowest free, kept across changes."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ovnlab.northd.env import Env
from ovnlab.northd.model import (
    cr_name,
    is_dgp,
    lrp_networks,
)
from ovnlab.northd.sortedview import SortedBag, SortedView
from ovnlab.ovsdb import Database, Row, Transaction

# lib/mcast-group-index.h: OVN_MCAST_*_TUNNEL_KEY (_MC_mrouter_flood, 32770, needs a
# multicast relay router, which ovnlab does not model).
MC_GROUPS = (("_MC_flood", 32768), ("_MC_unknown", 32769), ("_MC_mrouter_static", 32771),
             ("_MC_static", 32772), ("_MC_flood_l2", 32773))
KNOWN_LSP_TYPES = {"", "router", "localnet", "localport", "l2gateway", "vtep", "external",
                   "virtual", "remote"}


class KeyPool:
    """Lowest free tunnel key (ovn_allocate_tunnel_key), with a hint so that allocating
    N keys is not O(N^2)."""

    __slots__ = ("used", "lo", "hi", "hint")

    def __init__(self, lo: int, hi: int) -> None:
        self.used: set[int] = set()
        self.lo, self.hi, self.hint = lo, hi, lo

    def take(self, key: int) -> None:
        self.used.add(key)

    def alloc(self) -> int:
        k = self.hint
        while k in self.used:
            k += 1
        if k > self.hi:
            k = self.lo
            while k in self.used:
                k += 1
            if k > self.hi:
                raise RuntimeError("all tunnel keys are in use")
        self.used.add(k)
        self.hint = k + 1
        return k

    def free(self, key: int) -> None:
        self.used.discard(key)
        if key < self.hint:
            self.hint = key


class Bindings:
    """Owns the SB rows derived from NB structure; `sync_*` are idempotent per NB row."""

    def __init__(self, env: Env, sb: Database) -> None:
        self.env = env
        self.sb = sb
        self.dp_of: dict[str, str] = {}  # NB LS/LR uuid -> SB Datapath_Binding uuid
        self.dp_keys = KeyPool(1, (1 << 24) - 1)
        self.port_keys: dict[str, KeyPool] = {}  # SB dp uuid -> pool
        self.pb_of: dict[str, str] = {}  # logical_port name -> SB Port_Binding uuid
        self.ports_of_nb: dict[str, set[str]] = {}  # NB LSP/LRP uuid -> logical port names
        self.pb_of_lsp: dict[str, str] = {}  # NB LSP uuid -> its Port_Binding uuid
        self.name_owner: dict[str, str] = {}  # logical port name -> NB row holding it
        self.pg_sync = PortGroupSync(env, sb)
        self._mc: dict[str, dict[str, SortedView]] = {}  # LS -> group -> members
        # Writes that may move HA_Chassis_Group.ref_chassis (a binding that came or went,
        # or changed its type, options or group; a group's members), counted.
        self.topology_writes = 0
        self._adopt()

    def _adopt(self) -> None:
        """Pick up SB rows a previous northd wrote (keys stay stable across restarts)."""
        for dp in self.sb.rows("Datapath_Binding"):
            ids = dp["external_ids"]
            nb = ids.get("logical-switch") or ids.get("logical-router")
            if nb:
                self.dp_of[nb] = dp.uuid
                self.dp_keys.take(dp["tunnel_key"])
        for pb in self.sb.rows("Port_Binding"):
            self.pb_of[pb["logical_port"]] = pb.uuid
            u = self.env.idx.lsp_by_name.get(pb["logical_port"])
            if u is not None:
                self.pb_of_lsp[u] = pb.uuid
            self.port_keys.setdefault(pb["datapath"], KeyPool(1, 32767)).take(pb["tunnel_key"])

    # ---------------------------------------------------------------- datapaths
    def sync_datapath(self, txn: Transaction, nb_uuid: str) -> None:
        ls = self.env.row("Logical_Switch", nb_uuid)
        lr = self.env.row("Logical_Router", nb_uuid) if ls is None else None
        row = ls or lr
        sb_uuid = self.dp_of.get(nb_uuid)
        if row is None:
            if sb_uuid is not None:
                self._delete_datapath(txn, nb_uuid, sb_uuid)
            return
        kind = "logical-switch" if ls is not None else "logical-router"
        ids = {kind: nb_uuid, "name": row["name"]}
        name2 = row["external_ids"].get("neutron:network_name" if ls is not None
                                        else "neutron:router_name")
        if name2:
            ids["name2"] = name2
        if sb_uuid is None:
            key = self.dp_keys.alloc()
            new = txn.insert("Datapath_Binding", tunnel_key=key, external_ids=ids)
            self.dp_of[nb_uuid] = new.uuid
            self.port_keys[new.uuid] = KeyPool(1, 32767)
        else:
            txn.update("Datapath_Binding", sb_uuid, external_ids=ids)

    def _delete_datapath(self, txn: Transaction, nb_uuid: str, sb_uuid: str) -> None:
        for table in ("Port_Binding", "Multicast_Group", "MAC_Binding"):
            for r in self.sb.find(table, datapath=sb_uuid):
                if table == "Port_Binding":
                    self.pb_of.pop(r["logical_port"], None)
                txn.delete(table, r.uuid)
        dp = self.sb.tables["Datapath_Binding"].get(sb_uuid)
        if dp is not None:
            self.dp_keys.free(dp["tunnel_key"])
            txn.delete("Datapath_Binding", sb_uuid)
        del self.dp_of[nb_uuid]
        self.port_keys.pop(sb_uuid, None)

    def datapath_key(self, nb_uuid: str) -> int | None:
        u = self.dp_of.get(nb_uuid)
        return None if u is None else self.sb.tables["Datapath_Binding"][u]["tunnel_key"]

    # ---------------------------------------------------------------- ports
    def sync_port(self, txn: Transaction, table: str, nb_uuid: str) -> None:
        """One LSP, or one LRP (plus its cr-lrp when it is a distributed gateway port)."""
        env = self.env
        row = env.row(table, nb_uuid)
        wanted: dict[str, tuple[str, dict[str, Any]]] = {}  # name -> (sb dp, columns)
        if row is not None:
            if table == "Logical_Switch_Port":
                ls = env.idx.ls_of_lsp.get(nb_uuid)
                if ls is not None and ls in self.dp_of:
                    wanted[row["name"]] = (self.dp_of[ls], self._lsp_columns(row))
            else:
                lr_uuid = env.idx.lr_of_lrp.get(nb_uuid)
                if lr_uuid is not None and lr_uuid in self.dp_of:
                    lr = env.row("Logical_Router", lr_uuid)
                    assert lr is not None
                    dp = self.dp_of[lr_uuid]
                    wanted[row["name"]] = (dp, self._lrp_columns(lr, row))
                    if is_dgp(lr, row) and lrp_networks(row) is not None:
                        wanted[cr_name(row["name"])] = (dp, self._cr_columns(txn, lr, row))
        # A logical port name is unique across LSPs and LRPs; a duplicate is ignored
        # (northd logs "duplicate logical port" and skips it) until the holder goes away.
        for name in list(wanted):
            holder = self.name_owner.get(name)
            if holder is not None and holder != nb_uuid and self._live(holder):
                del wanted[name]
        old = self.ports_of_nb.get(nb_uuid, set())
        for name in old - set(wanted):
            self._delete_port(txn, name)
            self.name_owner.pop(name, None)
        for name, (dp, cols) in wanted.items():
            self._upsert_port(txn, name, dp, cols)
            self.name_owner[name] = nb_uuid
        if table == "Logical_Switch_Port":
            pb = self.pb_of.get(row["name"]) if row is not None and wanted else None
            if pb is None:
                self.pb_of_lsp.pop(nb_uuid, None)
            else:
                self.pb_of_lsp[nb_uuid] = pb
        if wanted:
            self.ports_of_nb[nb_uuid] = set(wanted)
        else:
            self.ports_of_nb.pop(nb_uuid, None)

    def _live(self, nb_uuid: str) -> bool:
        nb = self.env.nb.tables
        return nb_uuid in nb["Logical_Switch_Port"] or nb_uuid in nb["Logical_Router_Port"]

    def _upsert_port(self, txn: Transaction, name: str, dp: str, cols: dict[str, Any]) -> None:
        pb_uuid = self.pb_of.get(name)
        pb = self.sb.tables["Port_Binding"].get(pb_uuid) if pb_uuid else None
        if pb is not None and pb["datapath"] != dp:
            self._delete_port(txn, name)
            pb = None
        if pb is None:
            pool = self.port_keys.setdefault(dp, KeyPool(1, 32767))
            # ovn-controller updates `up` only if northd set it to false first.
            new = txn.insert("Port_Binding", logical_port=name, datapath=dp,
                             tunnel_key=pool.alloc(), up=False, **cols)
            self.pb_of[name] = new.uuid
            self.topology_writes += 1
        else:
            changed = {k: v for k, v in cols.items() if pb[k] != v}
            if changed:
                txn.update("Port_Binding", pb.uuid, **changed)
                if changed.keys() & {"type", "options", "ha_chassis_group"}:
                    self.topology_writes += 1

    def _delete_port(self, txn: Transaction, name: str) -> None:
        pb_uuid = self.pb_of.pop(name, None)
        if pb_uuid is None:
            return
        pb = self.sb.tables["Port_Binding"].get(pb_uuid)
        if pb is None:
            return
        pool = self.port_keys.get(pb["datapath"])
        if pool is not None:
            pool.free(pb["tunnel_key"])
        hcg = pb["ha_chassis_group"]
        txn.delete("Port_Binding", pb_uuid)
        self.topology_writes += 1
        for mb in self.sb.find("MAC_Binding", logical_port=name):
            txn.delete("MAC_Binding", mb.uuid)
        if hcg is not None:
            self._delete_ha_group(txn, hcg)

    def _lsp_columns(self, lsp: Row) -> dict[str, Any]:
        env = self.env
        ids = dict(lsp["external_ids"])
        pname = ids.get("neutron:port_name")
        if pname:
            ids["name"] = pname
        cols: dict[str, Any] = {
            "parent_port": lsp["parent_name"], "tag": lsp["tag"],
            "mac": tuple(lsp["addresses"]), "external_ids": ids,
        }
        typ = lsp["type"]
        if typ != "router":
            opts = dict(lsp["options"])
            ls_uuid = env.idx.ls_of_lsp.get(lsp.uuid)
            ls = env.row("Logical_Switch", ls_uuid) if ls_uuid else None
            if ls is not None and ls["other_config"].get("vlan-passthru") == "true":
                opts["vlan-passthru"] = "true"
            cols.update(type=typ if typ in KNOWN_LSP_TYPES else "", options=opts,
                        nat_addresses=())
            rc = lsp["options"].get("requested-chassis")
            cols["requested_chassis"] = self._chassis_uuid(rc) if rc else None
        else:
            peer = env.peer_lrp(lsp)
            lr = env.row("Logical_Router", env.idx.lr_of_lrp[peer.uuid]) if peer else None
            gw_chassis = lr["options"].get("chassis") if lr is not None else None
            opts = {}
            if lsp["options"].get("router-port"):
                opts["peer"] = lsp["options"]["router-port"]
            if gw_chassis:
                opts["l3gateway-chassis"] = gw_chassis
            cols.update(type="l3gateway" if gw_chassis else "patch", options=opts,
                        nat_addresses=tuple(self._nat_addresses(lsp, peer, lr)))
        return cols

    def _nat_addresses(self, lsp: Row, peer: Row | None, lr: Row | None) -> list[str]:
        """get_nat_addresses() plus the router port GARP entry (sync of nat_addresses)."""
        if peer is None or lr is None:
            return []
        env = self.env
        rctx = env.router(lr.uuid)
        assert rctx is not None
        nets = lrp_networks(peer)
        assert nets is not None
        out: list[str] = []
        if lsp["options"].get("nat-addresses") == "router" and rctx.dgp is not None \
                and rctx.n_dgp <= 1 and lr["nat"]:
            central = nets.mac
            has_central = False
            router_ips = {str(ip.ip) for ip in nets.ipv4}
            rn = env.router_nats(lr.uuid)
            assert rn is not None
            out.extend(rn.garp.values())
            for ip in rn.central.values():
                if ip not in router_ips:
                    central += f" {ip}"
                    has_central = True
            if has_central:
                central += f' is_chassis_resident("{rctx.dgp.cr}")'
                out.append(central)
        if rctx.dgp is not None and rctx.dgp.uuid == peer.uuid:
            garp = nets.mac + "".join(f" {ip.ip}" for ip in nets.ipv4)
            garp += f' is_chassis_resident("{rctx.dgp.cr}")'
            out.append(garp)
        return out

    def _lrp_columns(self, lr: Row, lrp: Row) -> dict[str, Any]:
        peer_lsp = self.env.peer_lsp(lrp)
        opts: dict[str, str] = {}
        gw_chassis = lr["options"].get("chassis")
        if peer_lsp is not None or lrp["peer"]:
            opts["peer"] = lrp["peer"] or (peer_lsp["name"] if peer_lsp else "")
            if is_dgp(lr, lrp):
                opts["chassis-redirect-port"] = cr_name(lrp["name"])
        if gw_chassis:
            opts["l3gateway-chassis"] = gw_chassis
        return {
            "type": "l3gateway" if gw_chassis else "patch",
            "options": opts, "parent_port": None, "tag": None,
            "mac": (" ".join([lrp["mac"], *lrp["networks"]]),),
            "external_ids": dict(lrp["external_ids"]), "nat_addresses": (),
        }

    def _cr_columns(self, txn: Transaction, lr: Row, lrp: Row) -> dict[str, Any]:
        nats = self.env.router_nats(lr.uuid)
        assert nats is not None
        opts = {"distributed-port": lrp["name"]}
        redirect_type = lrp["options"].get("redirect-type")
        always = not nats.has_distributed_nat
        if redirect_type:
            opts["redirect-type"] = redirect_type
            if redirect_type == "bridged":
                always = False
        if always:
            opts["always-redirect"] = "true"
        return {
            "type": "chassisredirect", "options": opts,
            "mac": (" ".join([lrp["mac"], *lrp["networks"]]),),
            "external_ids": dict(lrp["external_ids"]),
            "ha_chassis_group": self._sync_ha_group(txn, lrp),
            "gateway_chassis": (),
        }

    # ---------------------------------------------------------------- HA groups
    def _chassis_uuid(self, name: str) -> str | None:
        for ch in self.sb.rows("Chassis"):
            if ch["name"] == name or ch["hostname"] == name:
                return ch.uuid
        return None

    def _sync_ha_group(self, txn: Transaction, lrp: Row) -> str | None:
        """copy_gw_chassis_from_nbrp_to_sbpb(): an SB HA_Chassis_Group named after the LRP,
        one HA_Chassis per NB Gateway_Chassis with its priority."""
        wanted: list[tuple[str, int, dict[str, str]]] = []
        if lrp["ha_chassis_group"] is not None:
            g = self.env.row("HA_Chassis_Group", lrp["ha_chassis_group"])
            name = g["name"] if g is not None else lrp["name"]
            members = [self.env.row("HA_Chassis", u) for u in (g["ha_chassis"] if g else ())]
            for m in members:
                if m is not None:
                    wanted.append((m["chassis_name"], m["priority"], {}))
        else:
            name = lrp["name"]
            for u in lrp["gateway_chassis"]:
                gc = self.env.row("Gateway_Chassis", u)
                if gc is not None:
                    wanted.append((gc["chassis_name"], gc["priority"],
                                   {"chassis-name": gc["chassis_name"]}))
        existing = self.sb.find("HA_Chassis_Group", name=name)
        old_members = []
        if existing:
            grp = existing[0]
            old_members = [self.sb.tables["HA_Chassis"].get(u) for u in grp["ha_chassis"]]
        else:
            grp = txn.insert("HA_Chassis_Group", name=name)
        cur = sorted((m["external_ids"].get("chassis-name", ""), m["priority"], m["chassis"])
                     for m in old_members if m is not None)
        new = sorted((c, p, self._chassis_uuid(c)) for c, p, _ in wanted)
        if cur != new:
            for m in old_members:
                if m is not None:
                    txn.delete("HA_Chassis", m.uuid)
            uuids = []
            for c, p, ch in new:
                uuids.append(txn.insert("HA_Chassis", chassis=ch, priority=p,
                                        external_ids={"chassis-name": c}).uuid)
            txn.update("HA_Chassis_Group", grp.uuid, ha_chassis=tuple(uuids))
            self.topology_writes += 1
        return grp.uuid

    def _delete_ha_group(self, txn: Transaction, uuid: str) -> None:
        grp = self.sb.tables["HA_Chassis_Group"].get(uuid)
        if grp is None:
            return
        for m in grp["ha_chassis"]:
            if m in self.sb.tables["HA_Chassis"]:
                txn.delete("HA_Chassis", m)
        txn.delete("HA_Chassis_Group", uuid)

    # ---------------------------------------------------------------- multicast groups
    def sync_mcast(self, txn: Transaction, ls_uuid: str, dirty: Iterable[str] = ()) -> None:
        """_MC_flood (enabled ports), _MC_flood_l2 (enabled non-router ports), _MC_unknown
        (enabled ports with "unknown" addresses), _MC_mrouter_static / _MC_static (enabled
        ports with options:mcast_flood_reports / mcast_flood); `dirty`: LSPs whose binding
        may differ."""
        sb_dp = self.dp_of.get(ls_uuid)
        ls = self.env.row("Logical_Switch", ls_uuid)
        if sb_dp is None or ls is None:
            self._mc.pop(ls_uuid, None)
            return
        idx = self.env.idx
        ports = self.env.port_set(ls)
        flood = ports - idx.disabled_lsps
        members = {"_MC_flood": flood, "_MC_flood_l2": flood - idx.router_lsps,
                   "_MC_unknown": ports & idx.unknown_lsps,
                   "_MC_mrouter_static": flood & idx.mcast_flood_reports_lsps,
                   "_MC_static": flood & idx.mcast_flood_lsps}
        views = self._mc.setdefault(ls_uuid, {})
        existing = {r["name"]: r for r in self.sb.find("Multicast_Group", datapath=sb_dp)}
        dirty = list(dirty)
        for name, key in MC_GROUPS:
            view = views.setdefault(name, SortedView())
            view.sync(members[name], self.pb_of_lsp.get, dirty)
            row = existing.get(name)
            if not view.values:
                if row is not None:
                    txn.delete("Multicast_Group", row.uuid)
            elif row is None:
                txn.insert("Multicast_Group", datapath=sb_dp, name=name, tunnel_key=key,
                           ports=tuple(view.values))
            elif len(row["ports"]) != len(view.values) or list(row["ports"]) != view.values:
                txn.update("Multicast_Group", row.uuid, ports=tuple(view.values))


class PortGroupSync:
    """sync_port_groups() of 22.03: one SB Port_Group per (switch, NB port group) named
    "<datapath tunnel key>_<name>" with that switch's member port names, and the address
    sets OVN derives from each port group ("<name>_ip4" / "<name>_ip6"). Per NB port group,
    only switches whose membership changed are rewritten."""

    def __init__(self, env: Env, sb: Database) -> None:
        self.env = env
        self.sb = sb
        self.written: dict[str, tuple[str, set[str]]] = {}  # pg uuid -> (name, SB names)
        self._views: dict[str, dict[str, SortedView]] = {}  # pg -> LS -> member names
        self._ips: dict[str, SortedBag] = {}  # pg -> member IPv4 addresses

    def sync(self, txn: Transaction, bindings: Bindings, pg_uuids: list[str],
             lsps: Iterable[str]) -> None:
        """`lsps`: switch ports whose name or addresses may have changed."""
        env = self.env
        idx = env.idx
        dirty = list(lsps)
        for pg_u in pg_uuids:
            pg = env.row("Port_Group", pg_u)
            prev_name, prev_rows = self.written.pop(pg_u, ("", set()))
            if pg is None or (prev_name and prev_name != pg["name"]):
                for n in prev_rows:
                    _delete_named(self.sb, txn, "Port_Group", n)
                for n in (f"{prev_name}_ip4", f"{prev_name}_ip6"):
                    _delete_named(self.sb, txn, "Address_Set", n)
                self._views.pop(pg_u, None)
                self._ips.pop(pg_u, None)
                prev_rows = set()
                if pg is None:
                    continue
            ports = frozenset(pg["ports"])
            views = self._views.setdefault(pg_u, {})
            wanted: set[str] = set()
            for ls_row in env.nb.tables["Logical_Switch"].values():
                members = env.port_set(ls_row) & ports
                key = bindings.datapath_key(ls_row.uuid)
                if not members or key is None:
                    views.pop(ls_row.uuid, None)
                    continue
                view = views.setdefault(ls_row.uuid, SortedView())
                view.sync(members, idx.name_of_lsp.get, dirty)
                name = f"{key}_{pg['name']}"
                wanted.add(name)
                _put_named(self.sb, txn, "Port_Group", "ports", name, view.values)
            for gone in [u for u in views if u not in env.nb.tables["Logical_Switch"]]:
                del views[gone]
            for n in prev_rows - wanted:
                _delete_named(self.sb, txn, "Port_Group", n)
            bag = self._ips.setdefault(pg_u, SortedBag())
            bag.sync(ports, lambda u: idx.ips_of_lsp.get(u, ()), dirty)
            _put_named(self.sb, txn, "Address_Set", "addresses", f"{pg['name']}_ip4", bag.values)
            _put_named(self.sb, txn, "Address_Set", "addresses", f"{pg['name']}_ip6", [])
            self.written[pg_u] = (pg["name"], wanted)

    def sync_address_sets(self, txn: Transaction, svc_monitor_mac: str) -> None:
        """NB Address_Set rows copied by name (Neutron's older as_ip4_<sg> sets), plus
        `svc_monitor_mac` (the `$svc_monitor_mac` of northd's flows)."""
        derived = {f"{n}_{v}" for n, _ in self.written.values() for v in ("ip4", "ip6")}
        wanted = {a["name"]: sorted(a["addresses"]) for a in self.env.nb.rows("Address_Set")}
        if svc_monitor_mac:
            wanted["svc_monitor_mac"] = [svc_monitor_mac]
        for r in self.sb.rows("Address_Set"):
            if r["name"] not in wanted and r["name"] not in derived:
                txn.delete("Address_Set", r.uuid)
        for n, v in wanted.items():
            _put_named(self.sb, txn, "Address_Set", "addresses", n, v)


def _delete_named(sb: Database, txn: Transaction, table: str, name: str) -> None:
    for r in sb.find(table, name=name):
        txn.delete(table, r.uuid)


def _put_named(sb: Database, txn: Transaction, table: str, column: str, name: str,
               values: list[str]) -> None:
    rows = sb.find(table, name=name)
    if not rows:
        cols: dict[str, Any] = {"name": name, column: tuple(values)}
        txn.insert(table, **cols)
    elif len(rows[0][column]) != len(values) or list(rows[0][column]) != values:
        txn.update(table, rows[0].uuid, **{column: tuple(values)})
