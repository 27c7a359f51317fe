"""Gateway failover measured on the lab's clock: the network node (or any chassis) stops
while VMs ping the internet every 0.2 s, then starts again; what BFD, the cr-lrp port
binding, the pings and SNAT did, in virtual seconds.

    report = measure(lab, "network", ["vm_1", "vm_2"], target="8.8.8.8")
    print(render(report))
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ovnlab.packet import ETH_IP, ICMP_ECHO_REQUEST, PROTO_ICMP, Packet

PING_INTERVAL = 0.2  # the measured lab's `ping -i 0.2`
SETTLE = 8.0  # seconds of pings after each event


@dataclass(frozen=True, slots=True)
class Claim:
    time: float
    chassis: str  # hostname, or "" when released


@dataclass(frozen=True, slots=True)
class PhaseReport:
    """One event (the node stopped, or started again) and what followed it."""

    event: str
    at: float
    bfd_changed: float | None  # first BFD session toward the node that changed forwarding
    claims: tuple[Claim, ...]  # the cr-lrp's chassis, as it changed
    lost: dict[str, int]  # pings lost per VM
    outage: dict[str, float]  # first lost to first answered again, per VM
    snat_via: str  # the chassis whose eth0 carries the router's SNAT traffic afterwards


@dataclass(frozen=True, slots=True)
class Report:
    node: str
    stop: PhaseReport
    start: PhaseReport


class _Prober:
    """Echo requests every PING_INTERVAL from each VM; which sequence numbers came back."""

    def __init__(self, lab: Any, vms: Sequence[str], target: int) -> None:
        self.lab, self.clock = lab, lab.fabric.clock
        self.sent: dict[str, dict[int, float]] = {vm: {} for vm in vms}
        self.answered: dict[str, set[int]] = {vm: set() for vm in vms}
        self._idents: dict[str, int] = {}
        self._timer = self.clock.every(PING_INTERVAL, self._tick, daemon=True)
        self.target = target
        self._seq = 0
        for vm in vms:
            stack = lab.fabric.ip_node(vm).stack
            ident = stack.next_icmp_ident()
            self._idents[vm] = ident

            def on_icmp(packet: Packet, original: Packet | None, vm: str = vm) -> None:
                if original is None:
                    self.answered[vm].add(packet.icmp_seq)

            stack.icmp_sockets[ident] = on_icmp

    def _tick(self) -> None:
        self._seq += 1
        for vm, ident in self._idents.items():
            stack = self.lab.fabric.ip_node(vm).stack
            self.sent[vm][self._seq] = self.clock.now
            stack.send(Packet(eth_type=ETH_IP, ip_dst=self.target, ip_proto=PROTO_ICMP,
                              icmp_type=ICMP_ECHO_REQUEST, icmp_id=ident, icmp_seq=self._seq))

    def stop(self) -> None:
        self._timer.cancel()
        for vm, ident in self._idents.items():
            self.lab.fabric.ip_node(vm).stack.icmp_sockets.pop(ident, None)

    def window(self, vm: str, start: float, end: float) -> tuple[int, float]:
        """Pings sent in [start, end) that were lost, and the outage (first lost to the
        next answered)."""
        seqs = sorted(s for s, t in self.sent[vm].items() if start <= t < end)
        lost = [s for s in seqs if s not in self.answered[vm]]
        if not lost:
            return 0, 0.0
        back = next((s for s in seqs if s > lost[0] and s in self.answered[vm]), None)
        first = self.sent[vm][lost[0]]
        until = self.sent[vm][back] if back is not None else end
        return len(lost), round(until - first, 3)



