"""`ovs-appctl` on an emulated node: `ofproto/trace BRIDGE FLOW`, `dpctl/dump-conntrack`,
`fdb/show BRIDGE`, `bfd/show [INTERFACE]`.

Trace flows use ovs-ofctl match syntax (`in_port=vm1-p,icmp,dl_src=...,nw_dst=...`); fields
left out take the packet model's defaults (e.g. `nw_ttl=64`) where ofproto/trace would use
zero, so a trace without `nw_ttl` is not dropped by `dec_ttl`.
"""

from __future__ import annotations

from ovnlab.datapath import Bridge, TunnelMetadata, Vswitch
from ovnlab.datapath.conntrack import CtEntry
from ovnlab.errors import OvnlabError
from ovnlab.flows import parse_flow_full
from ovnlab.flows.format import ip_text, mac_text
from ovnlab.packet import PROTO_ICMP, PROTO_TCP, PROTO_UDP, Packet
from ovnlab.tools import ToolResult, fail, ok

_PACKET_FIELDS = {
    "dl_src": "eth_src", "dl_dst": "eth_dst", "dl_type": "eth_type", "vlan_tci": "vlan_tci",
    "nw_src": "ip_src", "nw_dst": "ip_dst", "nw_proto": "ip_proto", "nw_ttl": "ip_ttl",
    "nw_tos": "ip_tos", "tp_src": "tp_src", "tp_dst": "tp_dst", "tcp_flags": "tcp_flags",
    "icmp_type": "icmp_type", "icmp_code": "icmp_code", "arp_op": "arp_op",
    "arp_spa": "arp_spa", "arp_tpa": "arp_tpa", "arp_sha": "arp_sha", "arp_tha": "arp_tha",
}
_REG_FIELDS = frozenset({"metadata", "pkt_mark", "ct_state", "ct_zone", "ct_mark", "ct_label",
                         *(f"reg{i}" for i in range(16))})


def run(vswitch: Vswitch, argv: list[str]) -> ToolResult:
    args = [a for a in argv if a != "ovs-appctl"]
    if not args:
        return fail("ovs-appctl: at least one non-option argument is required (use --help "
                    "for help)", 1)
    cmd, params = args[0], args[1:]
    try:
        if cmd == "ofproto/trace":
            return _trace(vswitch, params)
        if cmd == "dpctl/dump-conntrack":
            return _dump_conntrack(vswitch, params)
        if cmd == "fdb/show":
            return _fdb_show(vswitch, params)
        if cmd == "bfd/show":
            return _bfd_show(vswitch, params)
    except OvnlabError as exc:
        return fail(exc.message, 2)
    return fail(f'"{cmd}" is not a valid command (use "list-commands" to see a list of valid '
                "commands)\novs-appctl: ovs-vswitchd: server returned an error", 2)


def _bfd_show(vswitch: Vswitch, params: list[str]) -> ToolResult:
    """bfd_unixctl_show: every session, or the one of INTERFACE."""
    if len(params) > 1:
        return fail('"bfd/show" command takes at most 1 arguments\n'
                    "ovs-appctl: ovs-vswitchd: server returned an error", 2)
    show = vswitch.bfd_show
    try:
        text = show(params[0] if params else None) if show is not None else ""
    except KeyError:
        return fail("no such bfd object\novs-appctl: ovs-vswitchd: server returned an error", 2)
    return ok(text)


def trace_packet(bridge: Bridge, flow_text: str) -> tuple[Packet, str, dict[str, int],
                                                          TunnelMetadata | None]:
    """The packet, in_port, registers and tunnel metadata a trace flow describes."""
    parsed = parse_flow_full(flow_text, port_map=bridge.port_map)
    items = parsed.flow.match_dict()
    if "in_port" not in items:
        raise OvnlabError("prerequisites not met for in_port: in_port is required")
    fields: dict[str, int] = {}
    regs: dict[str, int] = {}
    for name, (value, _mask) in items.items():
        if name in _PACKET_FIELDS:
            fields[_PACKET_FIELDS[name]] = value
        elif name in _REG_FIELDS:
            regs[name] = value
        elif name == "nw_frag":
            fields["ip_frag"] = 1 if value & 1 else 0
    if "eth_type" not in fields:
        fields["eth_type"] = 0
    tunnel = None
    if any(n.startswith("tun_") for n in items):
        tunnel = TunnelMetadata(items.get("tun_id", (0, 0))[0], items.get("tun_src", (0, 0))[0],
                                items.get("tun_dst", (0, 0))[0],
                                items.get("tun_metadata0", (0, 0))[0])
    port = bridge.ports_by_ofport.get(items["in_port"][0])
    in_port = port.name if port is not None else str(items["in_port"][0])
    return Packet(**fields), in_port, regs, tunnel  # type: ignore[arg-type]


def _trace(vswitch: Vswitch, params: list[str]) -> ToolResult:
    if len(params) < 2:
        return fail("ovs-appctl: \"ofproto/trace\" command requires at least 2 arguments\n"
                    "ovs-appctl: ovs-vswitchd: server returned an error", 2)
    bridge = vswitch.bridges.get(params[0])
    if bridge is None:
        return fail(f"{params[0]}: unknown bridge\novs-appctl: ovs-vswitchd: server returned "
                    "an error", 2)
    packet, in_port, regs, tunnel = trace_packet(bridge, ",".join(params[1:]))
    result = bridge.process(packet, in_port, regs=regs, tunnel=tunnel)
    assert result.trace is not None
    return ok(result.trace.render())


def _proto_name(proto: int) -> str:
    return {PROTO_ICMP: "icmp", PROTO_TCP: "tcp", PROTO_UDP: "udp"}.get(proto, str(proto))


def _ct_line(e: CtEntry) -> str:
    def side(t: tuple[int, int, int, int, int, int]) -> str:
        _z, p, src, dst, sport, dport = t
        if p == PROTO_ICMP:
            return f"src={ip_text(src)},dst={ip_text(dst)},id={sport},type=8,code=0"
        return f"src={ip_text(src)},dst={ip_text(dst)},sport={sport},dport={dport}"
    reply = side(e.reply)
    if e.proto == PROTO_ICMP:
        reply = reply.replace("type=8", "type=0")
    text = f"{_proto_name(e.proto)},orig=({side(e.orig)}),reply=({reply})"
    if e.zone:
        text += f",zone={e.zone}"
    if e.mark:
        text += f",mark={e.mark}"
    if e.label:
        text += f",labels={e.label:#x}"
    if e.state:
        text += f",protoinfo=(state={e.state})"
    return text


def _dump_conntrack(vswitch: Vswitch, params: list[str]) -> ToolResult:
    zone = None
    for p in params:
        if p.startswith("zone="):
            zone = int(p[5:])
    return ok("\n".join(_ct_line(e) for e in vswitch.conntrack.dump(zone)))


def _fdb_show(vswitch: Vswitch, params: list[str]) -> ToolResult:
    if not params or params[0] not in vswitch.bridges:
        name = params[0] if params else ""
        return fail(f"no such bridge {name}\novs-appctl: ovs-vswitchd: server returned an "
                    "error", 2)
    br = vswitch.bridges[params[0]]
    now = br.clock()
    lines = [" port  VLAN  MAC                Age"]
    for mac, (ofport, seen) in sorted(br.mac_table.items(), key=lambda kv: kv[1][0]):
        if now - seen <= br.mac_aging:
            port = "LOCAL" if ofport == 0xFFFE else str(ofport)
            lines.append(f"{port:>5}     0  {mac_text(mac)}  {int(now - seen):>3}")
    return ok("\n".join(lines))

