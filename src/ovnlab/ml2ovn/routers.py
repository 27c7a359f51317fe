"""The OVN L3 service plugin's writes: Logical_Router `neutron-<id>`, its ports `lrp-<port id>`,
the gateway (default routes, SNAT, Gateway_Chassis scheduling) and extra routes
(ovn_client.py `create_router`, `update_router`, `_add_router_ext_gw`,
`create_router_port`; neutron/services/ovn_l3/plugin.py `schedule_unhosted_gateways`)."""

from __future__ import annotations

import ipaddress

from ovnlab.ml2ovn import l3
from ovnlab.ml2ovn import names as n
from ovnlab.ml2ovn import scheduler as sched
from ovnlab.ml2ovn.base import DriverBase
from ovnlab.ml2ovn.view import Kind, Resource
from ovnlab.nb.api import NbApi
from ovnlab.nb.types import LspType, NatType
from ovnlab.ovsdb import Row


class L3Driver(DriverBase):
    """Routers, their ports and gateways, and gateway chassis scheduling."""

    def create_router(self, router: Resource) -> None:
        """`OVNClient.create_router`."""
        with self.transaction():
            self.api.lr_add(n.ovn_name(router["id"]), **l3.router_columns(self.plugin, router))
            if router.get("external_gateway_info"):
                self._add_router_ext_gw(router, l3.router_v4_networks(self.plugin, router["id"]))

    def update_router(self, router: Resource, original: Resource | None = None) -> None:
        """`OVNClient.update_router`: gateway set / cleared / changed, SNAT toggled."""
        with self.transaction():
            name = n.ovn_name(router["id"])
            lr = self.api.by_name("Logical_Router", name)
            if lr is None:
                lr = self.api.lr_add(name, **l3.router_columns(self.plugin, router))
            gw_new = router.get("external_gateway_info")
            gw_lrps = self._gw_lrps(lr)
            networks = l3.router_v4_networks(self.plugin, router["id"])
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
            self.api.set(lr, external_ids=l3.router_columns(self.plugin, router)["external_ids"],
                         enabled=bool(router.get("admin_state_up", True)))
            self._sync_extra_routes(router)

    def delete_router(self, router: Resource) -> None:
        with self.transaction():
            self.api.lr_del(n.ovn_name(router["id"]))

    def _gw_lrps(self, lr: Row) -> list[Row]:
        return [p for p in self.api.children(lr, "ports") if p["external_ids"].get(n.IS_EXT_GW) == "True"]

    def _external_ips_changed(self, lr: Row, router: Resource) -> bool:
        """`_check_external_ips_changed`."""
        gws = l3.gw_info(self.plugin, router)
        routes = self.api.children(lr, "static_routes")
        gw_subnets = [r["external_ids"].get(n.SUBNET_ID) for r in routes]
        snats = [nat for nat in self.api.children(lr, "nat") if nat["type"] == NatType.SNAT]
        gw_port = l3.gw_port(self.plugin, router)
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
        self._create_lrouter_port(router, l3.gw_port(self.plugin, router))
        self._sync_default_routes(router)
        if l3.snat_enabled(router) and networks:
            self._update_nat_rules(router, networks, True)

    def _sync_default_routes(self, router: Resource) -> None:
        lr = self.api.must("Logical_Router", n.ovn_name(router["id"]))
        for route in self.api.children(lr, "static_routes"):
            if route["external_ids"].get(n.IS_EXT_GW) == "true":
                self.api.delete("Logical_Router_Static_Route", route.uuid)
        for gw in l3.gw_info(self.plugin, router):
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

    def _update_nat_rules(self, router: Resource, networks: list[str], enable_snat: bool) -> None:
        """`update_nat_rules`: one snat row per (v4 gateway IP, attached v4 CIDR)."""
        lr = self.api.must("Logical_Router", n.ovn_name(router["id"]))
        for gw in l3.gw_info(self.plugin, router):
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

    def add_router_interface(self, router: Resource, port: Resource, subnet: Resource | None = None) -> None:
        """`OVNClient.create_router_port`."""
        with self.transaction():
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
                    s = self.plugin.get(Kind.SUBNETS, fixed.get("subnet_id"))
                    if s is None or (subnet is not None and s["id"] != subnet["id"]):
                        continue
                    if ipaddress.ip_network(s["cidr"]).version == 4:
                        cidr = s["cidr"]
                if l3.snat_enabled(router) and cidr:
                    self._update_nat_rules(router, [cidr], True)
                self._refresh_gw_port_options(router)

    def remove_router_interface(self, router: Resource, port: Resource, subnet: Resource | None = None) -> None:
        """`OVNClient.delete_router_port`, after the plugin has deleted the interface port or
        taken `subnet`'s address off it: `port` is the port as it was; what the plugin holds
        now decides whether its LRP is updated or goes."""
        with self.transaction():
            current = self.plugin.get(Kind.PORTS, port["id"])
            kept = {f.get("subnet_id") for f in (current or {}).get("fixed_ips", [])}
            removed = [f for f in port.get("fixed_ips", []) if f.get("subnet_id") not in kept]
            if router.get("external_gateway_info") and l3.snat_enabled(router):
                for fixed in removed:
                    s = self.plugin.get(Kind.SUBNETS, fixed.get("subnet_id"))
                    if s is not None and ipaddress.ip_network(s["cidr"]).version == 4:
                        self._update_nat_rules(router, [s["cidr"]], False)
                        break
            if current is not None and self.api.by_name("Logical_Router_Port", n.lrp_name(port["id"])):
                self._update_lrouter_port(current)
            else:
                self.api.lrp_del(n.lrp_name(port["id"]))
                self.api.lsp_del(port["id"])
            if router.get("external_gateway_info"):
                self._refresh_gw_port_options(router)

    def _router_port_options(self, port: Resource) -> dict[str, str]:
        return l3.router_port_options(self.plugin, port, distributed=self.distributed,
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
                                   networks=l3.lrp_networks(self.plugin, port), options=self._router_port_options(port),
                                   external_ids=l3.lrp_external_ids(port))
            if is_gw:
                lrp = self._schedule(lrp, l3.physnet(self.plugin, port["network_id"]))
        self._set_lsp_router(port, name, is_gw)
        return lrp

    def _update_lrouter_port(self, port: Resource) -> None:
        """`_update_lrouter_port`."""
        lrp = self.api.must("Logical_Router_Port", n.lrp_name(port["id"]))
        self.api.set(lrp, networks=l3.lrp_networks(self.plugin, port), external_ids=l3.lrp_external_ids(port),
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
            port = self.plugin.get(Kind.PORTS, n.port_id_from_lrp(lrp["name"]))
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
                physnet = l3.physnet(self.plugin, net_name[len("neutron-"):])
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
