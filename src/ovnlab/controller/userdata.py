"""The userdata of OVN's controller actions (include/ovn/actions.h, lib/actions.c
`encode_start_controller_op`): an 8-byte action_header {opcode, pad}, then what the
opcode needs; for the nested actions, OpenFlow 1.5 (flows/oxm.py)."""

from __future__ import annotations

import struct

from ovnlab.flows.actions import Action
from ovnlab.flows.oxm import decode_of15, encode_of15

# ACTION_OPCODE_* (include/ovn/actions.h, OVN 22.03), in enum order.
OPCODES = ("ARP", "PUT_ARP", "PUT_DHCP_OPTS", "ND_NA", "PUT_ND", "PUT_DHCPV6_OPTS",
           "DNS_LOOKUP", "LOG", "PUT_ND_RA_OPTS", "ND_NS", "ICMP", "TCP_RESET",
           "ND_NA_ROUTER", "PUT_ICMP4_FRAG_MTU", "ICMP4_ERROR", "EVENT", "IGMP",
           "BIND_VPORT", "HANDLE_SVC_CHECK", "DHCP6_SERVER", "ICMP6_ERROR",
           "PUT_ICMP6_FRAG_MTU", "REJECT", "BFD_MSG", "SCTP_ABORT", "PUT_FDB")
OPCODE = {name: i for i, name in enumerate(OPCODES)}


def action_header(opcode: str) -> bytes:
    return struct.pack("!I4x", OPCODE[opcode])


def controller_userdata(opcode: str, nested: tuple[Action, ...] | list[Action] = ()) -> bytes:
    return action_header(opcode) + encode_of15(nested)


def parse_userdata(data: bytes) -> tuple[str, list[Action]]:
    """(opcode name, nested actions) of a controller action's userdata."""
    if len(data) < 8:
        raise ValueError("userdata shorter than OVN's action header")
    op = struct.unpack_from("!I", data)[0]
    if op >= len(OPCODES):
        raise ValueError(f"unknown OVN action opcode {op}")
    return OPCODES[op], decode_of15(data[8:])
