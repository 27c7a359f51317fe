"""Per-datapath facts that many flows depend on (northd's ovn_datapath fields).

When a datapath's context changes, every owner emitting flows on it is recomputed; when it
does not (the common case: one more VM port, one more FIP), only the touched owners are.
"""

from __future__ import annotations

from dataclasses import dataclass

from ovnlab.nb import NatType
from ovnlab.northd.model import (
    LportAddresses,
    NBIndex,
    cr_name,
    is_dgp,
    lrp_networks,
)
from ovnlab.northd.nat import nat_fact
from ovnlab.ovsdb import Database, Row


@dataclass(frozen=True, slots=True)
class SwitchCtx:
    uuid: str
    name: str
    has_acls: bool
    has_stateful: bool
    has_unknown: bool
    all_router_ports: bool  # od->n_router_ports == od->nbs->n_ports
    router_ports: tuple[str, ...]  # LSP names of type "router"
    localnet_ports: tuple[str, ...]
    vlan_passthru: bool


@dataclass(frozen=True, slots=True)
class Dgp:
    """The router's (single) distributed gateway port."""

    uuid: str
    name: str
    cr: str
    networks: LportAddresses
    options: tuple[tuple[str, str], ...]
    peer_ls_has_localnet: bool


@dataclass(frozen=True, slots=True)
class RouterCtx:
    uuid: str
    name: str
    is_gw_router: bool
    dgp: Dgp | None
    n_dgp: int
    snat_ips: frozenset[str]
    has_nat: bool
    learn_from_arp_request: bool


def switch_ctx(nb: Database, idx: NBIndex, ls: Row) -> SwitchCtx:
    ports = frozenset(ls["ports"])
    names = idx.name_of_lsp
    router_ports = sorted(names[u] for u in ports & idx.router_lsps if u in names)
    localnet = sorted(names[u] for u in ports & idx.localnet_lsps if u in names)
    has_unknown = not ports.isdisjoint(idx.unknown_lsps)
    acls = switch_acls(nb, idx, ls)
    acl_rows = nb.tables["ACL"]
    has_stateful = any(acl_rows[a]["action"] == "allow-related" for a in acls if a in acl_rows)
    return SwitchCtx(ls.uuid, ls["name"], bool(acls), has_stateful, has_unknown,
                     len(router_ports) == len(ls["ports"]), tuple(router_ports), tuple(localnet),
                     ls["other_config"].get("vlan-passthru") == "true")


def switch_port_groups(nb: Database, idx: NBIndex, ls: Row) -> list[str]:
    """Port groups with at least one port on this switch (ovn_port_group_ls)."""
    ports = frozenset(ls["ports"])
    return sorted(pg.uuid for pg in nb.tables["Port_Group"].values()
                  if not ports.isdisjoint(pg["ports"]))


def switch_acls(nb: Database, idx: NBIndex, ls: Row) -> list[str]:
    acls = list(ls["acls"])
    pg_rows = nb.tables["Port_Group"]
    for pg in switch_port_groups(nb, idx, ls):
        row = pg_rows.get(pg)
        if row is not None:
            acls.extend(row["acls"])
    return acls


def router_ctx(nb: Database, idx: NBIndex, lr: Row) -> RouterCtx:
    lrps = nb.tables["Logical_Router_Port"]
    dgps = [lrps[u] for u in lr["ports"] if u in lrps and is_dgp(lr, lrps[u])]
    dgp: Dgp | None = None
    if dgps:
        first = dgps[0]
        nets = lrp_networks(first)
        if nets is not None:
            dgp = Dgp(first.uuid, first["name"], cr_name(first["name"]), nets,
                      tuple(sorted(first["options"].items())),
                      _peer_has_localnet(nb, idx, first["name"]))
    nats = nb.tables["NAT"]
    snat_ips: set[str] = set()
    for u in lr["nat"]:
        nat = nats.get(u)
        if nat is not None and nat["type"] == NatType.SNAT:
            entry = nat_fact(nat, dgp is not None).entry
            if entry is not None:
                snat_ips.add(entry.external_ip)
    return RouterCtx(lr.uuid, lr["name"], bool(lr["options"].get("chassis")), dgp, len(dgps),
                     frozenset(snat_ips), bool(lr["nat"]),
                     lr["options"].get("always_learn_from_arp_request", "true") != "false")


def _peer_has_localnet(nb: Database, idx: NBIndex, lrp_name: str) -> bool:
    """Whether the switch holding this LRP's peer LSP has a localnet port."""
    for ls_uuid, _lsp in peer_lsps(nb, idx, lrp_name):
        ls = nb.tables["Logical_Switch"].get(ls_uuid)
        if ls is None:
            continue
        lsps = nb.tables["Logical_Switch_Port"]
        if any(lsps[u]["type"] == "localnet" for u in ls["ports"] if u in lsps):
            return True
    return False


def peer_lsps(nb: Database, idx: NBIndex, lrp_name: str) -> list[tuple[str, str]]:
    out = []
    for u in sorted(idx.router_lsps_by_peer.get(lrp_name, ())):
        ls = idx.ls_of_lsp.get(u)
        if ls is not None:
            out.append((ls, u))
    return out
