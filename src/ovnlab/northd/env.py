"""What generators read: the NB database, its index, and cached datapath contexts."""

from __future__ import annotations

import bisect
from collections import Counter
from dataclasses import dataclass, field

from ovnlab.northd.context import RouterCtx, SwitchCtx, router_ctx, switch_ctx
from ovnlab.northd.features import ChassisFeatures
from ovnlab.northd.model import NBIndex, lrp_networks
from ovnlab.northd.nat import NatFact, nat_fact
from ovnlab.ovsdb import Database, Row


@dataclass
class RouterNats:
    """Aggregates over a router's NAT facts that some flows and bindings print in full
    (self-originated ARP MACs, Port_Binding.nat_addresses), kept current per NAT change
    so that adding one FIP costs O(1) Python work plus C-speed copies of the aggregate.
    `garp` and `central` keep the router's NAT order, as a full rebuild would."""

    lr: Row | None = None
    has_dgp: bool = False
    entries: dict[str, NatFact] = field(default_factory=dict)
    macs: Counter[str] = field(default_factory=Counter)
    sorted_macs: list[str] = field(default_factory=list)
    # get_nat_addresses() pieces: "MAC IP is_chassis_resident(...)" per distributed NAT,
    # and the external IPs of the others (centralized on the gateway chassis).
    garp: dict[str, str] = field(default_factory=dict)
    central: dict[str, str] = field(default_factory=dict)
    dirty: set[str] = field(default_factory=set)

    @property
    def has_distributed_nat(self) -> bool:
        """od->has_distributed_nat: a NAT row asks to be handled on its port's chassis."""
        return any(f.requests_distribution for f in self.entries.values())

    def _fact(self, env: Env, u: str) -> NatFact | None:
        nat = env.row("NAT", u)
        return None if nat is None else env.nat_fact(nat, self.has_dgp)

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
        f = self._fact(env, u)
        if f is None:
            return
        self.entries[u] = f
        if f.self_orig_mac:
            self._mac_inc(f.self_orig_mac)
        if f.garp is not None:
            self.garp[u] = f.garp
        if f.central_ip is not None:
            self.central[u] = f.central_ip

    def _remove(self, u: str) -> None:
        old = self.entries.pop(u, None)
        self.garp.pop(u, None)
        self.central.pop(u, None)
        if old is not None and old.self_orig_mac:
            self._mac_dec(old.self_orig_mac)

    def _update(self, env: Env, u: str) -> bool:
        """Re-read one NAT in place; False if its position in the aggregates moved."""
        old = self.entries.get(u)
        if old is None:
            return True
        if old.self_orig_mac:
            self._mac_dec(old.self_orig_mac)
        f = self._fact(env, u)
        if f is None:
            self.entries.pop(u)
            self.garp.pop(u, None)
            self.central.pop(u, None)
            return True
        self.entries[u] = f
        if f.self_orig_mac:
            self._mac_inc(f.self_orig_mac)
        in_place = (f.garp is not None) == (u in self.garp) and \
            (f.central_ip is not None) == (u in self.central)
        for d, v in ((self.garp, f.garp), (self.central, f.central_ip)):
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
        self._nat: dict[str, tuple[Row, bool, NatFact]] = {}
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

    def nat_fact(self, nat: Row, has_dgp: bool) -> NatFact:
        """nat.nat_fact(), memoised per row version (rows are replaced on update)."""
        hit = self._nat.get(nat.uuid)
        if hit is not None and hit[0] is nat and hit[1] == has_dgp:
            return hit[2]
        f = nat_fact(nat, has_dgp)
        self._nat[nat.uuid] = (nat, has_dgp, f)
        return f

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
