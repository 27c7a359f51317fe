"""Ports: MACs, fixed IPs (IPAM), security groups, binding (ML2 core plugin semantics)."""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from ovnlab.cloud import exceptions as exc
from ovnlab.cloud import extra_dhcp, ipam, policy
from ovnlab.cloud.base import Doc, Filters
from ovnlab.cloud.context import Context
from ovnlab.cloud.networks import NetworkOps
from ovnlab.errors import BadRequest, Conflict
from ovnlab.owners import ROUTER_OWNERS, DeviceOwner, is_network_owned

PORT_CREATE = {"name", "network_id", "admin_state_up", "mac_address", "fixed_ips", "device_id",
               "device_owner", "security_groups", "port_security_enabled", "binding:host_id",
               "binding:profile", "binding:vnic_type", "description", "allowed_address_pairs",
               "tenant_id", "project_id", "extra_dhcp_opts", "dns_name", "tags",
               "qos_policy_id", "propagate_uplink_status"}
PORT_UPDATE = PORT_CREATE - {"tenant_id", "project_id"}
SERVICE_OWNERS = (*ROUTER_OWNERS, DeviceOwner.FLOATINGIP)
MAC_RE = re.compile(r"^([0-9a-f]{2}:){5}[0-9a-f]{2}$")
INVALID_MACS = ("00:00:00:00:00:00", "ff:ff:ff:ff:ff:ff")  # neutron-lib INVALID_MAC_ADDRESSES
MAX_MAC_TRIES = 64
VIF_DETAILS = {"port_filter": True, "connectivity": "l2", "bridge_name": "br-int",
               "datapath_type": "system"}


class PortOps(NetworkOps):
    # ------------------------------------------------------------ lookups
    def _port_visible(self, ctx: Context, port: Doc) -> bool:
        if policy.owns(ctx, port):
            return True
        net = self._doc("network", port["network_id"])
        return net is not None and net["project_id"] == ctx.project_id

    def _port_doc(self, ctx: Context, port_id: object) -> Doc:
        port = self._doc("port", port_id)
        if port is None or not self._port_visible(ctx, port):
            raise exc.not_found("port", str(port_id))
        return port

    # ------------------------------------------------------------ API
    def create_port(self, ctx: Context, body: object) -> Doc:
        b = self._body(body, "port")
        self._allowed(b, PORT_CREATE)
        policy.check_write(ctx, "create", "port", b)
        with self._txn():
            project = policy.check_project(ctx, b)
            if not b.get("network_id"):
                raise exc.required("network_id")
            net = self._network_doc(ctx, b["network_id"])
            if not ctx.is_admin and not net["shared"] and net["project_id"] != project:
                raise exc.hidden()
            self._check_network_owner_attrs(ctx, net, b, "create")
            port = self._create_port(ctx, b, project=project, net=net)
        return self._view(ctx, "port", port)

    @staticmethod
    def _check_network_owner_attrs(ctx: Context, net: Doc, b: Doc, action: str) -> None:
        """`create_port:fixed_ips:ip_address` and `create_port:mac_address` are
        `admin_or_network_owner`: a user of someone else's shared network cannot pick them."""
        if ctx.is_admin or net["project_id"] == ctx.project_id:
            return
        denied = []
        if any(isinstance(f, dict) and "ip_address" in f for f in b.get("fixed_ips") or []):
            denied.append(f"{action}_port:fixed_ips:ip_address")
        if "mac_address" in b:
            denied.append(f"{action}_port:mac_address")
        if denied:
            raise exc.policy(f"{action}_port", *denied)

    def get_port(self, ctx: Context, id: str, fields: list[str] | None = None) -> Doc:
        return self._view(ctx, "port", self._port_doc(ctx, id), fields)

    def get_ports(self, ctx: Context, filters: Filters | None = None,
                  fields: list[str] | None = None) -> list[Doc]:
        return [self._view(ctx, "port", p, fields) for p in self.store.all("port")
                if self._port_visible(ctx, p) and self._matches(p, filters)]

    def update_port(self, ctx: Context, id: str, body: object) -> Doc:
        b = self._body(body, "port")
        if "network_id" in b:
            raise exc.read_only("network_id")
        self._allowed(b, PORT_UPDATE)
        policy.check_write(ctx, "update", "port", b)
        with self._txn():
            port = self._port_doc(ctx, id)
            net = self._doc("network", port["network_id"]) or {}
            self._check_network_owner_attrs(ctx, {"project_id": net.get("project_id")}, b,
                                            "update")
            port = self._update_port(ctx, port, b)
        return self._view(ctx, "port", port)

    def delete_port(self, ctx: Context, id: str) -> None:
        with self._txn():
            port = self._port_doc(ctx, id)
            if port["device_owner"] in SERVICE_OWNERS and self._service_device_exists(port):
                raise Conflict(f"Port {id} cannot be deleted directly via the port API: has "
                               f"device owner {port['device_owner']}.", type="ServicePortInUse")
            self._delete_port(port)

    def _service_device_exists(self, port: Doc) -> bool:
        kind = "floatingip" if port["device_owner"] == DeviceOwner.FLOATINGIP else "router"
        return self._doc(kind, port["device_id"]) is not None

    # ------------------------------------------------------------ internals (L3, Nova)
    def _create_port(self, ctx: Context, b: Doc, *, project: str, net: Doc,
                     status: str = "DOWN") -> Doc:
        device_owner = self._str(b, "device_owner")
        mac = self._mac(net, b.get("mac_address"))
        fixed_ips = self._allocate(net, b.get("fixed_ips"), None)
        security = self._bool(b, "port_security_enabled", bool(net["port_security_enabled"]))
        host = self._str(b, "binding:host_id")
        port: Doc = {
            "id": self.ids.uuid(), "name": self._str(b, "name"), "network_id": net["id"],
            "project_id": project, "tenant_id": project, "mac_address": mac,
            "admin_state_up": self._bool(b, "admin_state_up", True), "status": status,
            "device_id": self._str(b, "device_id"), "device_owner": device_owner,
            "fixed_ips": fixed_ips,
            "allowed_address_pairs": list(b.get("allowed_address_pairs") or []),
            "extra_dhcp_opts": extra_dhcp.on_create(b.get("extra_dhcp_opts")),
            "security_groups": self._port_sgs(project, b.get("security_groups"), security,
                                              device_owner),
            "port_security_enabled": security, "description": self._str(b, "description"),
            "binding:vnic_type": self._str(b, "binding:vnic_type", "normal"),
            "binding:profile": dict(b.get("binding:profile") or {}),
            "dns_name": self._str(b, "dns_name"), "qos_policy_id": None,
            "qos_network_policy_id": None, "propagate_uplink_status": False,
            "ip_allocation": "immediate", "resource_request": None,
            "tags": list(b.get("tags") or []),
        }
        _bind(port, host)
        self._save("port", self._stamp(port))
        self.driver.create_port(port)
        return port

    def _update_port(self, ctx: Context, port: Doc, b: Doc) -> Doc:
        original = dict(port)
        net = self._doc("network", port["network_id"]) or {}
        if "mac_address" in b and b["mac_address"] != port["mac_address"]:
            if port["binding:host_id"]:
                raise Conflict(
                    f"Unable to complete operation on port {port['id']}, port is already bound, "
                    f"port type: {port['binding:vif_type']}, old_mac {port['mac_address']}, "
                    f"new_mac {b['mac_address']}.", type="PortBound")
            port["mac_address"] = self._mac(net, b["mac_address"])
        if "fixed_ips" in b:
            new_ips = self._allocate(net, b["fixed_ips"], port)
            kept = {ip["ip_address"] for ip in new_ips}
            for fip in self.store.find("floatingip", port_id=port["id"]):
                if fip["fixed_ip_address"] not in kept:
                    raise exc.bad_request(
                        "port", f"Cannot update the fixed_ips of the port {port['id']}, because "
                        f"its original fixed_ip_address {fip['fixed_ip_address']} is associated "
                        "with a floating ip")
            port["fixed_ips"] = new_ips
        security = self._bool(b, "port_security_enabled", bool(port["port_security_enabled"]))
        if "security_groups" in b:
            port["security_groups"] = self._port_sgs(port["project_id"], b["security_groups"],
                                                     security, port["device_owner"])
        elif not security and port["security_groups"]:
            raise _sg_needs_port_security()
        port["port_security_enabled"] = security
        for attr in ("name", "description", "device_id", "device_owner", "dns_name",
                     "binding:vnic_type"):
            if attr in b:
                port[attr] = self._str(b, attr)
        if "admin_state_up" in b:
            port["admin_state_up"] = self._bool(b, "admin_state_up", True)
        for attr in ("allowed_address_pairs", "tags"):
            if attr in b:
                port[attr] = list(b[attr] or [])
        if "extra_dhcp_opts" in b:
            port["extra_dhcp_opts"] = extra_dhcp.on_update(port["extra_dhcp_opts"],
                                                           b["extra_dhcp_opts"])
        if "binding:profile" in b:
            port["binding:profile"] = dict(b["binding:profile"] or {})
        if "binding:host_id" in b:
            _bind(port, self._str(b, "binding:host_id"))
        self._save("port", self._touch(port))
        self.driver.update_port(port, original)
        return port

    def _delete_port(self, port: Doc) -> None:
        """Remove a port; the L3 plugin disassociates its floating IPs first, as ML2's
        delete_port has it do (`disassociate_floatingips`)."""
        self._l3.disassociate_floatingips(port["id"])
        self.store.delete("port", port["id"])
        self.driver.delete_port(port)

    def _mac(self, net: Doc, requested: Any) -> str:
        if requested is not None:
            mac = str(requested).lower()
            if not MAC_RE.match(mac) or mac in INVALID_MACS:
                raise exc.invalid_attr("mac_address", f"'{requested}' is not a valid MAC address")
            if self.store.find("port", mac_address=mac, network_id=net["id"]):
                raise Conflict(f"Unable to complete operation for network {net['id']}. The mac "
                               f"address {mac} is in use.", type="MacAddressInUse")
            return mac
        for _ in range(MAX_MAC_TRIES):
            mac = self.ids.mac()
            if not self.store.find("port", mac_address=mac):
                return mac
        raise exc.ServiceUnavailable("Unable to generate unique mac", type="MacAddressGenerationFailure")

    def _port_sgs(self, project: str, requested: Any, security: bool,
                  device_owner: str) -> list[str]:
        if requested is None:
            if not security or is_network_owned(device_owner):
                return []
            default = self._security_groups.ensure_default_sg(project)
            return [default["id"]] if default else []
        if not isinstance(requested, list):
            raise exc.invalid_attr("security_groups", f"'{requested}' is not a list")
        if requested and not security:
            raise _sg_needs_port_security()
        out = []
        for sg_id in requested:
            sg = self._doc("security_group", sg_id)
            if sg is None or sg["project_id"] != project:
                raise exc.not_found("security_group", str(sg_id))
            if sg_id not in out:
                out.append(sg_id)
        return out

    # ------------------------------------------------------------ IPAM
    def _allocate(self, net: Doc, requested: Any, port: Doc | None) -> list[dict[str, str]]:
        """Fixed IPs for a new port (`port` None) or an updated one."""
        subnets = self.store.find("subnet", network_id=net["id"])
        own = {(ip["subnet_id"], ip["ip_address"]) for ip in (port or {}).get("fixed_ips", [])}
        if requested is None:
            return self._auto_ips(net, subnets)
        if not isinstance(requested, list):
            raise exc.invalid_attr("fixed_ips", f"Invalid data format for fixed IP: '{requested}'")
        chosen: list[tuple[Doc, ipam.IPAddress | None]] = []
        for item in requested:
            if not isinstance(item, dict) or not set(item) <= {"subnet_id", "ip_address"} or (
                    not item):
                raise exc.invalid_attr("fixed_ips", f"Invalid data format for fixed IP: '{item}'")
            chosen.append(self._fixed_ip_subnet(net, subnets, item))
        taken: dict[str, set[ipam.IPAddress]] = {}
        for subnet, ip in chosen:
            used = taken.setdefault(subnet["id"], self._used_ips(subnet) - {
                ipaddress.ip_address(a) for s, a in own if s == subnet["id"]})
            if ip is not None:
                if ip in used:
                    raise exc.ip_already_allocated(str(ip), subnet["id"])
                used.add(ip)
        out = []
        for subnet, ip in chosen:
            if ip is None:  # an updated port keeps its address on a subnet it stays on
                mine = [ipaddress.ip_address(a) for s, a in own if s == subnet["id"]]
                ip = next((a for a in mine if a not in taken[subnet["id"]]), None)
                if ip is not None:
                    taken[subnet["id"]].add(ip)
            if ip is None:
                ip = self._pick(net, subnet, taken[subnet["id"]])
            out.append({"subnet_id": subnet["id"], "ip_address": str(ip)})
        return out

    def _fixed_ip_subnet(self, net: Doc, subnets: list[Doc],
                         item: dict[str, Any]) -> tuple[Doc, ipam.IPAddress | None]:
        ip = ipam.parse_ip(item["ip_address"], "fixed_ips") if "ip_address" in item else None
        if "subnet_id" in item:
            subnet = self._doc("subnet", item["subnet_id"])
            if subnet is None:
                raise exc.not_found("subnet", str(item["subnet_id"]))
            if subnet["network_id"] != net["id"]:
                raise exc.invalid_input(f"Failed to create port on network {net['id']}, because "
                                        f"fixed_ips included invalid subnet {subnet['id']}")
            if ip is not None and not ipam.is_valid_host(ipaddress.ip_network(subnet["cidr"]), ip):
                raise exc.invalid_ip_for_subnet(str(ip))
            return subnet, ip
        assert ip is not None
        for subnet in subnets:
            if ipam.is_valid_host(ipaddress.ip_network(subnet["cidr"]), ip):
                return subnet, ip
        raise exc.invalid_ip_for_network(str(ip))

    def _pick(self, net: Doc, subnet: Doc, used: set[ipam.IPAddress]) -> ipam.IPAddress:
        pools = [ipam.Pool(ipaddress.ip_address(p["start"]), ipaddress.ip_address(p["end"]))
                 for p in subnet["allocation_pools"]]
        ip = ipam.first_free(pools, used)
        if ip is None:
            raise exc.ip_generation_failure(net["id"])
        used.add(ip)
        return ip

    def _auto_ips(self, net: Doc, subnets: list[Doc]) -> list[dict[str, str]]:
        """No fixed_ips asked: one address from the first subnet of each IP version with room."""
        out = []
        for version in (4, 6):
            candidates = [s for s in subnets if s["ip_version"] == version]
            for subnet in candidates:
                pools = [ipam.Pool(ipaddress.ip_address(p["start"]), ipaddress.ip_address(p["end"]))
                         for p in subnet["allocation_pools"]]
                ip = ipam.first_free(pools, self._used_ips(subnet))
                if ip is not None:
                    out.append({"subnet_id": subnet["id"], "ip_address": str(ip)})
                    break
            else:
                if candidates:
                    raise exc.ip_generation_failure(net["id"])
        return out


def _bind(port: Doc, host: str) -> None:
    port["binding:host_id"] = host
    port["binding:vif_type"] = "ovs" if host else "unbound"
    port["binding:vif_details"] = dict(VIF_DETAILS) if host else {}


def _sg_needs_port_security() -> BadRequest:
    return BadRequest("Port security must be enabled and port must have an IP address in order "
                      "to use security groups.", type="PortSecurityAndIPRequiredForSecurityGroups")
