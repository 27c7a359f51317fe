"""`ip` (iproute2) on a lab node: `ip [-4] [-br] addr|link|route|neigh [show ...]`,
`ip route get ADDR`, in iproute2's output format."""

from __future__ import annotations

from typing import Any

from ovnlab.errors import NotFound
from ovnlab.fabric.host import HostStack
from ovnlab.fabric.link import Interface
from ovnlab.packet import ip as parse_ip
from ovnlab.packet import ip_str, mac_str
from ovnlab.tools import ToolResult, fail, ok

OBJECTS = {
    "address": "addr", "addr": "addr", "addrs": "addr", "a": "addr", "ad": "addr",
    "link": "link", "l": "link", "li": "link",
    "route": "route", "r": "route", "ro": "route", "rou": "route",
    "neighbour": "neigh", "neighbor": "neigh", "neigh": "neigh", "n": "neigh", "ne": "neigh",
}
SHOW = {"show", "list", "lst", "sh", "ls", "s", "l"}


def run(fabric: Any, node: str, argv: list[str]) -> ToolResult:
    args = list(argv)
    brief = False
    while args and args[0].startswith("-"):
        opt = args.pop(0)
        if opt in ("-br", "-brief"):
            brief = True
        elif opt in ("-4", "-f", "-family"):
            if opt != "-4" and args:
                args.pop(0)
        else:
            return fail(f'Option "{opt}" is unknown, try "ip -help".', 255)
    if not args:
        return fail("Usage: ip [ OPTIONS ] OBJECT { COMMAND | help }", 255)
    obj = OBJECTS.get(args.pop(0))
    if obj is None:
        return fail(f'Object "{argv[len(argv) - len(args) - 1]}" is unknown, try "ip help".', 255)
    try:
        target = fabric.ip_node(node)
    except NotFound:
        target = fabric.node(node)
    stack: HostStack | None = getattr(target, "stack", None)
    ifaces: list[Interface] = sorted(target.interfaces.values(), key=lambda i: i.index)
    if obj == "route" and args[:1] == ["get"]:
        return _route_get(stack, args[1:])
    if args and args[0] in SHOW:
        args.pop(0)
    if args and args[0] not in ("dev",) and obj in ("addr", "link") and len(args) == 1:
        args.insert(0, "dev")
    dev = None
    if args[:1] == ["dev"] and len(args) >= 2:
        dev = args[1]
        args = args[2:]
    if args:
        return fail(f'Command "{args[0]}" is unknown, try "ip {obj} help".', 255)
    if dev is not None and dev != "lo" and dev not in {i.name for i in ifaces}:
        return fail(f'Device "{dev}" does not exist.', 1)
    if obj == "addr":
        return ok(_addr(stack, ifaces, dev, brief, show_addresses=True))
    if obj == "link":
        return ok(_addr(stack, ifaces, dev, brief, show_addresses=False))
    if obj == "route":
        return ok(_routes(stack, dev))
    return ok(_neigh(stack, dev))


def _flags(iface: Interface | None) -> str:
    if iface is None:
        return "<LOOPBACK,UP,LOWER_UP>"
    return "<BROADCAST,MULTICAST,UP,LOWER_UP>"


def _addr(stack: HostStack | None, ifaces: list[Interface], dev: str | None, brief: bool,
          show_addresses: bool) -> str:
    lines: list[str] = []
    rows: list[tuple[int, str, Interface | None]] = [(1, "lo", None)] + [
        (i.index, i.name, i) for i in ifaces]
    for index, name, iface in rows:
        if dev is not None and name != dev:
            continue
        addrs = []
        if iface is None:
            addrs.append(("127.0.0.1/8", "", "host"))
        elif stack is not None:
            for a in stack.addresses:
                if a.dev == name:
                    brd = f" brd {ip_str(a.broadcast)}" if a.prefixlen < 31 else ""
                    addrs.append((f"{ip_str(a.ip)}/{a.prefixlen}", brd, "global"))
        state = "UNKNOWN" if iface is None else ("UP" if iface.medium is not None else "DOWN")
        if brief:
            if show_addresses:
                cells = "".join(f"{a[0]} " for a in addrs)
                lines.append(f"{name:<16} {state:<14} {cells}")
            else:
                mac = "00:00:00:00:00:00" if iface is None else mac_str(iface.mac)
                lines.append(f"{name:<16} {state:<14} {mac} {_flags(iface)} ")
            continue
        mtu = 65536 if iface is None else iface.mtu
        qdisc = "noqueue" if iface is None else "fq_codel"
        master = f" master {iface.master}" if iface is not None and iface.master else ""
        mode = "" if show_addresses else " mode DEFAULT"
        lines.append(f"{index}: {name}: {_flags(iface)} mtu {mtu} qdisc {qdisc}{master} "
                     f"state {state}{mode} group default qlen 1000")
        if iface is None:
            lines.append("    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00")
        else:
            lines.append(f"    link/ether {mac_str(iface.mac)} brd ff:ff:ff:ff:ff:ff")
        if show_addresses:
            for cidr, brd, scope in addrs:
                lines.append(f"    inet {cidr}{brd} scope {scope} {name}")
                lines.append("       valid_lft forever preferred_lft forever")
    return "\n".join(lines)


def _routes(stack: HostStack | None, dev: str | None) -> str:
    if stack is None:
        return ""
    lines = []
    for r in sorted(stack.routes, key=lambda r: (r.dst, r.prefixlen, r.metric)):
        if dev is not None and r.dev != dev:
            continue
        text = r.prefix
        if r.via is not None:
            text += f" via {ip_str(r.via)}"
        text += f" dev {r.dev}"
        if r.proto != "boot":
            text += f" proto {r.proto}"
        if r.scope != "global":
            text += f" scope {r.scope}"
        if r.src is not None:
            text += f" src {ip_str(r.src)}"
        if r.metric:
            text += f" metric {r.metric}"
        lines.append(text + " ")
    return "\n".join(lines)


def _neigh(stack: HostStack | None, dev: str | None) -> str:
    if stack is None:
        return ""
    lines = []
    for n in stack.neighbours.values():
        if dev is not None and n.dev != dev:
            continue
        state = stack.neighbour_state(n)
        lladdr = f" lladdr {mac_str(n.mac)}" if n.mac is not None else ""
        lines.append(f"{ip_str(n.ip)} dev {n.dev}{lladdr} {state}")
    return "\n".join(lines)


def _route_get(stack: HostStack | None, args: list[str]) -> ToolResult:
    if not args:
        return fail('Command line is not complete. Try option "help"', 255)
    try:
        dst = parse_ip(args[0])
    except ValueError:
        return fail(f'Error: any valid prefix is expected rather than "{args[0]}".', 1)
    if stack is not None and dst in stack.local_ips:
        return ok(f"local {ip_str(dst)} dev lo src {ip_str(dst)} uid 0 \n    cache <local> ")
    route = stack.lookup_route(dst) if stack is not None else None
    if stack is None or route is None:
        return fail("RTNETLINK answers: Network is unreachable", 2)
    via = f" via {ip_str(route.via)}" if route.via is not None else ""
    src = ip_str(stack.source_for(route, dst))
    return ok(f"{ip_str(dst)}{via} dev {route.dev} src {src} uid 0 \n    cache ")
