"""Reading the real `ovs-appctl ofproto/trace` text: the OpenFlow tables a packet went
through on each bridge (across its recirculations), and where its last datapath actions
sent it: a datapath port, a Geneve tunnel (`tnl_push`, with its VNI and OVN's option), the
controller (a packet-in), or nowhere."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import Enum

TABLE_RE = re.compile(r"^(\s*)(\d+)\. (?:(.*?), )?priority (\d+)(?:, cookie (0x[0-9a-f]+))?$")
NO_MATCH_RE = re.compile(r"^(\s*)(\d+)\. No match\.$")  # a lookup that found nothing
BRIDGE_RE = re.compile(r'^\s*bridge\("([^"]+)"\)$')
# the actions worth a line in the summary: NAT, leaving the bridge, packet-ins, drops
NOTABLE = re.compile(r"nat\(|^output:|^NORMAL|^controller\(|^drop$|tun_id|bundle\(")
# the packet's own fields in a `Flow:` line (not OVN's registers, conntrack or recirc state)
PACKET_FIELDS = ("dl_src", "dl_dst", "nw_src", "nw_dst", "nw_ttl", "nw_tos", "icmp_type",
                 "icmp_code", "tp_src", "tp_dst")
PROTOCOLS = ("icmp", "tcp", "udp", "ip", "arp")


class Exit(Enum):
    PORT = "port"
    TUNNEL = "tunnel"
    CONTROLLER = "controller"
    DROP = "drop"


@dataclass(frozen=True)
class TableStep:
    bridge: str
    table: int
    match: str
    priority: int  # -1: a lookup that matched nothing
    actions: tuple[str, ...]

    def notable(self) -> list[str]:
        if self.priority < 0:  # its `drop` only ends that lookup (a resubmit returns)
            return []
        forks = any(a.startswith("ct(") for a in self.actions)  # its `drop` ends a fork
        return [a for a in self.actions if NOTABLE.search(a) and not (forks and a == "drop")]


@dataclass(frozen=True)
class Tunnel:
    vni: int
    option: int  # OVN's Geneve option: the ingress port and egress port (tun_metadata0)
    remote_ip: str


@dataclass(frozen=True)
class OfTrace:
    steps: tuple[TableStep, ...]
    exit: Exit
    ports: tuple[int, ...] = ()  # datapath port numbers, when `exit` is PORT
    tunnel: Tunnel | None = None
    packet: dict[str, str] = field(default_factory=dict)  # as it leaves
    proto: str = "ip"


def parse(text: str) -> OfTrace:
    """One `ofproto/trace` answer (every recirculation in it)."""
    steps: list[TableStep] = []
    bridges: list[tuple[int, str]] = []  # (indent, name): a patch port nests the next bridge
    current: tuple[int, int, str, int] | None = None  # indent, table, match, priority
    actions: list[str] = []
    flow_line = ""
    datapath = ""

    def close() -> None:
        if current is not None:
            bridge = next((b for i, b in reversed(bridges) if i <= current[0]), "")
            steps.append(TableStep(bridge, current[1], current[2], current[3], tuple(actions)))

    for line in text.splitlines():
        if line.startswith("Flow: "):
            flow_line = line[len("Flow: "):]
            continue
        if line.startswith("Datapath actions: "):
            datapath = line[len("Datapath actions: "):]
            continue
        if m := BRIDGE_RE.match(line):
            close()
            current, actions = None, []
            indent = len(line) - len(line.lstrip())
            bridges = [b for b in bridges if b[0] < indent] + [(indent, m.group(1))]
            continue
        if m := TABLE_RE.match(line):
            close()
            current = (len(m.group(1)), int(m.group(2)), m.group(3) or "", int(m.group(4)))
            actions = []
            continue
        if m := NO_MATCH_RE.match(line):
            close()
            current, actions = (len(m.group(1)), int(m.group(2)), "No match", -1), []
            continue
        stripped = line.strip()
        if stripped == "thaw" and steps and bridges:
            # a recirculation's section names the in_port's bridge, but it resumes in the
            # bridge that recirculated
            close()
            current, actions = None, []
            bridges[-1] = (bridges[-1][0], steps[-1].bridge)
            continue
        if (current is not None and stripped and line[0].isspace()  # sections start at 0
                and not stripped.startswith(("->", "resubmit(", "thaw", "Resuming"))):
            actions.append(stripped)
    close()
    proto, packet = _packet(flow_line)
    for step in steps:  # ofproto/trace's conntrack does not rewrite the flow it shows
        for action in step.actions:
            if m := re.search(r"nat\((src|dst)=([\d.]+)", action):
                packet[f"nw_{m.group(1)}"] = m.group(2)
    return _exit(tuple(steps), datapath, proto, packet)


def _packet(flow: str) -> tuple[str, dict[str, str]]:
    proto = "ip"
    packet: dict[str, str] = {}
    for item in flow.split(","):
        key, _, value = item.partition("=")
        if not value and key in PROTOCOLS:
            proto = key
        elif key in PACKET_FIELDS:
            packet[key] = value
    return proto, packet


def _top_level(actions: str) -> list[str]:
    """The datapath actions, split on the commas outside parentheses."""
    out, depth, start = [], 0, 0
    for i, ch in enumerate(actions):
        depth += (ch == "(") - (ch == ")")
        if ch == "," and depth == 0:
            out.append(actions[start:i])
            start = i + 1
    out.append(actions[start:])
    return [a for a in out if a]


def _exit(steps: tuple[TableStep, ...], datapath: str, proto: str,
          packet: dict[str, str]) -> OfTrace:
    packet = dict(packet)
    ports: list[int] = []
    for action in _top_level(datapath):
        if m := re.fullmatch(r"set\(eth\(src=([0-9a-f:]+),dst=([0-9a-f:]+)\)\)", action):
            packet["dl_src"], packet["dl_dst"] = m.group(1), m.group(2)
        elif m := re.fullmatch(r"set\(ipv4\(ttl=(\d+)\)\)", action):
            packet["nw_ttl"] = m.group(1)
        elif m := re.fullmatch(r"set\(ipv4\(src=([\d.]+)\)\)", action):
            packet["nw_src"] = m.group(1)
        elif action.startswith("tnl_push("):
            vni = re.search(r"vni=(0x[0-9a-f]+)", action)
            opt = re.search(r"options\(\{class=0x102,type=0x80,len=4,(0x[0-9a-f]+)\}\)", action)
            dst = re.search(r"ipv4\(src=[\d.]+,dst=([\d.]+)", action)
            if vni and opt and dst:
                tunnel = Tunnel(int(vni.group(1), 16), int(opt.group(1), 16), dst.group(1))
                return OfTrace(steps, Exit.TUNNEL, tunnel=tunnel, packet=packet, proto=proto)
        elif action.startswith("userspace(") and "controller(" in action:
            return OfTrace(steps, Exit.CONTROLLER, packet=packet, proto=proto)
        elif action.isdigit():
            ports.append(int(action))
    if ports:
        return OfTrace(steps, Exit.PORT, ports=tuple(ports), packet=packet, proto=proto)
    return OfTrace(steps, Exit.DROP, packet=packet, proto=proto)
