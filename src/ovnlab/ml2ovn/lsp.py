"""What Neutron's OVN driver decides for a network, a subnet's DHCP and a port, read from
the Neutron resources the driver was given (`view`): the Logical_Switch columns, the
localnet port of a provider network, DHCP_Options, and a VIF's Logical_Switch_Port columns
(ovn_client.py `_gen_network_parameters`, `create_provnet_port`, `_get_ovn_dhcpv4_opts`,
`_get_port_options`, `get_external_ids_from_port`). No NB writes here."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping
from typing import Any

from ovnlab.ml2ovn import names as n
from ovnlab.ml2ovn.view import Kind, Resource, View
from ovnlab.nb.types import LspType
from ovnlab.ovsdb import Row


def rev(resource: Mapping[str, Any]) -> str:
    return str(resource.get("revision_number", 0))


def network_columns(net: Resource) -> dict[str, Any]:
    """`_gen_network_parameters`."""
    return {
        "external_ids": {
            n.NETWORK_NAME: str(net.get("name") or ""),
            n.MTU: str(net.get("mtu", 1500)),
            n.REVISION: rev(net),
            n.AZ_HINTS: ",".join(net.get("availability_zone_hints") or []),
        },
        "other_config": {
            "mcast_snoop": "false",
            "mcast_flood_unregistered": "false",
            "vlan-passthru": "true" if net.get("vlan_transparent") else "false",
        },
    }


def provnet_columns(net: Resource) -> dict[str, Any] | None:
    """`create_provnet_port`: the localnet LSP of a flat/vlan network; None without a
    physical network."""
    physnet = net.get("provider:physical_network")
    if not physnet:
        return None
    seg = net.get("provider:segmentation_id")
    return {
        "type": LspType.LOCALNET.value,
        "addresses": (n.UNKNOWN_ADDR,),
        "options": {"network_name": str(physnet), "mcast_flood_reports": "true",
                    "mcast_flood": "false"},
        "tag": int(seg) if net.get("provider:network_type") == "vlan" and seg else None,
        "external_ids": {},
    }


def dhcp_columns(view: View, subnet: Resource, server_mac: str | None,
                 new_mac: Callable[[], str], metadata_ip: str | None = None
                 ) -> dict[str, Any] | None:
    """`_get_ovn_dhcp_options` / `_get_ovn_dhcpv4_opts` for an IPv4 subnet: the server is
    the gateway, else the metadata port's address `metadata_ip` (no options without
    either); the metadata port's address carries the route to 169.254.169.254 (option
    121, first, then the host routes and, as RFC 3442 makes clients ignore option 3, the
    default route). DNS servers come from the subnet only. The row's existing
    `server_mac` is kept; `new_mac` is drawn only when there is none."""
    version = int(subnet.get("ip_version") or ipaddress.ip_network(subnet["cidr"]).version)
    if not subnet.get("enable_dhcp", True) or version != 4:
        return None
    options: dict[str, str] = {}
    gw = subnet.get("gateway_ip")
    server = gw or metadata_ip
    if server:
        net = view.get(Kind.NETWORKS, subnet.get("network_id")) or {}
        options = {"server_id": server, "lease_time": "43200",
                   "mtu": str(net.get("mtu", 1500))}
        if gw:
            options["router"] = gw
        options["server_mac"] = server_mac or new_mac()
        dns = [d for d in subnet.get("dns_nameservers") or [] if ipaddress.ip_address(d).version == 4]
        if dns:
            options["dns_server"] = "{" + ", ".join(dns) + "}"
        routes = [f"{n.METADATA_V4_CIDR},{metadata_ip}"] if metadata_ip else []
        routes += [f"{r['destination']},{r['nexthop']}" for r in subnet.get("host_routes") or []]
        if routes:
            if gw:
                routes.append(f"0.0.0.0/0,{gw}")
            options["classless_static_route"] = "{" + ", ".join(routes) + "}"
    return {"cidr": subnet["cidr"], "options": options,
            "external_ids": {"subnet_id": subnet["id"], n.REVISION: rev(subnet)}}


def metadata_port_ip(view: View, subnet: Resource) -> str | None:
    """`_find_metadata_port_ip`: the network's metadata port's address on `subnet`."""
    for port in view.find(Kind.PORTS, network_id=subnet.get("network_id")):
        if n.is_metadata_port(port):
            for fixed in port.get("fixed_ips", []):
                if fixed.get("subnet_id") == subnet["id"]:
                    return str(fixed["ip_address"])
    return None


def port_security(port: Resource) -> list[str]:
    """`_get_allowed_addresses_from_port` (first list)."""
    if not port.get("port_security_enabled", True) or n.is_trusted(port):
        return []
    addrs = [str(port["mac_address"]), *(ip["ip_address"] for ip in port.get("fixed_ips", []))]
    entries: list[str] = []
    for pair in port.get("allowed_address_pairs") or []:
        if pair.get("mac_address", port["mac_address"]) == port["mac_address"]:
            addrs.append(pair["ip_address"])
        else:
            entries.append(f"{pair['mac_address']} {pair['ip_address']}")
    return [" ".join(addrs), *sorted(set(entries))]


def lsp_security_groups(port: Mapping[str, Any]) -> list[str]:
    """`get_lsp_security_groups`: trusted (network-owned) ports get none."""
    return [] if n.is_trusted(dict(port)) else list(port.get("security_groups") or [])


def lsp_columns(view: View, port: Resource, *, dhcpv4: str | None, up: bool) -> dict[str, Any]:
    """`_get_port_options` + `get_external_ids_from_port` for a VIF / plain port.
    `dhcpv4` is its subnet's DHCP_Options row, `up` whether its LSP is up now."""
    address = str(port["mac_address"])
    cidrs = []
    for ip in port.get("fixed_ips", []):
        subnet = view.get(Kind.SUBNETS, ip.get("subnet_id"))
        if subnet is None:
            continue
        address += f" {ip['ip_address']}"
        cidrs.append(f"{ip['ip_address']}/{subnet['cidr'].split('/')[1]}")
    security = port_security(port)
    # OVN >= 21.03 learns MACs (FDB): without port security or DHCP, Neutron lists no
    # address, only "unknown".
    new_macs = sorted({p["mac_address"] for p in port.get("allowed_address_pairs") or []
                       if p.get("mac_address", port["mac_address"]) != port["mac_address"]}) \
        if security else []
    port_type = LspType.LOCALPORT if n.is_metadata_port(port) else LspType.VIF
    addresses = [address, *new_macs] if security or port_type or dhcpv4 else []
    if not security and not port_type:
        addresses.append(n.UNKNOWN_ADDR)
    # a localport's MTU is the network's
    mtu = str((view.get(Kind.NETWORKS, port["network_id"]) or {}).get("mtu", "")) \
        if port_type else ""
    return {
        "type": port_type.value,
        "addresses": tuple(addresses),
        "port_security": tuple(security),
        "enabled": port.get("admin_state_up", True),
        "options": {"requested-chassis": str(port.get("binding:host_id") or "")},
        "dhcpv4_options": dhcpv4,
        "external_ids": _lsp_external_ids(port, cidrs, up, mtu),
    }


def _lsp_external_ids(port: Resource, cidrs: list[str], up: bool, mtu: str) -> dict[str, str]:
    host_id = {n.HOST_ID: str(port["binding:host_id"])} if port.get("binding:host_id") and up else {}
    return {
        n.PORT_NAME: str(port.get("name") or ""),
        n.DEVICE_ID: str(port.get("device_id") or ""),
        n.PROJECT_ID: str(port.get("project_id") or port.get("tenant_id") or ""),
        n.CIDRS: " ".join(cidrs),
        n.DEVICE_OWNER: str(port.get("device_owner") or ""),
        n.ADDR_SCOPE4: "",
        n.ADDR_SCOPE6: "",
        n.NETWORK_NAME: n.ovn_name(port["network_id"]),
        n.SG_IDS: " ".join(lsp_security_groups(port)),
        n.REVISION: rev(port),
        n.VNIC_TYPE: str(port.get("binding:vnic_type") or "normal"),
        n.PORT_CAPABILITIES: "",
        n.MTU: mtu,
        **host_id,
    }


def lsp_on(lsp: Row) -> bool:
    """`is_lsp_up and is_lsp_enabled`."""
    return lsp["up"] is True and lsp["enabled"] is not False
