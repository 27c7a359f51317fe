"""A Python twin of the `openstack` CLI verbs the article uses, over the in-process cloud.

Names resolve as the real client resolves them (exact name or id; more than one match
is an error), so scripts read like the article: `os.network_create("n1", ...)`.
"""

from __future__ import annotations

from typing import Any

from ovnlab.errors import Conflict, NotFound


class OpenStack:
    def __init__(self, cloud: Any, ctx: Any) -> None:
        self.cloud = cloud
        self.ctx = ctx

    # ------------------------------------------------------------ lookups
    def find(self, kind: str, name_or_id: str) -> dict[str, Any]:
        """`kind` is the Neutron resource (network, subnet, port, router, floatingip,
        security_group) or `server`."""
        getter = self._lister(kind)
        label = "floating_ip_address" if kind == "floatingip" else "name"
        found = [r for r in getter(self.ctx) if name_or_id in (r["id"], r.get(label))]
        if not found:
            raise NotFound(f"No {_title(kind)} found for {name_or_id}")
        if len(found) > 1:
            raise Conflict(f"More than one {_title(kind)} exists with the name '{name_or_id}'.")
        return found[0]

    def _lister(self, kind: str) -> Any:
        """The list call of the family that owns `kind`."""
        c = self.cloud
        match kind:
            case "network":
                return c.get_networks
            case "subnet":
                return c.get_subnets
            case "port":
                return c.get_ports
            case "router":
                return c.l3.get_routers
            case "floatingip":
                return c.l3.get_floatingips
            case "security_group":
                return c.security_groups.get_security_groups
            case "server":
                return c.nova.get_servers
        raise ValueError(f"no such resource kind: {kind}")

    def _id(self, kind: str, name_or_id: str) -> str:
        return str(self.find(kind, name_or_id)["id"])

    # ------------------------------------------------------------ networks
    def network_create(self, name: str, *, provider_network_type: str | None = None,
                       provider_segment: int | None = None,
                       provider_physical_network: str | None = None,
                       external: bool = False, shared: bool = False) -> dict[str, Any]:
        body: dict[str, Any] = {"name": name, "admin_state_up": True}
        if provider_network_type:
            body["provider:network_type"] = provider_network_type
        if provider_segment is not None:
            body["provider:segmentation_id"] = provider_segment
        if provider_physical_network:
            body["provider:physical_network"] = provider_physical_network
        if external:
            body["router:external"] = True
        if shared:
            body["shared"] = True
        return dict(self.cloud.create_network(self.ctx, body))

    def subnet_create(self, name: str, *, network: str, subnet_range: str,
                      gateway: str | None = None, dhcp: bool = True,
                      allocation_pool: tuple[str, str] | None = None,
                      dns_nameservers: list[str] | None = None,
                      host_routes: list[dict[str, str]] | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"name": name, "network_id": self._id("network", network),
                                "cidr": subnet_range, "ip_version": 4}
        if dns_nameservers:  # --dns-nameserver
            body["dns_nameservers"] = dns_nameservers
        if host_routes:  # --host-route destination=...,gateway=...
            body["host_routes"] = host_routes
        if not dhcp:
            body["enable_dhcp"] = False
        if gateway:
            body["gateway_ip"] = gateway
        if allocation_pool:
            body["allocation_pools"] = [{"start": allocation_pool[0], "end": allocation_pool[1]}]
        return dict(self.cloud.create_subnet(self.ctx, body))

    # ------------------------------------------------------------ routers
    def router_create(self, name: str) -> dict[str, Any]:
        return dict(self.cloud.l3.create_router(self.ctx, {"name": name, "admin_state_up": True}))

    def router_add_subnet(self, router: str, subnet: str) -> dict[str, Any]:
        return dict(self.cloud.l3.add_router_interface(
            self.ctx, self._id("router", router), {"subnet_id": self._id("subnet", subnet)}))

    def router_remove_subnet(self, router: str, subnet: str) -> dict[str, Any]:
        return dict(self.cloud.l3.remove_router_interface(
            self.ctx, self._id("router", router), {"subnet_id": self._id("subnet", subnet)}))

    def router_set_external_gateway(self, router: str, network: str) -> dict[str, Any]:
        gw = {"network_id": self._id("network", network)}
        return dict(self.cloud.l3.update_router(
            self.ctx, self._id("router", router), {"external_gateway_info": gw}))

    # ------------------------------------------------------------ servers
    def server_create(self, name: str, *, network: str, fixed_ip: str | None = None,
                      flavor: str = "m1.nano", image: str = "cirros",
                      host: str | None = None,
                      security_groups: tuple[str, ...] = ()) -> dict[str, Any]:
        nic: dict[str, Any] = {"uuid": self._id("network", network)}
        if fixed_ip:
            nic["fixed_ip"] = fixed_ip
        body: dict[str, Any] = {
            "name": name, "imageRef": self._image_id(image), "flavorRef": self._flavor_id(flavor),
            "networks": [nic],
        }
        if host:
            body["availability_zone"] = f"nova:{host}"
        if security_groups:
            body["security_groups"] = [{"name": sg} for sg in security_groups]
        return dict(self.cloud.nova.create_server(self.ctx, body))

    def server_delete(self, server: str) -> None:
        self.cloud.nova.delete_server(self.ctx, self._id("server", server))

    def _image_id(self, name_or_id: str) -> str:
        for image in self.cloud.nova.get_images(self.ctx):
            if name_or_id in (image["id"], image["name"]):
                return str(image["id"])
        raise NotFound(f"No Image found for {name_or_id}")

    def _flavor_id(self, name_or_id: str) -> str:
        for flavor in self.cloud.nova.get_flavors(self.ctx):
            if name_or_id in (flavor["id"], flavor["name"]):
                return str(flavor["id"])
        raise NotFound(f"No Flavor found for {name_or_id}")

    # ------------------------------------------------------------ floating IPs
    def floating_ip_create(self, network: str) -> dict[str, Any]:
        return dict(self.cloud.l3.create_floatingip(
            self.ctx, {"floating_network_id": self._id("network", network)}))

    def server_add_floating_ip(self, server: str, address: str) -> dict[str, Any]:
        fip = self.find("floatingip", address)
        server_id = self._id("server", server)
        ports = self.cloud.get_ports(self.ctx, filters={"device_id": [server_id]})
        if not ports:
            raise NotFound("No attached ports found to associate floating IP with")
        error: Exception | None = None
        for port in ports:  # as the client does: the first port that can reach the FIP's network
            try:
                return dict(self.cloud.l3.update_floatingip(self.ctx, fip["id"], {"port_id": port["id"]}))
            except NotFound as exc:
                error = exc
        assert error is not None
        raise error

    def server_remove_floating_ip(self, address: str) -> dict[str, Any]:
        fip = self.find("floatingip", address)
        return dict(self.cloud.l3.update_floatingip(self.ctx, fip["id"], {"port_id": None}))

    def floating_ip_delete(self, address: str) -> None:
        self.cloud.l3.delete_floatingip(self.ctx, self.find("floatingip", address)["id"])

    # ------------------------------------------------------------ security groups
    def security_group_create(self, name: str) -> dict[str, Any]:
        return dict(self.cloud.security_groups.create_security_group(self.ctx, {"name": name, "description": name}))

    def security_group_rule_create(self, group: str, *, protocol: str,
                                   dst_port: int | None = None, direction: str = "ingress",
                                   remote_ip: str = "0.0.0.0/0") -> dict[str, Any]:
        body: dict[str, Any] = {
            "security_group_id": self._id("security_group", group), "direction": direction,
            "ethertype": "IPv4", "protocol": protocol, "remote_ip_prefix": remote_ip,
        }
        if dst_port is not None:
            body["port_range_min"] = body["port_range_max"] = dst_port
        return dict(self.cloud.security_groups.create_security_group_rule(self.ctx, body))

    def server_add_security_group(self, server: str, group: str) -> None:
        self.cloud.nova.server_add_security_group(self.ctx, self._id("server", server), group)


def _title(kind: str) -> str:
    return {"floatingip": "FloatingIP", "security_group": "SecurityGroup"}.get(kind, kind.title())
