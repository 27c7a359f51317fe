"""The lab's physical world: nodes, wires, segments, host IP stacks, the virtual clock,
captures and packet journeys.

    fabric = Fabric.build(topology, vswitches, controllers,
                          subnets=lambda subnet_id: cloud.get_subnet(ctx, subnet_id))
    fabric.sync_vms({port_id: (server, port, host)})    # Nova plugging/unplugging VIFs
    ping.run(fabric, "vm_1", ["-c", "3", "dns.google"])  # runs the virtual clock
    fabric.captures("compute1")["eth0"]                  # [Captured(time, iface, dir, pkt)]
    trace.render(trace.trace(fabric, "vm_1", "8.8.8.8", "icmp", 0, resolver), "summary")
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
