"""`ovnlab trace SRC DEST [--icmp|--tcp PORT|--udp PORT]`: send one packet from SRC's IP
stack, follow everything it causes (ARP, controller round trips, tunnels, the reply) and
render where it went, chassis by chassis.

Unlike ovn-trace, which evaluates logical flows as if every port were local, this runs the
real per-chassis OpenFlow tables on the emulated wires, so it shows which chassis did
each step (routing, NAT, the tunnel, the drop).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from collections.abc import Set as AbstractSet
from typing import Any

from ovnlab.errors import BadRequest, NotFound
from ovnlab.fabric.icmp import embedded_packet
from ovnlab.fabric.journey import Hop, Journey
from ovnlab.packet import (
    ARP_REQUEST,
    ETH_ARP,
    ETH_IP,
    ICMP_DEST_UNREACH,
    ICMP_ECHO_REPLY,
    ICMP_ECHO_REQUEST,
    ICMP_TIME_EXCEEDED,
    PROTO_ICMP,
    PROTO_TCP,
    PROTO_UDP,
    TCP_ACK,
    TCP_FIN,
    TCP_PSH,
    TCP_RST,
    TCP_SYN,
    Packet,
    ip_str,
    mac_str,
)

MODES = ("minimal", "summary", "detailed")
PROTOS = ("icmp", "tcp", "udp")
TRACE_WINDOW = 10.0  # virtual seconds to wait for the reply (covers ARP's 3 s of retries)
Resolver = Callable[[int], str]

UNREACH = {0: "net unreachable", 1: "host unreachable", 3: "port unreachable",
           13: "administratively prohibited"}


def trace(fabric: Any, src: str, dst: str, proto: str = "icmp", port: int = 0,
          resolver: Resolver | None = None, *, window: float = TRACE_WINDOW) -> Journey:
    """Send one packet SRC → DEST and record its journey (and its reply's)."""
    if proto not in PROTOS:
        raise BadRequest(f"unknown protocol {proto!r} (expected {', '.join(PROTOS)})")
    if proto != "icmp" and not 0 < port < 65536:
        raise BadRequest(f"--{proto} needs a port number (1-65535), got {port}")
    stack = fabric.ip_node(src).stack
    target = fabric.resolve(dst)
    if target is None:
        raise NotFound(f"{dst}: Name or service not known")
    journey = Journey(src, dst, proto, port, resolver=resolver, started=fabric.clock.now)
    request = _request(stack, target, proto, port)
    journey.request = request

    answered_at: list[float] = []

    def catch(packet: Packet) -> bool:
        if journey.reply is None and _answers(request, packet):
            journey.reply = packet
            answered_at.append(fabric.clock.now)
            return True
        return False

    stack.taps.append(catch)
    fabric.start_journey(journey)
    try:
        with fabric.clock.tagged(journey):
            err = stack.send(request)
        if err is None:
            fabric.clock.run_until_idle(fabric.clock.now + window)
    finally:
        fabric.stop_journey()
        stack.taps.remove(catch)
    if answered_at:  # the journey ends with the answer: later timers (ARP refreshes) are not its
        journey.hops = [h for h in journey.hops if h.time <= answered_at[0]]
    journey.disposition = err if err is not None else _disposition(journey, stack.local_ips)
    return journey


def _request(stack: Any, target: int, proto: str, port: int) -> Packet:
    base = Packet(eth_type=ETH_IP, ip_dst=target, ip_ttl=64)
    if proto == "icmp":
        return base.with_(ip_proto=PROTO_ICMP, icmp_type=ICMP_ECHO_REQUEST,
                          icmp_id=stack.next_icmp_ident(), icmp_seq=1, payload=bytes(56))
    if proto == "tcp":
        return base.with_(ip_proto=PROTO_TCP, tp_src=stack.next_port(), tp_dst=port,
                          tcp_flags=TCP_SYN, tcp_seq=1)
    return base.with_(ip_proto=PROTO_UDP, tp_src=stack.next_port(), tp_dst=port,
                      payload=b"ovnlab trace\n")


def _answers(request: Packet, packet: Packet) -> bool:
    if packet.ip_proto == PROTO_ICMP and packet.icmp_type in (ICMP_DEST_UNREACH,
                                                              ICMP_TIME_EXCEEDED):
        inner = embedded_packet(packet)
        return inner is not None and inner.ip_proto == request.ip_proto and (
            inner.icmp_id == request.icmp_id if request.ip_proto == PROTO_ICMP
            else inner.tp_src == request.tp_src)
    if request.ip_proto == PROTO_ICMP:
        return packet.ip_proto == PROTO_ICMP and packet.icmp_type == ICMP_ECHO_REPLY \
            and packet.icmp_id == request.icmp_id
    return packet.ip_proto == request.ip_proto and packet.tp_dst == request.tp_src \
        and packet.tp_src == request.tp_dst


def _disposition(journey: Journey, local_ips: AbstractSet[int]) -> str:
    reply = journey.reply
    drops = [h for h in journey.hops if _is_drop(h)]
    if reply is not None and reply.ip_proto == PROTO_ICMP and reply.icmp_type in (
            ICMP_DEST_UNREACH, ICMP_TIME_EXCEEDED) and reply.ip_src in local_ips and drops:
        # the source's own stack gave up (ARP unanswered): say where the packets died
        return f"{_answer(journey, reply)}; {_dropped_at(_culprit(drops), journey.resolver)}"
    if reply is not None:
        return _answer(journey, reply)
    if drops:
        return f"no reply: {_dropped_at(_culprit(drops), journey.resolver)}"
    return "no reply"


def _culprit(drops: list[Hop]) -> Hop:
    """The first drop in Open vSwitch (an ACL, a missing flow) explains more than the host
    stack giving up afterwards."""
    for candidates in ([h for h in drops if h.packet.eth_type != ETH_ARP], drops):
        for hop in candidates:
            if hop.kind in ("bridge", "drop"):
                return hop
    return drops[-1]


def _dropped_at(hop: Hop, resolver: Resolver | None = None) -> str:
    where = f"{hop.where} on {hop.chassis or hop.node}" if hop.where else hop.node
    note = hop.note if hop.note and hop.note != "dropped" else ""
    if hop.kind == "bridge" and hop.trace is not None:
        last = _last_flow(hop.trace)
        if last is not None:
            table, cookie, missed = last
            described = resolver(cookie) if resolver is not None and cookie else ""
            note = f"table {table}: " + ("no flow matched" if missed else described
                                         or f"cookie {cookie:#x}")
    return f"dropped at {where}" + (f" ({note})" if note else "")


def _last_flow(trace: Any) -> tuple[int, int, bool] | None:
    """The table and cookie of the last flow a dropped packet matched (an ACL's drop, or
    the table where it missed)."""
    steps = getattr(trace, "steps", trace)
    if not isinstance(steps, Iterable) or isinstance(steps, str):
        return None
    last: tuple[int, int, bool] | None = None
    for step in steps:
        table = getattr(step, "table", None)
        flow = getattr(step, "flow", None)
        if table is not None:
            last = (int(table), int(getattr(flow, "cookie", 0) or 0), flow is None)
    return last


def _answer(journey: Journey, reply: Packet) -> str:
    who = ip_str(reply.ip_src)
    if reply.ip_proto == PROTO_ICMP and reply.icmp_type == ICMP_ECHO_REPLY:
        return f"reply: echo reply from {who}"
    if reply.ip_proto == PROTO_ICMP and reply.icmp_type == ICMP_DEST_UNREACH:
        return f"ICMP {UNREACH.get(reply.icmp_code, 'unreachable')} from {who}"
    if reply.ip_proto == PROTO_ICMP:
        return f"ICMP time exceeded from {who}"
    if reply.ip_proto == PROTO_TCP:
        if reply.tcp_flags & TCP_RST:
            return f"port {journey.port} closed: RST from {who}"
        return f"port {journey.port} open: SYN/ACK from {who}"
    return f"reply: UDP from {who}"


def _is_drop(hop: Hop) -> bool:
    return hop.kind == "drop" or (hop.kind == "bridge" and not hop.outputs
                                  and "packet-in" not in hop.note) or (
        hop.kind == "host" and hop.note.startswith("drop"))


# ---------------------------------------------------------------- rendering


def render(journey: Journey, mode: str = "summary") -> str:
    if mode not in MODES:
        raise BadRequest(f"unknown trace mode {mode!r} (expected {', '.join(MODES)})")
    resolver = journey.resolver
    what = journey.proto if journey.proto == "icmp" else f"{journey.proto} port {journey.port}"
    lines = [f"trace {journey.src} -> {journey.dst} ({what})"]
    if journey.request is not None and journey.request.ip_src:
        lines[0] += f": {describe(journey.request)}"
    if mode == "minimal":
        lines += _minimal(journey.hops)
    else:
        lines += _steps(journey.hops, journey.started, detailed=mode == "detailed",
                        resolver=resolver)
        lines += [""] + _summary(journey.hops)
    lines.append(f"disposition: {journey.disposition}")
    return "\n".join(lines) + "\n"


def _flow_hops(hops: Iterable[Hop]) -> list[Hop]:
    """The hops of the traced flow itself, not the ARP it needed (even inside Geneve)."""
    return [h for h in hops if _inner(h.packet).eth_type != ETH_ARP]


def _inner(packet: Packet) -> Packet:
    return packet.geneve.inner if packet.geneve is not None else packet


def _place(hop: Hop) -> str:
    if hop.kind == "bridge":
        return f"{hop.node}:{hop.where}"
    if hop.kind in ("encap", "decap"):
        return f"{hop.node}:{hop.where}(geneve)"
    return f"{hop.node}:{hop.where}" if hop.where else hop.node


def _minimal(hops: list[Hop]) -> list[str]:
    """The path as a chain of places (node:interface or chassis:bridge), one line per
    direction; a leg ends where a host stack takes the packet."""
    legs: list[list[str]] = [[]]
    for hop in _flow_hops(hops):
        if hop.kind in ("controller", "encap", "decap"):
            continue
        if hop.kind == "host":
            if hop.packet.geneve is not None:  # the underlay stack hands it to the tunnel
                continue
            if hop.note.startswith("deliver"):
                legs[-1].append(f"{hop.node} (delivered)")
                legs.append([])
            elif hop.note.startswith("drop"):
                legs[-1].append(f"{hop.node} (dropped: {hop.note[6:]})")
            continue
        place = _place(hop)
        if _is_drop(hop):
            place += " (dropped)"
        if not legs[-1] or legs[-1][-1] != place:
            legs[-1].append(place)
    return ["  " + " -> ".join(leg) for leg in legs if leg]


def _steps(hops: list[Hop], started: float, *, detailed: bool,
           resolver: Resolver | None) -> list[str]:
    lines = []
    for hop in hops:
        if hop.kind == "recv" and not detailed:
            continue
        t = f"{(hop.time - started) * 1000:9.3f}ms"  # since the packet was sent
        head = f"{t}  {hop.node:<12} {hop.kind:<10} {hop.where or '-':<18}"
        if hop.kind == "bridge":
            outs = ", ".join(dict.fromkeys(p for p, _ in hop.outputs)) or "drop"
            text = f"in_port={hop.in_port} -> {outs}"
            changes = sorted({c for _, out in hop.outputs for c in _changes(hop.packet, out)})
            lines.append(f"{head} {text}  [{describe(hop.packet)}]")
            for change in changes:
                lines.append(f"{'':>13}{'':<12} {'':<10} {'':<18} {change}")
            if hop.note:
                lines.append(f"{'':>13}{'':<12} {'':<10} {'':<18} {hop.note}")
            if detailed and hop.trace is not None:
                lines += ["        " + line for line in _trace_lines(hop.trace, resolver)]
        else:
            note = f"  ({hop.note})" if hop.note else ""
            lines.append(f"{head} {describe(hop.packet)}{note}")
    return lines


def _summary(hops: list[Hop]) -> list[str]:
    chassis = _chassis_bridges(_flow_hops(hops))  # ARP floods reach every chassis
    arp_only = not chassis
    if arp_only:
        chassis = _chassis_bridges(hops)
    nat: list[str] = []
    tunnels: list[str] = []
    for hop in _flow_hops(hops):
        if hop.chassis is None:
            continue
        if hop.kind == "bridge":
            for _, out in hop.outputs:
                for change in _changes(hop.packet, out, nat_only=True):
                    item = f"{change} on {hop.chassis}"
                    if item not in nat:
                        nat.append(item)
        elif hop.kind == "encap" and f"{hop.chassis} {hop.note}" not in tunnels:
            tunnels.append(f"{hop.chassis} {hop.note}")
    listed = "; ".join(f"{c} ({', '.join(b)})" for c, b in chassis.items())
    lines = ["chassis: " + (listed + (" [ARP only]" if arp_only else "") if listed
                            else "none (no Open vSwitch on the path)")]
    if nat:
        lines.append("nat: " + "; ".join(nat))
    if tunnels:
        lines.append("tunnels: " + "; ".join(tunnels))
    return lines


def _chassis_bridges(hops: Iterable[Hop]) -> dict[str, list[str]]:
    chassis: dict[str, list[str]] = {}
    for hop in hops:
        if hop.chassis is not None and hop.kind == "bridge":
            bridges = chassis.setdefault(hop.chassis, [])
            if hop.where not in bridges:
                bridges.append(hop.where)
    return chassis


def hop_changes(hop: Hop) -> list[str]:
    """What a bridge did to the packet on its way to any of its outputs (NAT, TTL, MACs)."""
    return sorted({c for _, out in hop.outputs for c in _changes(hop.packet, out)})


def is_drop(hop: Hop) -> bool:
    return _is_drop(hop)


def flow_lines(trace: Any, resolver: Resolver | None) -> list[str]:
    """A bridge hop's ofproto/trace, each flow annotated with its logical flow and NB row
    (as `--detailed` prints it)."""
    return _trace_lines(trace, resolver)


def _changes(before: Packet, after: Packet, nat_only: bool = False) -> list[str]:
    out: list[str] = []
    if before.eth_type != ETH_IP or after.eth_type != ETH_IP:
        return out
    if before.ip_src != after.ip_src:
        out.append(f"SNAT {ip_str(before.ip_src)} -> {ip_str(after.ip_src)}")
    if before.ip_dst != after.ip_dst:
        out.append(f"DNAT {ip_str(before.ip_dst)} -> {ip_str(after.ip_dst)}")
    if before.ip_proto in (PROTO_TCP, PROTO_UDP):
        if before.tp_src != after.tp_src:
            out.append(f"source port {before.tp_src} -> {after.tp_src}")
        if before.tp_dst != after.tp_dst:
            out.append(f"destination port {before.tp_dst} -> {after.tp_dst}")
    if nat_only:
        return out
    if before.ip_ttl != after.ip_ttl:
        out.append(f"ttl {before.ip_ttl} -> {after.ip_ttl}")
    if before.eth_src != after.eth_src:
        out.append(f"eth.src {mac_str(before.eth_src)} -> {mac_str(after.eth_src)}")
    if before.eth_dst != after.eth_dst:
        out.append(f"eth.dst {mac_str(before.eth_dst)} -> {mac_str(after.eth_dst)}")
    return out


def _trace_lines(trace: Any, resolver: Resolver | None) -> list[str]:
    """The datapath's ofproto/trace text, each flow's cookie annotated with its logical
    flow and NB row (what ovn-detrace adds to ofproto/trace)."""
    if hasattr(trace, "render"):
        steps: list[tuple[str, int | None]] = [
            (line, _cookie_in(line)) for line in str(trace.render()).splitlines()]
    elif isinstance(trace, Iterable) and not isinstance(trace, str):
        steps = [(str(step), getattr(getattr(step, "flow", None), "cookie", None))
                 for step in trace]
    else:
        steps = [(line, _cookie_in(line)) for line in str(trace).splitlines()]
    lines = []
    for line, cookie in steps:
        lines.append(line)
        described = resolver(int(cookie)) if cookie and resolver is not None else ""
        if described:
            indent = len(line) - len(line.lstrip())
            lines.append(" " * (indent + 4) + f"* {described}")
    return lines


def _cookie_in(line: str) -> int | None:
    match = _COOKIE.search(line)
    return int(match.group(1), 16) if match else None


_COOKIE = re.compile(r"cookie (0x[0-9a-f]+)")


def describe(packet: Packet) -> str:
    """One packet, tcpdump-style without names."""
    if packet.eth_type == ETH_ARP:
        if packet.arp_op == ARP_REQUEST:
            return f"ARP who-has {ip_str(packet.arp_tpa)} tell {ip_str(packet.arp_spa)}"
        return f"ARP {ip_str(packet.arp_spa)} is-at {mac_str(packet.arp_sha)}"
    if packet.eth_type != ETH_IP:
        return f"ethertype {packet.eth_type:#06x}"
    s, d = ip_str(packet.ip_src), ip_str(packet.ip_dst)
    ttl = f" ttl {packet.ip_ttl}"
    if packet.geneve is not None:
        return f"{s} > {d} geneve vni {packet.geneve.vni:#x}: {describe(packet.geneve.inner)}"
    if packet.ip_proto == PROTO_ICMP:
        kind = {ICMP_ECHO_REQUEST: "echo request", ICMP_ECHO_REPLY: "echo reply",
                ICMP_DEST_UNREACH: f"{UNREACH.get(packet.icmp_code, 'unreachable')}",
                ICMP_TIME_EXCEEDED: "time exceeded in-transit"}.get(
            packet.icmp_type, f"type {packet.icmp_type}")
        ids = f" id {packet.icmp_id} seq {packet.icmp_seq}" if packet.icmp_type in (
            ICMP_ECHO_REQUEST, ICMP_ECHO_REPLY) else ""
        return f"{s} > {d} ICMP {kind}{ids}{ttl}"
    if packet.ip_proto == PROTO_TCP:
        flags = "".join(c for bit, c in ((TCP_SYN, "S"), (TCP_FIN, "F"), (TCP_RST, "R"),
                                         (TCP_PSH, "P")) if packet.tcp_flags & bit)
        if packet.tcp_flags & TCP_ACK:
            flags += "."
        return f"{s}.{packet.tp_src} > {d}.{packet.tp_dst} TCP [{flags or 'none'}]{ttl}"
    if packet.ip_proto == PROTO_UDP:
        return f"{s}.{packet.tp_src} > {d}.{packet.tp_dst} UDP{ttl}"
    return f"{s} > {d} proto {packet.ip_proto}{ttl}"
