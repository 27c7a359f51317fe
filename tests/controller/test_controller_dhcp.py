"""put_dhcp_opts / handle_dhcpv6_reply encoded as ovn-controller 22.03 does; the expected
texts are what `ovs-ofctl dump-flows br-int` printed on a real 22.03 chassis for the seed."""

from __future__ import annotations

import pytest

from ovnlab.controller.actions import EncodeParams, compile_actions
from ovnlab.controller.lexer import SyntaxError_
from ovnlab.flows import Controller, format_actions
from ovnlab.flows.actions import to_of10


def _text(actions: str, table: int = 19, switch: bool = True) -> str:
    acts, _ = compile_actions(actions, EncodeParams(cur_table=table, is_switch=switch))
    return format_actions(to_of10(acts))


def _userdata(actions: str) -> bytes:
    acts, _ = compile_actions(actions, EncodeParams(cur_table=19))
    return next(a for a in acts if isinstance(a, Controller)).userdata


def test_put_dhcp_opts_as_a_real_chassis_installs_it() -> None:
    text = _text("reg0[3] = put_dhcp_opts(offerip = 172.16.100.10, lease_time = 43200, "
                 "mtu = 1442, netmask = 255.255.255.0, router = 172.16.100.1, "
                 "server_id = 172.16.100.1); next;")
    assert text == (
        "controller(userdata=00.00.00.02.00.00.00.00.00.01.de.10.00.00.00.63.ac.10.64.0a.33.04."
        "00.00.a8.c0.1a.02.05.a2.01.04.ff.ff.ff.00.03.04.ac.10.64.01.36.04.ac.10.64.01,pause),"
        "resubmit(,28)")


def test_handle_dhcpv6_reply_as_a_real_chassis_installs_it() -> None:
    assert _text("reg0 = 0; handle_dhcpv6_reply;", table=3, switch=False) == (
        "load:0->NXM_NX_XXREG0[96..127],controller(userdata=00.00.00.13.00.00.00.00)")


def test_dhcp_option_types_in_wire_format() -> None:
    ud = _userdata('reg0[3] = put_dhcp_opts(offerip = 10.0.0.5, dns_server = {8.8.8.8, '
                   '1.1.1.1}, classless_static_route = {10.17.0.0/16, 10.0.0.1, '
                   '0.0.0.0/0, 10.0.0.254}, hostname = "vm1", ip_forward_enable = 1); next;')
    opts = ud[8 + 4 + 4 + 4:]  # header, result field, its offset, offer IP
    assert opts == bytes([
        6, 8, 8, 8, 8, 8, 1, 1, 1, 1,
        # RFC 3442: 16.10.17 then the router; 0 (default route) then the router
        121, 12, 16, 10, 17, 10, 0, 0, 1, 0, 10, 0, 0, 254,
        12, 3, *b"vm1",
        19, 1, 1])


@pytest.mark.parametrize("actions, error", [
    ("reg0[3] = put_dhcp_opts(lease_time = 3600); next;", "offerip"),
    ("reg0 = put_dhcp_opts(offerip = 10.0.0.5); next;", "single bit"),
    ("reg0[3] = put_dhcp_opts(offerip = 10.0.0.5, colour = 1); next;", "colour"),
])
def test_bad_put_dhcp_opts_is_refused(actions: str, error: str) -> None:
    with pytest.raises(SyntaxError_, match=error):
        compile_actions(actions, EncodeParams(cur_table=19))
