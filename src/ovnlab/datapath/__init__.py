"""The datapath: bridges that execute OpenFlow tables on packets, with conntrack and NAT.

`Vswitch(hostname)` is one node's Open vSwitch; `Bridge.process(packet, in_port)` runs a
packet through the tables and returns what came out (`outputs`, `packet_ins`, `trace`).
"""

from ovnlab.datapath.bridge import Bridge, FlowTable, Port, ProcessResult
from ovnlab.datapath.conntrack import Conntrack, CtEntry, CtResult
from ovnlab.datapath.key import TunnelMetadata
from ovnlab.datapath.pipeline import (
    DatapathError,
    Output,
    PacketIn,
    ResubmitLoopError,
    TraceStep,
)
from ovnlab.datapath.trace import Trace, TracePass, key_flow_text
from ovnlab.datapath.vswitch import Vswitch

__all__ = [
    "Bridge", "Conntrack", "CtEntry", "CtResult", "DatapathError", "FlowTable", "Output",
    "PacketIn", "Port", "ProcessResult", "ResubmitLoopError", "Trace", "TracePass",
    "TraceStep", "TunnelMetadata", "Vswitch", "key_flow_text",
]
