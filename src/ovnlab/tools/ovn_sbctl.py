"""`ovn-sbctl` against the SB database, printing as OVN 22.03's utilities/ovn-sbctl.c does.

Commands: show, lflow-list / dump-flows [DATAPATH] [LFLOW...] (with --uuid), count-flows
[DATAPATH], and the database commands list, find, get (lib/db-ctl-base.c, shared with
ovn-nbctl through `ovnlab.nb.ctl`).
"""

from __future__ import annotations

import re

from ovnlab.nb import ctl
from ovnlab.nb.ctl import CtlError, Style
from ovnlab.ovsdb import Database, Row
from ovnlab.tools import ToolResult, fail, ok

PROG = "ovn-sbctl"

# ovn-sbctl.c `tables[]`: the columns a record may be named by.
ROW_IDS: ctl.RowIds = {
    "Chassis": (("name", None), ("hostname", None)),  # hostname: ovnlab nodes are named
    "Chassis_Private": (("name", None),),
    "Datapath_Binding": (("external_ids", "name"), ("external_ids", "name2"),
                         ("external_ids", "logical-switch"), ("external_ids", "logical-router")),
    "Port_Binding": (("logical_port", None), ("external_ids", "name")),
    "MAC_Binding": (("logical_port", None),),
    "Address_Set": (("name", None),),
    "Port_Group": (("name", None),),
    "HA_Chassis_Group": (("name", None),),
    "HA_Chassis": (("chassis", None),),
    "Gateway_Chassis": (("name", None),),
    "Load_Balancer": (("name", None),),
}

_GLOBAL_FLAGS = {"--bare", "--no-headings", "--oneline", "--no-leader-only", "--leader-only",
                 "--no-syslog"}
_GLOBAL_VALUED = {"--db", "--format", "-f", "--data", "-d", "--timeout", "-t", "--log-file"}


def run(sb: Database, argv: list[str], nb: Database | None = None) -> ToolResult:
    """`nb` is accepted for symmetry with the lab's dispatcher; ovn-sbctl reads only the SB."""
    del nb
    try:
        style, commands = _parse(argv)
        out = [_COMMANDS[c.name].handler(sb, c, style) for c in commands]
        return ok("".join(out))
    except CtlError as exc:
        return fail(f"{PROG}: {exc}")


# ------------------------------------------------------------------ lflow-list
def _datapath_name(dp: Row) -> str:
    """print_datapath_name()."""
    ids = dp["external_ids"]
    name, name2 = ids.get("name"), ids.get("name2")
    if name and name2:
        return f'"{name}" aka "{name2}"'
    if name or name2:
        return f'"{name or name2}"'
    return ""


def _lflows(sb: Database, dp: Row | None) -> list[tuple[Row, Row]]:
    """(flow, datapath) pairs in sbctl_lflow_cmp order (a dp-group flow once per member)."""
    dps = sb.tables["Datapath_Binding"]
    groups = sb.tables["Logical_DP_Group"]
    pairs: list[tuple[Row, Row]] = []
    for f in sb.tables["Logical_Flow"].values():
        members: list[str] = []
        if f["logical_datapath"]:
            members.append(f["logical_datapath"])
        if f["logical_dp_group"] and f["logical_dp_group"] in groups:
            members.extend(groups[f["logical_dp_group"]]["datapaths"])
        if dp is not None:
            if dp.uuid in members:
                pairs.append((f, dp))
            continue
        pairs.extend((f, dps[m]) for m in members if m in dps)
    pairs.sort(key=lambda p: (p[1]["external_ids"].get("name", ""), p[1].uuid,
                              0 if p[0]["pipeline"] == "ingress" else 1, p[0]["table_id"],
                              -p[0]["priority"], p[0]["match"], p[0]["actions"]))
    return pairs


def _lflow_args(sb: Database, cmd: ctl.Command) -> tuple[Row | None, list[str]]:
    args = list(cmd.args)
    dp = None
    if args:
        dp = ctl.get_row(sb, "Datapath_Binding", args[0], ROW_IDS, must_exist=False)
        if dp is not None:
            args = args[1:]
    if cmd.name != "count-flows":
        for a in args:
            if not re.fullmatch(r"(0[xX])?[0-9a-fA-F-]+", a):
                raise CtlError(f"{a} is not a UUID or the beginning of a UUID")
    return dp, args


def _partial_match(uuid: str, prefix: str) -> bool:
    p = prefix.lower()
    if p.startswith("0x"):
        return uuid.replace("-", "").startswith(p[2:])
    return uuid.startswith(p)


def _lflow_list(sb: Database, cmd: ctl.Command, style: Style) -> str:
    dp, uuids = _lflow_args(sb, cmd)
    print_uuid = "--uuid" in cmd.options
    out: list[str] = []
    prev: tuple[str, str] | None = None
    for f, d in _lflows(sb, dp):
        if uuids and not any(_partial_match(f.uuid, u) for u in uuids):
            continue
        if prev != (d.uuid, f["pipeline"]):
            out.append(f"Datapath: {_datapath_name(d)} ({d.uuid})  Pipeline: {f['pipeline']}\n")
            prev = (d.uuid, f["pipeline"])
        uuid_part = f"uuid=0x{f.uuid[:8]}, " if print_uuid else ""
        out.append(f"  {uuid_part}table={f['table_id']:<2}({f['external_ids'].get('stage-name', ''):<19}), "
                   f"priority={f['priority']:<5}, match=({f['match']}), action=({f['actions']})\n")
    return "".join(out)


def _count_flows(sb: Database, cmd: ctl.Command, style: Style) -> str:
    dp, _ = _lflow_args(sb, cmd)
    if cmd.args and dp is None:
        return "Total number of logical flows = 0\n"
    pairs = _lflows(sb, dp)
    out: list[str] = []
    i = 0
    while i < len(pairs):
        d, pipeline = pairs[i][1], pairs[i][0]["pipeline"]
        out.append(f"Datapath: {_datapath_name(d)} ({d.uuid})  Pipeline: {pipeline}\n")
        j = i
        while j < len(pairs) and pairs[j][1].uuid == d.uuid and pairs[j][0]["pipeline"] == pipeline:
            k = j
            table = pairs[j][0]["table_id"]
            while k < len(pairs) and pairs[k][1].uuid == d.uuid and \
                    pairs[k][0]["pipeline"] == pipeline and pairs[k][0]["table_id"] == table:
                k += 1
            name = pairs[j][0]["external_ids"].get("stage-name", "")
            out.append(f"  table={table:<2}({name:<19}) lflows={k - j}\n")
            j = k
        out.append(f"Total number of logical flows in the datapath {_datapath_name(d)} "
                   f"({d.uuid}) Pipeline: {pipeline} = {j - i}\n\n")
        i = j
    out.append(f"Total number of logical flows = {len(pairs)}\n")
    return "".join(out)


# ------------------------------------------------------------------ show
def _show(sb: Database, cmd: ctl.Command, style: Style) -> str:
    """db-ctl-base cmd_show with ovn-sbctl's cmd_show_tables: Chassis (hostname, encaps →
    Encap (ip, options)), and the Port_Bindings whose chassis is that chassis."""
    schema = sb.schema
    out: list[str] = []
    bound: dict[str, list[Row]] = {}
    for pb in sorted(sb.tables["Port_Binding"].values(), key=lambda r: r.uuid):
        if pb["chassis"]:
            bound.setdefault(pb["chassis"], []).append(pb)
    for ch in sorted(sb.tables["Chassis"].values(), key=lambda r: r.uuid):
        out.append(f"Chassis {ctl.atom_to_string(ch['name'])}\n")
        if ch["hostname"]:
            out.append(f"    hostname: {ctl.datum_to_string(ch['hostname'], schema['Chassis']['hostname'])}\n")
        for eu in sorted(ch["encaps"]):
            enc = sb.tables["Encap"].get(eu)
            if enc is None:
                continue
            out.append(f"    Encap {ctl.atom_to_string(enc['type'])}\n")
            out.append(f"        ip: {ctl.datum_to_string(enc['ip'], schema['Encap']['ip'])}\n")
            if enc["options"]:
                out.append(f"        options: "
                           f"{ctl.datum_to_string(enc['options'], schema['Encap']['options'])}\n")
        for pb in bound.get(ch.uuid, []):
            out.append(f"    Port_Binding {ctl.atom_to_string(pb['logical_port'])}\n")
    return "".join(out)


# ------------------------------------------------------------------ database commands
def _list(sb: Database, cmd: ctl.Command, style: Style) -> str:
    return ctl.cmd_list(sb, cmd.args[0], cmd.args[1:], columns=cmd.options.get("--columns"),
                        style=style, row_ids=ROW_IDS, if_exists="--if-exists" in cmd.options)


def _find(sb: Database, cmd: ctl.Command, style: Style) -> str:
    return ctl.cmd_find(sb, cmd.args[0], cmd.args[1:], columns=cmd.options.get("--columns"),
                        style=style)


def _get(sb: Database, cmd: ctl.Command, style: Style) -> str:
    return ctl.cmd_get(sb, cmd.args[0], cmd.args[1], cmd.args[2:], row_ids=ROW_IDS,
                       if_exists="--if-exists" in cmd.options)


_COMMANDS: dict[str, ctl.Syntax] = {
    "show": ctl.Syntax(0, 0, (), _show),
    "lflow-list": ctl.Syntax(0, ctl.MANY, ("--uuid", "--ovs?", "--stats", "--vflows"), _lflow_list),
    "dump-flows": ctl.Syntax(0, ctl.MANY, ("--uuid", "--ovs?", "--stats", "--vflows"), _lflow_list),
    "count-flows": ctl.Syntax(0, 1, (), _count_flows),
    "list": ctl.Syntax(1, ctl.MANY, ("--if-exists", "--columns="), _list),
    "find": ctl.Syntax(1, ctl.MANY, ("--columns=",), _find),
    "get": ctl.Syntax(3, ctl.MANY, ("--if-exists", "--id="), _get),
}


def _parse(argv: list[str]) -> tuple[Style, list[ctl.Command]]:
    style, commands = ctl.parse_command_line(argv, _GLOBAL_FLAGS, _GLOBAL_VALUED)
    return style, [ctl.check_command(raw, _COMMANDS) for raw in commands]


