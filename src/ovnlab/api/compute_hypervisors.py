"""Nova v2.1 os-availability-zone and os-hypervisors (one zone, "nova", holding every
compute node; hypervisors in the 2.88 format)."""

from __future__ import annotations

from typing import Any

from ovnlab.cloud.services import NovaNetworking as Cloud
from ovnlab.errors import Forbidden, NotFound

from .http import Request, Response, Router
from .microversions import microversion, version_headers


class Hypervisors:
    """Availability zones and hypervisors (admin only)."""

    def __init__(self, cloud: Cloud) -> None:
        self.cloud = cloud

    def register(self, router: Router, v21: str) -> None:
        router.add("GET", v21 + "/os-availability-zone", self.availability_zones)
        router.add("GET", v21 + "/os-availability-zone/detail", self.availability_zones_detail)
        router.add("GET", v21 + "/os-hypervisors", self.list_hypervisors)
        router.add("GET", v21 + "/os-hypervisors/detail", self.list_hypervisors_detail)
        router.add("GET", v21 + "/os-hypervisors/{id}", self.show_hypervisor)

    def _respond(self, req: Request, status: int, body: Any) -> Response:
        return Response(status, body, version_headers(microversion(req)))

    # -- availability zones: one, "nova", holding every compute node
    def availability_zones(self, req: Request) -> Response:
        zone = {"zoneName": "nova", "zoneState": {"available": True}, "hosts": None}
        return self._respond(req, 200, {"availabilityZoneInfo": [zone]})

    def availability_zones_detail(self, req: Request) -> Response:
        hosts = {h["hypervisor_hostname"]: {"nova-compute": {
            "available": True, "active": True, "updated_at": None}}
            for h in self._hypervisors(req)}
        zone = {"zoneName": "nova", "zoneState": {"available": True}, "hosts": hosts}
        return self._respond(req, 200, {"availabilityZoneInfo": [zone]})

    # -- hypervisors (mv 2.88 format: UUID ids, no statistics)
    def _hypervisors(self, req: Request) -> list[dict[str, Any]]:
        if not getattr(req.context, "is_admin", False):
            raise Forbidden("Policy doesn't allow os_compute_api:os-hypervisors:list-detail to "
                            "be performed.")
        out = []
        for h in self.cloud.nova.get_hypervisors(req.context):
            hostname = h.get("hypervisor_hostname") or h.get("hostname") or h.get("host")
            view = {"id": str(h["id"]), "hypervisor_hostname": hostname,
                    "hypervisor_type": h.get("hypervisor_type", "QEMU"),
                    "hypervisor_version": h.get("hypervisor_version", 6002000),
                    "host_ip": h.get("host_ip"), "state": h.get("state", "up"),
                    "status": h.get("status", "enabled"),
                    "service": h.get("service") or {"host": hostname, "id": str(h["id"]),
                                                    "disabled_reason": None},
                    "uptime": h.get("uptime"), "cpu_info": h.get("cpu_info", {})}
            out.append(view)
        return out

    def list_hypervisors(self, req: Request) -> Response:
        body = [{k: h[k] for k in ("id", "hypervisor_hostname", "state", "status")}
                for h in self._hypervisors(req)]
        return self._respond(req, 200, {"hypervisors": body})

    def list_hypervisors_detail(self, req: Request) -> Response:
        return self._respond(req, 200, {"hypervisors": self._hypervisors(req)})

    def show_hypervisor(self, req: Request) -> Response:
        hid = req.params["id"]
        for h in self._hypervisors(req):
            if h["id"] == hid:
                return self._respond(req, 200, {"hypervisor": h})
        raise NotFound(f"Hypervisor with ID '{hid}' could not be found.",
                       type="HypervisorNotFound")
