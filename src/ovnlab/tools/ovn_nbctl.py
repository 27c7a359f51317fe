"""`ovn-nbctl` against the NB database, printing as OVN's utilities/ovn-nbctl.c does
(formats of OVN 23.03, whose `lr-nat-list` has the GATEWAY_PORT column).

Commands: show, ls-list, lsp-list, lsp-get-{up,addresses,type,options,port-security,enabled,
tag,dhcpv4-options,ls}, lr-list, lrp-list, lrp-get-enabled, lrp-get-gateway-chassis,
lr-route-list, lr-policy-list, lr-nat-list, lr-nat-add, lr-nat-del, acl-list, acl-add,
dhcp-options-list, dhcp-options-get-options, and the database commands list, find, get. Several commands may be
joined with `--`. Where the real tool prints a map in hash order, ovnlab sorts by key.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from ovnlab.nb import ctl
from ovnlab.nb.api import NbApi
from ovnlab.nb.ctl import CtlError, Style
from ovnlab.ovsdb import Database, Row
from ovnlab.tools import ToolResult, fail, ok
from ovnlab.tools import nbctl_lookup as lookup
from ovnlab.tools.nbctl_nat import lr_nat_add, lr_nat_del, lr_nat_list

PROG = "ovn-nbctl"

# ovn-nbctl.c `tables[]`: the columns a record may be named by.
ROW_IDS: ctl.RowIds = {
    "Logical_Switch": (("name", None), ("external_ids", "neutron:network_name")),
    "Logical_Switch_Port": (("name", None), ("external_ids", "neutron:port_name")),
    "Logical_Router": (("name", None), ("external_ids", "neutron:router_name")),
    "Logical_Router_Port": (("name", None),),
    "Address_Set": (("name", None),),
    "Port_Group": (("name", None),),
    "ACL": (("name", None),),
    "HA_Chassis": (("chassis_name", None),),
    "HA_Chassis_Group": (("name", None),),
    "Load_Balancer": (("name", None),),
    "Load_Balancer_Group": (("name", None),),
    "Load_Balancer_Health_Check": (("vip", None),),
    "Forwarding_Group": (("name", None),),
    "Meter": (("name", None),),
    "NAT": (("external_ip", None),),
}

_GLOBAL_FLAGS = {"--bare", "--no-headings", "--oneline", "--pretty", "--no-leader-only",
                 "--leader-only", "--no-shuffle-remotes", "--shuffle-remotes", "--no-syslog",
                 "--wait=none", "--no-wait"}
_GLOBAL_VALUED = {"--db", "--format", "-f", "--data", "--timeout", "-t", "--wait", "--log-file",
                  "-d"}


VERSION = "ovn-nbctl 22.03.8\nOpen vSwitch Library 2.17.9\nDB Schema 6.1.0\n"


def run(nb: Database, argv: list[str]) -> ToolResult:
    if argv[:1] in (["--version"], ["-V"]):
        return ok(VERSION)
    try:
        style, commands = _parse(argv)
        out = []
        for cmd in commands:
            out.append(_COMMANDS[cmd.name].handler(nb, cmd, style))
        return ok("".join(out)) if any(out) else ToolResult(0, "", "")
    except CtlError as exc:
        return fail(f"{PROG}: {exc}")


# ------------------------------------------------------------------ argument parsing
def _parse(argv: list[str]) -> tuple[Style, list[ctl.Command]]:
    style, commands = ctl.parse_command_line(argv, _GLOBAL_FLAGS, _GLOBAL_VALUED)
    return style, [ctl.check_command(raw, _COMMANDS) for raw in commands]


# ------------------------------------------------------------------ show
def _alias(row: Row, key: str) -> str:
    alias = row["external_ids"].get(key)
    return f" (aka {alias})" if alias else ""


def _print_ls(nb: Database, ls: Row) -> str:
    out = [f"switch {ls.uuid} ({ls['name']}){_alias(ls, 'neutron:network_name')}\n"]
    for lsp in lookup.refs(nb, ls, "ports"):
        out.append(f"    port {lsp['name']}{_alias(lsp, 'neutron:port_name')}\n")
        if lsp["type"]:
            out.append(f"        type: {lsp['type']}\n")
        if lsp["parent_name"] is not None:
            out.append(f"        parent: {lsp['parent_name']}\n")
        if lsp["tag"] is not None:
            out.append(f"        tag: {lsp['tag']}\n")
        addrs = sorted(lsp["addresses"])
        if addrs and addrs != ["router"]:
            out.append("        addresses: [" + ", ".join(f'"{a}"' for a in addrs) + "]\n")
        if "router-port" in lsp["options"]:
            out.append(f"        router-port: {lsp['options']['router-port']}\n")
    return "".join(out)


def _gw_chassis_ordered(nb: Database, lrp: Row) -> list[Row]:
    """get_ordered_gw_chassis_prio_list: priority, then name, both descending."""
    gcs = lookup.refs(nb, lrp, "gateway_chassis")
    return sorted(gcs, key=lambda g: (g["priority"], g["name"]), reverse=True)


def _print_lr(nb: Database, lr: Row) -> str:
    out = [f"router {lr.uuid} ({lr['name']}){_alias(lr, 'neutron:router_name')}\n"]
    for lrp in lookup.refs(nb, lr, "ports"):
        out.append(f"    port {lrp['name']}\n")
        out.append(f'        mac: "{lrp["mac"]}"\n')
        if lrp["networks"]:
            out.append("        networks: [" + ", ".join(f'"{n}"' for n in sorted(lrp["networks"])) + "]\n")
        if "route_table" in lrp["options"]:
            out.append(f"        route-table: {lrp['options']['route_table']}\n")
        gcs = _gw_chassis_ordered(nb, lrp)
        if gcs:
            out.append("        gateway chassis: [" + " ".join(g["chassis_name"] for g in gcs) + "]\n")
    for nat in lookup.refs(nb, lr, "nat"):
        out.append(f"    nat {nat.uuid}\n")
        out.append(f'        external ip: "{nat["external_ip"]}"\n')
        if nat["external_port_range"]:
            out.append(f'        external port(s): "{nat["external_port_range"]}"\n')
        out.append(f'        logical ip: "{nat["logical_ip"]}"\n')
        out.append(f'        type: "{nat["type"]}"\n')
    return "".join(out)


def _show(nb: Database, cmd: ctl.Command, style: Style) -> str:
    if cmd.args:
        ls = lookup.ls_by_name_or_uuid(nb, cmd.args[0], must_exist=False)
        lr = lookup.lr_by_name_or_uuid(nb, cmd.args[0], must_exist=False)
        return (_print_ls(nb, ls) if ls else "") + (_print_lr(nb, lr) if lr else "")
    return "".join(_print_ls(nb, ls) for ls in lookup.ordered(nb.rows("Logical_Switch"))) + \
        "".join(_print_lr(nb, lr) for lr in lookup.ordered(nb.rows("Logical_Router")))


# ------------------------------------------------------------------ lists
def _name_list(rows: list[Row]) -> str:
    """smap_sort by name of `UUID (name)` lines."""
    return "".join(f"{r.uuid} ({r['name']})\n" for r in sorted(rows, key=lambda r: (r["name"], r.uuid)))


def _ls_list(nb: Database, cmd: ctl.Command, style: Style) -> str:
    return _name_list(nb.rows("Logical_Switch"))


def _lr_list(nb: Database, cmd: ctl.Command, style: Style) -> str:
    return _name_list(nb.rows("Logical_Router"))


def _lsp_list(nb: Database, cmd: ctl.Command, style: Style) -> str:
    return _name_list(lookup.refs(nb, lookup.must(lookup.ls_by_name_or_uuid(nb, cmd.args[0])), "ports"))


def _lrp_list(nb: Database, cmd: ctl.Command, style: Style) -> str:
    return _name_list(lookup.refs(nb, lookup.must(lookup.lr_by_name_or_uuid(nb, cmd.args[0])), "ports"))


def _lsp_get_up(nb: Database, cmd: ctl.Command, style: Style) -> str:
    return "up\n" if lookup.lsp_by_name_or_uuid(nb, cmd.args[0])["up"] is True else "down\n"


def _lsp_get_addresses(nb: Database, cmd: ctl.Command, style: Style) -> str:
    return "".join(f"{a}\n" for a in sorted(lookup.lsp_by_name_or_uuid(nb, cmd.args[0])["addresses"]))


def _lrp_get_gateway_chassis(nb: Database, cmd: ctl.Command, style: Style) -> str:
    lrp = lookup.must(lookup.lrp_by_name_or_uuid(nb, cmd.args[0]))
    return "".join(f"{g['name']} {g['priority']:5d}\n" for g in _gw_chassis_ordered(nb, lrp))


def _lsp_get_type(nb: Database, cmd: ctl.Command, style: Style) -> str:
    return f"{lookup.lsp_by_name_or_uuid(nb, cmd.args[0])['type']}\n"


def _kv_lines(smap: dict[str, str]) -> str:
    """SMAP_FOR_EACH prints in hash order; ovnlab prints by key."""
    return "".join(f"{k}={v}\n" for k, v in sorted(smap.items()))


def _lsp_get_options(nb: Database, cmd: ctl.Command, style: Style) -> str:
    return _kv_lines(lookup.lsp_by_name_or_uuid(nb, cmd.args[0])["options"])


def _lsp_get_port_security(nb: Database, cmd: ctl.Command, style: Style) -> str:
    return "".join(f"{a}\n" for a in sorted(lookup.lsp_by_name_or_uuid(nb, cmd.args[0])["port_security"]))


def _lsp_get_enabled(nb: Database, cmd: ctl.Command, style: Style) -> str:
    return "disabled\n" if lookup.lsp_by_name_or_uuid(nb, cmd.args[0])["enabled"] is False else "enabled\n"


def _lsp_get_tag(nb: Database, cmd: ctl.Command, style: Style) -> str:
    tag = lookup.lsp_by_name_or_uuid(nb, cmd.args[0])["tag"]
    return f"{tag}\n" if tag is not None else ""


def _lsp_get_dhcpv4_options(nb: Database, cmd: ctl.Command, style: Style) -> str:
    ref = lookup.lsp_by_name_or_uuid(nb, cmd.args[0])["dhcpv4_options"]
    row = nb.tables["DHCP_Options"].get(ref) if ref else None
    return f"{row.uuid} ({row['cidr']})\n" if row is not None else ""


def _lsp_get_ls(nb: Database, cmd: ctl.Command, style: Style) -> str:
    lsp = lookup.lsp_by_name_or_uuid(nb, cmd.args[0])
    return "".join(f"{ls.uuid} ({ls['name']})\n" for ls in lookup.ordered(nb.rows("Logical_Switch"))
                   if lsp.uuid in ls["ports"])


def _lrp_get_enabled(nb: Database, cmd: ctl.Command, style: Style) -> str:
    return "disabled\n" if lookup.must(lookup.lrp_by_name_or_uuid(nb, cmd.args[0]))["enabled"] is False else "enabled\n"


def _dhcp_options_list(nb: Database, cmd: ctl.Command, style: Style) -> str:
    rows = sorted(nb.rows("DHCP_Options"), key=lambda r: (r["cidr"], r.uuid))
    return "".join(f"{r.uuid}\n" for r in rows)


def _dhcp_options_get_options(nb: Database, cmd: ctl.Command, style: Style) -> str:
    ident = cmd.args[0]
    row = nb.tables["DHCP_Options"].get(ident.lower()) if ctl.is_uuid(ident) else None
    if row is None:
        raise CtlError(f"{ident}: dhcp options UUID not found")
    return _kv_lines(row["options"])


def _lr_policy_list(nb: Database, cmd: ctl.Command, style: Style) -> str:
    lr = lookup.must(lookup.lr_by_name_or_uuid(nb, cmd.args[0]))
    policies = sorted(lookup.refs(nb, lr, "policies"), key=lambda p: (-p["priority"], p["match"]))
    out = ["Routing Policies\n"] if policies else []
    for p in policies:
        line = f"{p['priority']:10d} {p['match']:>50} {p['action']:>15}"
        for i, hop in enumerate(sorted(p["nexthops"])):
            text = lookup.normalize_prefix_str(hop) or ""
            line += f", {text}" if i else f" {text:>25}"
        if p["options"]:
            line += f"{'':15}" + ",".join(f"{k}={v}" for k, v in sorted(p["options"].items()))
        out.append(line + "\n")
    return "".join(out)


# ------------------------------------------------------------------ routes, ACLs
def _lr_route_list(nb: Database, cmd: ctl.Command, style: Style) -> str:
    lr = lookup.must(lookup.lr_by_name_or_uuid(nb, cmd.args[0]))
    table = cmd.options.get("--route-table")
    v4: list[tuple[tuple[str, int, int], Row]] = []
    v6: list[tuple[tuple[str, int, int], Row]] = []
    for route in lookup.refs(nb, lr, "static_routes"):
        if table is not None and route["route_table"] != table:
            continue
        try:
            net = ipaddress.ip_network(route["ip_prefix"], strict=False)
        except ValueError:
            continue
        policy = route["policy"] or "dst-ip"
        prio = 2 * net.prefixlen + (1 if policy == "dst-ip" else 0)
        rank = (str(route["route_table"]), -prio, int(net.network_address))
        (v4 if net.version == 4 else v6).append((rank, route))
    out: list[str] = []
    for label, routes in (("IPv4 Routes", v4), ("IPv6 Routes", v6)):
        if not routes:
            continue
        if out:
            out.append("\n")
        out.append(label + "\n")
        routes.sort(key=lambda kr: (kr[0], kr[1]["ip_prefix"], kr[1]["nexthop"]))
        for i, (key, route) in enumerate(routes):
            ecmp = (i + 1 < len(routes) and routes[i + 1][0] == key) or (i > 0 and routes[i - 1][0] == key)
            if i == 0 or route["route_table"] != routes[i - 1][1]["route_table"]:
                out.append(f"{'' if i == 0 else chr(10)}Route Table {route['route_table'] or '<main>'}:\n")
            out.append(_print_route(route, ecmp))
    return "".join(out)


def _print_route(route: Row, ecmp: bool) -> str:
    prefix = lookup.normalize_prefix_str(route["ip_prefix"]) or ""
    nexthop = route["nexthop"]
    nh = "discard" if nexthop == "discard" else (lookup.normalize_prefix_str(nexthop) or "") if nexthop else ""
    line = f"{prefix:>25} {nh:>25} {route['policy'] or 'dst-ip'}"
    if route["output_port"] is not None:
        line += f" {route['output_port']}"
    if "ic-learned-route" in route["external_ids"]:
        line += " (learned)"
    if ecmp:
        line += " ecmp"
    if route["options"].get("ecmp_symmetric_reply") == "true":
        line += " ecmp-symmetric-reply"
    if route["bfd"] is not None:
        line += " bfd"
    return line + "\n"


def _acl_owner(nb: Database, cmd: ctl.Command) -> Row:
    """acl_cmd_get_pg_or_ls: the port group or switch an ACL command names."""
    ident = cmd.args[0]
    kind = cmd.options.get("--type")
    pg: Row | None = None
    ls: Row | None = None
    if kind is None:
        pg = lookup.pg_by_name_or_uuid(nb, ident, must_exist=False)
        ls = lookup.ls_by_name_or_uuid(nb, ident, must_exist=False)
        if pg and ls:
            raise CtlError(f"Same name '{ident}' exists in both port-groups and logical switches. "
                           "Specify --type=port-group or switch, or use a UUID.")
        if not pg and not ls:
            raise CtlError(f"'{ident}' is not found for port-group or switch.")
    elif kind == "port-group":
        pg = lookup.pg_by_name_or_uuid(nb, ident)
    elif kind == "switch":
        ls = lookup.ls_by_name_or_uuid(nb, ident)
    else:
        raise CtlError(f"Invalid value '{kind}' for option --type")
    return lookup.must(pg or ls)


_ACL_ACTIONS = ("allow", "allow-related", "allow-stateless", "drop", "reject")
_SEVERITIES = ("alert", "warning", "notice", "info", "debug")


def _acl_add(nb: Database, cmd: ctl.Command, style: Style) -> str:
    """nbctl_acl_add: {SWITCH | PORTGROUP} DIRECTION PRIORITY MATCH ACTION."""
    owner = _acl_owner(nb, cmd)
    direction_arg, priority_arg, match, action = cmd.args[1:5]
    if direction_arg[:1] not in ("t", "f"):  # only the first letter counts, as in the real one
        raise CtlError(f'{direction_arg}: direction must be "to-lport" or "from-lport"')
    direction = "to-lport" if direction_arg[0] == "t" else "from-lport"
    if not re.fullmatch(r"[+-]?\d+", priority_arg.strip()) or \
            not 0 <= int(priority_arg) <= 32767:
        raise CtlError(f"{priority_arg}: priority must in range 0...32767")
    priority = int(priority_arg)
    if action not in _ACL_ACTIONS:
        raise CtlError(f'{action}: action must be one of "allow", "allow-related", '
                       '"allow-stateless", "drop", and "reject"')
    opts = cmd.options
    severity, name, meter = opts.get("--severity"), opts.get("--name"), opts.get("--meter")
    if severity is not None and severity not in _SEVERITIES:
        raise CtlError(f"bad severity: {severity}")
    for acl in lookup.refs(nb, owner, "acls"):  # acl_cmp: direction, priority, match
        if (acl["direction"], acl["priority"], acl["match"]) == (direction, priority, match):
            if "--may-exist" in opts:
                return ""
            raise CtlError(f"Same ACL already existed on the ls {cmd.args[0]}.")
    cols: dict[str, Any] = {
        "direction": direction, "priority": priority, "match": match, "action": action,
        "log": any(o in opts for o in ("--log", "--severity", "--name", "--meter"))}
    cols.update({k: v for k, v in (("severity", severity), ("name", name), ("meter", meter))
                 if v is not None})
    api = NbApi(nb)
    with nb.transaction():
        acl_row = api.insert("ACL", **cols)
        api.add_ref(owner, "acls", acl_row.uuid)
    return ""


def _acl_list(nb: Database, cmd: ctl.Command, style: Style) -> str:
    owner = _acl_owner(nb, cmd)
    acls = lookup.refs(nb, owner, "acls")
    acls.sort(key=lambda a: (a["direction"] != "from-lport", a["options"].get("apply-after-lb") == "true",
                             -a["priority"], a["match"]))
    out = []
    for acl in acls:
        line = f"{acl['direction']:>10} {acl['priority']:5d} ({acl['match']}) {acl['action']}"
        if acl["log"]:
            parts = []
            if acl["name"] is not None:
                parts.append(f"name={acl['name']}")
            if acl["severity"] is not None:
                parts.append(f"severity={acl['severity']}")
            if acl["meter"] is not None:
                parts.append(f'meter="{acl["meter"]}"')
            line += " log(" + ",".join(parts) + ")"
        if acl["label"]:
            line += f" label={acl['label']}"
        if acl["options"].get("apply-after-lb") == "true":
            line += " [after-lb]"
        out.append(line + "\n")
    return "".join(out)


# ------------------------------------------------------------------ database commands
def _list(nb: Database, cmd: ctl.Command, style: Style) -> str:
    return ctl.cmd_list(nb, cmd.args[0], cmd.args[1:], columns=cmd.options.get("--columns"),
                        style=style, row_ids=ROW_IDS, if_exists="--if-exists" in cmd.options)


def _find(nb: Database, cmd: ctl.Command, style: Style) -> str:
    return ctl.cmd_find(nb, cmd.args[0], cmd.args[1:], columns=cmd.options.get("--columns"), style=style)


def _get(nb: Database, cmd: ctl.Command, style: Style) -> str:
    return ctl.cmd_get(nb, cmd.args[0], cmd.args[1], cmd.args[2:], row_ids=ROW_IDS,
                       if_exists="--if-exists" in cmd.options)


_COMMANDS: dict[str, ctl.Syntax] = {
    "show": ctl.Syntax(0, 1, (), _show),
    "ls-list": ctl.Syntax(0, 0, (), _ls_list),
    "lsp-list": ctl.Syntax(1, 1, (), _lsp_list),
    "lsp-get-up": ctl.Syntax(1, 1, (), _lsp_get_up),
    "lsp-get-addresses": ctl.Syntax(1, 1, (), _lsp_get_addresses),
    "lsp-get-type": ctl.Syntax(1, 1, (), _lsp_get_type),
    "lsp-get-options": ctl.Syntax(1, 1, (), _lsp_get_options),
    "lsp-get-port-security": ctl.Syntax(1, 1, (), _lsp_get_port_security),
    "lsp-get-enabled": ctl.Syntax(1, 1, (), _lsp_get_enabled),
    "lsp-get-tag": ctl.Syntax(1, 1, (), _lsp_get_tag),
    "lsp-get-dhcpv4-options": ctl.Syntax(1, 1, (), _lsp_get_dhcpv4_options),
    "lsp-get-ls": ctl.Syntax(1, 1, (), _lsp_get_ls),
    "lrp-get-enabled": ctl.Syntax(1, 1, (), _lrp_get_enabled),
    "lr-policy-list": ctl.Syntax(1, 1, (), _lr_policy_list),
    "dhcp-options-list": ctl.Syntax(0, 0, (), _dhcp_options_list),
    "dhcp-options-get-options": ctl.Syntax(1, 1, (), _dhcp_options_get_options),
    "lr-list": ctl.Syntax(0, 0, (), _lr_list),
    "lrp-list": ctl.Syntax(1, 1, (), _lrp_list),
    "lrp-get-gateway-chassis": ctl.Syntax(1, 1, (), _lrp_get_gateway_chassis),
    "lr-route-list": ctl.Syntax(1, 1, ("--route-table=",), _lr_route_list),
    "lr-nat-list": ctl.Syntax(1, 1, (), lr_nat_list),
    "lr-nat-add": ctl.Syntax(4, 7, ("--may-exist", "--stateless", "--portrange", "--add-route",
                                 "--gateway-port="), lr_nat_add),
    "lr-nat-del": ctl.Syntax(1, 4, ("--if-exists",), lr_nat_del),
    "acl-list": ctl.Syntax(1, 1, ("--type=",), _acl_list),
    "acl-add": ctl.Syntax(5, 5, ("--type=", "--log", "--may-exist", "--severity=", "--name=",
                                 "--meter="), _acl_add),
    "list": ctl.Syntax(1, ctl.MANY, ("--if-exists", "--columns="), _list),
    "find": ctl.Syntax(1, ctl.MANY, ("--columns=",), _find),
    "get": ctl.Syntax(2, ctl.MANY, ("--if-exists", "--id="), _get),
}
