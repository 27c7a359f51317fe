"""Routers: interfaces, external gateways, extra routes (neutron/db/l3_db.py and
extraroute_db.py semantics)."""

from __future__ import annotations

import ipaddress
from typing import Any

from ovnlab.cloud import exceptions as exc
from ovnlab.cloud import ipam, policy
from ovnlab.cloud.base import CloudBase, Doc, Filters
from ovnlab.cloud.context import Context, admin_context
from ovnlab.cloud.ports import PortOps
from ovnlab.errors import BadRequest, Conflict, NotFound
from ovnlab.owners import DeviceOwner

ROUTER_CREATE = {"name", "admin_state_up", "external_gateway_info", "description", "tenant_id",
                 "project_id", "distributed", "ha", "availability_zone_hints", "flavor_id",
                 "tags", "enable_ndp_proxy"}
ROUTER_UPDATE = {"name", "admin_state_up", "external_gateway_info", "description", "routes",
                 "distributed", "ha", "tags", "enable_ndp_proxy"}
INTERFACE = DeviceOwner.ROUTER_INTF
GATEWAY = DeviceOwner.ROUTER_GW
FLOATINGIP = DeviceOwner.FLOATINGIP


class L3Base:
    """Neutron's L3 service plugin (`cloud.l3`: `RouterOps` here, `FloatingIPOps` in
    floatingips.py), a service of the cloud of its own: it shares the cloud's core and
    makes its gateway, interface and floating IP ports through the core plugin's port
    operations, as Neutron's L3 plugin calls ML2."""

    def __init__(self, core: CloudBase, neutron: PortOps) -> None:
        self._core = core
        self._neutron = neutron


class RouterOps(L3Base):
    # ------------------------------------------------------------ lookups and views
    def _router_doc(self, ctx: Context, router_id: object) -> Doc:
        router = self._core._doc("router", router_id)
        if router is None or not policy.owns(ctx, router):
            raise exc.not_found("router", str(router_id))
        return router

    def _router_view(self, ctx: Context, router: Doc, fields: list[str] | None = None) -> Doc:
        full = {**router, "distributed": bool(self._core.config().get("enable_distributed_floating_ip")),
                "ha": False}
        return self._core._view(ctx, "router", full, fields)

    def _interfaces(self, router_id: str) -> list[Doc]:
        return self._core.store.find("port", device_id=router_id, device_owner=INTERFACE)

    def _router_driver_dict(self, router: Doc) -> Doc:
        """The router for the driver: API form plus its gateway port and interfaces."""
        gw_port = self._core._doc("port", router["gw_port_id"]) if router.get("gw_port_id") else None
        interfaces = []
        for port in self._interfaces(router["id"]):
            for ip in port["fixed_ips"]:
                subnet = self._core._doc("subnet", ip["subnet_id"]) or {}
                interfaces.append({"port_id": port["id"], "subnet_id": ip["subnet_id"],
                                   "ip_address": ip["ip_address"], "cidr": subnet.get("cidr"),
                                   "network_id": port["network_id"],
                                   "mac_address": port["mac_address"]})
        return {**self._router_view(_ADMIN, router), "gw_port_id": router.get("gw_port_id"),
                "gw_port": gw_port, "interfaces": interfaces}

    # ------------------------------------------------------------ routers
    def create_router(self, ctx: Context, body: object) -> Doc:
        b = self._core._body(body, "router")
        self._core._allowed(b, ROUTER_CREATE)
        policy.check_write(ctx, "create", "router", b)
        with self._core._txn():
            project = policy.check_project(ctx, b)
            router: Doc = {
                "id": self._core.ids.uuid(), "name": self._core._str(b, "name"),
                "project_id": project, "tenant_id": project,
                "admin_state_up": self._core._bool(b, "admin_state_up", True), "status": "ACTIVE",
                "external_gateway_info": None, "routes": [],
                "description": self._core._str(b, "description"), "flavor_id": None,
                "availability_zone_hints": list(b.get("availability_zone_hints") or []),
                "availability_zones": [], "tags": list(b.get("tags") or []), "gw_port_id": None,
            }
            self._core._save("router", self._core._stamp(router))
            self._core.driver.create_router(self._router_driver_dict(router))
            if b.get("external_gateway_info"):
                router = self._update_router(ctx, router, {"external_gateway_info":
                                                           b["external_gateway_info"]})
        return self._router_view(ctx, router)

    def get_router(self, ctx: Context, id: str, fields: list[str] | None = None) -> Doc:
        return self._router_view(ctx, self._router_doc(ctx, id), fields)

    def get_routers(self, ctx: Context, filters: Filters | None = None,
                    fields: list[str] | None = None) -> list[Doc]:
        return [self._router_view(ctx, r, fields) for r in self._core.store.all("router")
                if policy.owns(ctx, r) and self._core._matches(r, filters)]

    def update_router(self, ctx: Context, id: str, body: object) -> Doc:
        b = self._core._body(body, "router")
        self._core._allowed(b, ROUTER_UPDATE)
        policy.check_write(ctx, "update", "router", b)
        with self._core._txn():
            router = self._update_router(ctx, self._router_doc(ctx, id), b)
        return self._router_view(ctx, router)

    def _update_router(self, ctx: Context, router: Doc, b: Doc) -> Doc:
        original = self._router_driver_dict(router)
        if "external_gateway_info" in b:
            self._set_gateway(ctx, router, b["external_gateway_info"])
        if "routes" in b:
            router["routes"] = self._routes(router, b["routes"])
        for attr in ("name", "description"):
            if attr in b:
                router[attr] = self._core._str(b, attr)
        if "admin_state_up" in b:
            router["admin_state_up"] = self._core._bool(b, "admin_state_up", True)
        if "tags" in b:
            router["tags"] = list(b["tags"] or [])
        self._core._save("router", self._core._touch(router))
        self._core.driver.update_router(self._router_driver_dict(router), original)
        return router

    def delete_router(self, ctx: Context, id: str) -> None:
        with self._core._txn():
            router = self._router_doc(ctx, id)
            attached = self._interfaces(id)
            if attached:
                raise Conflict(f"Router {id} has ports still attached: "
                               + ", ".join(p["id"] for p in attached), type="RouterInUse")
            full = self._router_driver_dict(router)
            if router["gw_port_id"]:
                self._clear_gateway(router)
            self._core.store.delete("router", id)
            self._core.driver.delete_router(full)

    # ------------------------------------------------------------ external gateway
    def _set_gateway(self, ctx: Context, router: Doc, info: Any) -> None:
        if not info:
            self._clear_gateway(router)
            return
        if not isinstance(info, dict) or not set(info) <= {"network_id", "enable_snat",
                                                          "external_fixed_ips"}:
            raise exc.invalid_attr("external_gateway_info",
                                   f"Invalid data format for external gateway: '{info}'")
        if not info.get("network_id"):
            raise exc.invalid_attr("external_gateway_info", "'network_id' is required")
        net = self._neutron._network_doc(ctx, info["network_id"])
        if not net["router:external"]:
            raise exc.bad_request("router", f"Network {net['id']} is not an external network")
        enable_snat = self._core._bool(info, "enable_snat", True)
        ext_ips = info.get("external_fixed_ips")
        if ext_ips is not None and not isinstance(ext_ips, list):
            raise exc.invalid_attr("external_fixed_ips", f"'{ext_ips}' is not a list")
        subnets = self._core.store.find("subnet", network_id=net["id"])
        for ext_ip in ext_ips or []:
            if any(ext_ip.get("ip_address") == s["gateway_ip"] for s in subnets if s["gateway_ip"]):
                raise exc.bad_request("router", f"External IP {ext_ip.get('ip_address')} is the "
                                      "same as the gateway IP")
        port = self._core._doc("port", router["gw_port_id"]) if router["gw_port_id"] else None
        if port is not None and port["network_id"] == net["id"]:
            if ext_ips is not None and not _same_ips(port["fixed_ips"], ext_ips):
                port = self._neutron._update_port(_ADMIN, port, {"fixed_ips": ext_ips})
        else:
            if port is not None:
                self._clear_gateway(router)
            self._check_router_subnets(router, subnets)
            port = self._neutron._create_port(_ADMIN, {
                "network_id": net["id"], "fixed_ips": ext_ips, "device_owner": GATEWAY,
                "device_id": router["id"], "name": "", "admin_state_up": True,
            }, project="", net=net)
            router["gw_port_id"] = port["id"]
        router["external_gateway_info"] = {
            "network_id": net["id"], "enable_snat": enable_snat,
            "external_fixed_ips": [dict(ip) for ip in port["fixed_ips"]],
        }

    def _clear_gateway(self, router: Doc) -> None:
        port = self._core._doc("port", router["gw_port_id"]) if router["gw_port_id"] else None
        if port is not None:
            for fip in self._core.store.find("floatingip", router_id=router["id"]):
                if fip["floating_network_id"] == port["network_id"]:
                    raise Conflict(
                        f"Gateway cannot be updated for router {router['id']}, since a gateway "
                        f"to external network {port['network_id']} is required by one or more "
                        "floating IPs.", type="RouterExternalGatewayInUseByFloatingIp")
            self._neutron._delete_port(port)
        router["gw_port_id"] = None
        router["external_gateway_info"] = None

    def _check_router_subnets(self, router: Doc, new_subnets: list[Doc]) -> None:
        """`_check_for_dup_router_subnets`: one port per subnet, no overlapping CIDRs."""
        new_ids = {s["id"] for s in new_subnets}
        router_subnets: list[Doc] = []
        ports = self._interfaces(router["id"])
        if router.get("gw_port_id"):
            gw = self._core._doc("port", router["gw_port_id"])
            ports = ports + ([gw] if gw else [])
        for port in ports:
            for ip in port["fixed_ips"]:
                if ip["subnet_id"] in new_ids:
                    raise exc.bad_request("router", "Router already has a port on subnet "
                                          f"{ip['subnet_id']}")
            if port["device_owner"] == GATEWAY:
                router_subnets += self._core.store.find("subnet", network_id=port["network_id"])
            else:
                router_subnets += [s for ip in port["fixed_ips"]
                                   if (s := self._core._doc("subnet", ip["subnet_id"])) is not None]
        for new in new_subnets:
            for old in router_subnets:
                if ipam.overlaps(ipaddress.ip_network(new["cidr"]), ipaddress.ip_network(old["cidr"])):
                    raise exc.bad_request(
                        "router", f"Cidr {new['cidr']} of subnet {new['id']} overlaps with cidr "
                        f"{old['cidr']} of subnet {old['id']}")

    def _routes(self, router: Doc, raw: Any) -> list[dict[str, str]]:
        routes = raw or []
        if not isinstance(routes, list):
            raise exc.invalid_attr("routes", f"'{raw}' is not a list")
        connected = []
        own_ips = set()
        ports = self._interfaces(router["id"])
        if router.get("gw_port_id"):
            ports += [p for p in [self._core._doc("port", router["gw_port_id"])] if p]
        for port in ports:
            for ip in port["fixed_ips"]:
                own_ips.add(ip["ip_address"])
                subnet = self._core._doc("subnet", ip["subnet_id"])
                if subnet:
                    connected.append(ipaddress.ip_network(subnet["cidr"]))
        out = []
        for route in routes:
            if not isinstance(route, dict) or set(route) != {"destination", "nexthop"}:
                raise exc.invalid_attr("routes", f"Invalid data format for hostroute: '{route}'")
            try:
                dest = ipaddress.ip_network(str(route["destination"]))
                hop = ipaddress.ip_address(str(route["nexthop"]))
            except ValueError:
                raise exc.invalid_attr("routes",
                                       f"Invalid data format for hostroute: '{route}'") from None
            reason = ("the nexthop is used by router" if str(hop) in own_ips else
                      None if any(hop in c for c in connected) else
                      "the nexthop is not connected with router")
            if reason:
                raise BadRequest(f"Invalid format for routes: {routes}, {reason}",
                                 type="InvalidRoutes")
            out.append({"destination": str(dest), "nexthop": str(hop)})
        return out

    # ------------------------------------------------------------ interfaces
    def add_router_interface(self, ctx: Context, router_id: str, body: object) -> Doc:
        b = body if isinstance(body, dict) else {}
        with self._core._txn():
            router = self._router_doc(ctx, router_id)
            if b.get("subnet_id") and b.get("port_id"):
                raise exc.bad_request("router", "Cannot specify both subnet-id and port-id")
            if not b.get("subnet_id") and not b.get("port_id"):
                raise exc.bad_request("router", "Either subnet_id or port_id must be specified")
            original = self._router_driver_dict(router)
            if b.get("port_id"):
                port, subnet = self._interface_by_port(ctx, router, b["port_id"])
            else:
                port, subnet = self._interface_by_subnet(ctx, router, b["subnet_id"])
            self._core._save("router", self._core._touch(router))
            full = self._router_driver_dict(router)
            self._core.driver.add_router_interface(full, port, subnet)
            del original
        return _interface_info(router, port, subnet)

    def _interface_by_subnet(self, ctx: Context, router: Doc, subnet_id: object) -> tuple[Doc, Doc]:
        subnet = self._neutron._subnet_doc(ctx, subnet_id)
        if not subnet["gateway_ip"]:
            raise exc.bad_request("router", "Subnet for router interface must have a gateway IP")
        if subnet["project_id"] != ctx.project_id and not ctx.is_admin:
            raise exc.bad_request("router", "Cannot add interface to router because subnet "
                                  f"{subnet['id']} is not owned by project making the request")
        self._check_router_subnets(router, [subnet])
        net = self._core._doc("network", subnet["network_id"]) or {}
        port = self._neutron._create_port(_ADMIN, {
            "network_id": net["id"], "device_owner": INTERFACE, "device_id": router["id"],
            "fixed_ips": [{"subnet_id": subnet["id"], "ip_address": subnet["gateway_ip"]}],
            "name": "", "admin_state_up": True,
        }, project=router["project_id"], net=net)
        return port, subnet

    def _interface_by_port(self, ctx: Context, router: Doc, port_id: object) -> tuple[Doc, Doc]:
        port = self._neutron._port_doc(ctx, port_id)
        if port["device_id"]:
            raise Conflict(f"Unable to complete operation on port {port['id']} for network "
                           f"{port['network_id']}. Port already has an attached device "
                           f"{port['device_id']}.", type="PortInUse")
        if not port["fixed_ips"]:
            raise exc.bad_request("router", "Router port must have at least one fixed IP")
        subnets = [s for ip in port["fixed_ips"]
                   if (s := self._core._doc("subnet", ip["subnet_id"])) is not None]
        if len([s for s in subnets if s["ip_version"] == 4]) > 1:
            raise exc.bad_request("router", "Cannot have multiple IPv4 subnets on router port")
        self._check_router_subnets(router, subnets)
        port = self._neutron._update_port(ctx, port, {"device_owner": INTERFACE,
                                             "device_id": router["id"]})
        return port, subnets[0]

    def remove_router_interface(self, ctx: Context, router_id: str, body: object) -> Doc:
        b = body if isinstance(body, dict) else {}
        with self._core._txn():
            router = self._router_doc(ctx, router_id)
            if not b.get("subnet_id") and not b.get("port_id"):
                raise exc.bad_request("router", "Either subnet_id or port_id must be specified")
            interfaces = self._interfaces(router["id"])
            if b.get("port_id"):
                port = next((p for p in interfaces if p["id"] == b["port_id"]), None)
                if port is None:
                    raise NotFound(f"Router {router['id']} does not have an interface with id "
                                   f"{b['port_id']}", type="RouterInterfaceNotFound")
                subnet_ids = [ip["subnet_id"] for ip in port["fixed_ips"]]
                if b.get("subnet_id") and b["subnet_id"] not in subnet_ids:
                    raise BadRequest(f"Subnet on port {port['id']} does not match the requested "
                                     f"subnet {b['subnet_id']}.", type="SubnetMismatchForPort")
                subnet_id = b.get("subnet_id") or subnet_ids[0]
            else:
                subnet_id = self._neutron._subnet_doc(ctx, b["subnet_id"])["id"]
                port = next((p for p in interfaces
                             if any(ip["subnet_id"] == subnet_id for ip in p["fixed_ips"])), None)
                if port is None:
                    raise NotFound(f"Router {router['id']} has no interface on subnet "
                                   f"{subnet_id}", type="RouterInterfaceNotFoundForSubnet")
            subnet = self._core._doc("subnet", subnet_id) or {"id": subnet_id}
            self._check_interface_unused(router, port)
            # Neutron's L3 DB deletes the port (ML2's delete_port) and then tells the OVN L3
            # plugin (ROUTER_INTERFACE AFTER_DELETE -> `delete_router_port`).
            self._neutron._delete_port(port)
            self._core._save("router", self._core._touch(router))
            self._core.driver.remove_router_interface(self._router_driver_dict(router), port, subnet)
        return _interface_info(router, port, subnet)

    def _check_interface_unused(self, router: Doc, port: Doc) -> None:
        for ip in port["fixed_ips"]:
            subnet = self._core._doc("subnet", ip["subnet_id"])
            if subnet is None:
                continue
            cidr = ipaddress.ip_network(subnet["cidr"])
            for fip in self._core.store.find("floatingip", router_id=router["id"]):
                if fip["fixed_ip_address"] and ipaddress.ip_address(fip["fixed_ip_address"]) in cidr:
                    raise Conflict(f"Router interface for subnet {subnet['id']} on router "
                                   f"{router['id']} cannot be deleted, as it is required by one "
                                   "or more floating IPs.", type="RouterInterfaceInUseByFloatingIP")
            for route in router["routes"]:
                if ipaddress.ip_address(route["nexthop"]) in cidr:
                    raise Conflict(f"Router interface for subnet {subnet['id']} on router "
                                   f"{router['id']} cannot be deleted, as it is required by one "
                                   "or more routes.", type="RouterInterfaceInUseByRoute")


_ADMIN = admin_context()


def _same_ips(current: list[dict[str, str]], wanted: list[Any]) -> bool:
    have = {(ip["subnet_id"], ip["ip_address"]) for ip in current}
    for item in wanted:
        if not isinstance(item, dict):
            return False
        if not any(item.get("subnet_id", s) == s and item.get("ip_address", a) == a
                   for s, a in have):
            return False
    return len(wanted) == len(have) or not wanted


def _interface_info(router: Doc, port: Doc, subnet: Doc) -> Doc:
    return {"id": router["id"], "network_id": port["network_id"], "port_id": port["id"],
            "subnet_id": subnet["id"], "subnet_ids": [subnet["id"]],
            "tenant_id": port["project_id"] or router["project_id"],
            "project_id": port["project_id"] or router["project_id"]}
