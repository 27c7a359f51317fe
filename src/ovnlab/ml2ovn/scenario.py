"""A minimal, deterministic stand-in for Neutron's side of the contract, for driving the
driver without the cloud model (tests, benchmarks): it builds API dicts the way Neutron
returns them, calls the driver hooks in Neutron's order, and registers SB chassis as
ovn-controller does. No validation and no IPAM: callers pass the addresses.
"""

from __future__ import annotations

import ipaddress
import random
import uuid as uuidlib
from typing import Any

from ovnlab.ml2ovn.driver import OVNMechanismDriver
from ovnlab.ml2ovn.view import DictView, Kind
from ovnlab.ovsdb import Database
from ovnlab.owners import DeviceOwner, is_network_owned
from ovnlab.topology import Topology

Resource = dict[str, Any]


def register_chassis(sb: Database, topology: Topology) -> None:
    """SB Chassis + Encap rows, one per node, as each node's ovn-controller writes them."""
    with sb.transaction() as txn:
        for node in topology.nodes:
            mappings = ",".join(f"{p}:{b}" for p, b in node.ovn_bridge_mappings)
            cfg = {"ovn-bridge-mappings": mappings, "ovn-cms-options": ",".join(node.ovn_cms_options)}
            encap = txn.insert("Encap", type="geneve", ip=node.tunnel_ip, chassis_name=node.system_id,
                               options={"csum": "true"})
            txn.insert("Chassis", name=node.system_id, hostname=node.hostname, encaps=(encap.uuid,),
                       other_config=dict(cfg), external_ids=dict(cfg))


def unregister_chassis(sb: Database, hostname: str) -> None:
    with sb.transaction() as txn:
        for ch in sb.find("Chassis", hostname=hostname):
            for encap in ch["encaps"]:
                txn.delete("Encap", encap)
            txn.delete("Chassis", ch.uuid)


class MiniNeutron:
    """Neutron API dicts for a driver, with ids and MACs from a seeded RNG."""

    def __init__(self, driver: OVNMechanismDriver, seed: int = 0, project_id: str | None = None) -> None:
        self.driver = driver
        self._rng = random.Random(f"mini-neutron:{seed}")
        self.project_id = project_id or self.new_id().replace("-", "")
        self.ports: dict[str, Resource] = {}
        self.subnets: dict[str, Resource] = {}
        self.networks: dict[str, Resource] = {}
        self.routers: dict[str, Resource] = {}
        self.floatingips: dict[str, Resource] = {}
        self.security_groups: dict[str, Resource] = {}
        # The driver reads these dicts as Neutron's driver reads the plugin's DB.
        driver.bind(DictView({
            Kind.NETWORKS: self.networks, Kind.SUBNETS: self.subnets, Kind.PORTS: self.ports,
            Kind.ROUTERS: self.routers, Kind.FLOATINGIPS: self.floatingips,
            Kind.SECURITY_GROUPS: self.security_groups}))

    def new_id(self) -> str:
        return str(uuidlib.UUID(int=self._rng.getrandbits(128), version=4))

    def new_mac(self) -> str:
        return "fa:16:3e:" + ":".join(f"{self._rng.randrange(256):02x}" for _ in range(3))

    def snapshot(self) -> dict[str, list[Resource]]:
        return {"networks": list(self.networks.values()), "subnets": list(self.subnets.values()),
                "ports": list(self.ports.values()), "routers": list(self.routers.values()),
                "floatingips": list(self.floatingips.values()),
                "security_groups": list(self.security_groups.values())}

    # ------------------------------------------------------------ networks, subnets
    def network(self, name: str, *, network_type: str = "geneve", physnet: str | None = None,
                segment: int | None = None, external: bool = False, mtu: int | None = None) -> Resource:
        net: Resource = {"id": self.new_id(), "name": name, "project_id": self.project_id,
               "tenant_id": self.project_id, "admin_state_up": True, "status": "ACTIVE",
               "mtu": mtu or (1442 if network_type == "geneve" else 1500), "shared": False,
               "router:external": external, "provider:network_type": network_type,
               "provider:physical_network": physnet, "provider:segmentation_id": segment,
               "subnets": [], "revision_number": 1, "availability_zone_hints": []}
        self.networks[net["id"]] = net
        self.driver.create_network(net)
        return net

    def subnet(self, net: Resource, name: str, cidr: str, *, gateway_ip: str | None = "auto",
               enable_dhcp: bool = True) -> Resource:
        network = ipaddress.ip_network(cidr)
        gw = str(next(network.hosts())) if gateway_ip == "auto" else gateway_ip
        sub: Resource = {"id": self.new_id(), "name": name, "network_id": net["id"], "cidr": cidr,
               "ip_version": network.version, "gateway_ip": gw, "enable_dhcp": enable_dhcp,
               "project_id": self.project_id, "revision_number": 0}
        self.subnets[sub["id"]] = sub
        net["subnets"].append(sub["id"])
        self.driver.create_subnet(sub)
        return sub

    # ------------------------------------------------------------ security groups
    def security_group(self, name: str, rules: list[dict[str, Any]] | None = None,
                       default_rules: bool = True) -> Resource:
        sg: Resource = {"id": self.new_id(), "name": name, "project_id": self.project_id,
                        "stateful": True, "revision_number": 1, "security_group_rules": []}
        base: list[dict[str, Any]] = []
        if default_rules:
            base = [{"direction": "egress", "ethertype": "IPv4"}, {"direction": "egress", "ethertype": "IPv6"}]
            if name == "default":
                base += [{"direction": "ingress", "ethertype": "IPv4", "remote_group_id": sg["id"]},
                         {"direction": "ingress", "ethertype": "IPv6", "remote_group_id": sg["id"]}]
        for r in [*base, *(rules or [])]:
            sg["security_group_rules"].append(self._rule(sg, r))
        self.security_groups[sg["id"]] = sg
        self.driver.create_security_group(sg)
        return sg

    def _rule(self, sg: Resource, r: dict[str, Any]) -> Resource:
        rule = {"id": self.new_id(), "security_group_id": sg["id"], "ethertype": "IPv4",
                "protocol": None, "port_range_min": None, "port_range_max": None,
                "remote_ip_prefix": None, "remote_group_id": None, "revision_number": 0, **r}
        return rule

    def security_group_rule(self, sg: Resource, **r: Any) -> Resource:
        rule = self._rule(sg, r)
        sg["security_group_rules"].append(rule)
        self.driver.create_security_group_rule(rule)
        return rule

    # ------------------------------------------------------------ ports
    def port(self, net: Resource, fixed_ips: list[tuple[Resource, str]], *, name: str = "",
             device_owner: str = "", device_id: str = "", host: str = "", mac: str | None = None,
             security_groups: list[str] | None = None, port_security: bool = True,
             notify: bool = True) -> Resource:
        trusted = is_network_owned(device_owner)
        port: Resource = {"id": self.new_id(), "name": name, "network_id": net["id"], "project_id": self.project_id,
                "tenant_id": self.project_id, "mac_address": mac or self.new_mac(),
                "fixed_ips": [{"subnet_id": s["id"], "ip_address": ip} for s, ip in fixed_ips],
                "device_owner": device_owner, "device_id": device_id, "binding:host_id": host,
                "binding:vnic_type": "normal", "admin_state_up": True, "status": "DOWN",
                "port_security_enabled": port_security and not trusted,
                "security_groups": [] if trusted or not port_security else list(security_groups or []),
                "allowed_address_pairs": [], "revision_number": 1}
        self.ports[port["id"]] = port
        if notify:
            self.driver.create_port(port)
        return port

    def update_port(self, port: Resource, **changes: Any) -> Resource:
        original = dict(port)
        port.update(changes)
        port["revision_number"] += 1
        self.driver.update_port(port, original)
        return port

    def delete_port(self, port: Resource) -> None:
        del self.ports[port["id"]]
        self.driver.delete_port(port)

    # ------------------------------------------------------------ routers
    def router(self, name: str) -> Resource:
        router: Resource = {"id": self.new_id(), "name": name, "project_id": self.project_id, "admin_state_up": True,
                  "status": "ACTIVE", "external_gateway_info": None, "routes": [], "revision_number": 1,
                  "availability_zone_hints": []}
        self.routers[router["id"]] = router
        self.driver.create_router(router)
        return router

    def add_interface(self, router: Resource, subnet: Resource, ip: str | None = None) -> Resource:
        net = self.networks[subnet["network_id"]]
        port = self.port(net, [(subnet, ip or subnet["gateway_ip"])], device_owner=DeviceOwner.ROUTER_INTF,
                         device_id=router["id"])
        self.driver.add_router_interface(router, port, subnet)
        return port

    def remove_interface(self, router: Resource, subnet: Resource) -> None:
        for port in list(self.ports.values()):
            if port["device_id"] == router["id"] and port["device_owner"] == DeviceOwner.ROUTER_INTF \
                    and any(f["subnet_id"] == subnet["id"] for f in port["fixed_ips"]):
                del self.ports[port["id"]]  # the port goes first, as in Neutron's L3 DB
                self.driver.delete_port(port)
                self.driver.remove_router_interface(router, port, subnet)

    def set_gateway(self, router: Resource, ext: Resource, ext_subnet: Resource, ip: str,
                    enable_snat: bool = True) -> Resource:
        original = dict(router)
        gw = self.port(ext, [(ext_subnet, ip)], device_owner=DeviceOwner.ROUTER_GW, device_id=router["id"])
        router["external_gateway_info"] = {"network_id": ext["id"], "enable_snat": enable_snat,
                                           "external_fixed_ips": [{"subnet_id": ext_subnet["id"], "ip_address": ip}]}
        router["gw_port_id"] = gw["id"]
        router["revision_number"] += 1
        self.driver.update_router(router, original)
        return gw

    def clear_gateway(self, router: Resource) -> None:
        original = dict(router)
        gw = self.ports.pop(router.pop("gw_port_id"))
        router["external_gateway_info"] = None
        router["revision_number"] += 1
        self.driver.update_router(router, original)
        self.driver.delete_port(gw)

    # ------------------------------------------------------------ floating IPs
    def floatingip(self, ext: Resource, ext_subnet: Resource, ip: str, *, mac: str | None = None) -> Resource:
        fport = self.port(ext, [(ext_subnet, ip)], device_owner=DeviceOwner.FLOATINGIP, mac=mac)
        fip: Resource = {"id": self.new_id(), "floating_ip_address": ip, "floating_network_id": ext["id"],
               "router_id": None, "port_id": None, "fixed_ip_address": None, "status": "DOWN",
               "project_id": self.project_id, "revision_number": 0, "floating_port_id": fport["id"],
               "floating_port_mac": fport["mac_address"]}
        fport["device_id"] = fip["id"]
        self.floatingips[fip["id"]] = fip
        self.driver.create_floatingip(fip)
        return fip

    def associate(self, fip: Resource, port: Resource, router: Resource) -> Resource:
        original = dict(fip)
        fip.update(port_id=port["id"], fixed_ip_address=port["fixed_ips"][0]["ip_address"],
                   router_id=router["id"], status="ACTIVE")
        fip["revision_number"] += 1
        self.driver.update_floatingip(fip, original)
        return fip

    def disassociate(self, fip: Resource) -> Resource:
        original = dict(fip)
        fip.update(port_id=None, fixed_ip_address=None, router_id=None, status="DOWN")
        fip["revision_number"] += 1
        self.driver.update_floatingip(fip, original)
        return fip


def set_lsp_up(nb: Database, port_id: str, up: bool) -> None:
    """What northd does when the port's chassis claims (or releases) it."""
    with nb.transaction() as txn:
        for lsp in nb.find("Logical_Switch_Port", name=port_id):
            txn.update("Logical_Switch_Port", lsp.uuid, up=up)


def seed_scenario(neutron: MiniNeutron, *, vm_up: bool = True, with_fip: bool = True) -> dict[str, Resource]:
    """DESIGN.md §1's commands, in the article's order (addresses as in the article)."""
    nb = neutron.driver.nb
    n1 = neutron.network("n1", network_type="geneve", segment=123)
    n1subnet = neutron.subnet(n1, "n1subnet", "172.16.100.0/24")
    ext = neutron.network("ext_n2", network_type="flat", physnet="extnet0", external=True)
    extsubnet = neutron.subnet(ext, "extsubnet", "10.0.2.0/24", gateway_ip="10.0.2.2", enable_dhcp=False)
    default = neutron.security_group("default")
    vm_port = neutron.port(n1, [(n1subnet, "172.16.100.10")], device_owner="compute:nova",
                           device_id=neutron.new_id(), host="compute1", security_groups=[default["id"]])
    if vm_up:
        set_lsp_up(nb, vm_port["id"], True)
    router = neutron.router("r")
    interface = neutron.add_interface(router, n1subnet)
    gw_port = neutron.set_gateway(router, ext, extsubnet, "10.0.2.211")
    out = {"n1": n1, "n1subnet": n1subnet, "ext_n2": ext, "extsubnet": extsubnet, "default": default,
           "vm_port": vm_port, "router": router, "interface": interface, "gw_port": gw_port}
    if with_fip:
        fip = neutron.floatingip(ext, extsubnet, "10.0.2.216", mac="fa:16:3e:9f:84:ff")
        neutron.associate(fip, vm_port, router)
        out["fip"] = fip
    sg = neutron.security_group("allow-icmp-ssh", [
        {"direction": "ingress", "protocol": "icmp", "remote_ip_prefix": "0.0.0.0/0"},
        {"direction": "ingress", "protocol": "tcp", "port_range_min": 22, "port_range_max": 22,
         "remote_ip_prefix": "0.0.0.0/0"}])
    neutron.update_port(vm_port, security_groups=[default["id"], sg["id"]])
    out["allow-icmp-ssh"] = sg
    return out
