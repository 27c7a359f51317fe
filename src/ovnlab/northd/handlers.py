"""en_northd's NB change handlers: what one NB row change dirties.

One small handler per NB table family says which flow owners regenerate, which SB
bindings (datapaths, ports, multicast groups, port groups) re-sync, and which datapath
contexts (northd.c's per-ovn_datapath facts) are re-derived; `expand()` then compares the
re-derived contexts and dirties every owner of a datapath whose context moved.

Columns that only report state back into the NB (northd's own writes: a switch port's
`up`, a router port's `status`, NB_Global's `sb_cfg`) are nobody's input: a change to them
alone dirties nothing, which is how northd's own NB writes come back to it as no-ops.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from ovnlab.nb import NatType
from ovnlab.northd.env import Env
from ovnlab.northd.owners import Owner, OwnerKind, PortRef
from ovnlab.ovsdb import Change, Row, moved_only

LSP_TABLE = "Logical_Switch_Port"
LRP_TABLE = "Logical_Router_Port"
STATUS_COLUMNS = {LSP_TABLE: frozenset({"up"}), LRP_TABLE: frozenset({"status"}),
                  "NB_Global": frozenset({"sb_cfg"})}


@dataclass
class Dirty:
    """en_northd's tracked data for one run: what its consumers (lflow, status) redo."""

    full: bool = False
    owners: set[Owner] = field(default_factory=set)
    dps: set[str] = field(default_factory=set)  # Datapath_Binding rows to sync
    ports: set[PortRef] = field(default_factory=set)  # Port_Binding rows to sync
    mcast: set[str] = field(default_factory=set)  # switches whose Multicast_Groups sync
    pgs: set[str] = field(default_factory=set)  # port groups whose SB rows sync
    switches: set[str] = field(default_factory=set)  # switch contexts to re-derive
    routers: set[str] = field(default_factory=set)  # router contexts to re-derive
    contexts: set[str] = field(default_factory=set)  # datapaths whose context moved
    address_sets: bool = False
    globals: bool = False

    @property
    def empty(self) -> bool:
        return not (self.full or self.owners or self.dps or self.ports or self.mcast
                    or self.pgs or self.contexts or self.address_sets or self.globals)

    def lsps(self) -> list[str]:
        return [u for t, u in self.ports if t == LSP_TABLE]

    def port(self, kind: OwnerKind, uuid: str) -> None:
        """A port owner whose Port_Binding syncs too."""
        self.owners.add((kind, uuid))
        self.ports.add((kind.table, uuid))


class Scope:
    """What the handlers read: the NB through northd's Env, and the switches each port
    group spans (kept here, as ACL flows follow them)."""

    def __init__(self, env: Env) -> None:
        self.env = env
        self.spans: dict[str, frozenset[str]] = {}

    def reset(self, env: Env) -> None:
        self.env = env
        self.spans = {r.uuid: self.span(r) for r in env.nb.rows("Port_Group")}

    def span(self, pg: Row) -> frozenset[str]:
        """The switches holding at least one port of this port group."""
        env = self.env
        return frozenset(sw.uuid for sw in env.nb.tables["Logical_Switch"].values()
                         if not env.port_set(sw).isdisjoint(pg["ports"]))


Handler = Callable[[Scope, Change, Dirty], None]


def status_only(ch: Change) -> bool:
    cols = STATUS_COLUMNS.get(ch.table)
    if cols is None or ch.op != "update" or ch.old is None or ch.new is None:
        return False
    return all(ch.new[k] == ch.old[k] for k in ch.new if k not in cols)


def handle(scope: Scope, changes: Iterable[Change], dirty: Dirty) -> None:
    """Every change through its table's handler, then the contexts they touched."""
    for ch in changes:
        handler = HANDLERS.get(ch.table)
        if handler is not None and not status_only(ch):
            handler(scope, ch, dirty)
    expand(scope, dirty)


def _rows(ch: Change) -> list[Row]:
    return [r for r in (ch.old, ch.new) if r is not None]


def _members(ch: Change, column: str) -> set[str]:
    """Members of a set/reference column that the change added or removed."""
    old = set(ch.old[column]) if ch.old is not None else set()
    new = set(ch.new[column]) if ch.new is not None else set()
    return old ^ new


# ------------------------------------------------------------------ switches
def on_logical_switch(scope: Scope, ch: Change, d: Dirty) -> None:
    env, u = scope.env, ch.uuid
    d.owners.add((OwnerKind.LS, u))
    d.dps.add(u)
    d.mcast.add(u)
    d.switches.add(u)
    for p in _members(ch, "ports"):
        d.port(OwnerKind.LSP, p)
        d.owners.add((OwnerKind.SELF_ORIG, p))
        d.pgs.update(env.idx.pgs_of_lsp.get(p, ()))
        moved = env.row(LSP_TABLE, p)
        if moved is not None and moved["type"] in ("router", "localnet"):
            d.routers.update(routers_of_switch(env, u))
    d.owners.update((OwnerKind.ACL, a) for a in _members(ch, "acls"))


def on_logical_switch_port(scope: Scope, ch: Change, d: Dirty) -> None:
    env, idx, u = scope.env, scope.env.idx, ch.uuid
    d.pgs.update(idx.pgs_of_lsp.get(u, ()))
    d.port(OwnerKind.LSP, u)
    ls = idx.ls_of_lsp.get(u)
    if ls is not None:
        d.switches.add(ls)
        d.mcast.add(ls)
    for r in _rows(ch):
        if r["type"] == "router":
            d.owners.add((OwnerKind.SELF_ORIG, u))
            _router_peer(env, r["options"].get("router-port"), d)
        d.owners.update((OwnerKind.NAT, n) for n in idx.nats_by_lport.get(r["name"], ()))
        if r["type"] == "localnet" and ls is not None:
            # its VLAN tag sizes the gateway_mtu check of routers on the switch
            for lr in routers_of_switch(env, ls):
                _gateway_mtu_owners(env, lr, d)


def _router_peer(env: Env, lrp_name: str | None, d: Dirty) -> None:
    lrp = env.idx.lrp_by_name.get(lrp_name) if lrp_name else None
    if lrp is None:
        return
    d.port(OwnerKind.LRP, lrp)
    lr = env.idx.lr_of_lrp.get(lrp)
    if lr is not None:
        d.routers.add(lr)
        _router_nat_owners(env, lr, d)  # the router's FIPs are ARPed for on its switches


def on_acl(scope: Scope, ch: Change, d: Dirty) -> None:
    d.owners.add((OwnerKind.ACL, ch.uuid))
    d.switches.update(acl_switches(scope.env, ch.uuid))


def on_port_group(scope: Scope, ch: Change, d: Dirty) -> None:
    d.pgs.add(ch.uuid)
    if ch.old is None or ch.new is None or ch.old["acls"] != ch.new["acls"]:
        for r in _rows(ch):
            d.owners.update((OwnerKind.ACL, a) for a in r["acls"])
        d.switches.update(scope.spans.get(ch.uuid, ()))
        if ch.new is not None:
            d.switches.update(scope.span(ch.new))


def on_dhcp_options(scope: Scope, ch: Change, d: Dirty) -> None:
    d.owners.update((OwnerKind.LSP, u) for u in scope.env.idx.lsps_of_dhcp.get(ch.uuid, ()))


def on_address_set(scope: Scope, ch: Change, d: Dirty) -> None:
    d.address_sets = True


def on_nb_global(scope: Scope, ch: Change, d: Dirty) -> None:
    d.globals = True
    d.address_sets = True  # svc_monitor_mac


# ------------------------------------------------------------------ routers
def on_logical_router(scope: Scope, ch: Change, d: Dirty) -> None:
    env, u = scope.env, ch.uuid
    d.owners.add((OwnerKind.LR, u))
    d.dps.add(u)
    if not _only_fip_membership(env, ch):
        d.routers.add(u)
    for p in _members(ch, "ports"):
        d.port(OwnerKind.LRP, p)
    d.owners.update((OwnerKind.NAT, n) for n in _members(ch, "nat"))
    if ch.old is not None and ch.new is not None and set(ch.old["nat"]) != set(ch.new["nat"]):
        _nat_dependents(env, u, d)
    _gateway_mtu_owners(env, u, d)
    if ch.old is None or ch.new is None or ch.old["ports"] != ch.new["ports"]:
        _router_nat_owners(env, u, d)


def on_logical_router_port(scope: Scope, ch: Change, d: Dirty) -> None:
    env, u = scope.env, ch.uuid
    d.port(OwnerKind.LRP, u)
    lr = env.idx.lr_of_lrp.get(u)
    if lr is not None:
        d.routers.add(lr)
        _gateway_mtu_owners(env, lr, d)
        if _changed(ch, "enabled", "name"):
            _router_nat_owners(env, lr, d)
    for r in _rows(ch):
        router_peers(env, r["name"], d)
        if _changed(ch, "networks", "mac"):
            _switch_ports_behind(env, r["name"], d)


def on_nat(scope: Scope, ch: Change, d: Dirty) -> None:
    env, u = scope.env, ch.uuid
    d.owners.add((OwnerKind.NAT, u))
    lr = env.idx.lr_of_nat.get(u)
    if lr is None:
        return
    env.nat_changed(lr, u)
    if any(r["type"] == NatType.SNAT for r in _rows(ch)):
        d.routers.add(lr)  # SNAT IPs are part of the router context
    _nat_dependents(env, lr, d)


def on_static_route(scope: Scope, ch: Change, d: Dirty) -> None:
    lr = scope.env.idx.lr_of_route.get(ch.uuid)
    if lr is not None:
        d.owners.add((OwnerKind.LR, lr))


def on_gateway_chassis(scope: Scope, ch: Change, d: Dirty) -> None:
    """Gateway_Chassis / HA_Chassis_Group / HA_Chassis: the router ports' HA groups."""
    d.ports.update((LRP_TABLE, r.uuid) for r in scope.env.nb.rows(LRP_TABLE))


HANDLERS: dict[str, Handler] = {
    "Logical_Switch": on_logical_switch, LSP_TABLE: on_logical_switch_port, "ACL": on_acl,
    "Port_Group": on_port_group, "DHCP_Options": on_dhcp_options,
    "Address_Set": on_address_set, "NB_Global": on_nb_global,
    "Logical_Router": on_logical_router, LRP_TABLE: on_logical_router_port, "NAT": on_nat,
    "Logical_Router_Static_Route": on_static_route, "Gateway_Chassis": on_gateway_chassis,
    "HA_Chassis_Group": on_gateway_chassis, "HA_Chassis": on_gateway_chassis,
}


def _changed(ch: Change, *columns: str) -> bool:
    """Inserted, deleted, or one of `columns` changed."""
    if ch.op != "update" or ch.old is None or ch.new is None:
        return True
    return any(ch.old[c] != ch.new[c] for c in columns)


def _only_fip_membership(env: Env, ch: Change) -> bool:
    """A router update that only adds/removes non-snat NAT rows (one more FIP) leaves
    its context (gateway port, SNAT IPs, has-NAT) as it was."""
    if ch.old is None or ch.new is None:
        return False
    if not moved_only(ch.old, ch.new, ("nat",)):
        return False
    if bool(ch.old["nat"]) != bool(ch.new["nat"]):
        return False
    nats = env.nb.tables["NAT"]
    for u in _members(ch, "nat"):
        row = nats.get(u)
        if row is None or row["type"] == NatType.SNAT:
            return False  # a deleted row's type is unknown here: be conservative
    return True


# ------------------------------------------------------------------ fan-out helpers
def routers_of_switch(env: Env, ls_uuid: str) -> set[str]:
    out: set[str] = set()
    ls = env.row("Logical_Switch", ls_uuid)
    for u in (ls["ports"] if ls is not None else ()):
        lsp = env.row(LSP_TABLE, u)
        if lsp is not None and lsp["type"] == "router":
            lrp = env.idx.lrp_by_name.get(lsp["options"].get("router-port", ""))
            lr = env.idx.lr_of_lrp.get(lrp) if lrp else None
            if lr is not None:
                out.add(lr)
    return out


def router_peers(env: Env, lrp_name: str, d: Dirty) -> None:
    """The router-type switch ports peering with this router port."""
    for u in env.idx.router_lsps_by_peer.get(lrp_name, ()):
        d.port(OwnerKind.LSP, u)
        d.owners.add((OwnerKind.SELF_ORIG, u))


def _switch_ports_behind(env: Env, lrp_name: str, d: Dirty) -> None:
    """VIF ports whose router-side ARP resolution depends on this LRP's networks."""
    for u in env.idx.router_lsps_by_peer.get(lrp_name, ()):
        ls = env.idx.ls_of_lsp.get(u)
        row = env.row("Logical_Switch", ls) if ls else None
        d.owners.update((OwnerKind.LSP, p) for p in (row["ports"] if row is not None else ()))


def _router_nat_owners(env: Env, lr: str, d: Dirty) -> None:
    """NAT rows emit their ARP-request flows on the switch of every router port."""
    row = env.row("Logical_Router", lr)
    d.owners.update((OwnerKind.NAT, n) for n in (row["nat"] if row is not None else ()))


def _gateway_mtu_owners(env: Env, lr: str, d: Dirty) -> None:
    """Router ports with options:gateway_mtu emit flows for every other port of the
    router (lr_in_larger_pkts) and size their check by the peer switch's VLAN tag."""
    row = env.row("Logical_Router", lr)
    if row is None:
        return
    for p in row["ports"]:
        lrp = env.row(LRP_TABLE, p)
        if lrp is not None and "gateway_mtu" in lrp["options"]:
            d.owners.add((OwnerKind.LRP, p))
            d.owners.update((OwnerKind.NAT, n) for n in row["nat"])  # FIP admission checks


def _nat_dependents(env: Env, lr: str, d: Dirty) -> None:
    """Router-port peers (self-originated ARP MACs, nat_addresses) and the
    chassisredirect port (always-redirect) depend on the router's NAT list."""
    row = env.row("Logical_Router", lr)
    for p in (row["ports"] if row is not None else ()):
        lrp = env.row(LRP_TABLE, p)
        if lrp is None:
            continue
        d.ports.add((LRP_TABLE, p))
        for u in env.idx.router_lsps_by_peer.get(lrp["name"], ()):
            d.owners.add((OwnerKind.SELF_ORIG, u))
            d.ports.add((LSP_TABLE, u))


def acl_switches(env: Env, acl_uuid: str) -> list[str]:
    """The switches an ACL applies to: its own, and those its port groups span."""
    out = []
    ls = env.idx.ls_of_acl.get(acl_uuid)
    if ls is not None:
        out.append(ls)
    for pg in env.idx.pgs_of_acl.get(acl_uuid, ()):
        row = env.row("Port_Group", pg)
        for p in (row["ports"] if row is not None else ()):
            s = env.idx.ls_of_lsp.get(p)
            if s is not None and s not in out:
                out.append(s)
    return out


# ------------------------------------------------------------------ contexts
def expand(scope: Scope, d: Dirty) -> None:
    """Datapath-wide facts: port groups whose span moved re-generate their ACLs; a
    switch or router whose context moved re-generates every owner on it."""
    _port_group_spans(scope, d)
    env = scope.env
    for ls in sorted(d.switches):
        before = env.cached_switch(ls)
        env.forget(ls)
        after = env.switch(ls)
        if before == after:
            continue
        d.contexts.add(ls)
        for name in (after.router_ports if after is not None else ()):
            rp = env.idx.lsp_by_name.get(name)
            if rp is not None:
                d.owners.add((OwnerKind.SELF_ORIG, rp))
        if after is not None and before is not None and \
                before.localnet_ports != after.localnet_ports:
            d.routers.update(routers_of_switch(env, ls))
    for lr in sorted(d.routers):
        before_r = env.cached_router(lr)
        env.forget(lr)
        if before_r == env.router(lr):
            continue
        d.contexts.add(lr)
        lr_row = env.row("Logical_Router", lr)
        for p in (lr_row["ports"] if lr_row is not None else ()):
            lrp_row = env.row(LRP_TABLE, p)
            if lrp_row is not None:
                router_peers(env, lrp_row["name"], d)
                d.ports.add((LRP_TABLE, p))


def _port_group_spans(scope: Scope, d: Dirty) -> None:
    """ACL flows move when the set of switches a port group spans changes (ports added
    to the group, or its ports moving between switches)."""
    env = scope.env
    for pg_u in d.pgs:
        pg_row = env.row("Port_Group", pg_u)
        old_span = scope.spans.pop(pg_u, frozenset())
        new_span = scope.span(pg_row) if pg_row is not None else frozenset()
        if pg_row is not None:
            scope.spans[pg_u] = new_span
        if old_span != new_span:
            d.owners.update((OwnerKind.ACL, a) for a in (pg_row["acls"] if pg_row else ()))
            d.switches.update(old_span ^ new_span)
