"""`ovs-ofctl` on an emulated node: dump-flows, show, add-flow, del-flows, mod-flows,
dump-ports, printed as Open vSwitch 3.1's ovs-ofctl prints them (OpenFlow 1.0 + NXM)."""

from __future__ import annotations

import hashlib

from ovnlab.datapath import Bridge, Vswitch
from ovnlab.errors import OvnlabError
from ovnlab.tools import ToolResult, fail, ok

USAGE = "ovs-ofctl: missing command name; use --help for help"
OPENFLOW10 = {"OpenFlow10", "OpenFlow10+table_id"}


def run(vswitch: Vswitch, argv: list[str]) -> ToolResult:
    args = list(argv)
    if args and args[0] == "ovs-ofctl":
        args = args[1:]
    opts: set[str] = set()
    rest: list[str] = []
    i = 0
    while i < len(args):
        a = args[i]
        if a in ("-O", "--protocols") or a.startswith(("--protocols=", "-O")):
            versions = (args[i + 1] if a in ("-O", "--protocols") and i + 1 < len(args)
                        else a.removeprefix("--protocols=").removeprefix("-O"))
            if not set(versions.split(",")) <= OPENFLOW10:
                return fail(f"ovs-ofctl: (ovnlab) {versions}: only OpenFlow 1.0 output "
                            "(ovs-ofctl's default, the article's format) is emulated")
            i += 2 if a in ("-O", "--protocols") else 1
            continue
        if a.startswith("--") and len(a) > 2:
            opts.add(a)
        elif a == "--":
            rest.extend(args[i + 1:])
            break
        else:
            rest.append(a)
        i += 1
    if not rest:
        return fail(USAGE)
    cmd, params = rest[0], rest[1:]
    handler = COMMANDS.get(cmd)
    if handler is None:
        return fail(f"ovs-ofctl: unknown command '{cmd}'; use --help for help")
    lo, hi = ARITY[cmd]
    if not lo <= len(params) <= hi:
        what = "at least" if len(params) < lo else "at most"
        n = lo if len(params) < lo else hi
        return fail(f"ovs-ofctl: '{cmd}' command requires {what} {n} arguments")
    bridge = vswitch.bridges.get(params[0])
    if bridge is None:
        return fail(f"ovs-ofctl: {params[0]} is not a bridge or a socket")
    try:
        return handler(bridge, params[1:], opts)
    except OvnlabError as exc:
        return fail(f"ovs-ofctl: {exc.message}")


def _dump_flows(bridge: Bridge, params: list[str], opts: set[str]) -> ToolResult:
    lines = bridge.dump_flows(params[0] if params else None,
                              stats="--no-stats" not in opts,
                              names="--names" in opts and "--no-names" not in opts)
    if "--rsort" in opts or "--sort" in opts:
        lines.sort(key=_priority_of, reverse="--rsort" in opts)
    return ok("\n".join(lines))


def _priority_of(line: str) -> int:
    for part in line.replace(" ", ",").split(","):
        if part.startswith("priority="):
            return int(part[9:])
    return 32768


def _add_flow(bridge: Bridge, params: list[str], opts: set[str]) -> ToolResult:
    bridge.add_flow(params[0])
    return ok()


def _del_flows(bridge: Bridge, params: list[str], opts: set[str]) -> ToolResult:
    bridge.del_flows(params[0] if params else None, strict="--strict" in opts)
    return ok()


def _mod_flows(bridge: Bridge, params: list[str], opts: set[str]) -> ToolResult:
    bridge.mod_flows(params[0], strict="--strict" in opts)
    return ok()


def _port_mac(bridge: Bridge, name: str) -> str:
    mac = bytearray(hashlib.sha256(f"{bridge.name}/{name}".encode()).digest()[:6])
    mac[0] = (mac[0] & 0xFE) | 0x02  # locally administered unicast, like OVS's random MACs
    return ":".join(f"{b:02x}" for b in mac)


def _show(bridge: Bridge, params: list[str], opts: set[str]) -> ToolResult:
    dpid = hashlib.sha256(bridge.name.encode()).hexdigest()[:16]
    lines = [
        f"OFPT_FEATURES_REPLY (xid=0x2): dpid:{dpid}",
        "n_tables:254, n_buffers:0",
        "capabilities: FLOW_STATS TABLE_STATS PORT_STATS QUEUE_STATS ARP_MATCH_IP",
        "actions: output enqueue set_vlan_vid set_vlan_pcp strip_vlan mod_dl_src mod_dl_dst "
        "mod_nw_src mod_nw_dst mod_nw_tos mod_tp_src mod_tp_dst",
    ]
    for port in bridge.ports_sorted():
        num = "LOCAL" if port.ofport == 0xFFFE else str(port.ofport)
        lines.append(f" {num}({port.name}): addr:{_port_mac(bridge, port.name)}")
        if port.ofport == 0xFFFE:
            lines += ["     config:     PORT_DOWN", "     state:      LINK_DOWN",
                      "     speed: 0 Mbps now, 0 Mbps max"]
        else:
            lines += ["     config:     0", "     state:      0",
                      "     speed: 0 Mbps now, 0 Mbps max"]
    lines.append("OFPT_GET_CONFIG_REPLY (xid=0x4): frags=normal miss_send_len=0")
    return ok("\n".join(lines))


def _dump_ports(bridge: Bridge, params: list[str], opts: set[str]) -> ToolResult:
    ports = bridge.ports_sorted()
    if params:
        ofport = bridge.ofport(params[0])
        ports = [p for p in ports if p.ofport == ofport]
    lines = [f"OFPST_PORT reply (xid=0x2): {len(ports)} ports"]
    for p in ports:
        num = "LOCAL" if p.ofport == 0xFFFE else str(p.ofport)
        lines += [f"  port {num:>2}: rx pkts=0, bytes=0, drop=0, errs=0, frame=0, over=0, crc=0",
                  "           tx pkts=0, bytes=0, drop=0, errs=0, coll=0"]
    return ok("\n".join(lines))


COMMANDS = {
    "dump-flows": _dump_flows, "add-flow": _add_flow, "del-flows": _del_flows,
    "mod-flows": _mod_flows, "show": _show, "dump-ports": _dump_ports,
}
ARITY = {
    "dump-flows": (1, 2), "add-flow": (2, 2), "del-flows": (1, 2), "mod-flows": (2, 2),
    "show": (1, 1), "dump-ports": (1, 2),
}
