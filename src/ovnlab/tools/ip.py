"""`ip` (iproute2) on a lab node: `ip [-4] [-br] addr|link|route|neigh [show ...]`,
`ip route get ADDR`, in iproute2's output format."""

from __future__ import annotations

import zlib
from dataclasses import dataclass
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
    links = _links(target, ifaces)
    if dev is not None and dev not in {link.name for link in links}:
        return fail(f'Device "{dev}" does not exist.', 1)
    if obj == "addr":
        return ok(_addr(stack, links, dev, brief, show_addresses=True))
    if obj == "link":
        return ok(_addr(stack, links, dev, brief, show_addresses=False))
    if obj == "route":
        return ok(_routes(stack, dev))
    return ok(_neigh(stack, dev))


@dataclass(frozen=True, slots=True)
class _Link:
    index: int
    name: str
    mac: int
    flags: str = "<BROADCAST,MULTICAST,UP,LOWER_UP>"
    mtu: int = 1500
    qdisc: str = "fq_codel"
    master: str | None = None
    state: str = "UP"
    kind: str = "ether"


def _links(target: Any, ifaces: list[Interface]) -> list[_Link]:
    """The node's links as the kernel lists them: lo, its NICs, and on a chassis the
    devices Open vSwitch creates (ovs-system, one per bridge, genev_sys_6081)."""
    links = [_Link(1, "lo", 0, "<LOOPBACK,UP,LOWER_UP>", 65536, "noqueue", None, "UNKNOWN",
                   "loopback")]
    links += [_Link(i.index, i.name, i.mac, mtu=i.mtu, master=i.master,
                    state="UP" if i.medium is not None else "DOWN") if not i.internal else
              _Link(i.index, i.name, i.mac, "<BROADCAST,MULTICAST>", i.mtu, "noop", None, "DOWN")
              for i in ifaces]
    vswitch = getattr(target, "vswitch", None)
    if vswitch is not None:
        index = max(link.index for link in links)
        extra: list[tuple[str, str, int, str, str | None, str]] = [
            ("ovs-system", "<BROADCAST,MULTICAST>", 1500, "noop", None, "DOWN")]
        extra += [(name, "<BROADCAST,MULTICAST>", 1500, "noop", None, "DOWN")
                  for name in vswitch.bridges if name not in target.interfaces]
        if any(p.type == "geneve" for b in vswitch.bridges.values() for p in b.ports.values()):
            extra.append(("genev_sys_6081", "<BROADCAST,MULTICAST,UP,LOWER_UP>", 65000,
                          "noqueue", "ovs-system", "UNKNOWN"))
        for name, flags, mtu, qdisc, master, state in extra:
            index += 1
            mac = (0x02 << 40) | (zlib.crc32(f"{target.name}/{name}".encode()) & 0xFFFFFFFFFF)
            links.append(_Link(index, name, mac, flags, mtu, qdisc, master, state))
    return links


def _addr(stack: HostStack | None, links: list[_Link], dev: str | None, brief: bool,
          show_addresses: bool) -> str:
    lines: list[str] = []
    for link in links:
        if dev is not None and link.name != dev:
            continue
        addrs = []
        if link.kind == "loopback":
            addrs.append(("127.0.0.1/8", "", "host"))
        elif stack is not None:
            for a in stack.addresses:
                if a.dev == link.name:
                    brd = f" brd {ip_str(a.broadcast)}" if a.prefixlen < 31 else ""
                    addrs.append((f"{ip_str(a.ip)}/{a.prefixlen}", brd, "global"))
        mac = mac_str(link.mac)
        if brief:
            if show_addresses:
                cells = "".join(f"{a[0]} " for a in addrs)
                lines.append(f"{link.name:<16} {link.state:<14} {cells}")
            else:
                lines.append(f"{link.name:<16} {link.state:<14} {mac} {link.flags} ")
            continue
        master = f" master {link.master}" if link.master else ""
        mode = "" if show_addresses else " mode DEFAULT"
        lines.append(f"{link.index}: {link.name}: {link.flags} mtu {link.mtu} qdisc {link.qdisc}"
                     f"{master} state {link.state}{mode} group default qlen 1000")
        lines.append(f"    link/{link.kind} {mac} brd "
                     f"{'00:00:00:00:00:00' if link.kind == 'loopback' else 'ff:ff:ff:ff:ff:ff'}")
        if show_addresses:
            for cidr, brd, scope in addrs:
                lines.append(f"    inet {cidr}{brd} scope {scope} {link.name}")
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
