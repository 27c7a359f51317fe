"""The lab's physical world: nodes, wires, segments, host IP stacks, the virtual clock,
captures and packet journeys.

    fabric = Fabric.build(topology, vswitches, controllers,
                          subnets=lambda subnet_id: cloud.get_subnet(ctx, subnet_id))
    fabric.sync_vms({port_id: (server, port, host)})    # Nova plugging/unplugging VIFs
    ping.run(fabric, "vm_1", ["-c", "3", "dns.google"])  # runs the virtual clock
    fabric.captures("compute1")["eth0"]                  # [Captured(time, iface, dir, pkt)]
    trace.render(trace.trace(fabric, "vm_1", "8.8.8.8", "icmp", 0, resolver), "summary")

Where each part lives, bottom-up: a module imports only modules listed before it.

| part | module |
|---|---|
| the virtual clock and its event queue | `clock.py` |
| what an interface saw (tcpdump's record, a ring per interface) | `capture.py` |
| NICs, point-to-point wires, L2 segments (a learning switch) | `link.py` |
| one packet's causal chain, as recorded | `journey.py` |
| a host's addresses and routes (Linux's FIB) | `fib.py` |
| ICMP errors, built and parsed | `icmp.py` |
| the ARP cache: NUD states, solicitations, replies, the L2 header write | `neigh.py` |
| TCP: listeners, server streams, connect() | `tcp.py` |
| the IPv4 layer: output, fragmentation, forwarding, local delivery, echo | `host.py` (`HostStack`) |
| clients on a host's stack: busybox udhcpc, curl's connection | `dhcpclient.py`, `tcpclient.py` |
| Geneve encapsulation, the OVS/controller contract | `ovs.py` |
| ovs-vswitchd's tunnel ARP (tnl-neigh-cache), its BFD sessions | `tnlneigh.py`, `bfdlink.py` |
| nodes: VMs, routers, hosts, chassis (br-int glue, daemons) | `nodes.py` |
| the ovn-metadata-agent's namespaces and haproxy | `metadata.py` |
| the parts by name, the name service, lookups, journeys | `inventory.py` |
| a topology cabled: chassis NICs, underlay, internet, external hosts | `wiring.py` |
| `Fabric`: Nova's VIF plugging, metadata namespaces, node stop/start, BFD sync | `core.py` |
| operator failures as data (kept across `ovnlab down`/`up`) | `failures.py` |
| `ovnlab trace`: one packet sent, followed and rendered | `trace.py` |
"""

from ovnlab.fabric import trace
from ovnlab.fabric.capture import CAPTURE_BUFFER_FRAMES, CaptureBuffer, Captured
from ovnlab.fabric.clock import Clock
from ovnlab.fabric.core import Fabric
from ovnlab.fabric.journey import Hop, Journey
from ovnlab.fabric.link import Interface, Segment, Wire
from ovnlab.fabric.nodes import (
    VM,
    Chassis,
    Daemon,
    ExternalHost,
    ExternalRouter,
    InternetHost,
    Node,
)

__all__ = [
    "CAPTURE_BUFFER_FRAMES", "VM", "CaptureBuffer", "Captured", "Chassis", "Clock", "Daemon",
    "ExternalHost", "ExternalRouter", "Fabric", "Hop", "Interface", "InternetHost", "Journey", "Node", "Segment", "Wire", "trace",
]
