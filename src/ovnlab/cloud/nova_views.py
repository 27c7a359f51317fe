"""Nova's read side: the flavor, image and hypervisor catalog, and servers as its API
shows them (the view builder, in microversion 2.100's format).

Nova is a service of the cloud of its own (`cloud.nova`, built from `NovaBase` up:
`NovaViewOps` here, `NovaOps` in nova.py, `ServerActionOps` in server_actions.py): it
shares the cloud's core and plugs servers into Neutron through Neutron's port operations,
as Nova calls Neutron's API."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection

from ovnlab.cloud import catalog, policy, server_states
from ovnlab.cloud.base import CloudBase, Doc, Filters
from ovnlab.cloud.context import Context
from ovnlab.cloud.ports import PortOps
from ovnlab.cloud.secgroups import SecurityGroupService
from ovnlab.cloud.server_states import VmState
from ovnlab.cloud.servergroups import ServerGroupService
from ovnlab.errors import NotFound

# Attributes Nova's default policy shows to admins only.
ADMIN_ONLY = ("OS-EXT-SRV-ATTR:host", "OS-EXT-SRV-ATTR:hypervisor_hostname",
              "OS-EXT-SRV-ATTR:instance_name", "OS-EXT-SRV-ATTR:reservation_id",
              "OS-EXT-SRV-ATTR:launch_index", "OS-EXT-SRV-ATTR:kernel_id",
              "OS-EXT-SRV-ATTR:ramdisk_id", "OS-EXT-SRV-ATTR:root_device_name",
              "OS-EXT-SRV-ATTR:user_data", "host_status")


class NovaBase:
    """What Nova's parts share: the cloud's core (store, transaction, clock), Neutron (the
    ports a server is plugged into, the project's default security group) and the server
    groups (the scheduler's filters)."""

    def __init__(self, core: CloudBase, neutron: PortOps, security_groups: SecurityGroupService,
                 server_groups: ServerGroupService) -> None:
        self._core = core
        self._neutron = neutron
        self._security_groups = security_groups
        self.server_groups = server_groups


class NovaViewOps(NovaBase):
    # ------------------------------------------------------------ catalog
    def get_flavors(self, ctx: Context, filters: Filters | None = None) -> list[Doc]:
        return [f for f in map(catalog.flavor_dict, catalog.FLAVORS) if self._core._matches(f, filters)]

    def get_flavor(self, ctx: Context, id: str) -> Doc:
        flavor = catalog.find_flavor(id)
        if flavor is None:
            raise NotFound(f"Flavor {id} could not be found.", type="FlavorNotFound")
        return catalog.flavor_dict(flavor)

    def get_images(self, ctx: Context, filters: Filters | None = None) -> list[Doc]:
        return [i for i in map(catalog.image_dict, catalog.IMAGES) if self._core._matches(i, filters)]

    def get_image(self, ctx: Context, id: str) -> Doc:
        image = catalog.find_image(id)
        if image is None:
            raise NotFound(f"No image found with ID {id}", type="ImageNotFound")
        return catalog.image_dict(image)

    def get_hypervisors(self, ctx: Context) -> list[Doc]:
        return [catalog.hypervisor_dict(n) for n in catalog.compute_nodes(self._core.topology)]

    # ------------------------------------------------------------ lookups and views
    def _server_doc(self, ctx: Context, server_id: object) -> Doc:
        server = self._core._doc("server", server_id)
        if server is None or not policy.owns(ctx, server):
            raise NotFound(f"Instance {server_id} could not be found.", type="InstanceNotFound")
        return server

    def _server_ports(self, server: Doc) -> list[Doc]:
        """The server's interfaces as Nova records them (its network info cache): the ports
        it booted or attached with, while Neutron still binds them to it. A port whose
        `device_id` was merely set to the server through Neutron is not one of them."""
        out = []
        for nic in server["nics"]:
            port = self._core._doc("port", nic["port_id"])
            if port is not None and port["device_id"] == server["id"]:
                out.append(port)
        return out

    def get_vifs(self, ctx: Context, servers: Collection[str] | None = None
                 ) -> list[tuple[Doc, Doc]]:
        """(server, port) for every interface nova-compute plugs (of just `servers` if
        given, by id): what the lab wires."""
        store = self._core.store
        docs = store.all("server") if servers is None else [
            d for d in (store.get("server", i) for i in servers) if d is not None]
        return [(self._server_view(ctx, s), self._core._view(ctx, "port", p))
                for s in docs if policy.owns(ctx, s) for p in self._server_ports(s)]

    def _addresses(self, ports: list[Doc]) -> dict[str, list[Doc]]:
        """The view builder's `addresses`: per network name, each port's fixed IPs then the
        floating IPs on it."""
        addresses: dict[str, list[Doc]] = {}
        for port in ports:
            net = self._core._doc("network", port["network_id"]) or {"name": port["network_id"]}
            entries = addresses.setdefault(net["name"], [])
            for ip in port["fixed_ips"]:
                entries.append({"addr": ip["ip_address"],
                                "version": 6 if ":" in ip["ip_address"] else 4,
                                "OS-EXT-IPS:type": "fixed",
                                "OS-EXT-IPS-MAC:mac_addr": port["mac_address"]})
            for fip in self._core.store.find("floatingip", port_id=port["id"]):
                entries.append({"addr": fip["floating_ip_address"], "version": 4,
                                "OS-EXT-IPS:type": "floating",
                                "OS-EXT-IPS-MAC:mac_addr": port["mac_address"]})
        return addresses

    def _security_group_names(self, ports: list[Doc]) -> list[str]:
        """The names of the ports' security groups, each once, in port order."""
        groups: list[str] = []
        for port in ports:
            for sg_id in port["security_groups"]:
                sg = self._core._doc("security_group", sg_id)
                name = sg["name"] if sg else sg_id
                if name not in groups:
                    groups.append(name)
        return groups

    def _server_view(self, ctx: Context, s: Doc) -> Doc:
        ports = self._server_ports(s)
        addresses = self._addresses(ports)
        groups = self._security_group_names(ports)
        flavor = catalog.find_flavor(s["flavor_id"])
        state = server_states.vm_state(s)
        status = server_states.status(s)
        out: Doc = {
            "id": s["id"], "name": s["name"], "status": status,
            "tenant_id": s["project_id"], "user_id": s["user_id"],
            "metadata": dict(s["metadata"]),
            "hostId": hashlib.sha224((s["project_id"] + s["host"]).encode()).hexdigest()
            if s["host"] else "",
            "image": {"id": s["image_id"],
                      "links": [{"rel": "bookmark", "href": f"/images/{s['image_id']}"}]},
            "flavor": catalog.embedded_flavor(flavor) if flavor else {},
            "created": s["created"], "updated": s["updated"], "addresses": addresses,
            "accessIPv4": s.get("accessIPv4") or "", "accessIPv6": s.get("accessIPv6") or "",
            "links": [{"rel": "self", "href": f"/v2.1/servers/{s['id']}"},
                      {"rel": "bookmark", "href": f"/servers/{s['id']}"}],
            "OS-DCF:diskConfig": s.get("OS-DCF:diskConfig", "MANUAL"),
            "OS-EXT-AZ:availability_zone": s["availability_zone"], "config_drive": "",
            "key_name": s["key_name"], "OS-SRV-USG:launched_at": s["launched_at"],
            "OS-SRV-USG:terminated_at": None,
            "security_groups": [{"name": g} for g in groups],
            "OS-EXT-SRV-ATTR:host": s["host"],
            "OS-EXT-SRV-ATTR:instance_name": f"instance-{s['instance_number']:08x}",
            "OS-EXT-SRV-ATTR:hypervisor_hostname": s["host"],
            "OS-EXT-SRV-ATTR:reservation_id": s.get("reservation_id") or f"r-{s['id'][:8]}",
            "OS-EXT-SRV-ATTR:launch_index": s.get("launch_index", 0),
            "OS-EXT-SRV-ATTR:hostname": _hostname(s["name"]),
            "OS-EXT-SRV-ATTR:kernel_id": "", "OS-EXT-SRV-ATTR:ramdisk_id": "",
            "OS-EXT-SRV-ATTR:root_device_name": "/dev/vda", "OS-EXT-SRV-ATTR:user_data": None,
            "OS-EXT-STS:task_state": "spawning" if state is VmState.BUILDING else None,
            "OS-EXT-STS:vm_state": state.value,
            "OS-EXT-STS:power_state": int(server_states.power_state(s)),
            "os-extended-volumes:volumes_attached": [],
            "locked": bool(s.get("locked")), "locked_reason": s.get("locked_reason"),
            "description": s["description"], "tags": [], "trusted_image_certificates": None,
            "host_status": "UP" if s["host"] else "",
            "server_groups": [s["server_group"]] if s.get("server_group") else [],
            "pinned_availability_zone": None,
            "scheduler_hints": dict(s.get("scheduler_hints") or {}),
        }
        if status in server_states.PROGRESS_STATUSES:
            out["progress"] = 0
        if state is VmState.ERROR and s.get("fault"):
            out["fault"] = dict(s["fault"])
        if not ctx.is_admin:
            for key in ADMIN_ONLY:
                out.pop(key, None)
        return out


def _hostname(name: str) -> str:
    return re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-")[:63] or "server"
