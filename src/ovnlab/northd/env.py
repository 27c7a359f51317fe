"""What generators read: the NB database, its index, and cached datapath contexts."""

from __future__ import annotations

import bisect
from collections import Counter
from dataclasses import dataclass, field

from ovnlab.northd.context import RouterCtx, SwitchCtx, router_ctx, switch_ctx
from ovnlab.northd.features import ChassisFeatures
from ovnlab.northd.model import (
    NatEntry,
    NBIndex,
    check_nat_entry,
    lrp_networks,
    parse_ipv4_cidr,
    parse_mac,
)
from ovnlab.ovsdb import Database, Row


@dataclass
class RouterNats:
    """Aggregates over a router's NAT rows that some flows and bindings print in full
    (self-originated ARP MACs, Port_Binding.nat_addresses), kept current per NAT change
    so that adding one FIP costs O(1) Python work plus C-speed copies of the aggregate.
    `garp` and `central` keep the router's NAT order, as a full rebuild would."""

    lr: Row | None = None
    has_dgp: bool = False
    entries: dict[str, tuple[Row, NatEntry | None]] = field(default_factory=dict)
    macs: Counter[str] = field(default_factory=Counter)
    sorted_macs: list[str] = field(default_factory=list)
    # get_nat_addresses() pieces: "MAC IP is_chassis_resident(...)" per distributed NAT,
    # and the external IPs of the others (centralized on the gateway chassis).
    garp: dict[str, str] = field(default_factory=dict)
    central: dict[str, str] = field(default_factory=dict)
    dirty: set[str] = field(default_factory=set)

    def _facts(self, env: Env, u: str) -> tuple[Row, NatEntry | None, str | None,
                                                str | None, str | None] | None:
        nat = env.row("NAT", u)
        if nat is None:
            return None
        e = env.nat_entry(nat, self.has_dgp)
        mac = nat["external_mac"] if e is not None and e.type != "snat" else None
        garp = central = None
        ext = parse_ipv4_cidr(nat["external_ip"])
        if ext is not None and ext.network.prefixlen == 32:
            if nat["type"] == "dnat_and_snat" and nat["logical_port"] and nat["external_mac"]:
                pm = parse_mac(nat["external_mac"])
                if pm is not None:
                    garp = (f'{pm} {nat["external_ip"]} '
                            f'is_chassis_resident("{nat["logical_port"]}")')
            else:
                central = nat["external_ip"]
        return nat, e, mac or None, garp, central

    def _mac_inc(self, mac: str) -> None:
        self.macs[mac] += 1
        if self.macs[mac] == 1:
            bisect.insort(self.sorted_macs, mac)

    def _mac_dec(self, mac: str) -> None:
        self.macs[mac] -= 1
        if self.macs[mac] <= 0:
            del self.macs[mac]
            i = bisect.bisect_left(self.sorted_macs, mac)
            del self.sorted_macs[i]

    def _add(self, env: Env, u: str) -> None:
        f = self._facts(env, u)
        if f is None:
            return
        nat, e, mac, garp, central = f
        self.entries[u] = (nat, e)
        if mac:
            self._mac_inc(mac)
        if garp is not None:
            self.garp[u] = garp
        if central is not None:
            self.central[u] = central

    def _remove(self, u: str) -> None:
        old = self.entries.pop(u, None)
        self.garp.pop(u, None)
        self.central.pop(u, None)
        if old is None:
            return
        nat, e = old
        if e is not None and e.type != "snat" and nat["external_mac"]:
            self._mac_dec(nat["external_mac"])

    def _update(self, env: Env, u: str) -> bool:
        """Re-read one NAT in place; False if its position in the aggregates moved."""
        old = self.entries.get(u)
        if old is None:
            return True
        onat, oe = old
        if oe is not None and oe.type != "snat" and onat["external_mac"]:
            self._mac_dec(onat["external_mac"])
        f = self._facts(env, u)
        if f is None:
            self._remove(u)
            return True
        nat, e, mac, garp, central = f
        self.entries[u] = (nat, e)
        if mac:
            self._mac_inc(mac)
        in_place = (garp is not None) == (u in self.garp) and \
            (central is not None) == (u in self.central)
        for d, v in ((self.garp, garp), (self.central, central)):
            if v is None:
                d.pop(u, None)
            else:
                d[u] = v
        return in_place

    def _rebuild(self, env: Env, lr: Row) -> None:
        self.entries.clear()
        self.macs.clear()
        self.sorted_macs.clear()
        self.garp.clear()
        self.central.clear()
        for u in lr["nat"]:
            self._add(env, u)

    def refresh(self, env: Env, lr: Row, has_dgp: bool) -> None:
        if self.lr is None or has_dgp != self.has_dgp:
            self.has_dgp = has_dgp
            self._rebuild(env, lr)
        elif self.lr is not lr or self.dirty:
            ordered = True
            current = lr["nat"]
            if self.lr is not lr and self.lr["nat"] != current:
                now = set(current)
                for u in self.entries.keys() - now:
                    self._remove(u)
                added = now - self.entries.keys()
                if added:
                    tail = current[len(current) - len(added):]
                    if set(tail) == added:
                        for u in tail:
                            self._add(env, u)
                    else:
                        for u in added:
                            self._add(env, u)
                        ordered = False
            for u in self.dirty:
                ordered = self._update(env, u) and ordered
            if not ordered:
                self._rebuild(env, lr)
        self.lr = lr
        self.dirty.clear()


class Env:
    def __init__(self, nb: Database, idx: NBIndex,
                 features: ChassisFeatures | None = None) -> None:
        self.nb = nb
        self.idx = idx
        self.features = features or ChassisFeatures()
        self._sw: dict[str, SwitchCtx] = {}
        self._rt: dict[str, RouterCtx] = {}
        self._nat: dict[str, tuple[Row, bool, NatEntry | None]] = {}
        self._router_nats: dict[str, RouterNats] = {}
        self._port_sets: dict[str, tuple[Row, frozenset[str]]] = {}

    def port_set(self, ls: Row) -> frozenset[str]:
        """frozenset(ls["ports"]), cached per row version."""
        hit = self._port_sets.get(ls.uuid)
        if hit is not None and hit[0] is ls:
            return hit[1]
        ports = frozenset(ls["ports"])
        self._port_sets[ls.uuid] = (ls, ports)
        return ports

    def router_nats(self, lr_uuid: str) -> RouterNats | None:
        lr = self.row("Logical_Router", lr_uuid)
        ctx = self.router(lr_uuid)
        if lr is None or ctx is None:
            self._router_nats.pop(lr_uuid, None)
            return None
        rn = self._router_nats.get(lr_uuid)
        if rn is None:
            rn = self._router_nats[lr_uuid] = RouterNats()
        rn.refresh(self, lr, ctx.dgp is not None)
        return rn

    def nat_changed(self, lr_uuid: str, nat_uuid: str) -> None:
        rn = self._router_nats.get(lr_uuid)
        if rn is not None:
            rn.dirty.add(nat_uuid)

    def nat_entry(self, nat: Row, has_dgp: bool) -> NatEntry | None:
        """check_nat_entry(), memoised per row version (rows are replaced on update)."""
        hit = self._nat.get(nat.uuid)
        if hit is not None and hit[0] is nat and hit[1] == has_dgp:
            return hit[2]
        e = check_nat_entry(nat, has_dgp)
        self._nat[nat.uuid] = (nat, has_dgp, e)
        return e

    # -- rows
    def row(self, table: str, uuid: str) -> Row | None:
        return self.nb.tables[table].get(uuid)

    def lsp_named(self, name: str) -> Row | None:
        u = self.idx.lsp_by_name.get(name)
        return None if u is None else self.nb.tables["Logical_Switch_Port"].get(u)

    def lrp_named(self, name: str) -> Row | None:
        u = self.idx.lrp_by_name.get(name)
        return None if u is None else self.nb.tables["Logical_Router_Port"].get(u)

    def peer_lrp(self, lsp: Row) -> Row | None:
        """ovn_port_get_peer() for a router-type LSP."""
        if lsp["type"] != "router":
            return None
        name = lsp["options"].get("router-port")
        lrp = self.lrp_named(name) if name else None
        if lrp is None or lrp_networks(lrp) is None or lrp.uuid not in self.idx.lr_of_lrp:
            return None
        return lrp

    def peer_lsp(self, lrp: Row) -> Row | None:
        for u in sorted(self.idx.router_lsps_by_peer.get(lrp["name"], ())):
            if u in self.idx.ls_of_lsp:
                return self.nb.tables["Logical_Switch_Port"].get(u)
        return None

    # -- contexts
    def switch(self, ls_uuid: str) -> SwitchCtx | None:
        ctx = self._sw.get(ls_uuid)
        if ctx is None:
            ls = self.nb.tables["Logical_Switch"].get(ls_uuid)
            if ls is None:
                return None
            ctx = self._sw[ls_uuid] = switch_ctx(self.nb, self.idx, ls)
        return ctx

    def router(self, lr_uuid: str) -> RouterCtx | None:
        ctx = self._rt.get(lr_uuid)
        if ctx is None:
            lr = self.nb.tables["Logical_Router"].get(lr_uuid)
            if lr is None:
                return None
            ctx = self._rt[lr_uuid] = router_ctx(self.nb, self.idx, lr)
        return ctx

    def cached_switch(self, ls_uuid: str) -> SwitchCtx | None:
        return self._sw.get(ls_uuid)

    def cached_router(self, lr_uuid: str) -> RouterCtx | None:
        return self._rt.get(lr_uuid)

    def forget(self, dp_uuid: str) -> None:
        self._sw.pop(dp_uuid, None)
        self._rt.pop(dp_uuid, None)
