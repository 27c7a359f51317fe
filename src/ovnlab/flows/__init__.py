"""The typed OpenFlow flow model shared by the datapath, the controller and the tools:
one table of fields (`fields.py`, OVS's meta-flow), one set of actions (`actions.py`).

`parse_flow(text)` reads `ovs-ofctl add-flow` syntax and `dump-flows` lines;
`format_flow(flow, stats)` prints exactly what `ovs-ofctl dump-flows` prints;
`make_flow(table, priority, match, actions)` builds a flow from field names.
ovn-controller builds its flows without text: matches by intersecting constraints
(`MatchBuilder`), actions as OVN's encoders make them (`set_field`), given back as the
switch prints them (`to_of10`); `oxm.py` encodes the actions it nests in controller
userdata in OpenFlow 1.5.
"""

from ovnlab.flows.actions import (
    Action,
    Clone,
    Conjunction,
    Controller,
    Ct,
    CtClear,
    DecTtl,
    Load,
    Mod,
    Move,
    Nat,
    Note,
    Output,
    OutputReg,
    Pop,
    Push,
    Resubmit,
    SetField,
    StripVlan,
    SubField,
    format_actions,
    set_field,
    to_of10,
)
from ovnlab.flows.fields import (
    OFPP_ALL,
    OFPP_CONTROLLER,
    OFPP_FLOOD,
    OFPP_IN_PORT,
    OFPP_LOCAL,
    OFPP_NORMAL,
    lookup_field,
)
from ovnlab.flows.format import format_flow, format_flow_mod, format_match
from ovnlab.flows.match import Conflict, MatchBuilder
from ovnlab.flows.model import (
    OFP_DEFAULT_PRIORITY,
    Flow,
    FlowError,
    FlowStats,
    Match,
    make_flow,
    make_match,
)
from ovnlab.flows.parse import ParsedFlow, parse_flow, parse_flow_full, parse_match
from ovnlab.flows.parse_actions import parse_actions, parse_subfield

__all__ = [
    "Action", "Clone", "Conflict", "Conjunction", "Controller", "Ct", "CtClear", "DecTtl",
    "Flow", "FlowError", "FlowStats", "Load", "Match", "MatchBuilder", "Mod", "Move", "Nat",
    "Note",
    "OFP_DEFAULT_PRIORITY", "OFPP_ALL", "OFPP_CONTROLLER", "OFPP_FLOOD", "OFPP_IN_PORT",
    "OFPP_LOCAL", "OFPP_NORMAL", "Output", "OutputReg", "ParsedFlow", "Pop", "Push",
    "Resubmit", "SetField", "StripVlan", "SubField", "format_actions", "format_flow",
    "format_flow_mod", "format_match",
    "lookup_field", "make_flow", "make_match", "parse_actions", "parse_flow",
    "parse_flow_full", "parse_match", "parse_subfield", "set_field", "to_of10",
]
