"""Networks (ML2 with the geneve/vxlan/flat/vlan type drivers) and subnets (IPAM)."""

from __future__ import annotations

import ipaddress
from typing import Any, Protocol

from ovnlab.cloud import exceptions as exc
from ovnlab.cloud import ipam, policy, subnetpools
from ovnlab.cloud.base import CloudBase, Doc, Filters
from ovnlab.cloud.context import Context
from ovnlab.cloud.secgroups import SecurityGroupService
from ovnlab.errors import Conflict
from ovnlab.owners import AUTO_DELETE_OWNERS, ROUTER_OWNERS, DeviceOwner

NETWORK_CREATE = {"name", "admin_state_up", "shared", "router:external", "provider:network_type",
                  "provider:physical_network", "provider:segmentation_id", "description", "mtu",
                  "port_security_enabled", "availability_zone_hints", "tenant_id", "project_id",
                  "dns_domain", "is_default", "qos_policy_id", "tags"}
NETWORK_UPDATE = {"name", "admin_state_up", "shared", "router:external", "description", "mtu",
                  "port_security_enabled", "dns_domain", "is_default", "qos_policy_id",
                  "provider:network_type", "provider:physical_network",
                  "provider:segmentation_id"}
SUBNET_CREATE = {"name", "network_id", "cidr", "ip_version", "gateway_ip", "allocation_pools",
                 "enable_dhcp", "dns_nameservers", "host_routes", "description", "ipv6_ra_mode",
                 "ipv6_address_mode", "tenant_id", "project_id", "subnetpool_id",
                 "use_default_subnetpool", "segment_id", "service_types", "tags",
                 "dns_publish_fixed_ip", "prefixlen"}
SUBNET_UPDATE = {"name", "gateway_ip", "allocation_pools", "enable_dhcp", "dns_nameservers",
                 "host_routes", "description", "service_types", "dns_publish_fixed_ip",
                 "cidr", "network_id", "ip_version"}

TUNNEL_TYPES = ("geneve", "vxlan")
NETWORK_TYPES = ("geneve", "vxlan", "flat", "vlan")
TENANT_TUNNEL_RANGE = (1, 65536)  # devstack's ml2_type_geneve vni_ranges
MAX_TUNNEL_ID = 2**24 - 1
GLOBAL_PHYSNET_MTU = 1500
# ML2's overhead per type on top of global_physnet_mtu (geneve: 38 header bytes + IPv4 20).
MTU = {"geneve": GLOBAL_PHYSNET_MTU - 58, "vxlan": GLOBAL_PHYSNET_MTU - 50,
       "flat": GLOBAL_PHYSNET_MTU, "vlan": GLOBAL_PHYSNET_MTU}


class ServicePorts(Protocol):
    """The ports the OVN driver keeps on a network (its metadata port: created and kept
    on the network's DHCP subnets through the plugin, as Neutron's OVN driver does)."""

    def sync_metadata_port(self, net: Doc | None) -> None: ...
    def delete_service_port(self, port: Doc) -> None: ...


class L3Hooks(Protocol):
    """What ML2 asks of the L3 service plugin (Neutron's ML2 finds it in the plugin
    directory): its floating IPs follow a port's and a network's deletion."""

    def disassociate_floatingips(self, port_id: str) -> None: ...
    def delete_disassociated_floatingips(self, network_id: str) -> None: ...


class NetworkOps(CloudBase):
    # What `Cloud` composes around the core plugin, and the core plugin asks of them.
    _l3: L3Hooks  # the L3 plugin
    _security_groups: SecurityGroupService  # a project's default group, made on first use
    _service_ports: ServicePorts  # the metadata port of a network

    # ------------------------------------------------------------ lookups
    def _network_doc(self, ctx: Context, net_id: object) -> Doc:
        net = self._doc("network", net_id)
        if net is None or not policy.network_visible(ctx, net):
            raise exc.not_found("network", str(net_id))
        return net

    def _owned(self, ctx: Context, kind: str, doc: Doc, action: str) -> None:
        """Visible but someone else's: Neutron's policy check answers 403."""
        if not policy.owns(ctx, doc):
            raise exc.policy(f"{action}_{kind}")

    def _subnet_visible(self, ctx: Context, subnet: Doc) -> bool:
        """`get_subnet`: admin_or_owner or shared. An external network's subnets stay hidden
        from other projects unless the network is also shared (tempest checks this)."""
        if policy.owns(ctx, subnet):
            return True
        net = self._doc("network", subnet["network_id"])
        return net is not None and bool(net["shared"])

    def _subnet_doc(self, ctx: Context, subnet_id: object) -> Doc:
        subnet = self._doc("subnet", subnet_id)
        if subnet is None or not self._subnet_visible(ctx, subnet):
            raise exc.not_found("subnet", str(subnet_id))
        return subnet

    def _physnets(self) -> set[str]:
        names = {p.name for p in self.topology.physical_networks}
        for node in self.topology.nodes:
            names.update(node.bridge_mappings)
        return names

    # ------------------------------------------------------------ networks
    def create_network(self, ctx: Context, body: object) -> Doc:
        b = self._body(body, "network")
        self._allowed(b, NETWORK_CREATE)
        policy.check_write(ctx, "create", "network", b)
        with self._txn():
            project = policy.check_project(ctx, b)
            ntype, physnet, segid = self._segment(b)
            net: Doc = {
                "id": self.ids.uuid(), "name": self._str(b, "name"),
                "project_id": project, "tenant_id": project,
                "admin_state_up": self._bool(b, "admin_state_up", True),
                "mtu": self._mtu(b, ntype), "status": "ACTIVE", "subnets": [],
                "shared": self._bool(b, "shared", False),
                "router:external": self._bool(b, "router:external", False),
                "availability_zone_hints": list(b.get("availability_zone_hints") or []),
                "availability_zones": [], "ipv4_address_scope": None,
                "ipv6_address_scope": None, "description": self._str(b, "description"),
                "port_security_enabled": self._bool(b, "port_security_enabled", True),
                "is_default": self._bool(b, "is_default", False), "l2_adjacency": True,
                "qos_policy_id": None, "dns_domain": self._str(b, "dns_domain"),
                "tags": list(b.get("tags") or []),
                "provider:network_type": ntype, "provider:physical_network": physnet,
                "provider:segmentation_id": segid,
            }
            self._save("network", self._stamp(net))
            self._security_groups.ensure_default_sg(project)
            self.driver.create_network(net)
            self._service_ports.sync_metadata_port(net)
        return self._view(ctx, "network", net)

    def _segment(self, b: Doc) -> tuple[str, str | None, int | None]:
        ntype = b.get("provider:network_type")
        physnet = b.get("provider:physical_network")
        segid = _segmentation_id(b.get("provider:segmentation_id"))
        if ntype is None:
            if physnet is not None or segid is not None:
                raise exc.invalid_input("network_type required")
            ntype = "geneve"
        if ntype not in NETWORK_TYPES:
            raise exc.invalid_input(f"network_type value '{ntype}' not supported")
        nets = self.store.find("network", **{"provider:network_type": ntype})
        if ntype in TUNNEL_TYPES:
            if physnet:
                raise exc.invalid_input(f"provider:physical_network specified for {ntype} network")
            used = {n["provider:segmentation_id"] for n in nets}
            if segid is None:
                segid = next((i for i in range(TENANT_TUNNEL_RANGE[0], TENANT_TUNNEL_RANGE[1] + 1)
                              if i not in used), None)
                if segid is None:
                    raise exc.ServiceUnavailable(
                        "Unable to create the network. No tenant network is available for "
                        "allocation.", type="NoNetworkAvailable")
            elif not 1 <= segid <= MAX_TUNNEL_ID:
                raise exc.invalid_input(f"segmentation_id out of range (1 through {MAX_TUNNEL_ID})")
            elif segid in used:
                raise Conflict(f"Unable to create the network. The tunnel ID {segid} is in use.",
                               type="TunnelIdInUse")
            return ntype, None, segid
        kind = "flat" if ntype == "flat" else "VLAN"
        if physnet is None:
            if ntype == "vlan" and segid is not None:
                raise exc.invalid_input(
                    "segmentation_id requires physical_network for VLAN provider network")
            raise exc.invalid_input(f"physical_network required for {kind} provider network")
        if physnet not in self._physnets():
            raise exc.invalid_input(f"physical_network '{physnet}' unknown for {kind} provider "
                                    "network")
        on_physnet = [n for n in nets if n["provider:physical_network"] == physnet]
        if ntype == "flat":
            if segid is not None:
                raise exc.invalid_input("provider:segmentation_id prohibited for flat provider "
                                        "network")
            if on_physnet:
                raise Conflict(f"Unable to create the flat network. Physical network {physnet} "
                               "is in use.", type="FlatNetworkInUse")
            return ntype, physnet, None
        used = {n["provider:segmentation_id"] for n in on_physnet}
        if segid is None:
            segid = next((i for i in range(1, 4095) if i not in used), None)
            if segid is None:
                raise exc.ServiceUnavailable(
                    "Unable to create the network. No tenant network is available for "
                    "allocation.", type="NoNetworkAvailable")
        elif not 1 <= segid <= 4094:
            raise exc.invalid_input("segmentation_id out of range (1 through 4094)")
        elif segid in used:
            raise Conflict(f"Unable to create the network. The VLAN {segid} on physical network "
                           f"{physnet} is in use.", type="VlanIdInUse")
        return ntype, physnet, segid

    @staticmethod
    def _mtu(b: Doc, ntype: str) -> int:
        limit = MTU[ntype]
        if b.get("mtu") is None:
            return limit
        try:
            mtu = int(b["mtu"])
        except (TypeError, ValueError):
            raise exc.invalid_attr("mtu", f"'{b['mtu']}' is not an integer") from None
        if mtu > limit:
            raise exc.invalid_input(f"Requested MTU is too big, maximum is {limit}")
        if mtu < 68:
            raise exc.invalid_attr("mtu", f"'{mtu}' is too small - must be at least '68'")
        return mtu

    def get_network(self, ctx: Context, id: str, fields: list[str] | None = None) -> Doc:
        return self._view(ctx, "network", self._network_doc(ctx, id), fields)

    def get_networks(self, ctx: Context, filters: Filters | None = None,
                     fields: list[str] | None = None) -> list[Doc]:
        return [self._view(ctx, "network", n, fields) for n in self.store.all("network")
                if policy.network_visible(ctx, n) and self._matches(n, filters)]

    def update_network(self, ctx: Context, id: str, body: object) -> Doc:
        b = self._body(body, "network")
        self._allowed(b, NETWORK_UPDATE)
        policy.check_write(ctx, "update", "network", b)
        with self._txn():
            net = self._network_doc(ctx, id)
            self._owned(ctx, "network", net, "update")
            original = dict(net)
            for attr in ("provider:network_type", "provider:physical_network",
                         "provider:segmentation_id"):
                value = b.get(attr, net[attr])
                if attr == "provider:segmentation_id":
                    value = _segmentation_id(value)
                if value != net[attr]:
                    raise exc.invalid_input("Plugin does not support updating provider "
                                            "attributes")
            ports = self.store.find("port", network_id=id)
            if net["router:external"] and not self._bool(b, "router:external", True):
                if any(p["device_owner"] in (DeviceOwner.ROUTER_GW, DeviceOwner.FLOATINGIP)
                       for p in ports):
                    raise Conflict(f"External network {id} cannot be updated to be made "
                                   "non-external, since it has existing gateway ports.",
                                   type="ExternalNetworkInUse")
            if net["shared"] and not self._bool(b, "shared", True):
                if any(p["project_id"] not in (net["project_id"], "") for p in ports):
                    raise Conflict(f"Unable to reconfigure sharing settings for network {id}. "
                                   "Multiple projects are using it.", type="InvalidSharedSetting")
            for attr in ("name", "description", "dns_domain"):
                if attr in b:
                    net[attr] = self._str(b, attr)
            for attr in ("admin_state_up", "shared", "router:external",
                         "port_security_enabled", "is_default"):
                if attr in b:
                    net[attr] = self._bool(b, attr, bool(net[attr]))
            if "mtu" in b:
                net["mtu"] = self._mtu(b, net["provider:network_type"])
            self._save("network", self._touch(net))
            self.driver.update_network(net, original)
        return self._view(ctx, "network", net)

    def delete_network(self, ctx: Context, id: str) -> None:
        with self._txn():
            net = self._network_doc(ctx, id)
            self._owned(ctx, "network", net, "delete")
            # ML2's delete_network first has the L3 plugin delete the network's floating IPs
            # that no port uses; associated ones keep their ports, and the network is in use.
            self._l3.delete_disassociated_floatingips(id)
            ports = self.store.find("port", network_id=id)
            if any(p["device_owner"] not in AUTO_DELETE_OWNERS for p in ports):
                raise Conflict(f"Unable to complete operation on network {id}. There are one or "
                               "more ports still in use on the network.", type="NetworkInUse")
            for port in ports:
                self._service_ports.delete_service_port(port)
            for subnet in self.store.find("subnet", network_id=id):
                self.store.delete("subnet", subnet["id"])
                self.driver.delete_subnet(subnet)
            self.store.delete("network", id)
            self.driver.delete_network(net)

    # ------------------------------------------------------------ subnets
    def create_subnet(self, ctx: Context, body: object) -> Doc:
        b = self._body(body, "subnet")
        self._allowed(b, SUBNET_CREATE)
        with self._txn():
            project = policy.check_project(ctx, b)
            if b.get("network_id") is None:
                raise exc.required("network_id")
            pool = subnetpools.pool_for_subnet(self.store, ctx, b)
            if pool is None and b.get("cidr") is None:
                raise exc.bad_request("subnets", "a subnetpool must be specified in the "
                                      "absence of a cidr")
            net = self._network_doc(ctx, b["network_id"])
            if not ctx.is_admin and net["project_id"] != project:
                if not net["shared"]:
                    raise exc.hidden()
                raise exc.policy("create_subnet")
            cidr = (ipam.parse_cidr(b["cidr"]) if pool is None
                    else subnetpools.subnet_cidr(self.store, pool, b))
            version = b.get("ip_version", cidr.version)
            if str(version) not in ("4", "6"):
                raise exc.invalid_attr("ip_version", f"'{version}' is not in [4, 6]")
            if int(version) != cidr.version:
                raise exc.invalid_input(f"cidr '{cidr}' does not match the ip_version '{version}'")
            gateway = self._gateway(b, cidr)
            dhcp = self._bool(b, "enable_dhcp", True)
            if dhcp and cidr.prefixlen > cidr.max_prefixlen - 2:
                raise exc.invalid_input("Subnet has a prefix length that is incompatible with "
                                        "DHCP service enabled")
            if "allocation_pools" in b and b["allocation_pools"] is not None:
                pools = ipam.parse_pools(b["allocation_pools"], cidr)
            else:
                pools = ipam.default_pools(cidr, gateway)
            ipam.validate_pools(cidr, pools, gateway)
            for other in self.store.find("subnet", network_id=net["id"]):
                if ipam.overlaps(ipaddress.ip_network(other["cidr"]), cidr):
                    raise exc.invalid_input(
                        f"Requested subnet with cidr: {cidr} for network: {net['id']} overlaps "
                        "with another subnet")
            subnet: Doc = {
                "id": self.ids.uuid(), "name": self._str(b, "name"), "network_id": net["id"],
                "project_id": project, "tenant_id": project, "ip_version": cidr.version,
                "cidr": str(cidr), "gateway_ip": None if gateway is None else str(gateway),
                "allocation_pools": [p.as_dict() for p in pools], "enable_dhcp": dhcp,
                "dns_nameservers": _nameservers(b.get("dns_nameservers"), cidr.version),
                "host_routes": _host_routes(b.get("host_routes"), cidr.version),
                "ipv6_ra_mode": b.get("ipv6_ra_mode"),
                "ipv6_address_mode": b.get("ipv6_address_mode"),
                "subnetpool_id": None if pool is None else pool["id"],
                "segment_id": None, "service_types": list(b.get("service_types") or []),
                "description": self._str(b, "description"),
                "dns_publish_fixed_ip": self._bool(b, "dns_publish_fixed_ip", False),
                "tags": list(b.get("tags") or []),
            }
            self._save("subnet", self._stamp(subnet))
            net["subnets"] = [*net["subnets"], subnet["id"]]
            self._save("network", self._touch(net))
            self.driver.create_subnet(subnet)
            self._service_ports.sync_metadata_port(net)
        return self._view(ctx, "subnet", subnet)

    @staticmethod
    def _gateway(b: Doc, cidr: ipam.IPNetwork) -> ipam.IPAddress | None:
        if "gateway_ip" not in b:
            return ipam.default_gateway(cidr)
        if b["gateway_ip"] is None:
            return None
        gateway = ipam.parse_ip(b["gateway_ip"], "gateway_ip")
        ipam.validate_gateway(cidr, gateway)
        return gateway

    def get_subnet(self, ctx: Context, id: str, fields: list[str] | None = None) -> Doc:
        return self._view(ctx, "subnet", self._subnet_doc(ctx, id), fields)

    def get_subnets(self, ctx: Context, filters: Filters | None = None,
                    fields: list[str] | None = None) -> list[Doc]:
        return [self._view(ctx, "subnet", s, fields) for s in self.store.all("subnet")
                if self._subnet_visible(ctx, s) and self._matches(s, filters)]

    def update_subnet(self, ctx: Context, id: str, body: object) -> Doc:
        b = self._body(body, "subnet")
        self._allowed(b, SUBNET_UPDATE)
        with self._txn():
            subnet = self._subnet_doc(ctx, id)
            self._owned(ctx, "subnet", subnet, "update")
            self._immutable({k: v for k, v in b.items() if v != subnet.get(k)},
                            ("cidr", "network_id", "ip_version"))
            original = dict(subnet)
            cidr = ipaddress.ip_network(subnet["cidr"])
            gateway = (self._gateway(b, cidr) if "gateway_ip" in b else
                       None if subnet["gateway_ip"] is None else
                       ipaddress.ip_address(subnet["gateway_ip"]))
            new_gw = None if gateway is None else str(gateway)
            if new_gw != subnet["gateway_ip"] and subnet["gateway_ip"] is not None:
                for port in self._ports_on_subnet(subnet):
                    on_gw = any(ip["ip_address"] == subnet["gateway_ip"]
                                for ip in port["fixed_ips"])
                    if on_gw and port["device_owner"] in ROUTER_OWNERS:
                        raise Conflict(f"Current gateway ip {subnet['gateway_ip']} already in "
                                       f"use by port {port['id']}. Unable to update.",
                                       type="GatewayIpInUse")
            if b.get("allocation_pools") is not None:
                pools = ipam.parse_pools(b["allocation_pools"], cidr)
            else:
                pools = [ipam.Pool(ipaddress.ip_address(p["start"]), ipaddress.ip_address(p["end"]))
                         for p in subnet["allocation_pools"]]
            ipam.validate_pools(cidr, pools, gateway)
            subnet["gateway_ip"] = new_gw
            subnet["allocation_pools"] = [p.as_dict() for p in pools]
            for attr in ("name", "description"):
                if attr in b:
                    subnet[attr] = self._str(b, attr)
            for attr in ("enable_dhcp", "dns_publish_fixed_ip"):
                if attr in b:
                    subnet[attr] = self._bool(b, attr, bool(subnet[attr]))
            if "dns_nameservers" in b:
                subnet["dns_nameservers"] = _nameservers(b["dns_nameservers"], cidr.version)
            if "host_routes" in b:
                subnet["host_routes"] = _host_routes(b["host_routes"], cidr.version)
            self._save("subnet", self._touch(subnet))
            self.driver.update_subnet(subnet, original)
            self._service_ports.sync_metadata_port(self._doc("network", subnet["network_id"]))
        return self._view(ctx, "subnet", subnet)

    def delete_subnet(self, ctx: Context, id: str) -> None:
        with self._txn():
            subnet = self._subnet_doc(ctx, id)
            self._owned(ctx, "subnet", subnet, "delete")
            if any(p["device_owner"] not in AUTO_DELETE_OWNERS
                   for p in self._ports_on_subnet(subnet)):
                raise Conflict(f"Unable to complete operation on subnet {id}: One or more ports "
                               "have an IP allocation from this subnet.", type="SubnetInUse")
            self.store.delete("subnet", id)
            net = self._doc("network", subnet["network_id"])
            if net is not None:
                net["subnets"] = [s for s in net["subnets"] if s != id]
                self._save("network", self._touch(net))
            self._service_ports.sync_metadata_port(net)  # its address there goes first
            self.driver.delete_subnet(subnet)

    # ------------------------------------------------------------ IPAM state
    def _ports_on_subnet(self, subnet: Doc) -> list[Doc]:
        return [p for p in self.store.find("port", network_id=subnet["network_id"])
                if any(ip["subnet_id"] == subnet["id"] for ip in p["fixed_ips"])]

    def _used_ips(self, subnet: Doc) -> set[ipam.IPAddress]:
        return {ipaddress.ip_address(ip["ip_address"])
                for fixed_ips in self.store.pluck("port", "fixed_ips",
                                                  network_id=subnet["network_id"])
                for ip in fixed_ips or [] if ip["subnet_id"] == subnet["id"]}


def _segmentation_id(value: Any) -> int | None:
    """The openstack client sends `provider:segmentation_id` as a string: accept it."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise exc.invalid_attr("provider:segmentation_id", f"'{value}' is not an integer")
    try:
        return int(str(value).strip())
    except ValueError:
        raise exc.invalid_attr("provider:segmentation_id", f"'{value}' is not an integer") from None


def _nameservers(raw: Any, version: int) -> list[str]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise exc.invalid_attr("dns_nameservers", f"'{raw}' is not a list")
    out = []
    for dns in raw:
        try:
            ip = ipaddress.ip_address(str(dns))
        except ValueError:
            raise exc.invalid_input(f"Error parsing dns address {dns}") from None
        if ip.version != version:
            raise exc.invalid_input(f"dns_nameserver '{dns}' does not match the ip_version "
                                    f"'{version}'")
        if str(ip) in out:
            raise exc.invalid_attr("dns_nameservers", f"Duplicate nameserver '{dns}'")
        out.append(str(ip))
    return out


def _host_routes(raw: Any, version: int) -> list[dict[str, str]]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise exc.invalid_attr("host_routes", f"'{raw}' is not a list")
    out = []
    for route in raw:
        if not isinstance(route, dict) or set(route) != {"destination", "nexthop"}:
            raise exc.invalid_attr("host_routes", f"Invalid data format for hostroute: '{route}'")
        try:
            dest = ipaddress.ip_network(str(route["destination"]))
            hop = ipaddress.ip_address(str(route["nexthop"]))
        except ValueError:
            raise exc.invalid_attr("host_routes",
                                   f"Invalid data format for hostroute: '{route}'") from None
        if dest.version != version or hop.version != version:
            raise exc.invalid_input(f"host_route '{route}' does not match the ip_version "
                                    f"'{version}'")
        out.append({"destination": str(dest), "nexthop": str(hop)})
    return out



