"""Nova v2.1 os-interface (nova/api/openstack/compute/attach_interfaces.py)."""

from __future__ import annotations

from typing import Any

from ovnlab.cloud.services import NovaNetworking as Cloud
from ovnlab.errors import NotFound

from .compute_schema import _bad, _validate_string
from .http import Request, Response, Router
from .microversions import microversion, version_headers
from .microversions import nova_writer as _writer


def validate_interface_attach(body: Any) -> dict[str, Any]:
    """Nova's os-interface create schema (interfaceAttachment is optional)."""
    if not isinstance(body, dict) or any(k != "interfaceAttachment" for k in body):
        extra = sorted(body) if isinstance(body, dict) else []
        raise _bad(f"Additional properties are not allowed ({', '.join(map(repr, extra))} "
                   "were unexpected)" if extra else
                   f"Invalid input for field/attribute body. Value: {body}. "
                   f"{body!r} is not of type 'object'")
    attachment = body.get("interfaceAttachment", {})
    what = f"Invalid input for field/attribute interfaceAttachment. Value: {attachment}."
    if not isinstance(attachment, dict):
        raise _bad(f"{what} {attachment!r} is not of type 'object'")
    extra = sorted(k for k in attachment if k not in ("net_id", "port_id", "fixed_ips", "tag"))
    if extra:
        raise _bad(f"{what} Additional properties are not allowed "
                   f"({', '.join(map(repr, extra))} were unexpected)")
    for key in ("net_id", "port_id", "tag"):
        if key in attachment:
            _validate_string(attachment[key], key, min_len=1)
    ips = attachment.get("fixed_ips")
    if ips is not None and (not isinstance(ips, list) or len(ips) != 1 or not isinstance(
            ips[0], dict) or set(ips[0]) != {"ip_address"} or not isinstance(
            ips[0]["ip_address"], str)):
        raise _bad(f"Invalid input for field/attribute fixed_ips. Value: {ips}.")
    return attachment


class ServerInterfaces:
    """`/servers/{id}/os-interface`: a server's ports, attached and detached."""

    def __init__(self, cloud: Cloud) -> None:
        self.cloud = cloud

    def register(self, router: Router, v21: str) -> None:
        router.add("GET", v21 + "/servers/{id}/os-interface", self.list_interfaces)
        router.add("POST", v21 + "/servers/{id}/os-interface", self.attach_interface)
        router.add("GET", v21 + "/servers/{id}/os-interface/{port_id}", self.show_interface)
        router.add("DELETE", v21 + "/servers/{id}/os-interface/{port_id}",
                   self.detach_interface)

    def _respond(self, req: Request, status: int, body: Any) -> Response:
        return Response(status, body, version_headers(microversion(req)))

    # -- interfaces (os-interface)
    def list_interfaces(self, req: Request) -> Response:
        version = microversion(req)
        found = self.cloud.nova.get_server_interfaces(req.context, req.params["id"])
        return Response(200, {"interfaceAttachments": found}, version_headers(version))

    def show_interface(self, req: Request) -> Response:
        version = microversion(req)
        port_id = req.params["port_id"]
        for found in self.cloud.nova.get_server_interfaces(req.context, req.params["id"]):
            if found["port_id"] == port_id:
                return Response(200, {"interfaceAttachment": found}, version_headers(version))
        raise NotFound(f"Port {port_id} is not attached", type="PortNotFound")

    def attach_interface(self, req: Request) -> Response:
        version = microversion(req)
        _writer(req, "os-attach-interfaces:create")
        attachment = validate_interface_attach(req.json() if req.body else {})
        fixed_ips = attachment.get("fixed_ips") or [{}]
        found = self.cloud.nova.server_add_interface(
            req.context, req.params["id"], port_id=attachment.get("port_id"),
            net_id=attachment.get("net_id"), fixed_ip=fixed_ips[0].get("ip_address"))
        return Response(200, {"interfaceAttachment": found}, version_headers(version))

    def detach_interface(self, req: Request) -> Response:
        version = microversion(req)
        _writer(req, "os-attach-interfaces:delete")
        self.cloud.nova.server_remove_interface(req.context, req.params["id"], req.params["port_id"])
        return Response(202, None, version_headers(version))
