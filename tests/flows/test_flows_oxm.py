"""The OpenFlow 1.5 encoding of the actions OVN nests in controller userdata."""

from __future__ import annotations

import pytest

from ovnlab.flows import Controller, DecTtl, Move, Pop, Push, Resubmit, SetField, SubField
from ovnlab.flows.oxm import decode_of15, encode_of15, field_of_header, nxm_header


def test_round_trip_of_every_nested_kind() -> None:
    acts = [SetField("eth_dst", 0xFFFFFFFFFFFF), SetField("reg10", 1 << 6, 1 << 6),
            Move(SubField("reg0", 0, 32), SubField("arp_tpa", 0, 32)),
            Push(SubField.whole("eth_src")), Pop(SubField.whole("eth_src")),
            DecTtl(()), Resubmit(None, 37), Controller(userdata=b"\x01\x02", pause=True)]
    assert decode_of15(encode_of15(acts)) == acts


def test_set_field_carries_its_oxm_header_value_and_mask() -> None:
    # OFPAT_SET_FIELD, len 16: OXM reg10 (0x0001, 10) masked, 4-byte value, 4-byte mask
    assert encode_of15([SetField("reg10", 0x40, 0x40)]).hex() == (
        "00190010" "00011508" "00000040" "00000040")


def test_headers_name_fields_both_ways() -> None:
    header = int.from_bytes(nxm_header("xxreg0"), "big")
    assert field_of_header(header) == "xxreg0"
    assert field_of_header(0xDEAD0000) is None


def test_actions_openflow_1_5_cannot_nest_are_refused() -> None:
    with pytest.raises(ValueError, match="cannot be nested"):
        encode_of15([Resubmit(3, None)])
