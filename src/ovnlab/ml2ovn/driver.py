"""Neutron's OVN mechanism driver and OVN L3 service plugin: Neutron API dicts -> OVN NB rows.

Follows openstack/neutron (2023.1, the Gateway_Chassis era):
neutron/plugins/ml2/drivers/ovn/mech_driver/ovsdb/ovn_client.py (`OVNClient`), commands.py,
mech_driver.py (`set_port_status_up/down`, `_update_dnat_entry_if_needed`),
neutron/services/ovn_l3/plugin.py (`schedule_unhosted_gateways`). Function names in the
comments point at the Neutron code each method mirrors.

Not modelled: metadata ports, DHCPv6, extra DHCP options, DNS records, QoS, allowed-address-pair virtual ports,
IPv6 RA configs, availability zones, port forwarding, OVN load balancers.
`NAT.gateway_port` stays empty: OVN 22.03 has no such column, and Neutron master only sets
it for routers using an HA_Chassis_Group (ovnlab schedules with Gateway_Chassis rows).
"""

from __future__ import annotations

import ipaddress
import random
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

from ovnlab.errors import NotFound, OvnlabError
from ovnlab.ml2ovn import acl as acls
from ovnlab.ml2ovn import fip as fip_rules
from ovnlab.ml2ovn import l3
from ovnlab.ml2ovn import lsp as lsp_rules
from ovnlab.ml2ovn import names as n
from ovnlab.ml2ovn import scheduler as sched
from ovnlab.ml2ovn.agents import agents as agent_list
from ovnlab.ml2ovn.store import Resource, Store
from ovnlab.nb.api import NbApi, merged
from ovnlab.nb.schema import NB_SCHEMA
from ovnlab.nb.types import LspType, NatType
from ovnlab.ovsdb import Change, Database, Row, Transaction
from ovnlab.owners import NETWORK_PREFIX, NEUTRON_PREFIX
from ovnlab.topology import OvnConfig

PortStatusCallback = Callable[[str, bool], None]

class OVNMechanismDriver:
    """The ML2/OVN driver the cloud calls inside each of its transactions.

    `on_port_status(port_id, up)` is called after an NB `Logical_Switch_Port.up` change has
    been handled (the lead wires it to `cloud.update_port_status`).
    """

    def __init__(self, nb: Database, sb: Database, config: OvnConfig, *, seed: int = 0,
                 emit_need_to_frag: bool = False, _live: Database | None = None) -> None:
        self.nb = nb
        self.sb = sb
        self.config = config
        self.emit_need_to_frag = emit_need_to_frag
        self.api = NbApi(nb)
        self.scheduler = sched.Scheduler(config.ovn_l3_scheduler, seed)
        self.on_port_status: PortStatusCallback | None = None
        self.defer_port_events = False
        self._pending_status: list[tuple[str, bool]] = []
        self.store = Store()
        self._seed = seed
        self._mac_rng = random.Random(f"ovn-dhcp-server-mac:{seed}")
        self._depth = 0
        # Where `up` and the existing gateway chassis are read: the NB itself, except for
        # the scratch driver `sync` replays the cloud into.
        self._live = _live or nb
        self._live_api = NbApi(_live) if _live is not None else self.api
        self._syncing = _live is not None
        if _live is None:
            nb.subscribe(self._on_nb_changes)
            sb.subscribe(self._on_sb_changes)
        with self.transaction():
            if not nb.rows("NB_Global"):  # `ovn-nbctl init`, which ovn-ctl runs at start
                self.api.insert("NB_Global")
            self._ensure_drop_port_group()

    # ================================================================ agents
    def agents(self, now: str) -> list[Resource]:
        """The agents Neutron's OVN driver reports from the SB chassis (`agent list`)."""
        return agent_list(self._live, self.sb, now)

    # ================================================================ transactions
    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """The NB transaction a cloud operation runs in; nested calls join it."""
        if self._depth:
            self._depth += 1
            try:
                with self.nb.transaction() as txn:
                    yield txn
            finally:
                self._depth -= 1
            return
        self._depth = 1
        self.store.begin()
        config = self.config
        try:
            with self.nb.transaction() as txn:
                yield txn
                # Commit the journal before the NB commits: its listeners may call back.
                self._depth = 0
                self.store.commit()
        except BaseException:
            self.store.rollback()
            self.api.reset()
            self.config = config
            raise
        finally:
            self._depth = 0

    @property
    def distributed(self) -> bool:
        return self.config.enable_distributed_floating_ip

    # ================================================================ networks
    def create_network(self, net: Resource) -> None:
        """`OVNClient.create_network`: LS `neutron-<id>` + localnet port for provider nets."""
        with self.transaction():
            self.store.put("networks", net)
            self.api.ls_add(n.ovn_name(net["id"]), **lsp_rules.network_columns(net))
            self._sync_provnet(net)

    def update_network(self, net: Resource, original: Resource | None = None) -> None:
        with self.transaction():
            self.store.put("networks", net)
            ls = self.api.by_name("Logical_Switch", n.ovn_name(net["id"]))
            if ls is None:
                self.api.ls_add(n.ovn_name(net["id"]), **lsp_rules.network_columns(net))
            else:
                self.api.set(ls, **lsp_rules.network_columns(net))
            self._sync_provnet(net)
            for subnet in self.store.values("subnets"):  # DHCP `mtu` follows the network
                if subnet.get("network_id") == net["id"]:
                    self._sync_subnet_dhcp(subnet)

    def delete_network(self, net: Resource) -> None:
        with self.transaction():
            self.api.ls_del(n.ovn_name(net["id"]))
            self.store.drop("networks", net["id"])

    def _sync_provnet(self, net: Resource) -> None:
        """`create_provnet_port`: localnet LSP for a flat/vlan segment (named after the
        network: the API does not expose segment ids, Neutron accepts this legacy name)."""
        name = n.provnet_name(net["id"])
        cols = lsp_rules.provnet_columns(net)
        existing = self.api.by_name("Logical_Switch_Port", name)
        if cols is None:
            if existing is not None:
                self.api.lsp_del(name)
        elif existing is None:
            self.api.lsp_add(n.ovn_name(net["id"]), name, **cols)
        else:
            self.api.set(existing, **cols)

    # ================================================================ subnets
    def create_subnet(self, subnet: Resource) -> None:
        """`OVNClient.create_subnet`: a DHCP_Options row for a DHCP-enabled subnet."""
        with self.transaction():
            self.store.put("subnets", subnet)
            self._sync_subnet_dhcp(subnet)

    def update_subnet(self, subnet: Resource, original: Resource | None = None) -> None:
        """`OVNClient.update_subnet` (`_modify_subnet_dhcp_options`)."""
        with self.transaction():
            self.store.put("subnets", subnet)
            self._sync_subnet_dhcp(subnet)
            # A new gateway_ip on an external subnet moves the routers' default routes.
            for router in self.store.values("routers"):
                if any(g.subnet_id == subnet["id"] for g in l3.gw_info(self.store, router)):
                    self._sync_default_routes(router)

    def delete_subnet(self, subnet: Resource) -> None:
        with self.transaction():
            row = self._subnet_dhcp_row(subnet["id"])
            if row is not None:
                self.api.delete("DHCP_Options", row.uuid)
            self.store.drop("subnets", subnet["id"])

    # ---------------------------------------------------------------- DHCP
    def _subnet_dhcp_row(self, subnet_id: str, db: Database | None = None) -> Row | None:
        for row in (db or self.nb).rows("DHCP_Options"):
            ids = row["external_ids"]
            if ids.get("subnet_id") == subnet_id and "port_id" not in ids:
                return row
        return None

    def _new_mac(self) -> str:
        """`get_random_mac(base_mac)` from a seeded generator."""
        return "fa:16:3e:" + ":".join(f"{self._mac_rng.randrange(256):02x}" for _ in range(3))

    def _sync_subnet_dhcp(self, subnet: Resource) -> None:
        row = self._subnet_dhcp_row(subnet["id"])
        old = row or self._subnet_dhcp_row(subnet["id"], self._live)
        cols = lsp_rules.dhcp_columns(self.store, subnet, old["options"].get("server_mac") if old else None,
                                self._new_mac)
        if cols is None and row is None:
            return
        if cols is None:
            assert row is not None
            self.api.delete("DHCP_Options", row.uuid)
        elif row is None:
            self.api.insert("DHCP_Options", **cols)
        else:
            self.api.set(row, **cols)
        for port in self.store.values("ports"):
            if any(f.get("subnet_id") == subnet["id"] for f in port.get("fixed_ips", [])) \
                    and self.api.by_name("Logical_Switch_Port", port["id"]) is not None:
                self._update_lsp(port)

    def _port_dhcpv4(self, port: Resource) -> str | None:
        """`_get_port_dhcp_options`: the first v4 subnet's row; none for network devices."""
        owner = str(port.get("device_owner") or "")
        if owner.startswith((NETWORK_PREFIX, NEUTRON_PREFIX)):
            return None
        for fixed in port.get("fixed_ips", []):
            if ipaddress.ip_address(fixed["ip_address"]).version != 4:
                continue
            row = self._subnet_dhcp_row(fixed["subnet_id"])
            if row is not None:
                return row.uuid
        return None

    # ================================================================ ports
    def create_port(self, port: Resource) -> None:
        """`OVNClient.create_port`; floating IP ports get no LSP (`is_lsp_ignored`)."""
        with self.transaction():
            self.store.put("ports", port)
            if port.get("device_owner") == n.OWNER_FLOATINGIP:
                return
            if self.api.by_name("Logical_Switch_Port", port["id"]) is None:
                self._create_lsp(port)
            else:
                self._update_lsp(port)

    def update_port(self, port: Resource, original: Resource | None = None) -> None:
        """`OVNClient.update_port`."""
        with self.transaction():
            self.store.put("ports", port)
            if port.get("device_owner") == n.OWNER_FLOATINGIP:
                return
            if self.api.by_name("Logical_Switch_Port", port["id"]) is None:
                self._create_lsp(port)
            else:
                self._update_lsp(port)

    def delete_port(self, port: Resource) -> None:
        """`OVNClient.delete_port`; a router port's LRP cannot outlive it either."""
        with self.transaction():
            self.api.lsp_del(port["id"])
            if port.get("device_owner") == n.OWNER_ROUTER_INTF:
                self.api.lrp_del(n.lrp_name(port["id"]))
            self.store.drop("ports", port["id"])

    def _create_lsp(self, port: Resource) -> Row:
        ls_name = n.ovn_name(port["network_id"])
        if self.api.by_name("Logical_Switch", ls_name) is None:
            raise NotFound(f"Logical Switch {ls_name} does not exist")
        cols = lsp_rules.lsp_columns(self.store, port, dhcpv4=self._port_dhcpv4(port),
                                     up=self._lsp_up(port["id"]))
        lsp = self.api.lsp_add(ls_name, port["id"], **cols)
        self._sync_port_groups(port, lsp)
        return lsp

    def _update_lsp(self, port: Resource) -> None:
        lsp = self.api.must("Logical_Switch_Port", port["id"])
        cols = lsp_rules.lsp_columns(self.store, port, dhcpv4=self._port_dhcpv4(port),
                                     up=self._lsp_up(port["id"]))
        # Keys Neutron did not write this time (neutron:port_fip) are kept.
        cols["external_ids"] = {**lsp["external_ids"], **cols["external_ids"]}
        if lsp["type"] == LspType.ROUTER:
            # `is_lsp_router_port`: keep what set_lrouter_port_in_lswitch_port wrote.
            for key in ("type", "addresses", "options"):
                cols.pop(key)
        lsp = self.api.set(lsp, **cols)
        self._sync_port_groups(port, lsp)

    def _sync_port_groups(self, port: Resource, lsp: Row) -> None:
        """Port_Group membership: `pg_<sg>` per security group, `neutron_pg_drop` when port
        security is on and the port is not network-owned."""
        wanted = {n.port_group_name(sg) for sg in lsp_rules.lsp_security_groups(port)}
        secured = not n.is_trusted(port) and bool(port.get("port_security_enabled", True))
        if secured:
            wanted.add(n.DROP_PORT_GROUP)
        for pg in self.nb.rows("Port_Group"):
            member = lsp.uuid in pg["ports"]
            if pg["name"] in wanted and not member:
                self.api.add_ref(pg, "ports", lsp.uuid)
            elif pg["name"] not in wanted and member:
                if pg["name"] == n.DROP_PORT_GROUP and not secured and not n.is_trusted(port) \
                        and lsp_rules.lsp_security_groups(port):
                    continue  # Neutron leaves it there in this corner
                self.api.remove_ref(pg, "ports", lsp.uuid)
        missing = wanted - {pg["name"] for pg in self.nb.rows("Port_Group")}
        if missing:
            raise NotFound(f"Port group {sorted(missing)[0]} does not exist")

    def _lsp_up(self, port_id: str) -> bool:
        lsp = self._live_api.by_name("Logical_Switch_Port", port_id)
        return lsp is not None and lsp["up"] is True

    # ================================================================ routers
    def create_router(self, router: Resource) -> None:
        """`OVNClient.create_router`."""
        with self.transaction():
            self.store.put("routers", router)
            self.api.lr_add(n.ovn_name(router["id"]), **l3.router_columns(self.store, router))
            if router.get("external_gateway_info"):
                self._add_router_ext_gw(router, l3.router_v4_networks(self.store, router["id"]))

    def update_router(self, router: Resource, original: Resource | None = None) -> None:
        """`OVNClient.update_router`: gateway set / cleared / changed, SNAT toggled."""
        with self.transaction():
            self.store.put("routers", router)
            name = n.ovn_name(router["id"])
            lr = self.api.by_name("Logical_Router", name)
            if lr is None:
                lr = self.api.lr_add(name, **l3.router_columns(self.store, router))
            gw_new = router.get("external_gateway_info")
            gw_lrps = self._gw_lrps(lr)
            networks = l3.router_v4_networks(self.store, router["id"])
            if not gw_new:
                self._delete_router_ext_gw(lr)
            elif not gw_lrps or self._external_ips_changed(lr, router):
                self._delete_router_ext_gw(lr)
                self._add_router_ext_gw(router, networks)
            else:
                snat = bool(gw_new.get("enable_snat", True))
                has_snat = any(nat["type"] == NatType.SNAT for nat in self.api.children(lr, "nat"))
                if has_snat != snat and networks:
                    self._update_nat_rules(router, networks, snat)
            lr = self.nb.tables["Logical_Router"][lr.uuid]
            self.api.set(lr, external_ids=l3.router_columns(self.store, router)["external_ids"],
                         enabled=bool(router.get("admin_state_up", True)))
            self._sync_extra_routes(router)

    def delete_router(self, router: Resource) -> None:
        with self.transaction():
            self.api.lr_del(n.ovn_name(router["id"]))
            self.store.drop("routers", router["id"])

    def _gw_lrps(self, lr: Row) -> list[Row]:
        return [p for p in self.api.children(lr, "ports") if p["external_ids"].get(n.IS_EXT_GW) == "True"]

    def _external_ips_changed(self, lr: Row, router: Resource) -> bool:
        """`_check_external_ips_changed`."""
        gws = l3.gw_info(self.store, router)
        routes = self.api.children(lr, "static_routes")
        gw_subnets = [r["external_ids"].get(n.SUBNET_ID) for r in routes]
        snats = [nat for nat in self.api.children(lr, "nat") if nat["type"] == NatType.SNAT]
        gw_port = l3.gw_port(self.store, router)
        if not any(p["name"] == n.lrp_name(gw_port["id"]) for p in self._gw_lrps(lr)):
            return True
        for gw in gws:
            if any(gw_subnets) and gw.subnet_id not in gw_subnets:
                return True
            if gw.ip_version == 6:
                continue
            if any(s["external_ip"] != gw.router_ip for s in snats):
                return True
        return False

    def _add_router_ext_gw(self, router: Resource, networks: list[str]) -> None:
        """`_add_router_ext_gw`: gateway LRP, default route, SNAT per attached subnet."""
        self._create_lrouter_port(router, l3.gw_port(self.store, router))
        self._sync_default_routes(router)
        if l3.snat_enabled(router) and networks:
            self._update_nat_rules(router, networks, True)

    def _sync_default_routes(self, router: Resource) -> None:
        lr = self.api.must("Logical_Router", n.ovn_name(router["id"]))
        for route in self.api.children(lr, "static_routes"):
            if route["external_ids"].get(n.IS_EXT_GW) == "true":
                self.api.delete("Logical_Router_Static_Route", route.uuid)
        for gw in l3.gw_info(self.store, router):
            if gw.gateway_ip is None:
                continue
            self.api.lr_route_add(lr["name"], ip_prefix=gw.ip_prefix, nexthop=gw.gateway_ip,
                                  external_ids={n.IS_EXT_GW: "true", n.SUBNET_ID: gw.subnet_id})

    def _delete_router_ext_gw(self, lr: Row) -> None:
        """`DelLRouterExtGwCommand`: gateway routes, SNAT rows and gateway LRPs (each
        may already be gone: the cloud deletes the gateway port first)."""
        for route in self.api.children(lr, "static_routes"):
            if route["external_ids"].get(n.IS_EXT_GW) == "true":
                self.api.delete("Logical_Router_Static_Route", route.uuid)
        for nat in self.api.children(lr, "nat"):
            if nat["type"] == NatType.SNAT:
                self.api.delete("NAT", nat.uuid)
        for lrp in self._gw_lrps(lr):
            self.api.delete("Logical_Router_Port", lrp.uuid)
            port_id = n.port_id_from_lrp(lrp["name"])
            lsp = self.api.by_name("Logical_Switch_Port", port_id)
            if lsp is not None and lsp["type"] == LspType.ROUTER:
                # The Neutron gateway port goes with the gateway.
                self.api.delete("Logical_Switch_Port", lsp.uuid)
            self.store.drop("ports", port_id)

    def _update_nat_rules(self, router: Resource, networks: list[str], enable_snat: bool) -> None:
        """`update_nat_rules`: one snat row per (v4 gateway IP, attached v4 CIDR)."""
        lr = self.api.must("Logical_Router", n.ovn_name(router["id"]))
        for gw in l3.gw_info(self.store, router):
            if gw.ip_version == 6:
                continue
            for cidr in networks:
                rows = self.api.lr_nat_find(lr, type=NatType.SNAT.value, external_ip=gw.router_ip, logical_ip=cidr)
                if enable_snat and not rows:
                    self.api.lr_nat_add(lr["name"], type=NatType.SNAT.value, external_ip=gw.router_ip, logical_ip=cidr)
                elif not enable_snat:
                    for row in rows:
                        self.api.delete("NAT", row.uuid)

    def _sync_extra_routes(self, router: Resource) -> None:
        """`update_router_routes`: the router's `routes` attribute as static routes."""
        lr = self.api.must("Logical_Router", n.ovn_name(router["id"]))
        wanted = {(r["destination"], r["nexthop"]) for r in router.get("routes") or []}
        have = {}
        for route in self.api.children(lr, "static_routes"):
            if route["external_ids"].get(n.IS_EXT_GW) != "true":
                have[(route["ip_prefix"], route["nexthop"])] = route
        for key, route in have.items():
            if key not in wanted:
                self.api.delete("Logical_Router_Static_Route", route.uuid)
        for dest, nexthop in sorted(wanted - set(have)):
            self.api.lr_route_add(lr["name"], ip_prefix=dest, nexthop=nexthop)

    # ---------------------------------------------------------------- router ports
    def add_router_interface(self, router: Resource, port: Resource, subnet: Resource | None = None) -> None:
        """`OVNClient.create_router_port`."""
        with self.transaction():
            self.store.put("routers", router)
            if subnet is not None:
                self.store.put("subnets", subnet)
            self.store.put("ports", port)
            if self.api.by_name("Logical_Switch_Port", port["id"]) is None:
                self._create_lsp(port)
            lrp = self.api.by_name("Logical_Router_Port", n.lrp_name(port["id"]))
            if lrp is None:
                self._create_lrouter_port(router, port)
            else:
                self._update_lrouter_port(port)
            if router.get("external_gateway_info"):
                cidr = None
                for fixed in port.get("fixed_ips", []):
                    s = self.store.get("subnets", fixed.get("subnet_id"))
                    if s is None or (subnet is not None and s["id"] != subnet["id"]):
                        continue
                    if ipaddress.ip_network(s["cidr"]).version == 4:
                        cidr = s["cidr"]
                if l3.snat_enabled(router) and cidr:
                    self._update_nat_rules(router, [cidr], True)
                self._refresh_gw_port_options(router)

    def remove_router_interface(self, router: Resource, port: Resource, subnet: Resource | None = None) -> None:
        """`OVNClient.delete_router_port`. `port` is the interface port as it was; with a
        `subnet`, only that subnet's address leaves it, else the whole port goes."""
        with self.transaction():
            self.store.put("routers", router)
            remaining = [f for f in port.get("fixed_ips", [])
                         if subnet is not None and f.get("subnet_id") != subnet["id"]]
            removed = [f for f in port.get("fixed_ips", []) if f not in remaining]
            if router.get("external_gateway_info") and l3.snat_enabled(router):
                for fixed in removed:
                    s = self.store.get("subnets", fixed.get("subnet_id"))
                    if s is not None and ipaddress.ip_network(s["cidr"]).version == 4:
                        self._update_nat_rules(router, [s["cidr"]], False)
                        break
            if remaining:
                updated = {**port, "fixed_ips": remaining}
                self.store.put("ports", updated)
                self._update_lrouter_port(updated)
            else:
                self.api.lrp_del(n.lrp_name(port["id"]))
                self.api.lsp_del(port["id"])
                self.store.drop("ports", port["id"])
            if router.get("external_gateway_info"):
                self._refresh_gw_port_options(router)

    def _router_port_options(self, port: Resource) -> dict[str, str]:
        return l3.router_port_options(self.store, port, distributed=self.distributed,
                                      emit_need_to_frag=self.emit_need_to_frag)

    def _create_lrouter_port(self, router: Resource, port: Resource) -> Row:
        """`_create_lrouter_port`: LRP `lrp-<port id>`, gateway chassis for the gateway port."""
        name = n.lrp_name(port["id"])
        lrp = self.api.by_name("Logical_Router_Port", name)
        is_gw = port.get("device_owner") == n.OWNER_ROUTER_GW
        if lrp is None:  # may_exist=True: an existing LRP is left as it is
            if self.api.by_name("Logical_Switch_Port", port["id"]) is None:
                self._create_lsp(port)
            lrp = self.api.lrp_add(n.ovn_name(router["id"]), name, mac=str(port["mac_address"]),
                                   networks=l3.lrp_networks(self.store, port), options=self._router_port_options(port),
                                   external_ids=l3.lrp_external_ids(port))
            if is_gw:
                lrp = self._schedule(lrp, l3.physnet(self.store, port["network_id"]))
        self._set_lsp_router(port, name, is_gw)
        return lrp

    def _update_lrouter_port(self, port: Resource) -> None:
        """`_update_lrouter_port`."""
        lrp = self.api.must("Logical_Router_Port", n.lrp_name(port["id"]))
        self.api.set(lrp, networks=l3.lrp_networks(self.store, port), external_ids=l3.lrp_external_ids(port),
                     options=self._router_port_options(port))
        self._set_lsp_router(port, lrp["name"], port.get("device_owner") == n.OWNER_ROUTER_GW)

    def _refresh_gw_port_options(self, router: Resource) -> None:
        """Distributed FIPs: interface changes re-derive the gateway port's options."""
        if not (self.distributed or self.emit_need_to_frag):
            return
        lr = self.api.by_name("Logical_Router", n.ovn_name(router["id"]))
        if lr is None:
            return
        for lrp in self._gw_lrps(lr):
            port = self.store.get("ports", n.port_id_from_lrp(lrp["name"]))
            if port is not None:
                self.api.set(lrp, options=self._router_port_options(port))

    def _set_lsp_router(self, port: Resource, lrp: str, is_gw: bool) -> None:
        """`SetLRouterPortInLSwitchPortCommand`."""
        lsp = self.api.by_name("Logical_Switch_Port", port["id"])
        if lsp is None:
            lsp = self._create_lsp(port)
        options = {"router-port": lrp}
        if is_gw:
            options["nat-addresses"] = "router"
            options["exclude-lb-vips-from-garp"] = "true"
        self.api.set(lsp, type=LspType.ROUTER.value, options=options, addresses=(n.ROUTER_ADDR,))

    # ================================================================ gateway scheduling
    def _schedule(self, lrp: Row, physnet: str | None) -> Row:
        chassis = sched.all_chassis(self.sb)
        by_name = {c.name: c for c in chassis}
        existing = []
        live_lrp = self._live.find("Logical_Router_Port", name=lrp["name"]) if self._syncing else []
        if live_lrp:
            gwcs = NbApi(self._live).gateway_chassis(live_lrp[0])
            existing = [g["chassis_name"] for g in gwcs
                        if not sched.is_invalid(g["chassis_name"], by_name, physnet)]
        selected = self.scheduler.select(self.nb, sched.candidates(chassis, physnet), existing)
        return self.api.set_gateway_chassis(lrp, selected)

    def schedule_unhosted_gateways(self) -> None:
        """`OVNL3RouterPlugin.schedule_unhosted_gateways`: drop gateway chassis that are gone
        or lost the physnet, add new candidates, keep the current primary on top."""
        with self.transaction():
            chassis = sched.all_chassis(self.sb)
            by_name = {c.name: c for c in chassis}
            for lrp in self.nb.rows("Logical_Router_Port"):
                if lrp["external_ids"].get(n.IS_EXT_GW) != "True":
                    continue
                net_name = lrp["external_ids"].get(n.NETWORK_NAME, "")
                physnet = l3.physnet(self.store, net_name[len("neutron-"):])
                current = [g["chassis_name"] for g in self.api.gateway_chassis(lrp)]
                valid = [c for c in current if not sched.is_invalid(c, by_name, physnet)]
                if len(valid) >= n.MAX_GW_CHASSIS:
                    continue
                gw_flagged = [c.name for c in chassis if c.is_gateway]
                pool = gw_flagged or [c.name for c in chassis if c.physnets]
                available = {c for c in pool if not sched.is_invalid(c, by_name, physnet)}
                if available == set(current) or not available:
                    continue
                selected = self.scheduler.select(self.nb, sched.candidates(chassis, physnet), valid)
                primary = current[0] if current else None
                if primary and selected and primary in selected and selected[0] != primary:
                    i = selected.index(primary)
                    selected[0], selected[i] = selected[i], selected[0]
                self.api.set_gateway_chassis(lrp, selected)

    def _on_sb_changes(self, changes: list[Change]) -> None:
        """`ChassisEvent`: chassis added/removed or their mappings/cms options changed."""
        relevant = False
        for ch in changes:
            if ch.table != "Chassis":
                continue
            if ch.op != "update" or ch.old is None or ch.new is None:
                relevant = True
            elif sched.chassis_info(ch.old) != sched.chassis_info(ch.new):
                relevant = True
        if relevant and self._depth == 0:
            self.schedule_unhosted_gateways()

    # ================================================================ floating IPs
    def create_floatingip(self, fip: Resource) -> None:
        """`OVNClient.create_floatingip`."""
        with self.transaction():
            self.store.put("floatingips", fip)
            self._create_or_update_floatingip(fip)

    def update_floatingip(self, fip: Resource, original: Resource | None = None) -> None:
        """`OVNClient.update_floatingip`: the NAT row is re-created (and external_mac
        recomputed) whenever the FIP changes."""
        with self.transaction():
            self.store.put("floatingips", fip)
            self._delete_floatingip(fip["id"])
            if fip.get("port_id"):
                self._create_or_update_floatingip(fip)

    def delete_floatingip(self, fip: Resource) -> None:
        with self.transaction():
            self._delete_floatingip(fip["id"])
            self.store.drop("floatingips", fip["id"])

    def _fip_nat_row(self, fip_id: str) -> Row | None:
        row = self.nb.tables["NAT"].get(fip_id)
        if row is not None:
            return row
        for nat in self.nb.rows("NAT"):
            if nat["external_ids"].get(n.FIP_ID) == fip_id:
                return nat
        return None

    def _create_or_update_floatingip(self, fip: Resource) -> None:
        """`_create_or_update_floatingip`: one dnat_and_snat row, uuid = FIP id."""
        router_id = fip.get("router_id")
        if not router_id or fip.get("fixed_ip_address") is None or not fip.get("port_id"):
            return
        mac = fip.get("floating_port_mac")
        if not mac:
            fport = self.store.get("ports", fip.get("floating_port_id"))
            if fport is None:
                raise OvnlabError(f"floating IP {fip['id']} has no floating_port_mac")
            mac = fport["mac_address"]
        cols = fip_rules.nat_columns(fip, router_id, str(mac), distributed=self.distributed,
                                     port_up=self._lsp_up(fip["port_id"]),
                                     current_mac=self._live_fip_mac(fip["id"]))
        self.api.lr_nat_add(n.ovn_name(router_id), uuid=fip["id"], **cols)
        lsp = self.api.by_name("Logical_Switch_Port", fip["port_id"])
        if lsp is not None:
            self.api.set(lsp, external_ids=merged(lsp["external_ids"], {n.PORT_FIP: fip["floating_ip_address"]}))

    def _live_fip_mac(self, fip_id: str) -> str | None:
        """During sync, the external_mac the live row already has (a DVR port that went
        down keeps it, as `set_port_status_down` does); a new row has none."""
        if not self._syncing:
            return None
        row = self._live.tables["NAT"].get(fip_id)
        return row["external_mac"] if row is not None else None

    def _delete_floatingip(self, fip_id: str) -> None:
        """`_delete_floatingip`: the NAT row and the VM LSP's neutron:port_fip."""
        nat = self._fip_nat_row(fip_id)
        if nat is None:
            return
        port_id = nat["external_ids"].get(n.FIP_PORT_ID)
        self.api.delete("NAT", nat.uuid)
        lsp = self.api.by_name("Logical_Switch_Port", port_id) if port_id else None
        if lsp is not None and n.PORT_FIP in lsp["external_ids"]:
            self.api.set(lsp, external_ids=merged(lsp["external_ids"], {n.PORT_FIP: None}))

    # ================================================================ port status
    def set_port_status_up(self, port_id: str) -> None:
        """`OVNMechanismDriver.set_port_status_up`."""
        with self.transaction():
            self._update_dnat_entry_if_needed(port_id, up=True)
            self._update_lsp_host_info(port_id, up=True)
        if self.on_port_status is not None:
            self.on_port_status(port_id, True)

    def set_port_status_down(self, port_id: str) -> None:
        with self.transaction():
            self._update_dnat_entry_if_needed(port_id, up=False)
            self._update_lsp_host_info(port_id, up=False)
        if self.on_port_status is not None:
            self.on_port_status(port_id, False)

    def _update_lsp_host_info(self, port_id: str, up: bool) -> None:
        """`update_lsp_host_info` (LP#2020058): `neutron:host_id` while the port is up."""
        lsp = self.api.by_name("Logical_Switch_Port", port_id)
        port = self.store.get("ports", port_id)
        if lsp is None or lsp_rules.lsp_on(lsp) != up:
            return
        host = str((port or {}).get("binding:host_id") or "")
        if up and host:
            self.api.set(lsp, external_ids=merged(lsp["external_ids"], {n.HOST_ID: host}))
        elif not up and n.HOST_ID in lsp["external_ids"]:
            self.api.set(lsp, external_ids=merged(lsp["external_ids"], {n.HOST_ID: None}))

    def _update_dnat_entry_if_needed(self, port_id: str, up: bool) -> None:
        """`_update_dnat_entry_if_needed`: external_mac as `ovnlab.ml2ovn.fip.external_mac`
        decides it for the port's new state (older rows get `neutron:fip_external_mac`)."""
        nats = self.nb.find("NAT", logical_port=port_id, type=NatType.DNAT_AND_SNAT.value)
        if not nats:
            return
        nat = nats[0]
        if not nat["external_ids"].get(n.FIP_EXTERNAL_MAC) and nat["external_mac"]:
            nat = self.api.set(nat, external_ids=merged(nat["external_ids"],
                                                        {n.FIP_EXTERNAL_MAC: nat["external_mac"]}))
        mac = fip_rules.external_mac(distributed=self.distributed, port_up=up,
                                     fip_mac=nat["external_ids"].get(n.FIP_EXTERNAL_MAC),
                                     current=nat["external_mac"])
        self._set_external_mac(nat, mac)

    def _set_external_mac(self, nat: Row, mac: str | None) -> None:
        if mac != (nat["external_mac"] or None):
            self.api.set(nat, external_mac=mac)

    def _on_nb_changes(self, changes: list[Change]) -> None:
        """`LogicalSwitchPortUpdateUpEvent` / `...DownEvent` (ovsdb_monitor.py).

        Neutron handles these on its own thread, after the writer's transaction. With
        `defer_port_events` set they wait for `run()` (the lab's control loop); otherwise
        they are handled at once, from inside the NB commit that reported them."""
        for ch in changes:
            if ch.table != "Logical_Switch_Port" or ch.op != "update" or ch.old is None or ch.new is None:
                continue
            old_on, new_on = lsp_rules.lsp_on(ch.old), lsp_rules.lsp_on(ch.new)
            if new_on != old_on:
                self._pending_status.append((ch.uuid, new_on))
        if not self.defer_port_events:
            self.run()

    def run(self) -> bool:
        """Handle the port up/down events seen so far; True if any was handled.

        Listener calls arrive out of order when commits nest, so: every event updates the
        NAT rows in arrival order (the result does not depend on it: distributed, up sets
        external_mac and down keeps it; centralized, both clear it), then Neutron is told
        each port's current state once."""
        handled = False
        while self._pending_status:
            pending, self._pending_status = self._pending_status, []
            names: dict[str, str] = {}
            with self.transaction():
                for uuid, up in pending:
                    row = self.nb.tables["Logical_Switch_Port"].get(uuid)
                    if row is not None:
                        names[uuid] = row["name"]
                        self._update_dnat_entry_if_needed(row["name"], up)
                        self._update_lsp_host_info(row["name"], up)
            for uuid, name in names.items():
                row = self.nb.tables["Logical_Switch_Port"].get(uuid)
                if row is not None and self.on_port_status is not None:
                    self.on_port_status(name, lsp_rules.lsp_on(row))
            handled = handled or bool(names)
        return handled

    def set_distributed_floating_ip(self, enabled: bool, lsp_up: Callable[[str], bool] | None = None) -> None:
        """`[ovn] enable_distributed_floating_ip` changed and neutron-server restarted: the
        replayed port up/down events set (distributed, port up) or clear (centralized)
        every FIP's external_mac, and gateway ports' redirect options are re-aligned
        (`check_redirect_type_router_gateway_ports`)."""
        is_up = lsp_up or self._lsp_up
        with self.transaction():
            self.config = replace(self.config, enable_distributed_floating_ip=enabled)
            for nat in self.nb.rows("NAT"):
                if not fip_rules.is_fip_nat(nat):
                    continue
                mac = fip_rules.external_mac(
                    distributed=enabled, port_up=is_up(nat["logical_port"]),
                    fip_mac=nat["external_ids"].get(n.FIP_EXTERNAL_MAC) or nat["external_mac"],
                    current=nat["external_mac"])
                self._set_external_mac(nat, mac)
            for router in self.store.values("routers"):
                lr = self.api.by_name("Logical_Router", n.ovn_name(router["id"]))
                for lrp in self.api.children(lr, "ports") if lr is not None else []:
                    port = self.store.get("ports", n.port_id_from_lrp(lrp["name"]))
                    if port is not None:
                        self.api.set(lrp, options=self._router_port_options(port))

    # ================================================================ security groups
    def _ensure_drop_port_group(self) -> None:
        """`_create_neutron_pg_drop` (done at neutron-server start)."""
        pg = self.api.pg_add(n.DROP_PORT_GROUP, external_ids={})
        for cols in acls.drop_acls():
            self.api.pg_acl_add(pg, **cols)

    def create_security_group(self, sg: Resource) -> None:
        """`OVNClient.create_security_group`: Port_Group `pg_<id>` + one ACL per rule."""
        with self.transaction():
            self.store.put("security_groups", sg)
            pg = self.api.pg_add(n.port_group_name(sg["id"]), external_ids={n.SG_ID: sg["id"]})
            for rule in sg.get("security_group_rules") or []:
                self.api.pg_acl_add(pg, **acls.rule_acl(pg["name"], rule, _stateful(sg)))

    def update_security_group(self, sg: Resource, original: Resource | None = None) -> None:
        with self.transaction():
            self.store.put("security_groups", sg)
            if self.api.by_name("Port_Group", n.port_group_name(sg["id"])) is None:
                self.create_security_group(sg)

    def delete_security_group(self, sg: Resource) -> None:
        with self.transaction():
            self.api.pg_del(n.port_group_name(sg["id"]))
            self.store.drop("security_groups", sg["id"])

    def create_security_group_rule(self, rule: Resource) -> None:
        with self.transaction():
            sg = self.store.get("security_groups", rule["security_group_id"]) or {}
            pg = self.api.must("Port_Group", n.port_group_name(rule["security_group_id"]))
            self.api.pg_acl_add(pg, **acls.rule_acl(pg["name"], rule, _stateful(sg)))
            if sg:
                rules = [r for r in sg.get("security_group_rules") or [] if r["id"] != rule["id"]]
                self.store.put("security_groups", {**sg, "security_group_rules": [*rules, rule]})

    def delete_security_group_rule(self, rule: Resource) -> None:
        """`pg_acl_del` by (direction, priority, match), as Neutron deletes it."""
        with self.transaction():
            sg = self.store.get("security_groups", rule["security_group_id"]) or {}
            pg = self.api.by_name("Port_Group", n.port_group_name(rule["security_group_id"]))
            if pg is not None:
                want = acls.rule_acl(pg["name"], rule, _stateful(sg))
                for acl in self.api.children(pg, "acls"):
                    if (acl["direction"], acl["priority"], acl["match"]) == \
                            (want["direction"], want["priority"], want["match"]):
                        self.api.delete("ACL", acl.uuid)
            if sg:
                rules = [r for r in sg.get("security_group_rules") or [] if r["id"] != rule["id"]]
                self.store.put("security_groups", {**sg, "security_group_rules": rules})

    # ================================================================ resync
    def sync(self, snapshot: Mapping[str, Any]) -> None:
        """`ovn_db_sync` (mode repair): rebuild what the NB must hold for the cloud's full
        state, then apply only the differences (row UUIDs, LSP `up` and kept gateway
        chassis survive). See `ovnlab.ml2ovn.sync`. The `[ovn]` options are the driver's
        (`set_distributed_floating_ip` keeps them in step with the cloud), not the snapshot's."""
        from ovnlab.ml2ovn.sync import build, reconcile

        with self.transaction():
            scratch = build(snapshot, self.sb, self.config, live=self.nb, seed=self._seed,
                            emit_need_to_frag=self.emit_need_to_frag)
            reconcile(self.nb, scratch.nb)
            self.api.reset()
            self.store.clear()
            for kind in ("networks", "subnets", "ports", "routers", "floatingips", "security_groups"):
                for res in scratch.store.values(kind):
                    self.store.put(kind, res)

def _stateful(sg: Mapping[str, Any]) -> bool:
    return bool(sg.get("stateful", True))

def new_nb(seed: int = 0) -> Database:
    """An empty Northbound database named as ovsdb-server names it."""
    return Database("OVN_Northbound", NB_SCHEMA, seed=seed)
