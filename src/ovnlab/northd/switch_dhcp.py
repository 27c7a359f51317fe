"""Switch port DHCPv4 flows (northd.c build_lswitch_dhcp_options_and_response,
build_dhcpv4_options_flows, build_dhcpv4_action for 22.03): ovn-controller answers DHCP
for ports with dhcpv4_options."""

from __future__ import annotations

from ipaddress import IPv4Address

from ovnlab.northd.context import SwitchCtx
from ovnlab.northd.env import Env
from ovnlab.northd.lflow import FlowSink, json_key
from ovnlab.northd.model import LportAddresses, is_lsp_enabled, parse_ipv4_cidr
from ovnlab.ovsdb import Row

REGBIT_DHCP_OPTS_RESULT = "reg0[3]"


def dhcpv4_flows(env: Env, lsp: Row, addrs: list[LportAddresses], ctx: SwitchCtx, dp: str,
                 out: FlowSink) -> None:
    """build_lswitch_dhcp_options_and_response() (DHCPv4; ovn-controller answers) and the
    ls_out_acl priority-34000 flow letting its replies through the ACLs (build_acls)."""
    dhcp = env.row("DHCP_Options", lsp["dhcpv4_options"]) if lsp["dhcpv4_options"] else None
    if dhcp is None:
        return
    opts = dhcp["options"]
    typ = lsp["type"]
    external = typ == "external"
    required = all(k in opts for k in ("server_id", "server_mac", "lease_time"))
    if not external and required:
        out.add(dp, "ls_out_acl", 34000,
                f'outport == "{lsp["name"]}" && eth.src == {opts["server_mac"]} '
                f'&& ip4.src == {opts["server_id"]} && udp && udp.src == 67 && udp.dst == 68',
                "ct_commit; next;" if ctx.has_stateful else "next;",
                "northd.c:build_acls", dhcp.uuid, lsp["name"])
    if not is_lsp_enabled(lsp) or typ == "router":
        return
    if external:
        if not ctx.localnet_ports or lsp["ha_chassis_group"] is None:
            return
        inports = list(ctx.localnet_ports)
    else:
        inports = [lsp["name"]]
    for la in addrs:
        for inport in inports:
            _dhcpv4_options_flows(lsp, dhcp, la, inport, external, dp, out)


def _dhcpv4_options_flows(lsp: Row, dhcp: Row, la: LportAddresses, inport: str, external: bool,
                          dp: str, out: FlowSink) -> None:
    """build_dhcpv4_options_flows(): for the first of the port's IPv4 addresses that
    build_dhcpv4_action() accepts."""
    src = "northd.c:build_dhcpv4_options_flows"
    ijk = json_key(inport)
    resident = f" && is_chassis_resident({json_key(lsp['name'])})" if external else ""
    for ip in la.ipv4:
        act = _dhcpv4_action(lsp, dhcp, ip.ip)
        if act is None:
            continue
        options_action, response_action, ip_match = act
        head = f"inport == {ijk} && eth.src == {la.mac} && "
        out.add(dp, "ls_in_dhcp_options", 100,
                head + "ip4.src == 0.0.0.0 && ip4.dst == 255.255.255.255 && "
                "udp.src == 68 && udp.dst == 67" + resident,
                options_action, src, dhcp.uuid, inport)
        out.add(dp, "ls_in_dhcp_options", 100,
                head + f"{ip_match} && udp.src == 68 && udp.dst == 67" + resident,
                options_action, src, dhcp.uuid, inport)
        out.add(dp, "ls_in_dhcp_response", 100,
                head + f"ip4 && udp.src == 68 && udp.dst == 67 && {REGBIT_DHCP_OPTS_RESULT}"
                + resident, response_action, src, dhcp.uuid, inport)
        return


def _dhcpv4_action(lsp: Row, dhcp: Row, offer: IPv4Address) -> tuple[str, str, str] | None:
    """build_dhcpv4_action(): None when the offer IP is outside the row's cidr or the row
    lacks server_id / server_mac / lease_time (northd logs and skips the port)."""
    cidr = parse_ipv4_cidr(dhcp["cidr"])
    if cidr is None or offer not in cidr.network:
        return None
    opts = dict(dhcp["options"])
    server_ip, server_mac = opts.get("server_id"), opts.pop("server_mac", None)
    if not (server_ip and server_mac and opts.get("lease_time")):
        return None
    opts["netmask"] = str(cidr.network.netmask)
    if lsp["options"].get("hostname"):
        opts["hostname"] = lsp["options"]["hostname"]
    listed = ", ".join(f"{k} = {opts[k]}" for k in sorted(opts))
    options_action = f"{REGBIT_DHCP_OPTS_RESULT} = put_dhcp_opts(offerip = {offer}, {listed}); next;"
    response_action = (f"eth.dst = eth.src; eth.src = {server_mac}; ip4.src = {server_ip}; "
                       "udp.src = 67; udp.dst = 68; outport = inport; flags.loopback = 1; "
                       "output;")
    return options_action, response_action, \
        f"ip4.src == {offer} && ip4.dst == {{{server_ip}, 255.255.255.255}}"
