"""The lab's physical world: nodes, wires, segments, host IP stacks, the virtual clock,
captures and packet journeys."""

from ovnlab.fabric import trace
from ovnlab.fabric.capture import Captured
from ovnlab.fabric.clock import Clock
from ovnlab.fabric.core import Fabric
from ovnlab.fabric.journey import Hop, Journey
from ovnlab.fabric.link import Interface, Segment, Wire
from ovnlab.fabric.nodes import VM, Chassis, ExternalHost, ExternalRouter, InternetHost, Node

__all__ = [
    "VM", "Captured", "Chassis", "Clock", "ExternalHost", "ExternalRouter", "Fabric", "Hop",
    "Interface", "InternetHost", "Journey", "Node", "Segment", "Wire", "trace",
]
