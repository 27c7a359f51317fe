"""What Neutron's OVN L3 code decides for a router, read from the Neutron resources the
driver was given (`view`): the Logical_Router columns, its gateway (`_get_gw_info`), and
each Logical_Router_Port's networks, external_ids and options. No NB writes here: the
driver applies these (neutron/common/ovn/utils.py, ovn_client.py `_gen_router_*`)."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

from ovnlab.errors import NotFound, OvnlabError
from ovnlab.ml2ovn import names as n
from ovnlab.ml2ovn.view import Kind, Resource, View

PROVIDER_TYPES = ("flat", "vlan")


@dataclass(frozen=True, slots=True)
class GwInfo:
    """`ovn_client.GW_INFO`: one external fixed IP of a router gateway."""

    network_id: str
    subnet_id: str
    router_ip: str
    gateway_ip: str | None
    ip_version: int
    ip_prefix: str


def snat_enabled(router: Resource) -> bool:
    return bool((router.get("external_gateway_info") or {}).get("enable_snat", True))


def subnet(view: View, subnet_id: str) -> Resource:
    found = view.get(Kind.SUBNETS, subnet_id)
    if found is None:
        raise NotFound(f"Subnet {subnet_id} could not be found.", type="SubnetNotFound")
    return found


def router_columns(view: View, router: Resource) -> dict[str, Any]:
    """`_gen_router_ext_ids` + create_router's options."""
    gw = router.get("external_gateway_info") or {}
    port = gw_port(view, router) if gw else None
    return {
        "external_ids": {
            n.ROUTER_NAME: str(router.get("name") or "no_router_name"),
            n.GW_PORT_ID: port["id"] if port else "",
            n.REVISION: str(router.get("revision_number", 0)),
            n.AZ_HINTS: ",".join(router.get("availability_zone_hints") or []),
            n.GW_NETWORK_ID: str(gw.get("network_id") or ""),
        },
        "enabled": bool(router.get("admin_state_up", True)),
        "options": {"always_learn_from_arp_request": "false", "dynamic_neigh_routers": "true"},
    }


def gw_port(view: View, router: Resource) -> Resource:
    """The router's `network:router_gateway` port (`router['gw_port_id']`)."""
    port = view.get(Kind.PORTS, router.get("gw_port_id")) or router.get("gw_port")
    if port is None:
        found = view.find(Kind.PORTS, device_owner=n.OWNER_ROUTER_GW, device_id=router["id"])
        port = found[0] if found else None
    if port is None:
        raise OvnlabError(f"gateway port of router {router['id']} is unknown to the OVN driver "
                          "(create_port must be called for it first)")
    return port


def gw_info(view: View, router: Resource) -> list[GwInfo]:
    """`_get_gw_info`."""
    gw = router.get("external_gateway_info") or {}
    out = []
    for fixed in gw.get("external_fixed_ips") or []:
        sub = subnet(view, fixed["subnet_id"])
        version = int(sub.get("ip_version") or ipaddress.ip_network(sub["cidr"]).version)
        out.append(GwInfo(str(gw.get("network_id") or sub.get("network_id")), sub["id"],
                          fixed["ip_address"], sub.get("gateway_ip"), version,
                          "0.0.0.0/0" if version == 4 else "::/0"))
    return out


def interface_ports(view: View, router_id: str) -> list[Resource]:
    return view.find(Kind.PORTS, device_owner=n.OWNER_ROUTER_INTF, device_id=router_id)


def router_v4_networks(view: View, router_id: str) -> list[str]:
    """`_get_v4_network_of_all_router_ports`: the v4 CIDR of each interface port."""
    networks = []
    for port in interface_ports(view, router_id):
        cidr = None
        for fixed in port.get("fixed_ips", []):
            sub = view.get(Kind.SUBNETS, fixed.get("subnet_id"))
            if sub is not None and ipaddress.ip_network(sub["cidr"]).version == 4:
                cidr = sub["cidr"]
        if cidr:
            networks.append(cidr)
    return networks


def lrp_networks(view: View, port: Resource) -> tuple[str, ...]:
    nets = []
    for fixed in port.get("fixed_ips", []):
        sub = subnet(view, fixed["subnet_id"])
        nets.append(f"{fixed['ip_address']}/{ipaddress.ip_network(sub['cidr']).prefixlen}")
    return tuple(nets)


def lrp_external_ids(port: Resource) -> dict[str, str]:
    """`_gen_router_port_ext_ids`."""
    ext = {
        n.REVISION: str(port.get("revision_number", 0)),
        n.SUBNET_IDS: " ".join(f["subnet_id"] for f in port.get("fixed_ips", [])),
        n.NETWORK_NAME: n.ovn_name(port["network_id"]),
        n.IS_EXT_GW: str(port.get("device_owner") == n.OWNER_ROUTER_GW),
    }
    if port.get("device_id"):
        ext[n.ROUTER_NAME] = str(port["device_id"])
    return ext


def router_port_options(view: View, port: Resource, *, distributed: bool,
                        emit_need_to_frag: bool) -> dict[str, str]:
    """`_gen_router_port_options`."""
    options: dict[str, str] = {}
    net = view.get(Kind.NETWORKS, port["network_id"]) or {}
    router_id = str(port.get("device_id") or "")
    if net.get("provider:network_type") == "vlan":
        options["reside-on-redirect-chassis"] = reside_redir(view, router_id, distributed)
    if port.get("device_owner") == n.OWNER_ROUTER_GW and (distributed or emit_need_to_frag):
        nets = [view.get(Kind.NETWORKS, p["network_id"]) or {} for p in interface_ports(view, router_id)]
        if emit_need_to_frag:
            for other in nets:
                if int(other.get("mtu", 1500)) > int(net.get("mtu", 1500)):
                    options["gateway_mtu"] = str(net.get("mtu", 1500))
                    break
        if distributed and nets and all(o.get("provider:network_type") in PROVIDER_TYPES for o in nets):
            options["redirect-type"] = "bridged"
    return options


def reside_redir(view: View, router_id: str, distributed: bool) -> str:
    """`_get_reside_redir_for_gateway_port`."""
    if not distributed:
        return "true"
    types = [network_type(view, p["network_id"]) for p in interface_ports(view, router_id)]
    if not types:
        return "false"
    return "true" if any(t not in PROVIDER_TYPES for t in types) else "false"


def network_type(view: View, network_id: str) -> str | None:
    net = view.get(Kind.NETWORKS, network_id)
    return net.get("provider:network_type") if net else None


def physnet(view: View, network_id: str) -> str | None:
    """`_get_physnet`: only flat/vlan networks have one."""
    net = view.get(Kind.NETWORKS, network_id) or {}
    if net.get("provider:network_type") in PROVIDER_TYPES:
        return net.get("provider:physical_network")
    return None
