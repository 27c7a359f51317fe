"""Building matches by intersection (what ovn-controller's compiler uses) and set_field's
OpenFlow 1.0 form, against the parser and Debian's real `ovs-ofctl`."""

from __future__ import annotations

import ipaddress
import shutil
import subprocess

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ovnlab.flows import (
    Conflict,
    Flow,
    MatchBuilder,
    SetField,
    format_actions,
    format_flow,
    format_flow_mod,
    parse_actions,
    parse_flow,
    to_of10,
)
from ovnlab.flows.fields import FIELDS


def test_register_fields_split_into_32_bit_slots_as_ovs_stores_them() -> None:
    b = MatchBuilder()
    b.set_field(FIELDS["xxreg0"], 0x5 << 96 | 0x7, (0xFFFFFFFF << 96) | 0xF)
    b.set_field(FIELDS["xreg4"], 1 << 32, 1 << 32)  # reg8 bit 0
    assert dict(b.slots) == {"reg0": (5, 0xFFFFFFFF), "reg3": (7, 0xF), "reg8": (1, 1)}


def test_conflicting_constraints_raise_and_compatible_ones_merge() -> None:
    b = MatchBuilder()
    b.set_field(FIELDS["reg10"], 0x1, 0x1)
    b.set_field(FIELDS["reg10"], 0x4, 0x4)
    assert b.slots["reg10"] == (0x5, 0x5)
    with pytest.raises(Conflict):
        b.set_field(FIELDS["reg10"], 0x0, 0x1)


def test_tos_byte_holds_dscp_and_ecn_as_ovs_prints_them() -> None:
    b = MatchBuilder({"dl_type": (0x0800, 0xFFFF)})
    b.set_field(FIELDS["ip_dscp"], 10)
    b.set_field(FIELDS["nw_ecn"], 1)
    flow = Flow(match=b.match())
    assert format_flow(flow) == "ip,nw_tos=40,nw_ecn=1 actions=drop"
    assert parse_flow(format_flow_mod(flow)) == flow


def test_match_is_canonical_whatever_the_order_of_constraints() -> None:
    one, two = MatchBuilder(), MatchBuilder()
    for name, value in (("metadata", 3), ("eth_type", 0x0800), ("reg14", 1)):
        one.set_field(FIELDS[name], value)
    for name, value in (("reg14", 1), ("metadata", 3), ("eth_type", 0x0800)):
        two.set_field(FIELDS[name], value)
    assert one == two and hash(one) == hash(two)
    assert one.match() == two.match() == parse_flow("ip,reg14=1,metadata=3,actions=drop").match


_SETTABLE = ["eth_src", "eth_dst", "ip_src", "ip_dst", "tcp_dst", "reg0", "reg14", "xreg4",
             "xxreg0", "metadata", "nw_ttl", "arp_op", "ct_mark", "ipv6_dst", "nw_ecn"]


def _value_text(name: str, v: int) -> str:
    """A value as ovs-ofctl reads it for the field: MAC, IPv6 address or integer."""
    if FIELDS[name].width == 48:
        return ":".join(f"{v:012x}"[i:i + 2] for i in range(0, 12, 2))
    if name.startswith("ipv6"):
        return str(ipaddress.IPv6Address(v))
    return f"{v:#x}"


@settings(max_examples=120, deadline=None)
@given(st.sampled_from(_SETTABLE), st.data())
def test_set_field_of10_is_what_the_parser_makes_of_set_field_text(name: str,
                                                                   data: st.DataObject) -> None:
    """One home for set_field's OpenFlow 1.0 form: the controller's typed set_field and
    ovs-ofctl's `set_field:V/M->F` text become the same mod_*/load: actions."""
    width = FIELDS[name].width
    value = data.draw(st.integers(0, (1 << width) - 1))
    whole = name in ("eth_src", "eth_dst", "ip_src", "ip_dst", "tcp_dst") or data.draw(
        st.booleans())
    mask = None if whole else data.draw(st.integers(1, (1 << width) - 1))
    text = f"set_field:{_value_text(name, value)}" + (
        "" if mask is None else f"/{_value_text(name, mask)}") + f"->{name}"
    in_ct = name == "ct_mark"
    parsed = parse_actions(f"ct(commit,exec({text}))" if in_ct else text)
    built = to_of10([SetField(name, value & (mask or (1 << width) - 1), mask)])
    assert (parsed[0].actions if in_ct else parsed) == built  # type: ignore[union-attr]


@pytest.mark.oracle
@pytest.mark.skipif(shutil.which("ovs-ofctl") is None, reason="needs openvswitch-common")
def test_real_ovs_ofctl_prints_the_new_fields_as_we_do() -> None:
    """The fields the controller's symbols name (ip.dscp, ip.ecn, ip.frag, ip6.label,
    sctp): our text of a typed flow equals what ovs-ofctl prints for it."""
    flows = [
        Flow(match=parse_flow("ipv6,ipv6_label=0x5,actions=drop").match),
        Flow(match=parse_flow("ip,nw_frag=later,actions=drop").match,
             actions=to_of10([SetField("ip_dscp", 10), SetField("nw_ecn", 1),
                              SetField("ip_dscp", 3, 3)])),
        Flow(match=parse_flow("sctp,tp_dst=80,actions=drop").match,
             actions=to_of10([SetField("sctp_src", 5)])),
    ]
    for f in flows:
        proc = subprocess.run(["ovs-ofctl", "parse-flow", format_flow_mod(f)],
                              capture_output=True, text=True, check=True)
        body = proc.stdout.strip().splitlines()[-1].split(" ADD ", 1)[1]
        assert body == format_flow(f), (body, format_actions(f.actions))
