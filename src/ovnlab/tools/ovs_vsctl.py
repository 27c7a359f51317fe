"""`ovs-vsctl` on an emulated node: show, list-br, list-ports, br-exists, port-to-br,
get/set on Open_vSwitch, Bridge and Interface, printed as Open vSwitch 3.1 prints them."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

from ovnlab.datapath import Bridge, Port, Vswitch
from ovnlab.tools import ToolResult, fail, ok

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
                   r"[0-9a-fA-F]{12}$")
_BARE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")
TABLES = ("Open_vSwitch", "Bridge", "Port", "Interface")


def quote(value: str) -> str:
    """An OVSDB string as ovs-vsctl prints it: bare when it is a plain identifier."""
    if _BARE.match(value) and value not in ("true", "false") and not _UUID.match(value):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def format_map(m: dict[str, str]) -> str:
    return "{" + ", ".join(f"{quote(k)}={quote(v)}" for k, v in sorted(m.items())) + "}"


def open_vswitch_uuid(vswitch: Vswitch) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"ovnlab:Open_vSwitch:{vswitch.hostname}"))


def run(vswitch: Vswitch, argv: list[str]) -> ToolResult:
    """Runs `ovs-vsctl [OPTS] CMD ARGS [-- [OPTS] CMD ARGS]...`; commands run in order and
    stop at the first error (real ovs-vsctl would also roll back the earlier ones)."""
    args = list(argv)
    if args and args[0] == "ovs-vsctl":
        args = args[1:]
    groups: list[list[str]] = [[]]
    for a in args:
        if a == "--":
            groups.append([])
        else:
            groups[-1].append(a)
    commands = [g for g in groups if any(not a.startswith("--") for a in g)]
    if not commands:
        return fail("ovs-vsctl: missing command name (use --help for help)")
    out: list[str] = []
    for group in commands:
        opts = {a for a in group if a.startswith("--")}
        words = [a for a in group if not a.startswith("--")]
        res = _command(vswitch, words[0], words[1:], opts)
        if res.rc != 0:
            return res
        if res.stdout:
            out.append(res.stdout.rstrip("\n"))
    return ok("\n".join(out))


def _command(vswitch: Vswitch, cmd: str, params: list[str], opts: set[str]) -> ToolResult:
    if cmd == "show":
        return ok(show(vswitch))
    if cmd == "list-br":
        return ok("\n".join(sorted(vswitch.bridges)))
    if cmd in ("list-ports", "list-ifaces"):
        if len(params) != 1:
            return fail(f"ovs-vsctl: '{cmd}' command requires at least 1 arguments")
        br = vswitch.bridges.get(params[0])
        if br is None:
            return fail(f"ovs-vsctl: no bridge named {params[0]}")
        return ok("\n".join(sorted(p for p in br.ports if p != br.name)))
    if cmd == "br-exists":
        if len(params) != 1:
            return fail("ovs-vsctl: 'br-exists' command requires at least 1 arguments")
        return ToolResult(0 if params[0] in vswitch.bridges else 2)
    if cmd == "port-to-br":
        br = vswitch.bridge_of_port(params[0]) if params else None
        if br is None or (params and params[0] == br.name):
            return fail(f"ovs-vsctl: no port named {params[0] if params else ''}")
        return ok(br.name)
    if cmd == "get":
        return _get(vswitch, params)
    if cmd == "set":
        return _set(vswitch, params)
    if cmd in ("add-br", "del-br", "add-port", "del-port"):
        return _add_del(vswitch, cmd, params, opts)
    return fail(f"ovs-vsctl: unknown command '{cmd}'; use --help for help")


def _add_del(vswitch: Vswitch, cmd: str, params: list[str], opts: set[str]) -> ToolResult:
    if not params:
        return fail(f"ovs-vsctl: '{cmd}' command requires at least 1 arguments")
    if cmd == "add-br":
        if params[0] in vswitch.bridges:
            return ok() if "--may-exist" in opts else fail(
                f"ovs-vsctl: cannot create a bridge named {params[0]} because a bridge named "
                f"{params[0]} already exists")
        vswitch.add_bridge(params[0])
        return ok()
    if cmd == "del-br":
        if params[0] not in vswitch.bridges:
            return ok() if "--if-exists" in opts else fail(
                f"ovs-vsctl: no bridge named {params[0]}")
        vswitch.del_bridge(params[0])
        return ok()
    if cmd == "add-port":
        if len(params) < 2:
            return fail("ovs-vsctl: 'add-port' command requires at least 2 arguments")
        br = vswitch.bridges.get(params[0])
        if br is None:
            return fail(f"ovs-vsctl: no bridge named {params[0]}")
        owner = vswitch.bridge_of_port(params[1])
        if owner is not None:
            return ok() if "--may-exist" in opts else fail(
                f"ovs-vsctl: cannot create a port named {params[1]} because a port named "
                f"{params[1]} already exists on bridge {owner.name}")
        port = br.add_port(params[1])
        return _assign(port, params[2:], "Port")
    name = params[-1]
    br = vswitch.bridge_of_port(name)
    if br is None or name == br.name or (len(params) > 1 and params[0] != br.name):
        return ok() if "--if-exists" in opts else fail(f"ovs-vsctl: no port named {name}")
    br.del_port(name)
    return ok()


def _assign(obj: Bridge | Port | Vswitch, specs: list[str], table: str) -> ToolResult:
    """`column=value` and `column:key=value` settings on one record: all of them or, at the
    first one that cannot be set, none (ovs-vsctl's commands are one OVSDB transaction)."""
    changes: list[Callable[[], None]] = []
    for spec in specs:
        lhs, eq, value = spec.partition("=")
        column, _, key = lhs.partition(":")
        value = value.strip('"')
        if not eq:
            return fail(f"ovs-vsctl: {spec}: argument does not end in \"=\" followed by a value.")
        change = _setter(obj, column, key, value)
        if isinstance(change, str):
            return fail(f"ovs-vsctl: {spec}: {change.format(table=table, column=column)}")
        changes.append(change)
    for change in changes:
        change()
    return ok()


def _setter(obj: Bridge | Port | Vswitch, column: str, key: str,
            value: str) -> Callable[[], None] | str:
    """What `set` would do to one column, or why it cannot."""
    if column == "external_ids" and key:
        return lambda: obj.external_ids.__setitem__(key, value)
    if isinstance(obj, Port) and column == "options" and key:
        return lambda: obj.options.__setitem__(key, value)
    if isinstance(obj, Port) and column == "type" and not key:
        return lambda: setattr(obj, "type", value)
    if isinstance(obj, Bridge) and column == "fail_mode" and not key:
        # The datapath has no NORMAL fallback: a bridge behaves as `secure` whatever the
        # column says, so only that value can be written without the column lying.
        if value != "secure":
            return ("ovnlab's bridges run in secure fail mode only (no standalone "
                    "NORMAL fallback)")
        return lambda: setattr(obj, "fail_mode", value)
    return "{table} column {column} cannot be set here"


def show(vswitch: Vswitch) -> str:
    lines = [open_vswitch_uuid(vswitch)]
    for name in sorted(vswitch.bridges):
        br = vswitch.bridges[name]
        lines.append(f"    Bridge {name}")
        if br.fail_mode:
            lines.append(f"        fail_mode: {br.fail_mode}")
        for pname in sorted(br.ports):
            port = br.ports[pname]
            lines.append(f"        Port {pname}")
            lines.append(f"            Interface {pname}")
            if port.type and port.type != "system":
                lines.append(f"                type: {port.type}")
            if port.options:
                lines.append(f"                options: {format_map(port.options)}")
            if port.bfd_status:  # cmd_show's Interface columns: ..., options, bfd_status
                lines.append(f"                bfd_status: {format_map(port.bfd_status)}")
    lines.append(f'    ovs_version: "{vswitch.ovs_version}"')
    return "\n".join(lines)


def _table(name: str) -> str | None:
    for t in TABLES:
        if t.lower().startswith(name.lower()) and len(name) >= 3 or t.lower() == name.lower():
            return t
    return None


def _record(vswitch: Vswitch, table: str, ident: str) -> tuple[Bridge | Port | Vswitch | None,
                                                                str]:
    if table == "Open_vSwitch":
        return (vswitch if ident in (".", open_vswitch_uuid(vswitch)) else None), ""
    if table == "Bridge":
        return vswitch.bridges.get(ident), ""
    br = vswitch.bridge_of_port(ident)
    return (br.ports[ident] if br is not None else None), ""


def _column(obj: Bridge | Port | Vswitch, column: str) -> str | dict[str, str] | None:
    if column == "external_ids":
        return dict(obj.external_ids)
    if isinstance(obj, Port):
        if column == "options":
            return dict(obj.options)
        if column == "bfd":
            return dict(obj.bfd)
        if column == "bfd_status":
            return dict(obj.bfd_status)
        if column == "type":
            return obj.type
        if column == "ofport":
            return str(obj.ofport)
        if column == "name":
            return obj.name
    if isinstance(obj, Bridge):
        if column == "fail_mode":
            return obj.fail_mode or "[]"
        if column == "name":
            return obj.name
    if isinstance(obj, Vswitch) and column == "ovs_version":
        return obj.ovs_version
    return None


def _target(vswitch: Vswitch, verb: str, params: list[str]) -> tuple[str, Any] | ToolResult:
    """TABLE RECORD COLUMN... of `get`/`set`: the table's name and the record, or the
    error ovs-vsctl prints."""
    if len(params) < 3:
        return fail(f"ovs-vsctl: '{verb}' command requires at least 3 arguments")
    table = _table(params[0])
    if table is None:
        return fail(f'ovs-vsctl: unknown table "{params[0]}"')
    obj, _ = _record(vswitch, table, params[1])
    if obj is None:
        return fail(f'ovs-vsctl: no row "{params[1]}" in table {table}')
    return table, obj


def _get(vswitch: Vswitch, params: list[str]) -> ToolResult:
    target = _target(vswitch, "get", params)
    if isinstance(target, ToolResult):
        return target
    table, obj = target
    out = []
    for spec in params[2:]:
        column, _, key = spec.partition(":")
        value = _column(obj, column)
        if value is None:
            return fail(f'ovs-vsctl: {table} does not contain a column whose name matches '
                        f'"{column}"')
        if key:
            if not isinstance(value, dict):
                return fail(f"ovs-vsctl: cannot specify key to get for non-map column {column}")
            if key not in value:
                return fail(f'ovs-vsctl: no key "{key}" in {table} record "{params[1]}" '
                            f"column {column}")
            out.append(quote(value[key]))
        elif isinstance(value, dict):
            out.append(format_map(value))
        elif column in ("ofport",):
            out.append(value)
        else:
            out.append(quote(value) if value != "[]" else value)
    return ok("\n".join(out))


def _set(vswitch: Vswitch, params: list[str]) -> ToolResult:
    target = _target(vswitch, "set", params)
    if isinstance(target, ToolResult):
        return target
    table, obj = target
    return _assign(obj, params[2:], table)
