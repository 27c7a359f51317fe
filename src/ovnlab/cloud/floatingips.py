"""Floating IPs: allocation from the external network, their own `network:floatingip` port,
association with a port reachable through a router (neutron/db/l3_db.py semantics)."""

from __future__ import annotations

import ipaddress
from typing import Any

from ovnlab.cloud import exceptions as exc
from ovnlab.cloud import ipam, policy
from ovnlab.cloud.base import Doc, Filters
from ovnlab.cloud.context import Context
from ovnlab.cloud.routers import _ADMIN, FLOATINGIP, INTERFACE, RouterOps
from ovnlab.errors import BadRequest, Conflict, NotFound
from ovnlab.owners import NETWORK_PREFIX, NEUTRON_PREFIX

FIP_CREATE = {"floating_network_id", "floating_ip_address", "subnet_id", "port_id",
              "fixed_ip_address", "description", "tenant_id", "project_id", "dns_domain",
              "dns_name", "qos_policy_id", "tags"}
FIP_UPDATE = {"port_id", "fixed_ip_address", "description", "qos_policy_id", "tags",
              "floating_ip_address", "floating_network_id", "subnet_id", "tenant_id",
              "project_id"}


class FloatingIPOps(RouterOps):
    def _fip_doc(self, ctx: Context, fip_id: object) -> Doc:
        fip = self._core._doc("floatingip", fip_id)
        if fip is None or not policy.owns(ctx, fip):
            raise exc.not_found("floatingip", str(fip_id))
        return fip

    def _fip_full(self, fip: Doc) -> Doc:
        port = self._core._doc("port", fip["port_id"]) if fip.get("port_id") else None
        details = None if port is None else {
            k: port[k] for k in ("name", "network_id", "mac_address", "admin_state_up",
                                 "status", "device_id", "device_owner")}
        return {**fip, "port_details": details}

    def _fip_view(self, ctx: Context, fip: Doc, fields: list[str] | None = None) -> Doc:
        return self._core._view(ctx, "floatingip", self._fip_full(fip), fields)

    def _fip_driver_dict(self, fip: Doc) -> Doc:
        fip_port = self._core._doc("port", fip["floating_port_id"]) or {}
        return {**self._fip_full(fip), "floating_port_mac": fip_port.get("mac_address")}

    def _fip_status(self, port_id: str | None) -> str:
        port = self._core._doc("port", port_id) if port_id else None
        return "ACTIVE" if port is not None and port["status"] == "ACTIVE" else "DOWN"

    def create_floatingip(self, ctx: Context, body: object) -> Doc:
        b = self._core._body(body, "floatingip")
        self._core._allowed(b, FIP_CREATE)
        policy.check_write(ctx, "create", "floatingip", b)
        with self._core._txn():
            project = policy.check_project(ctx, b)
            if not b.get("floating_network_id"):
                raise exc.required("floating_network_id")
            net = self._neutron._network_doc(ctx, b["floating_network_id"])
            if not net["router:external"]:
                raise exc.bad_request("floatingip",
                                      f"Network {net['id']} is not a valid external network")
            if not any(s["ip_version"] == 4 for s in self._core.store.find("subnet", network_id=net["id"])):
                raise exc.bad_request("floatingip",
                                      f"Network {net['id']} does not contain any IPv4 subnet")
            fip: Doc = {"id": self._core.ids.uuid(), "project_id": project, "tenant_id": project,
                        "floating_network_id": net["id"], "router_id": None, "port_id": None,
                        "fixed_ip_address": None, "status": "DOWN",
                        "description": self._core._str(b, "description"), "port_forwardings": [],
                        "dns_domain": "", "dns_name": "", "qos_policy_id": None,
                        "qos_network_policy_id": None, "tags": list(b.get("tags") or [])}
            if b.get("fixed_ip_address") and not b.get("port_id"):
                raise exc.bad_request("floatingip",
                                      "fixed_ip_address cannot be specified without a port_id")
            if b.get("port_id"):
                self._associate(ctx, fip, b["port_id"], b.get("fixed_ip_address"))
            fixed: dict[str, Any] = {}
            if b.get("subnet_id"):
                fixed["subnet_id"] = b["subnet_id"]
            if b.get("floating_ip_address"):
                fixed["ip_address"] = b["floating_ip_address"]
            port = self._neutron._create_port(_ADMIN, {
                "network_id": net["id"], "fixed_ips": [fixed] if fixed else None,
                "device_owner": FLOATINGIP, "device_id": fip["id"], "name": "",
                "admin_state_up": True}, project="", net=net, status="N/A")
            v4 = [ip for ip in port["fixed_ips"] if ipaddress.ip_address(ip["ip_address"]).version == 4]
            if not v4:
                raise BadRequest(f"Unable to find any IP address on external network {net['id']}.",
                                 type="ExternalIpAddressExhausted")
            fip["floating_ip_address"] = v4[0]["ip_address"]
            fip["floating_port_id"] = port["id"]
            self._core._save("floatingip", self._core._stamp(fip))
            self._core.driver.create_floatingip(self._fip_driver_dict(fip))
        return self._fip_view(ctx, fip)

    def _associate(self, ctx: Context, fip: Doc, port_id: object, fixed_ip: Any) -> None:
        """Checks and sets `port_id`, `fixed_ip_address`, `router_id`, `status`."""
        port = self._neutron._port_doc(ctx, port_id)
        if port["project_id"] != fip["project_id"] and not ctx.is_admin:
            raise exc.bad_request("floatingip", "Cannot process floating IP association with "
                                  f"Port {port['id']}, since that port is owned by a different "
                                  "project")
        if port["device_owner"].startswith((NETWORK_PREFIX, NEUTRON_PREFIX)):
            raise exc.bad_request("floatingip",
                                  f"Port {port['id']} is unable to be assigned a floating IP")
        if fixed_ip:
            ip = ipam.parse_ip(fixed_ip, "fixed_ip_address")
            if ip.version != 4:
                raise exc.bad_request("floatingip", f"Cannot process floating IP association "
                                      f"with {fixed_ip}, since that is not an IPv4 address")
            match = [f for f in port["fixed_ips"] if f["ip_address"] == str(ip)]
            if not match:
                raise exc.bad_request("floatingip",
                                      f"Port {port['id']} does not have fixed ip {fixed_ip}")
            chosen = match[0]
        else:
            v4 = [f for f in port["fixed_ips"]
                  if ipaddress.ip_address(f["ip_address"]).version == 4]
            if not v4:
                raise exc.bad_request("floatingip", f"Cannot add floating IP to port "
                                      f"{port['id']} that has no fixed IPv4 addresses")
            if len(v4) > 1:
                raise exc.bad_request("floatingip", f"Port {port['id']} has multiple fixed IPv4 "
                                      "addresses.  Must provide a specific IPv4 address when "
                                      "assigning a floating IP")
            chosen = v4[0]
        router_id = self._router_for_fip(port, chosen["subnet_id"], fip["floating_network_id"])
        if port["id"] != fip.get("port_id"):
            for other in self._core.store.find("floatingip", port_id=port["id"]):
                if (other["id"] != fip["id"] and other["fixed_ip_address"] == chosen["ip_address"]
                        and other["floating_network_id"] == fip["floating_network_id"]):
                    raise Conflict(
                        f"Cannot associate floating IP {fip.get('floating_ip_address')} "
                        f"({fip['id']}) with port {port['id']} using fixed IP "
                        f"{chosen['ip_address']}, as that fixed IP already has a floating IP on "
                        f"external network {fip['floating_network_id']}.",
                        type="FloatingIPPortAlreadyAssociated")
        fip.update(port_id=port["id"], fixed_ip_address=chosen["ip_address"],
                   router_id=router_id, status=self._fip_status(port["id"]))

    def _router_for_fip(self, port: Doc, subnet_id: str, ext_net_id: str) -> str:
        """`get_router_for_floatingip`: a router with an interface on the port's subnet and
        its gateway on the FIP's network; the one owning the subnet's gateway IP first."""
        subnet = self._core._doc("subnet", subnet_id) or {}
        first = None
        for iface in self._core.store.find("port", network_id=port["network_id"],
                                     device_owner=INTERFACE):
            router = self._core._doc("router", iface["device_id"])
            gw = self._core._doc("port", router["gw_port_id"]) if router and router["gw_port_id"] else None
            if gw is None or gw["network_id"] != ext_net_id:
                continue
            for ip in iface["fixed_ips"]:
                if ip["subnet_id"] != subnet_id:
                    continue
                if ip["ip_address"] == subnet.get("gateway_ip"):
                    return str(iface["device_id"])
                first = first or str(iface["device_id"])
        if first:
            return first
        raise NotFound(f"External network {ext_net_id} is not reachable from subnet {subnet_id}."
                       f"  Therefore, cannot associate Port {port['id']} with a Floating IP.",
                       type="ExternalGatewayForFloatingIPNotFound")

    def get_floatingip(self, ctx: Context, id: str, fields: list[str] | None = None) -> Doc:
        return self._fip_view(ctx, self._fip_doc(ctx, id), fields)

    def get_floatingips(self, ctx: Context, filters: Filters | None = None,
                        fields: list[str] | None = None) -> list[Doc]:
        return [self._fip_view(ctx, f, fields) for f in self._core.store.all("floatingip")
                if policy.owns(ctx, f) and self._core._matches(f, filters)]

    def update_floatingip(self, ctx: Context, id: str, body: object) -> Doc:
        b = self._core._body(body, "floatingip")
        self._core._allowed(b, FIP_UPDATE)
        with self._core._txn():
            fip = self._fip_doc(ctx, id)
            self._core._immutable({k: v for k, v in b.items() if v != fip.get(k)},
                            ("floating_ip_address", "floating_network_id", "subnet_id",
                             "tenant_id", "project_id"))
            original = self._fip_driver_dict(fip)
            if "port_id" in b or "fixed_ip_address" in b:
                port_id = b.get("port_id", fip["port_id"])
                if b.get("fixed_ip_address") and not port_id:
                    raise exc.bad_request("floatingip", "fixed_ip_address cannot be specified "
                                          "without a port_id")
                if port_id:
                    self._associate(ctx, fip, port_id, b.get("fixed_ip_address"))
                else:
                    fip.update(port_id=None, fixed_ip_address=None, router_id=None, status="DOWN")
            if "description" in b:
                fip["description"] = self._core._str(b, "description")
            if "tags" in b:
                fip["tags"] = list(b["tags"] or [])
            self._core._save("floatingip", self._core._touch(fip))
            self._core.driver.update_floatingip(self._fip_driver_dict(fip), original)
        return self._fip_view(ctx, fip)

    def delete_floatingip(self, ctx: Context, id: str) -> None:
        with self._core._txn():
            self._remove_floatingip(self._fip_doc(ctx, id))

    def _remove_floatingip(self, fip: Doc) -> None:
        self._core.store.delete("floatingip", fip["id"])
        self._core.driver.delete_floatingip(self._fip_driver_dict(fip))
        port = self._core._doc("port", fip["floating_port_id"])
        if port is not None:
            self._neutron._delete_port(port)

    # ------------------------------------------------------------ what ML2 asks of L3
    def delete_disassociated_floatingips(self, network_id: str) -> None:
        """The network's floating IPs that no port uses go (ML2's delete_network)."""
        for fip in self._core.store.find("floatingip", floating_network_id=network_id):
            if fip["port_id"] is None:
                self._remove_floatingip(fip)

    def disassociate_floatingips(self, port_id: str) -> None:
        """The port's floating IPs lose it (ML2's delete_port, before the port goes)."""
        for fip in self._core.store.find("floatingip", port_id=port_id):
            original = self._fip_driver_dict(fip)
            fip.update(port_id=None, fixed_ip_address=None, router_id=None, status="DOWN")
            self._core._save("floatingip", self._core._touch(fip))
            self._core.driver.update_floatingip(self._fip_driver_dict(fip), original)
