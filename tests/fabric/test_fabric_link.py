"""Wires and segments: who gets a frame, when, and in which order."""

from __future__ import annotations

from ovnlab.fabric.clock import Clock
from ovnlab.fabric.link import LINK_LATENCY, Interface, Segment
from ovnlab.packet import BROADCAST, ETH_ARP, Packet


class Recorder:
    """A node that logs every frame and, like a stack answering at once, schedules a
    zero-delay consequence of it."""

    def __init__(self, name: str, clock: Clock, log: list[tuple[float, str]]) -> None:
        self.name = name
        self.clock = clock
        self.log = log

    def on_receive(self, iface: Interface, packet: Packet) -> None:
        self.log.append((self.clock.now, f"recv {self.name}"))
        self.clock.call_later(0.0, self.log.append, (self.clock.now, f"after {self.name}"))


def test_a_flood_reaches_every_other_port_in_attach_order_before_any_consequence() -> None:
    clock = Clock()
    log: list[tuple[float, str]] = []
    seg = Segment("underlay", clock)
    ifaces = []
    for n, name in enumerate(["d", "a", "c", "b"]):  # attach order, not name order
        iface = Interface("eth1", 0x020000000001 + n, Recorder(name, clock, log), clock)
        seg.attach(iface)
        ifaces.append(iface)
    arp = Packet(eth_src=ifaces[0].mac, eth_dst=BROADCAST, eth_type=ETH_ARP, arp_op=1)
    clock.call_at(1.0, log.append, (1.0, "a later event"))
    ifaces[0].send(arp)
    clock.call_at(LINK_LATENCY, log.append, (LINK_LATENCY, "scheduled after the send"))
    clock.run_until_idle()
    t = LINK_LATENCY
    assert log == [(t, "recv a"), (t, "recv c"), (t, "recv b"),
                   (t, "scheduled after the send"),
                   (t, "after a"), (t, "after c"), (t, "after b"), (1.0, "a later event")]
    assert [len(i.captures) for i in ifaces] == [1, 1, 1, 1]
    assert ifaces[0].captures[0].direction == "out"
    assert all(i.captures[0].direction == "in" and i.captures[0].time == t and
               i.captures[0].packet is arp for i in ifaces[1:])
    # learnt: a unicast back to d reaches d alone
    reply = Packet(eth_src=ifaces[2].mac, eth_dst=ifaces[0].mac, eth_type=ETH_ARP, arp_op=2)
    log.clear()
    ifaces[2].send(reply)
    clock.run_until_idle()
    assert [e for _t, e in log] == ["recv d", "after d"]
