"""A port's extra DHCP options as ML2/OVN writes them (neutron/common/ovn/utils.py
get_lsp_dhcp_opts, constants.SUPPORTED_DHCP_OPTS_MAPPING): Neutron's option names mapped
to OVN's, string-typed values quoted, `dhcp_disabled` turning DHCP off for the port. The
driver puts them into a DHCP_Options row of the port's own (external_ids port_id), the
subnet's options plus these."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ovnlab.errors import BadRequest

# IPv4: Neutron (dnsmasq) names and numbers -> OVN option names
SUPPORTED_V4: dict[str, str] = {
    "arp-timeout": "arp_cache_timeout", "tcp-keepalive": "tcp_keepalive_interval",
    "netmask": "netmask", "router": "router", "dns-server": "dns_server",
    "log-server": "log_server", "lpr-server": "lpr_server", "domain-name": "domain_name",
    "swap-server": "swap_server", "policy-filter": "policy_filter",
    "router-solicitation": "router_solicitation", "nis-server": "nis_server",
    "ntp-server": "ntp_server", "server-id": "server_id", "tftp-server": "tftp_server",
    "classless-static-route": "classless_static_route",
    "ms-classless-static-route": "ms_classless_static_route",
    "ip-forward-enable": "ip_forward_enable", "router-discovery": "router_discovery",
    "ethernet-encap": "ethernet_encap", "default-ttl": "default_ttl", "tcp-ttl": "tcp_ttl",
    "mtu": "mtu", "lease-time": "lease_time", "T1": "T1", "T2": "T2",
    "bootfile-name": "bootfile_name", "wpad": "wpad", "path-prefix": "path_prefix",
    "tftp-server-address": "tftp_server_address", "server-ip-address": "tftp_server_address",
    "1": "netmask", "3": "router", "6": "dns_server", "7": "log_server", "9": "lpr_server",
    "15": "domain_name", "16": "swap_server", "21": "policy_filter",
    "32": "router_solicitation", "35": "arp_cache_timeout", "38": "tcp_keepalive_interval",
    "41": "nis_server", "42": "ntp_server", "54": "server_id", "66": "tftp_server",
    "121": "classless_static_route", "249": "ms_classless_static_route",
    "19": "ip_forward_enable", "31": "router_discovery", "36": "ethernet_encap",
    "23": "default_ttl", "37": "tcp_ttl", "26": "mtu", "51": "lease_time", "58": "T1",
    "59": "T2", "67": "bootfile_name", "252": "wpad", "210": "path_prefix",
    "150": "tftp_server_address",
}
SUPPORTED_V6: dict[str, str] = {"dns-server": "dns_server", "domain-search": "domain_search",
                                "23": "dns_server", "24": "domain_search"}
STRING_TYPED = frozenset({"domain_name", "bootfile_name", "path_prefix", "wpad",
                          "tftp_server", "domain_search"})
DISABLED = "dhcp_disabled"


def _of_version(opts: Iterable[Mapping[str, Any]], version: int) -> list[Mapping[str, Any]]:
    return [o for o in opts if int(o.get("ip_version", 4)) == version]


def check_supported(port_id: str, opts: Iterable[Mapping[str, Any]]) -> None:
    """The mechanism driver's _validate_port_extra_dhcp_opts."""
    opts = list(opts)
    bad = {v: [str(o["opt_name"]) for o in _of_version(opts, v)
               if o["opt_name"] != DISABLED and o["opt_name"] not in table]
           for v, table in ((4, SUPPORTED_V4), (6, SUPPORTED_V6))}
    if bad[4] or bad[6]:
        raise BadRequest(f"Invalid input for operation: The following extra DHCP options "
                         f"for port {port_id} are not supported by OVN. IPv4: "
                         f"\"{', '.join(bad[4])}\", IPv6: \"{', '.join(bad[6])}\".",
                         type="InvalidInput")


def lsp_options(opts: Iterable[Mapping[str, Any]], version: int = 4
                ) -> tuple[bool, dict[str, str]]:
    """(DHCP disabled for the port, the OVN options its extra options add)."""
    table = SUPPORTED_V4 if version == 4 else SUPPORTED_V6
    disabled, out = False, {}
    for opt in _of_version(opts, version):
        name, value = str(opt["opt_name"]), opt.get("opt_value")
        if name == DISABLED:
            disabled = str(value).lower() == "true"
            continue
        ovn = table.get(name)
        if ovn is None or value is None:
            continue
        out[ovn] = f'"{value}"' if ovn in STRING_TYPED else str(value)
    return disabled, out
