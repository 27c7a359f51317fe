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
from ovnlab.nb.types import NatType
from ovnlab.ovsdb import Database, Row
from ovnlab.tools import ToolResult, fail, ok

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


# ------------------------------------------------------------------ lookups (ovn-nbctl.c)
def _by_name_or_uuid(nb: Database, table: str, ident: str, noun: str, must_exist: bool = True,
                     multiple: str | None = None) -> Row | None:
    """The `*_by_name_or_uuid` helpers: a UUID, else the name (`multiple` names the rows
    in the error when a name is ambiguous; without it the first match wins)."""
    row = nb.tables[table].get(ident.lower()) if ctl.is_uuid(ident) else None
    if row is None:
        found = [r for r in _ordered(nb.rows(table)) if r["name"] == ident]
        if len(found) > 1 and multiple:
            raise CtlError(f"Multiple {multiple} named '{ident}'.  Use a UUID.")
        row = found[0] if found else None
    if row is None and must_exist:
        raise CtlError(f"{ident}: {noun} {'UUID' if ctl.is_uuid(ident) else 'name'} not found")
    return row


def _lr(nb: Database, ident: str, must_exist: bool = True) -> Row | None:
    return _by_name_or_uuid(nb, "Logical_Router", ident, "router", must_exist, "logical routers")


def _ls(nb: Database, ident: str, must_exist: bool = True) -> Row | None:
    return _by_name_or_uuid(nb, "Logical_Switch", ident, "switch", must_exist, "logical switches")


def _lrp(nb: Database, ident: str) -> Row | None:
    return _by_name_or_uuid(nb, "Logical_Router_Port", ident, "port")


def _pg(nb: Database, ident: str, must_exist: bool = True) -> Row | None:
    return _by_name_or_uuid(nb, "Port_Group", ident, "port group", must_exist)


def _ordered(rows: list[Row]) -> list[Row]:
    return sorted(rows, key=lambda r: r.uuid)


def _refs(nb: Database, parent: Row, column: str) -> list[Row]:
    """A reference set in OVSDB order (sorted by UUID), as the IDL hands it to ovn-nbctl."""
    table = nb.schema[parent.table][column].ref_table
    assert table is not None
    return _ordered([nb.tables[table][u] for u in parent[column] if u in nb.tables[table]])


def _must(row: Row | None) -> Row:
    assert row is not None
    return row


# ------------------------------------------------------------------ show
def _alias(row: Row, key: str) -> str:
    alias = row["external_ids"].get(key)
    return f" (aka {alias})" if alias else ""


def _print_ls(nb: Database, ls: Row) -> str:
    out = [f"switch {ls.uuid} ({ls['name']}){_alias(ls, 'neutron:network_name')}\n"]
    for lsp in _refs(nb, ls, "ports"):
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
    gcs = _refs(nb, lrp, "gateway_chassis")
    return sorted(gcs, key=lambda g: (g["priority"], g["name"]), reverse=True)


def _print_lr(nb: Database, lr: Row) -> str:
    out = [f"router {lr.uuid} ({lr['name']}){_alias(lr, 'neutron:router_name')}\n"]
    for lrp in _refs(nb, lr, "ports"):
        out.append(f"    port {lrp['name']}\n")
        out.append(f'        mac: "{lrp["mac"]}"\n')
        if lrp["networks"]:
            out.append("        networks: [" + ", ".join(f'"{n}"' for n in sorted(lrp["networks"])) + "]\n")
        if "route_table" in lrp["options"]:
            out.append(f"        route-table: {lrp['options']['route_table']}\n")
        gcs = _gw_chassis_ordered(nb, lrp)
        if gcs:
            out.append("        gateway chassis: [" + " ".join(g["chassis_name"] for g in gcs) + "]\n")
    for nat in _refs(nb, lr, "nat"):
        out.append(f"    nat {nat.uuid}\n")
        out.append(f'        external ip: "{nat["external_ip"]}"\n')
        if nat["external_port_range"]:
            out.append(f'        external port(s): "{nat["external_port_range"]}"\n')
        out.append(f'        logical ip: "{nat["logical_ip"]}"\n')
        out.append(f'        type: "{nat["type"]}"\n')
    return "".join(out)


def _show(nb: Database, cmd: ctl.Command, style: Style) -> str:
    if cmd.args:
        ls = _ls(nb, cmd.args[0], must_exist=False)
        lr = _lr(nb, cmd.args[0], must_exist=False)
        return (_print_ls(nb, ls) if ls else "") + (_print_lr(nb, lr) if lr else "")
    return "".join(_print_ls(nb, ls) for ls in _ordered(nb.rows("Logical_Switch"))) + \
        "".join(_print_lr(nb, lr) for lr in _ordered(nb.rows("Logical_Router")))


# ------------------------------------------------------------------ lists
def _name_list(rows: list[Row]) -> str:
    """smap_sort by name of `UUID (name)` lines."""
    return "".join(f"{r.uuid} ({r['name']})\n" for r in sorted(rows, key=lambda r: (r["name"], r.uuid)))


def _ls_list(nb: Database, cmd: ctl.Command, style: Style) -> str:
    return _name_list(nb.rows("Logical_Switch"))


def _lr_list(nb: Database, cmd: ctl.Command, style: Style) -> str:
    return _name_list(nb.rows("Logical_Router"))


def _lsp_list(nb: Database, cmd: ctl.Command, style: Style) -> str:
    return _name_list(_refs(nb, _must(_ls(nb, cmd.args[0])), "ports"))


def _lrp_list(nb: Database, cmd: ctl.Command, style: Style) -> str:
    return _name_list(_refs(nb, _must(_lr(nb, cmd.args[0])), "ports"))


def _lsp(nb: Database, ident: str) -> Row:
    return _must(_by_name_or_uuid(nb, "Logical_Switch_Port", ident, "port"))


def _lsp_get_up(nb: Database, cmd: ctl.Command, style: Style) -> str:
    return "up\n" if _lsp(nb, cmd.args[0])["up"] is True else "down\n"


def _lsp_get_addresses(nb: Database, cmd: ctl.Command, style: Style) -> str:
    return "".join(f"{a}\n" for a in sorted(_lsp(nb, cmd.args[0])["addresses"]))


def _lrp_get_gateway_chassis(nb: Database, cmd: ctl.Command, style: Style) -> str:
    lrp = _must(_lrp(nb, cmd.args[0]))
    return "".join(f"{g['name']} {g['priority']:5d}\n" for g in _gw_chassis_ordered(nb, lrp))


def _lsp_get_type(nb: Database, cmd: ctl.Command, style: Style) -> str:
    return f"{_lsp(nb, cmd.args[0])['type']}\n"


def _kv_lines(smap: dict[str, str]) -> str:
    """SMAP_FOR_EACH prints in hash order; ovnlab prints by key."""
    return "".join(f"{k}={v}\n" for k, v in sorted(smap.items()))


def _lsp_get_options(nb: Database, cmd: ctl.Command, style: Style) -> str:
    return _kv_lines(_lsp(nb, cmd.args[0])["options"])


def _lsp_get_port_security(nb: Database, cmd: ctl.Command, style: Style) -> str:
    return "".join(f"{a}\n" for a in sorted(_lsp(nb, cmd.args[0])["port_security"]))


def _lsp_get_enabled(nb: Database, cmd: ctl.Command, style: Style) -> str:
    return "disabled\n" if _lsp(nb, cmd.args[0])["enabled"] is False else "enabled\n"


def _lsp_get_tag(nb: Database, cmd: ctl.Command, style: Style) -> str:
    tag = _lsp(nb, cmd.args[0])["tag"]
    return f"{tag}\n" if tag is not None else ""


def _lsp_get_dhcpv4_options(nb: Database, cmd: ctl.Command, style: Style) -> str:
    ref = _lsp(nb, cmd.args[0])["dhcpv4_options"]
    row = nb.tables["DHCP_Options"].get(ref) if ref else None
    return f"{row.uuid} ({row['cidr']})\n" if row is not None else ""


def _lsp_get_ls(nb: Database, cmd: ctl.Command, style: Style) -> str:
    lsp = _lsp(nb, cmd.args[0])
    return "".join(f"{ls.uuid} ({ls['name']})\n" for ls in _ordered(nb.rows("Logical_Switch"))
                   if lsp.uuid in ls["ports"])


def _lrp_get_enabled(nb: Database, cmd: ctl.Command, style: Style) -> str:
    return "disabled\n" if _must(_lrp(nb, cmd.args[0]))["enabled"] is False else "enabled\n"


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
    lr = _must(_lr(nb, cmd.args[0]))
    policies = sorted(_refs(nb, lr, "policies"), key=lambda p: (-p["priority"], p["match"]))
    out = ["Routing Policies\n"] if policies else []
    for p in policies:
        line = f"{p['priority']:10d} {p['match']:>50} {p['action']:>15}"
        for i, hop in enumerate(sorted(p["nexthops"])):
            text = _normalize_prefix(hop) or ""
            line += f", {text}" if i else f" {text:>25}"
        if p["options"]:
            line += f"{'':15}" + ",".join(f"{k}={v}" for k, v in sorted(p["options"].items()))
        out.append(line + "\n")
    return "".join(out)


# ------------------------------------------------------------------ NAT
def _c(fmt_width: int, trunc: int, text: str) -> str:
    """printf `%-W.Ts`."""
    return f"{text[:trunc]:<{fmt_width}}"


def _lr_nat_list(nb: Database, cmd: ctl.Command, style: Style) -> str:
    lr = _must(_lr(nb, cmd.args[0]))
    entries = []
    for nat in _refs(nb, lr, "nat"):
        gw = nb.tables["Logical_Router_Port"].get(nat["gateway_port"] or "")
        key = _c(17, 13, nat["type"]) + _c(22, 18, gw["name"] if gw else "") + nat["external_ip"]
        if nat["external_mac"] is not None and nat["logical_port"] is not None:
            value = (_c(17, 13, nat["external_port_range"]) + _c(20, 16, nat["logical_ip"])
                     + _c(21, 17, nat["external_mac"]) + nat["logical_port"])
        else:
            value = _c(17, 13, nat["external_port_range"]) + nat["logical_ip"]
        entries.append((key, value))
    if not entries:
        return ""
    header = (_c(17, 13, "TYPE") + _c(22, 18, "GATEWAY_PORT") + _c(19, 15, "EXTERNAL_IP")
              + _c(17, 13, "EXTERNAL_PORT") + _c(20, 16, "LOGICAL_IP") + _c(21, 17, "EXTERNAL_MAC")
              + "LOGICAL_PORT\n")
    return header + "".join(_c(58, 54, k) + v + "\n" for k, v in sorted(entries, key=lambda e: e[0]))


def _normalize_prefix(text: str) -> str | None:
    """normalize_prefix_str: `a.b.c.d` for /32, else the masked network."""
    try:
        net = ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None
    if net.prefixlen == net.max_prefixlen:
        return str(net.network_address)
    return str(net)


def _addr(text: str, version: int | None = None) -> str | None:
    """normalize_ipv{4,6}_addr_str."""
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return None
    return str(ip) if version in (None, ip.version) else None


def _lr_nat_add(nb: Database, cmd: ctl.Command, style: Style) -> str:
    """nbctl_lr_nat_add: ROUTER TYPE EXTERNAL_IP LOGICAL_IP [LOGICAL_PORT EXTERNAL_MAC]
    [EXTERNAL_PORT_RANGE]."""
    lr = _must(_lr(nb, cmd.args[0]))
    nat_type, external_ip, logical_ip = cmd.args[1:4]
    opts = cmd.options
    if nat_type not in set(NatType):
        raise CtlError(f'{nat_type}: type must be one of "dnat", "snat" and "dnat_and_snat".')
    new_ext = _addr(external_ip)
    if new_ext is None:
        raise CtlError(f"{external_ip}: Not a valid IPv4 or IPv6 address.")
    version = ipaddress.ip_address(new_ext).version
    family = "IPv6" if version == 6 else "IPv4"
    if nat_type != NatType.SNAT:
        new_log = _addr(logical_ip, version)
        if new_log is None:
            raise CtlError(f"{logical_ip}: Not a valid {family} address.")
    else:
        new_log = _normalize_prefix(logical_ip)
        if new_log is None or ipaddress.ip_network(new_log).version != version:
            raise CtlError(f"{logical_ip}: should be an {family} address or network.")
    logical_port = external_mac = port_range = None
    rest = cmd.args[4:]
    if len(rest) == 1:
        if "--portrange" not in opts:
            raise CtlError("lr-nat-add with logical_port must also specify external_mac.")
        port_range = _port_range(rest[0])
    elif len(rest) >= 2:
        if nat_type != NatType.DNAT_AND_SNAT:
            raise CtlError('logical_port and external_mac are only valid when type is "dnat_and_snat".')
        if len(rest) == 2 and "--portrange" in opts:
            raise CtlError("lr-nat-add with logical_port must also specify external_mac.")
        logical_port = rest[0]
        _lsp(nb, logical_port)
        external_mac = rest[1]
        if not re.fullmatch(r"[0-9a-fA-F]{1,2}(:[0-9a-fA-F]{1,2}){5}", external_mac):
            raise CtlError(f"invalid mac address {external_mac}.")
        if len(rest) > 2:
            port_range = _port_range(rest[2])
    stateless = "--stateless" in opts
    if nat_type != NatType.DNAT_AND_SNAT and stateless:
        raise CtlError("stateless is not applicable to dnat or snat types")
    if nat_type == NatType.SNAT and "--add-route" in opts:
        raise CtlError("routes cannot be added for snat types.")
    dgps = [p for p in _refs(nb, lr, "ports") if p["gateway_chassis"] or p["ha_chassis_group"]]
    dgw: Row | None = None
    if opts.get("--gateway-port"):
        name = str(opts["--gateway-port"])
        dgw = _must(_lrp(nb, name))
        if dgw.uuid not in lr["ports"]:
            raise CtlError(f"{name} is not a router port of logical router: {cmd.args[0]}.")
        if dgw not in dgps:
            raise CtlError(f"{name} is not a distributed gateway router port.")
    else:
        inside = [p for p in dgps if any(ipaddress.ip_address(new_ext) in ipaddress.ip_interface(n).network
                                         for n in p["networks"])]
        dgw = inside[-1] if inside else None
        if len(dgps) > 1 and dgw is None:
            raise CtlError(f"logical router: {cmd.args[0]} has multiple distributed gateway ports "
                           "and gateway_port can not be determined from external IP of NAT rule.")
    snat = nat_type == NatType.SNAT
    for nat in _refs(nb, lr, "nat"):
        old_ext, old_log = _normalize_prefix(nat["external_ip"]), _normalize_prefix(nat["logical_ip"])
        if old_ext is None or old_log is None:
            continue
        if nat["type"] == nat_type and (len(dgps) <= 1 or nat["gateway_port"] == (dgw.uuid if dgw else None)):
            if (new_log if snat else new_ext) == (old_log if snat else old_ext):
                if (new_ext if snat else new_log) == (old_ext if snat else old_log):
                    if "--may-exist" not in opts:
                        raise CtlError(f"{new_ext}, {new_log}: a NAT with this external_ip and "
                                       "logical_ip already exists")
                    with nb.transaction() as txn:
                        txn.update("NAT", nat.uuid, logical_port=logical_port, external_mac=external_mac)
                    return ""
                raise CtlError(f"a NAT with this type ({nat_type}), "
                               f"{'logical_ip' if snat else 'external_ip'} "
                               f"({new_log if snat else new_ext}) already exists")
        if NatType.DNAT_AND_SNAT in (nat_type, nat["type"]) and old_ext == new_ext and \
                (nat["options"].get("stateless") == "true" or stateless):
            if "--may-exist" not in opts:
                raise CtlError(f"{new_ext}, {new_log}: External ip cannot be shared across "
                               "stateless and stateful NATs")
            return ""
    options = {"stateless": "true" if stateless else "false"}
    if "--add-route" in opts:
        options["add_route"] = "true"
    api = NbApi(nb)
    with nb.transaction():
        nat = api.insert("NAT", type=nat_type, external_ip=external_ip, logical_ip=new_log,
                         logical_port=logical_port, external_mac=external_mac,
                         external_port_range=port_range or "", options=options,
                         gateway_port=dgw.uuid if dgw is not None and opts.get("--gateway-port") else None)
        api.add_ref(lr, "nat", nat.uuid)
    return ""


def _port_range(text: str) -> str:
    m = re.fullmatch(r"(\d+)(?:-(\d+))?", text)
    lo, hi = (int(m.group(1)), int(m.group(2) or m.group(1))) if m else (0, -1)
    if not m or not (1 <= lo <= hi <= 65535):
        raise CtlError(f"invalid port range {text}.")
    return text


def _lr_nat_del(nb: Database, cmd: ctl.Command, style: Style) -> str:
    """nbctl_lr_nat_del: ROUTER [TYPE [IP] [GATEWAY_PORT]]."""
    lr = _must(_lr(nb, cmd.args[0]))
    api = NbApi(nb)
    nats = _refs(nb, lr, "nat")
    doomed: list[Row] = []
    if len(cmd.args) == 1:
        doomed = nats
    else:
        nat_type = cmd.args[1]
        if nat_type not in set(NatType):
            raise CtlError(f'{nat_type}: type must be one of "dnat", "snat" and "dnat_and_snat".')
        typed = [n for n in nats if n["type"] == nat_type]

        def ip_of(nat: Row) -> str | None:
            return _normalize_prefix(nat["logical_ip"] if nat_type == NatType.SNAT else nat["external_ip"])

        ip = _normalize_prefix(cmd.args[2]) if len(cmd.args) > 2 else None
        if len(cmd.args) == 2:
            doomed = typed
        elif len(cmd.args) == 3 and ip is None:
            port = _must(_lrp(nb, cmd.args[2]))
            doomed = [n for n in typed if n["gateway_port"] == port.uuid]
        elif len(cmd.args) == 3:
            doomed = [n for n in typed if ip_of(n) == ip]
        else:
            if ip is None:
                raise CtlError(f"{cmd.args[2]}: Invalid IP address or CIDR")
            port = _must(_lrp(nb, cmd.args[3]))
            doomed = [n for n in typed if ip_of(n) == ip and n["gateway_port"] == port.uuid][:1]
            if not doomed and "--if-exists" not in cmd.options:
                raise CtlError(f"no matching NAT with the type ({nat_type}), "
                               f"{'logical_ip' if nat_type == 'snat' else 'external_ip'} ({ip}) "
                               f"and gateway_port ({cmd.args[3]})")
    with nb.transaction():
        for nat in doomed:
            api.delete("NAT", nat.uuid)
    return ""


# ------------------------------------------------------------------ routes, ACLs
def _lr_route_list(nb: Database, cmd: ctl.Command, style: Style) -> str:
    lr = _must(_lr(nb, cmd.args[0]))
    table = cmd.options.get("--route-table")
    v4: list[tuple[tuple[str, int, int], Row]] = []
    v6: list[tuple[tuple[str, int, int], Row]] = []
    for route in _refs(nb, lr, "static_routes"):
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
    prefix = _normalize_prefix(route["ip_prefix"]) or ""
    nexthop = route["nexthop"]
    nh = "discard" if nexthop == "discard" else (_normalize_prefix(nexthop) or "") if nexthop else ""
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
        pg = _pg(nb, ident, must_exist=False)
        ls = _ls(nb, ident, must_exist=False)
        if pg and ls:
            raise CtlError(f"Same name '{ident}' exists in both port-groups and logical switches. "
                           "Specify --type=port-group or switch, or use a UUID.")
        if not pg and not ls:
            raise CtlError(f"'{ident}' is not found for port-group or switch.")
    elif kind == "port-group":
        pg = _pg(nb, ident)
    elif kind == "switch":
        ls = _ls(nb, ident)
    else:
        raise CtlError(f"Invalid value '{kind}' for option --type")
    return _must(pg or ls)


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
    for acl in _refs(nb, owner, "acls"):  # acl_cmp: direction, priority, match
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
    acls = _refs(nb, owner, "acls")
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
    "lr-nat-list": ctl.Syntax(1, 1, (), _lr_nat_list),
    "lr-nat-add": ctl.Syntax(4, 7, ("--may-exist", "--stateless", "--portrange", "--add-route",
                                 "--gateway-port="), _lr_nat_add),
    "lr-nat-del": ctl.Syntax(1, 4, ("--if-exists",), _lr_nat_del),
    "acl-list": ctl.Syntax(1, 1, ("--type=",), _acl_list),
    "acl-add": ctl.Syntax(5, 5, ("--type=", "--log", "--may-exist", "--severity=", "--name=",
                                 "--meter="), _acl_add),
    "list": ctl.Syntax(1, ctl.MANY, ("--if-exists", "--columns="), _list),
    "find": ctl.Syntax(1, ctl.MANY, ("--columns=",), _find),
    "get": ctl.Syntax(2, ctl.MANY, ("--if-exists", "--id="), _get),
}
