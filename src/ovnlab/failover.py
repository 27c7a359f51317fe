"""Gateway failover measured on the lab's clock: a chassis powered off while VMs ping the
internet every 0.2 s, then powered on again; what BFD, the gateway port bindings, the pings,
the GARPs and SNAT did, in virtual seconds after each event.

    report = measure(lab, "network", ["vm_1", "vm_2"])
    print(render(report))
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ovnlab.fabric import Chassis
from ovnlab.ovsdb import Change
from ovnlab.packet import ARP_REQUEST, ETH_ARP, ETH_IP, ICMP_ECHO_REQUEST, PROTO_ICMP, Packet
from ovnlab.packet import ip as ip_of

PING_INTERVAL = 0.2  # the measured lab's `ping -i 0.2`
LEAD = 1.0  # pings before the first event
PHASE = 8.0  # seconds watched after each event
SNAT_WINDOW = 2.0  # the end of a phase that says where SNAT leaves


@dataclass(frozen=True, slots=True)
class Claim:
    """A gateway port binding moving: its chassis (hostname, "" when unbound)."""

    time: float
    port: str
    chassis: str


@dataclass(frozen=True, slots=True)
class VmOutcome:
    vm: str
    sent: int
    lost: int
    outage: float  # first lost echo to the next answered one (0: none lost)


@dataclass(frozen=True, slots=True)
class Phase:
    """One event (the node stopped, or started again) and what followed, times relative
    to the event."""

    event: str
    bfd_down: float | None  # the first session toward the node that stopped forwarding
    bfd_up: float | None  # ... or forwarded again
    claims: tuple[Claim, ...]
    garps: tuple[tuple[float, str], ...]  # (time, chassis) of the first GARP per chassis
    vms: tuple[VmOutcome, ...]
    snat_via: tuple[str, ...]  # chassis whose eth0 carried the SNAT address at the end


@dataclass(frozen=True, slots=True)
class Report:
    node: str
    stop: Phase
    start: Phase


class _Prober:
    """Echo requests every PING_INTERVAL from each VM; which ones came back."""

    def __init__(self, lab: Any, vms: Sequence[str], target: int) -> None:
        self.lab, self.clock, self.target = lab, lab.fabric.clock, target
        self.sent: dict[str, dict[int, float]] = {vm: {} for vm in vms}
        self.answered: dict[str, set[int]] = {vm: set() for vm in vms}
        self._idents: dict[str, int] = {}
        self._seq = 0
        for vm in vms:
            stack = lab.fabric.ip_node(vm).stack
            self._idents[vm] = ident = stack.next_icmp_ident()
            stack.icmp_sockets[ident] = self._socket(vm)
        self._timer = self.clock.every(PING_INTERVAL, self._tick, daemon=True)

    def _socket(self, vm: str) -> Any:
        def on_icmp(packet: Packet, original: Packet | None) -> None:
            if original is None:
                self.answered[vm].add(packet.icmp_seq)

        return on_icmp

    def _tick(self) -> None:
        self._seq += 1
        for vm, ident in self._idents.items():
            self.sent[vm][self._seq] = self.clock.now
            self.lab.fabric.ip_node(vm).stack.send(Packet(
                eth_type=ETH_IP, ip_dst=self.target, ip_proto=PROTO_ICMP,
                icmp_type=ICMP_ECHO_REQUEST, icmp_id=ident, icmp_seq=self._seq))

    def close(self) -> None:
        self._timer.cancel()
        for vm, ident in self._idents.items():
            self.lab.fabric.ip_node(vm).stack.icmp_sockets.pop(ident, None)

    def outcome(self, vm: str, start: float, end: float) -> VmOutcome:
        seqs = sorted(s for s, t in self.sent[vm].items() if start <= t < end)
        lost = [s for s in seqs if s not in self.answered[vm]]
        if not lost:
            return VmOutcome(vm, len(seqs), 0, 0.0)
        back = next((s for s in seqs if s > lost[0] and s in self.answered[vm]), None)
        until = self.sent[vm][back] if back is not None else end
        return VmOutcome(vm, len(seqs), len(lost), round(until - self.sent[vm][lost[0]], 3))


class _ClaimLog:
    """Gateway (chassisredirect) port bindings as the SB commits their chassis."""

    def __init__(self, lab: Any) -> None:
        self.lab = lab
        self.claims: list[Claim] = []
        lab.sb.subscribe(self._on_sb)

    def _on_sb(self, changes: list[Change]) -> None:
        for c in changes:
            if c.table != "Port_Binding" or c.new is None or c.new["type"] != "chassisredirect":
                continue
            if c.old is not None and c.old["chassis"] == c.new["chassis"]:
                continue
            row = self.lab.sb.lookup("Chassis", c.new["chassis"]) if c.new["chassis"] else None
            self.claims.append(Claim(self.lab.fabric.now, str(c.new["logical_port"]),
                                     str(row["hostname"]) if row is not None else ""))

    def close(self) -> None:
        self.lab.sb.unsubscribe(self._on_sb)


def measure(lab: Any, node: str, vms: Sequence[str], target: str = "8.8.8.8", *,
            lead: float = LEAD) -> Report:
    """Stop `node` while `vms` ping `target`, watch PHASE seconds, start it, watch again.
    The stop comes `lead` seconds after the first echo request (a `lead` that is not a
    multiple of the 0.2 s interval puts the failure between two requests, as a real
    failure falls)."""
    fabric = lab.fabric
    address = fabric.resolve(target)
    if address is None:
        raise ValueError(f"{target}: Name or service not known")
    probe, claims = _Prober(lab, vms, address), _ClaimLog(lab)
    try:
        fabric.run(lead)
        phases = []
        for event, act in (("stop", fabric.stop_node), ("start", fabric.start_node)):
            t0 = fabric.now
            act(node)
            fabric.run(PHASE)
            phases.append(_phase(lab, node, event, t0, probe, claims, vms))
    finally:
        probe.close()
        claims.close()
    lab.converge()
    return Report(node, phases[0], phases[1])


def _phase(lab: Any, node: str, event: str, t0: float, probe: _Prober, claims: _ClaimLog,
           vms: Sequence[str]) -> Phase:
    fabric = lab.fabric
    end = fabric.now
    node_ip = fabric.chassis(node).tunnel_ip
    changes = [e for name in fabric.chassis_names() if name != node
               for e in fabric.chassis(name).bfd.log
               if e.time >= t0 and e.remote_ip == node_ip]
    down = min((e.time for e in changes if e.old == "up" and not e.forwarding), default=None)
    up = min((e.time for e in changes if e.forwarding), default=None)
    gw_ips = _gateway_ips(lab)
    return Phase(
        event=event,
        bfd_down=_rel(down, t0), bfd_up=_rel(up, t0),
        claims=tuple(Claim(round(c.time - t0, 3), c.port, c.chassis)
                     for c in claims.claims if c.time >= t0),
        garps=_garps(lab, gw_ips, t0),
        vms=tuple(probe.outcome(vm, t0, end - 1.0) for vm in vms),
        snat_via=tuple(name for name in fabric.chassis_names()
                       if any(c.time >= end - SNAT_WINDOW and c.direction == "out"
                              and c.packet.eth_type == ETH_IP and c.packet.ip_src in gw_ips
                              for c in _eth0(fabric.chassis(name)))))


def _rel(when: float | None, t0: float) -> float | None:
    return None if when is None else round(when - t0, 3)


def _eth0(chassis: Chassis) -> Any:
    iface = chassis.interfaces.get("eth0")
    return iface.captures if iface is not None else ()


def _gateway_ips(lab: Any) -> set[int]:
    """The routers' gateway addresses (their SNAT source without a FIP)."""
    out: set[int] = set()
    for pb in lab.sb.rows("Port_Binding"):
        if pb["type"] == "chassisredirect":
            for mac_ips in pb["mac"]:
                out |= {ip_of(a.split("/")[0]) for a in mac_ips.split()[1:] if ":" not in a}
    return out


def _garps(lab: Any, gw_ips: set[int], t0: float) -> tuple[tuple[float, str], ...]:
    first: dict[str, float] = {}
    for name in lab.fabric.chassis_names():
        for c in _eth0(lab.fabric.chassis(name)):
            p = c.packet
            if (c.time > t0 and c.direction == "out" and p.eth_type == ETH_ARP
                    and p.arp_op == ARP_REQUEST and p.arp_spa == p.arp_tpa
                    and p.arp_spa in gw_ips):
                first.setdefault(name, round(c.time - t0, 3))
                break
    return tuple(sorted((t, n) for n, t in first.items()))


def checks(report: Report, backup: str) -> list[tuple[str, bool]]:
    """What the real lab showed, as (claim, held) pairs: `backup` is the chassis of the
    next priority; the report's VMs are a FIP VM on `backup`'s side first, then a VM
    without a FIP (ovnlab's bounds: BFD's detection time is 2-3 s after the last
    message, the real lab measured 2.2-2.8 s)."""
    stop, start = report.stop, report.start
    fip, snat = stop.vms[0], stop.vms[-1]
    return [
        ("BFD detected the dead node within 2.0-3.0 s",
         stop.bfd_down is not None and 2.0 <= stop.bfd_down <= 3.0),
        (f"{backup} (next priority) claimed the gateway, once",
         [c.chassis for c in stop.claims] == [backup]),
        (f"{backup} sent GARPs for the gateway address",
         any(n == backup for _t, n in stop.garps)),
        (f"{fip.vm} (FIP) lost nothing", fip.lost == 0),
        (f"{snat.vm} (SNAT) lost 10-15 pings, outage 2.0-3.2 s",
         10 <= snat.lost <= 15 and 2.0 <= snat.outage <= 3.2),
        (f"SNAT left through {backup}", stop.snat_via == (backup,)),
        (f"failback: {report.node} holds the gateway again",
         bool(start.claims) and start.claims[-1].chassis == report.node
         and start.snat_via == (report.node,)),
        (f"failback: {report.node} claimed the gateway 0.9-2.2 s after its start "
         "(daemons up, then BFD's handshake)",
         bool(start.claims) and 0.9 <= _last_claim(start, report.node) <= 2.2),
        ("failback lost at most 4 pings per VM", all(v.lost <= 4 for v in start.vms)),
    ]


def _last_claim(phase: Phase, chassis: str) -> float:
    return max((c.time for c in phase.claims if c.chassis == chassis), default=-1.0)


# ---------------------------------------------------------------- rendering
REAL_LAB = {  # measured on real OVN labs (docs/failover.md), for comparison
    "stop": "BFD down after 2.2-3.0 s; cr-lrp claimed by compute1 after 2.2-3.0 s; "
            "no-FIP VM loses 10-14 pings (outage 2.0-3.1 s); FIP VM unaffected",
    "start": "preemptive failback 1.1-1.7 s after the daemons restart; 0-4 pings lost",
}


def render(report: Report) -> str:
    lines = []
    for phase in (report.stop, report.start):
        verb = "stopped" if phase.event == "stop" else "started again"
        events: list[tuple[float, str]] = [(0.0, f"{report.node} {verb}")]
        if phase.bfd_down is not None:
            events.append((phase.bfd_down, f"BFD toward {report.node}: forwarding false "
                                           "(Control Detection Time Expired)"))
        if phase.bfd_up is not None:
            events.append((phase.bfd_up, f"BFD toward {report.node}: up again"))
        events += [(c.time, f"{c.port} " + (f"claimed by {c.chassis}" if c.chassis
                                            else "released")) for c in phase.claims]
        events += [(t, f"first GARP for the gateway address from {name}")
                   for t, name in phase.garps]
        lines += [f"t={t:.3f} s  {text}" for t, text in sorted(events, key=lambda e: e[0])]
        for vm in phase.vms:
            lines.append(f"  {vm.vm}: {vm.lost} of {vm.sent} pings lost"
                         + (f" (outage {vm.outage:.1f} s)" if vm.lost else ""))
        lines.append(f"  SNAT leaves through: {', '.join(phase.snat_via) or 'nowhere'}")
        lines.append(f"  real lab: {REAL_LAB[phase.event]}")
        lines.append("")
    return "\n".join(lines)


__all__ = ["Claim", "Phase", "Report", "VmOutcome", "checks", "measure", "render"]
