"""`put_dhcp_opts` (DHCPv4) encoded as ovn-controller 22.03 does (lib/actions.c
parse_put_dhcp_opts / encode_PUT_DHCPV4_OPTS, option table lib/ovn-l7.h): a paused
controller action whose userdata carries the result bit, the offer IP and the options in
DHCP wire format. pinctrl's answer is controller/dhcp_reply.py's."""

from __future__ import annotations

import struct

from ovnlab.controller.lexer import Const, Cursor, SyntaxError_
from ovnlab.controller.userdata import controller_userdata
from ovnlab.flows.actions import Controller, SubField
from ovnlab.flows.oxm import nxm_header

# name → (DHCP option code, type), lib/ovn-l7.h (22.03) supported_dhcp_opts.
DHCPV4_OPTS: dict[str, tuple[int, str]] = {
    "offerip": (0, "ipv4"), "netmask": (1, "ipv4"), "router": (3, "ipv4"),
    "dns_server": (6, "ipv4"), "log_server": (7, "ipv4"), "lpr_server": (9, "ipv4"),
    "hostname": (12, "str"), "domain_name": (15, "str"), "swap_server": (16, "ipv4"),
    "policy_filter": (21, "ipv4"), "router_solicitation": (32, "ipv4"),
    "nis_server": (41, "ipv4"), "ntp_server": (42, "ipv4"), "server_id": (54, "ipv4"),
    "tftp_server": (66, "host_id"), "classless_static_route": (121, "static_routes"),
    "ms_classless_static_route": (249, "static_routes"), "ip_forward_enable": (19, "bool"),
    "router_discovery": (31, "bool"), "ethernet_encap": (36, "bool"),
    "default_ttl": (23, "uint8"), "tcp_ttl": (37, "uint8"), "mtu": (26, "uint16"),
    "lease_time": (51, "uint32"), "T1": (58, "uint32"), "T2": (59, "uint32"),
    "bootfile_name": (67, "str"), "wpad": (252, "str"), "path_prefix": (210, "str"),
    "tftp_server_address": (150, "ipv4"), "broadcast_address": (28, "ipv4"),
    "netbios_name_server": (44, "ipv4"), "netbios_node_type": (46, "uint8"),
    "bootfile_name_alt": (254, "str"), "arp_cache_timeout": (35, "uint32"),
    "tcp_keepalive_interval": (38, "uint32"), "next_server": (253, "ipv4"),
}
_INT_WIDTH = {"bool": 1, "uint8": 1, "uint16": 2, "uint32": 4}


def _values(cur: Cursor) -> list[Const]:
    """One constant, or `{c1, c2 ...}` (commas optional, as OVN's constant sets)."""
    if not cur.match("{"):
        return [_const(cur)]
    out: list[Const] = []
    while not cur.match("}"):
        out.append(_const(cur))
        cur.match(",")
    return out


def _const(cur: Cursor) -> Const:
    tok = cur.next()
    if tok.const is None:
        raise SyntaxError_(f"Syntax error at `{tok.text}' expecting constant.")
    return tok.const


def _option(name: str, values: list[Const]) -> bytes:
    """encode_put_dhcpv4_option()."""
    code, typ = DHCPV4_OPTS[name]
    if typ in _INT_WIDTH:
        body = values[0].value.to_bytes(_INT_WIDTH[typ], "big")
    elif typ == "ipv4":
        body = b"".join(struct.pack("!I", c.value) for c in values)
    elif typ == "static_routes":
        body = b""
        for dst, nh in zip(values[0::2], values[1::2], strict=False):
            plen = 32 if dst.mask is None else bin(dst.mask).count("1")
            body += bytes([plen]) + struct.pack("!I", dst.value)[:(plen + 7) // 8] \
                + struct.pack("!I", nh.value)
    elif typ == "host_id" and not values[0].is_string:
        body = struct.pack("!I", values[0].value)
    else:  # str, host_id as a name
        body = values[0].string.encode()
    return bytes([code, len(body) & 0xFF]) + body


def encode_put_dhcpv4_opts(cur: Cursor, dst: SubField) -> Controller:
    """`dst = put_dhcp_opts(offerip = IP, name = value...)`: dst must be one bit; offerip
    goes first, the other options follow in the order written."""
    if dst.nbits != 1:
        raise SyntaxError_("put_dhcp_opts() result must be a single bit.")
    cur.expect("(")
    opts: list[tuple[str, list[Const]]] = []
    while not cur.match(")"):
        name = cur.next().text
        if name not in DHCPV4_OPTS:
            raise SyntaxError_(f"Syntax error at `{name}' expecting DHCPv4 option name.")
        cur.expect("=")
        opts.append((name, _values(cur)))
        cur.match(",")
    offer = next((v for n, v in opts if n == "offerip"), None)
    if offer is None:
        raise SyntaxError_("put_dhcp_opts requires offerip to be specified.")
    data = nxm_header(dst.field) + struct.pack("!II", dst.ofs, offer[0].value)
    data += b"".join(_option(n, v) for n, v in opts if n != "offerip")
    return Controller(userdata=controller_userdata("PUT_DHCP_OPTS") + data, pause=True)
