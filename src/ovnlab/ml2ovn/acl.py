"""Security group rules -> OVN ACL columns, as neutron/common/ovn/acl.py builds them."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any

from ovnlab.errors import BadRequest
from ovnlab.ml2ovn import names

# neutron_lib IP_PROTOCOL_MAP (the names Neutron accepts), by number
_PROTO_BY_NAME = {
    "ah": 51, "dccp": 33, "egp": 8, "esp": 50, "gre": 47, "hopopt": 0, "icmp": 1, "igmp": 2,
    "ipip": 4, "ipv6-encap": 41, "ipv6-frag": 44, "ipv6-icmp": 58, "icmpv6": 58,
    "ipv6-nonxt": 59, "ipv6-opts": 60, "ipv6-route": 43, "ospf": 89, "pgm": 113, "rsvp": 46,
    "sctp": 132, "tcp": 6, "udp": 17, "udplite": 136, "vrrp": 112,
}
_TRANSPORT = {6: "tcp", 17: "udp", 132: "sctp"}
_ICMP = {1, 58}


def protocol_number(protocol: Any) -> int | None:
    if protocol is None or protocol == "":
        return None
    try:
        num = int(protocol)
    except (TypeError, ValueError):
        if str(protocol) in _PROTO_BY_NAME:
            return _PROTO_BY_NAME[str(protocol)]
    else:
        if 0 <= num <= 255:
            return num
    raise BadRequest(
        f'The protocol "{protocol}" is not supported. Valid protocols are: '
        f"{', '.join(_PROTO_BY_NAME)}; or protocol numbers ranging from 0 to 255.",
        type="ProtocolNotSupported")


def rule_match(port_group: str, rule: Mapping[str, Any]) -> str:
    """The ACL match for one rule on a port group (`_add_sg_rule_acl_for_port_group`)."""
    ingress = rule["direction"] == "ingress"
    match = f"{'outport' if ingress else 'inport'} == @{port_group}"
    ip_version = icmp = None
    if rule.get("ethertype", "IPv4") == "IPv4":
        match += " && ip4"
        ip_version, icmp = "ip4", "icmp4"
    elif rule.get("ethertype") == "IPv6":
        match += " && ip6"
        ip_version, icmp = "ip6", "icmp6"
    src_or_dst = "src" if ingress else "dst"
    cidr = rule.get("normalized_cidr") or _normalize(rule.get("remote_ip_prefix"))
    if cidr:
        match += f" && {ip_version}.{src_or_dst} == {cidr}"
    if rule.get("remote_group_id"):
        addrset = names.pg_addrset_name(rule["remote_group_id"], ip_version or "ip4")
        match += f" && {ip_version}.{src_or_dst} == ${addrset}"
    proto = protocol_number(rule.get("protocol"))
    if proto is None:
        return match
    lo, hi = rule.get("port_range_min"), rule.get("port_range_max")
    if proto in _TRANSPORT:
        name = _TRANSPORT[proto]
        match += f" && {name}"
        if lo is not None and lo == hi:
            match += f" && {name}.dst == {int(lo)}"
        else:
            if lo is not None:
                match += f" && {name}.dst >= {int(lo)}"
            if hi is not None:
                match += f" && {name}.dst <= {int(hi)}"
    elif proto in _ICMP:
        match += f" && {icmp}"
        if lo is not None:
            match += f" && {icmp}.type == {int(lo)}"
        if hi is not None:
            match += f" && {icmp}.code == {int(hi)}"
    else:
        match += f" && ip.proto == {proto}"
    return match


def rule_acl(port_group: str, rule: Mapping[str, Any], stateful: bool = True) -> dict[str, Any]:
    """ACL columns for a rule (`add_sg_rule_acl_for_port_group`)."""
    return {
        "priority": names.ACL_PRIORITY_ALLOW,
        "action": "allow-related" if stateful else "allow-stateless",
        "log": False,
        "name": None,
        "severity": None,
        "direction": "to-lport" if rule["direction"] == "ingress" else "from-lport",
        "match": rule_match(port_group, rule),
        "external_ids": {names.SG_RULE_ID: rule["id"]},
    }


def drop_acls(port_group: str = names.DROP_PORT_GROUP) -> list[dict[str, Any]]:
    """The default-drop ACLs of `neutron_pg_drop` (`add_acls_for_drop_port_group`)."""
    return [
        {"priority": names.ACL_PRIORITY_DROP, "action": "drop", "log": False, "name": None,
         "severity": None, "direction": direction, "match": f"{p} == @{port_group} && ip"}
        for direction, p in (("from-lport", "inport"), ("to-lport", "outport"))
    ]


def _normalize(prefix: Any) -> str | None:
    if not prefix:
        return None
    return str(ipaddress.ip_network(str(prefix), strict=False))
