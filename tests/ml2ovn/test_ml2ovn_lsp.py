"""The driver's pure rules for DHCP and a port's LSP (`ovnlab.ml2ovn.lsp`) where the metadata
port takes part: the 169.254.169.254 route and server of a subnet's DHCP options, and the
metadata port's `localport` row (ovn_client.py `_get_ovn_dhcpv4_opts`,
`_get_port_options`)."""

from __future__ import annotations

from ovnlab.ml2ovn import lsp, names
from ovnlab.ml2ovn.view import DictView

NET = {"id": "n1", "name": "private", "mtu": 1442}
SUBNET = {"id": "s1", "network_id": "n1", "cidr": "10.0.0.0/24", "ip_version": 4,
          "enable_dhcp": True, "gateway_ip": "10.0.0.1", "dns_nameservers": [],
          "host_routes": [{"destination": "192.168.9.0/24", "nexthop": "10.0.0.9"}]}
METADATA_PORT = {"id": "m1", "network_id": "n1", "mac_address": "fa:16:3e:00:00:02",
                 "device_owner": "network:distributed", "device_id": "ovnmeta-n1",
                 "fixed_ips": [{"subnet_id": "s1", "ip_address": "10.0.0.2"}],
                 "port_security_enabled": True}


def _view(*ports: dict[str, object]) -> DictView:
    return DictView.of_lists({"networks": [NET], "subnets": [SUBNET],
                              "ports": [dict(port) for port in ports]})


def _mac() -> str:
    return "fa:16:3e:aa:bb:cc"


def test_metadata_route_first_then_host_routes_then_default() -> None:
    view = _view(METADATA_PORT)
    ip = lsp.metadata_port_ip(view, SUBNET)
    assert ip == "10.0.0.2"
    cols = lsp.dhcp_columns(view, SUBNET, None, _mac, ip)
    assert cols is not None
    opts = cols["options"]
    assert opts["classless_static_route"] == (
        "{169.254.169.254/32,10.0.0.2, 192.168.9.0/24,10.0.0.9, 0.0.0.0/0,10.0.0.1}")
    assert opts["server_id"] == "10.0.0.1" and opts["router"] == "10.0.0.1"
    assert opts["mtu"] == "1442"


def test_without_a_gateway_the_metadata_port_serves_and_no_router_is_offered() -> None:
    subnet = {**SUBNET, "gateway_ip": None, "host_routes": []}
    cols = lsp.dhcp_columns(_view(METADATA_PORT), subnet, None, _mac, "10.0.0.2")
    assert cols is not None
    opts = cols["options"]
    assert opts["server_id"] == "10.0.0.2" and "router" not in opts
    assert opts["classless_static_route"] == "{169.254.169.254/32,10.0.0.2}"
    # neither a gateway nor a metadata port: no options at all
    bare = lsp.dhcp_columns(_view(), subnet, None, _mac, None)
    assert bare is not None and bare["options"] == {}


def test_metadata_port_is_a_localport_with_the_network_mtu() -> None:
    view = _view(METADATA_PORT)
    cols = lsp.lsp_columns(view, METADATA_PORT, dhcpv4=None, up=False)
    assert cols["type"] == "localport"
    assert cols["addresses"] == ("fa:16:3e:00:00:02 10.0.0.2",)  # trusted: no "unknown"
    assert cols["port_security"] == ()
    assert cols["external_ids"][names.MTU] == "1442"
    vif = {**METADATA_PORT, "id": "p1", "device_owner": "compute:nova", "device_id": "vm"}
    vcols = lsp.lsp_columns(view, vif, dhcpv4=None, up=False)
    assert vcols["type"] == "" and vcols["external_ids"][names.MTU] == ""
