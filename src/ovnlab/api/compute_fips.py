"""Nova's deprecated floating IP proxy (microversions 2.1 to 2.35): os-floating-ips and the
addFloatingIp / removeFloatingIp server actions (2.1 to 2.43), answered from Neutron as
nova/api/openstack/compute/floating_ips.py does."""

from __future__ import annotations

import ipaddress
from typing import Any

from ovnlab.cloud.services import NovaNetworking as Cloud
from ovnlab.errors import BadRequest, Conflict, NotFound, OvnlabError

from .http import Request, Response, Router
from .microversions import microversion, version_headers
from .microversions import nova_writer as _writer

LAST_VERSION = (2, 35)
LAST_ACTION_VERSION = (2, 43)
DEFAULT_POOL = "public"  # [neutron] default_floating_pool, as devstack sets it


def _version(req: Request, last: tuple[int, int] = LAST_VERSION) -> tuple[int, int]:
    version = microversion(req)
    if version > last:
        raise NotFound("The resource could not be found.")
    return version


class FloatingIPProxy:
    def __init__(self, cloud: Cloud) -> None:
        self.cloud = cloud

    def register(self, router: Router, v21: str) -> None:
        router.add("GET", v21 + "/os-floating-ips", self.list)
        router.add("POST", v21 + "/os-floating-ips", self.create)
        router.add("GET", v21 + "/os-floating-ips/{id}", self.show)
        router.add("DELETE", v21 + "/os-floating-ips/{id}", self.delete)

    def _view(self, req: Request, fip: dict[str, Any]) -> dict[str, Any]:
        """`_translate_floating_ip_view`."""
        nets = {n["id"]: n["name"] for n in self.cloud.get_networks(req.context)}
        instance = None
        if fip.get("port_id"):
            port = self.cloud.get_port(req.context.elevated(), fip["port_id"])
            instance = port.get("device_id") or None
        return {"id": fip["id"], "ip": fip["floating_ip_address"],
                "pool": nets.get(fip["floating_network_id"]),
                "fixed_ip": fip.get("fixed_ip_address"), "instance_id": instance}

    def _respond(self, req: Request, status: int, body: Any) -> Response:
        return Response(status, body, version_headers(_version(req)))

    def _fip(self, req: Request, fip_id: str) -> dict[str, Any]:
        try:
            return dict(self.cloud.l3.get_floatingip(req.context, fip_id))
        except NotFound:
            raise NotFound(f"Floating IP not found for ID {fip_id}") from None

    def list(self, req: Request) -> Response:
        _version(req)
        return self._respond(req, 200, {"floating_ips": [
            self._view(req, f) for f in self.cloud.l3.get_floatingips(req.context)]})

    def show(self, req: Request) -> Response:
        _version(req)
        return self._respond(req, 200, {"floating_ip": self._view(
            req, self._fip(req, req.params["id"]))})

    def create(self, req: Request) -> Response:
        _version(req)
        _writer(req, "os-floating-ips:create")
        body = req.json() if req.body else None
        pool = body.get("pool") if isinstance(body, dict) else None
        pool = pool or DEFAULT_POOL
        net = next((n for n in self.cloud.get_networks(req.context)
                    if n.get("router:external") and pool in (n["id"], n["name"])), None)
        if net is None:
            raise NotFound("Floating IP pool not found.")
        try:
            fip = self.cloud.l3.create_floatingip(req.context, {"floatingip": {
                "floating_network_id": net["id"]}})
        except Conflict:
            raise NotFound(f"No more floating IPs in pool {pool}.") from None
        return self._respond(req, 200, {"floating_ip": self._view(req, fip)})

    def delete(self, req: Request) -> Response:
        _version(req)
        _writer(req, "os-floating-ips:delete")
        fip = self._fip(req, req.params["id"])
        self.cloud.l3.delete_floatingip(req.context, fip["id"])
        return self._respond(req, 202, None)

    # -- the server actions
    def _by_address(self, req: Request, arg: Any, action: str) -> dict[str, Any]:
        address = arg.get("address") if isinstance(arg, dict) else None
        try:
            ipaddress.ip_address(address if isinstance(address, str) else "")
        except ValueError:
            raise BadRequest(f"Invalid input for field/attribute {action}. Value: {arg}. "
                             "'address' is a required property") from None
        for fip in self.cloud.l3.get_floatingips(req.context):
            if fip["floating_ip_address"] == address:
                return dict(fip)
        raise NotFound("floating IP not found")

    def add(self, req: Request, server_id: str, arg: Any) -> Response:
        version = _version(req, LAST_ACTION_VERSION)
        fip = self._by_address(req, arg, "addFloatingIp")
        wanted = arg.get("fixed_address")
        for iface in self.cloud.nova.get_server_interfaces(req.context, server_id):
            for ip in iface.get("fixed_ips", []):
                v4 = ipaddress.ip_address(ip["ip_address"]).version == 4
                if (wanted is None and v4) or ip["ip_address"] == wanted:
                    try:
                        self.cloud.l3.update_floatingip(req.context, fip["id"], {"floatingip": {
                            "port_id": iface["port_id"],
                            "fixed_ip_address": ip["ip_address"]}})
                    except OvnlabError as e:
                        raise BadRequest(e.message) from None
                    return Response(202, None, version_headers(version))
        raise BadRequest(f"Unable to associate floating IP {fip['floating_ip_address']} to any "
                         f"fixed IPs for instance {server_id}. Instance has no fixed IPv4 "
                         "addresses to associate.")

    def remove(self, req: Request, server_id: str, arg: Any) -> Response:
        version = _version(req, LAST_ACTION_VERSION)
        fip = self._by_address(req, arg, "removeFloatingIp")
        ports = {i["port_id"] for i in self.cloud.nova.get_server_interfaces(req.context, server_id)}
        if fip.get("port_id") not in ports:
            raise Conflict(f"Floating IP {fip['floating_ip_address']} is not associated with "
                           f"instance {server_id}.")
        self.cloud.l3.update_floatingip(req.context, fip["id"], {"floatingip": {"port_id": None}})
        return Response(202, None, version_headers(version))
