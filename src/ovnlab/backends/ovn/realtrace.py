"""`ovnlab trace` on the real backend: one packet from a server, followed chassis by chassis
with each chassis's own `ovs-appctl ofproto/trace br-int FLOW` (its ovs-vswitchd, its
flows). Where a trace ends in a Geneve tunnel, the next one starts on the remote chassis
from that tunnel's port with the tunnel's metadata (tun_id = the datapath, tun_metadata0 =
the logical ingress/egress ports, which OVN's table 0 and 38 read back into metadata,
reg14, reg15); where it ends on a provider NIC, the packet leaves that chassis there, and
its reply is traced back in from that NIC.

First a real packet is sent (so that ARP and OVN's MAC_Binding are resolved on the wire, as
the emulated trace resolves them); ofproto/trace itself shows neither ARP nor packet-ins.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass

from ovnlab.backends.ovn.ofptrace import Exit, OfTrace, parse

__all__ = ["Exit", "Follower", "RealJourney", "Start", "render"]
from ovnlab.errors import BadRequest, NotFound

Run = Callable[[str, list[str]], str]  # (node, argv) -> stdout, in the node's namespace
MAX_HOPS = 6
INTEGRATION = "br-int"
NOT_SHOWN = ("the real trace shows each chassis's OpenFlow tables (ofproto/trace), not ARP "
             "resolution, packet-ins, or conntrack's state (each recirculation assumed new)")


@dataclass(frozen=True)
class Start:
    """Where the packet enters a bridge, and the packet."""
    chassis: str
    bridge: str
    in_port: str  # the port's name
    match: str  # the flow ofproto/trace takes, without in_port


@dataclass(frozen=True)
class RealHop:
    start: Start
    trace: OfTrace
    outcome: str  # where it went, in words
    leg: str  # "request" or "reply"


@dataclass(frozen=True)
class RealJourney:
    src: str
    dst: str
    proto: str
    port: int
    hops: tuple[RealHop, ...]
    disposition: str


@dataclass(frozen=True)
class Chassis:
    hostname: str
    tunnel_ip: str


class Follower:
    """Follows one packet across the chassis through `run`."""

    def __init__(self, run: Run, chassis: list[Chassis], external: str) -> None:
        self.run = run
        self.chassis = chassis
        self.external = external  # the external router's name
        self._ports: dict[str, dict[int, tuple[str, str]]] = {}

    def dp_ports(self, chassis: str) -> dict[int, tuple[str, str]]:
        """Datapath port number -> (bridge, port name), from `ovs-appctl dpif/show`."""
        if chassis not in self._ports:
            ports: dict[int, tuple[str, str]] = {}
            bridge = ""
            for line in self.run(chassis, ["ovs-appctl", "dpif/show"]).splitlines():
                words = line.split()
                if line.startswith("  ") and not line.startswith("    ") and line.endswith(":"):
                    bridge = line.strip()[:-1]
                elif len(words) >= 2 and "/" in words[1]:
                    odp = words[1].rstrip(":").split("/")[1]
                    if odp.isdigit():
                        ports[int(odp)] = (bridge, words[0])
            self._ports[chassis] = ports
        return self._ports[chassis]

    def exit_port(self, chassis: str, ports: tuple[int, ...]) -> tuple[str, str]:
        """(bridge, port) the packet left by: a NIC or tap rather than the bridge's own
        internal port (NORMAL floods to both until it has learned the MAC)."""
        known = [self.dp_ports(chassis).get(p, ("?", str(p))) for p in ports]
        return next((bp for bp in known if bp[0] != bp[1]), known[0])

    def ofport(self, chassis: str, iface: str) -> int:
        return int(self.run(chassis, ["ovs-vsctl", "get", "Interface", iface, "ofport"]))

    def trace(self, start: Start) -> OfTrace:
        port = self.ofport(start.chassis, start.in_port)
        flow = f"in_port={port},{start.match}"
        return parse(self.run(start.chassis, ["ovs-appctl", "ofproto/trace", start.bridge,
                                              flow]))

    def follow(self, start: Start, leg: str, servers: dict[str, str]) -> tuple[list[RealHop], str]:
        """The hops from `start` until the packet leaves Open vSwitch, and its disposition."""
        hops: list[RealHop] = []
        for _ in range(MAX_HOPS):
            t = self.trace(start)
            if t.exit is Exit.TUNNEL:
                assert t.tunnel is not None
                remote = self._by_ip(t.tunnel.remote_ip)
                here = self._by_hostname(start.chassis)
                hops.append(RealHop(start, t, f"geneve to {remote.hostname} (tun_id="
                                    f"{t.tunnel.vni:#x}, tun_metadata0={t.tunnel.option:#x})",
                                    leg))
                match = (f"tun_id={t.tunnel.vni:#x},tun_src={here.tunnel_ip},"
                         f"tun_dst={remote.tunnel_ip},tun_metadata0={t.tunnel.option:#x},"
                         + flow_match(t.proto, t.packet))
                start = Start(remote.hostname, INTEGRATION,
                              self._tunnel_port(remote.hostname, here.tunnel_ip), match)
                continue
            if t.exit is Exit.PORT:
                bridge, name = self.exit_port(start.chassis, t.ports)
                if name in servers:
                    hops.append(RealHop(start, t, f"delivered to {servers[name]} ({name})", leg))
                    return hops, f"delivered to {servers[name]}"
                hops.append(RealHop(start, t, f"leaves {start.chassis} on {name} ({bridge}): "
                                    f"the provider network; {self.external} receives it", leg))
                return hops, f"left {start.chassis} on {name} to {self.external}"
            if t.exit is Exit.CONTROLLER:
                hops.append(RealHop(start, t, "packet-in to ovn-controller (not followed)", leg))
                return hops, f"sent to ovn-controller on {start.chassis}"
            if any(a == "nat" for step in t.steps for a in step.actions):
                # ct(nat) un-NATs only a connection conntrack knows: the real one knows
                # the request's, ofproto/trace's stand-in knows none
                hops.append(RealHop(start, t, "dropped in ofproto/trace, which has no "
                                    "conntrack entry to un-NAT it (the real one has)", leg))
                return hops, f"not followed past {start.chassis}'s un-NAT (conntrack)"
            hops.append(RealHop(start, t, "dropped", leg))
            return hops, f"dropped on {start.chassis}"
        raise BadRequest(f"the trace did not leave Open vSwitch within {MAX_HOPS} hops")

    def _by_ip(self, ip: str) -> Chassis:
        for ch in self.chassis:
            if ch.tunnel_ip == ip:
                return ch
        raise NotFound(f"no chassis with tunnel address {ip}")

    def _by_hostname(self, name: str) -> Chassis:
        return next(ch for ch in self.chassis if ch.hostname == name)

    def _tunnel_port(self, chassis: str, remote_ip: str) -> str:
        """The Geneve port on `chassis` whose remote end is `remote_ip` (ovn-controller's
        ovn-XXXXXX-0)."""
        out = self.run(chassis, ["ovs-vsctl", "--bare", "--columns=name,options", "find",
                                 "Interface", "type=geneve"])
        for block in out.strip().split("\n\n"):
            lines = block.strip().splitlines()
            m = re.search(r'remote_ip="?([0-9.]+)', lines[1]) if len(lines) >= 2 else None
            if m and m.group(1) == remote_ip:
                return lines[0].strip()
        raise NotFound(f"{chassis} has no tunnel to {remote_ip}")


def flow_match(proto: str, packet: dict[str, str]) -> str:
    return ",".join([proto, *(f"{k}={v}" for k, v in packet.items())])


def request_match(proto: str, port: int, src_mac: str, dst_mac: str, src_ip: str,
                  dst_ip: str) -> str:
    base = f"{proto},dl_src={src_mac},dl_dst={dst_mac},nw_src={src_ip},nw_dst={dst_ip},nw_ttl=64"
    if proto == "icmp":
        return base + ",icmp_type=8,icmp_code=0"
    flags = ",tcp_flags=0x002" if proto == "tcp" else ""  # SYN
    return f"{base},tp_src=40000,tp_dst={port}{flags}"


def reply_match(trace: OfTrace) -> str:
    """The reply to the packet `trace` sent out: addresses and ports swapped."""
    p = trace.packet
    swapped = {"dl_src": p["dl_dst"], "dl_dst": p["dl_src"], "nw_src": p["nw_dst"],
               "nw_dst": p["nw_src"], "nw_ttl": "64"}
    if trace.proto == "icmp":
        swapped.update(icmp_type="0", icmp_code="0")
    elif "tp_src" in p:
        swapped.update(tp_src=p["tp_dst"], tp_dst=p["tp_src"])
        if trace.proto == "tcp":
            swapped["tcp_flags"] = "0x012"  # SYN+ACK
    return flow_match(trace.proto, swapped)


def destination(dst: str, names: dict[str, str]) -> str:
    """DEST as an IPv4 address: an address, or a lab host's name."""
    if dst in names:
        return names[dst]
    try:
        return str(ipaddress.IPv4Address(dst))
    except ValueError:
        raise NotFound(f"{dst}: Name or service not known") from None


def render(journey: RealJourney, mode: str) -> str:
    from ovnlab.fabric.trace import MODES

    if mode not in MODES:
        raise BadRequest(f"unknown trace mode {mode!r} (expected {', '.join(MODES)})")
    what = journey.proto if journey.proto == "icmp" else f"{journey.proto} port {journey.port}"
    lines = [f"trace {journey.src} -> {journey.dst} ({what})"]
    if mode == "minimal":
        for leg in ("request", "reply"):
            places = [f"{h.start.chassis}:{h.start.bridge}" for h in journey.hops if h.leg == leg]
            if places:
                lines.append("  " + " -> ".join(places) + f"  ({_last(journey, leg)})")
    else:
        for hop in journey.hops:
            s = hop.start
            lines.append(f"  {hop.leg:<8} {s.chassis:<12} bridge     {s.bridge:<8} "
                         f"in_port={s.in_port} -> {hop.outcome}")
            for step in hop.trace.steps:
                shown = list(step.actions) if mode == "detailed" else step.notable()
                if shown:
                    lines.append(f"{'':<13}table {step.table:>2} ({step.bridge}): "
                                 + "; ".join(shown))
        lines += ["", _chassis_line(journey)]
        nat = _nat_line(journey)
        if nat:
            lines.append(nat)
        tunnels = [f"{h.start.chassis} {h.outcome}" for h in journey.hops
                   if h.trace.exit is Exit.TUNNEL]
        if tunnels:
            lines.append("tunnels: " + "; ".join(tunnels))
    lines.append(f"not shown: {NOT_SHOWN}")
    lines.append(f"disposition: {journey.disposition}")
    return "\n".join(lines) + "\n"


def _last(journey: RealJourney, leg: str) -> str:
    return [h.outcome for h in journey.hops if h.leg == leg][-1]


def _chassis_line(journey: RealJourney) -> str:
    chassis: dict[str, list[str]] = {}
    for hop in journey.hops:
        bridges = chassis.setdefault(hop.start.chassis, [])
        for step in hop.trace.steps:
            if step.bridge not in bridges:
                bridges.append(step.bridge)
    return "chassis: " + "; ".join(f"{c} ({', '.join(b)})" for c, b in chassis.items())


def _nat_line(journey: RealJourney) -> str:
    items: list[str] = []
    for hop in journey.hops:
        for step in hop.trace.steps:
            for action in step.actions:
                if action.startswith("nat(") and "=" in action:
                    item = f"{action} (table {step.table}) on {hop.start.chassis}"
                    if item not in items:
                        items.append(item)
    return "nat: " + "; ".join(items) if items else ""
