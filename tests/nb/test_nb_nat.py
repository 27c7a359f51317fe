"""NAT rules are checked when the command is built, for the driver as for ovn-nbctl: a rule
OVN would not take is refused with ovn-nbctl's message and the NB is left as it was."""

from __future__ import annotations

from typing import Any

import pytest

from ovnlab.ml2ovn import new_nb
from ovnlab.nb.api import NbApi
from ovnlab.nb.nat import NatError


def _api() -> NbApi:
    api = NbApi(new_nb())
    api.lr_add("r")
    return api


GOOD: list[dict[str, Any]] = [
    {"type": "snat", "external_ip": "10.0.2.210", "logical_ip": "172.16.100.0/24"},
    {"type": "dnat_and_snat", "external_ip": "10.0.2.211", "logical_ip": "172.16.100.10",
     "logical_port": "vm-port", "external_mac": "fa:16:3e:00:00:01"},
    {"type": "dnat_and_snat", "external_ip": "10.0.2.212", "logical_ip": "172.16.100.11",
     "logical_port": "vm-port"},  # a centralized FIP of Neutron's: no external_mac
    {"type": "dnat", "external_ip": "2001:db8::1", "logical_ip": "fd00::1"},
]
BAD: list[tuple[dict[str, Any], str]] = [
    ({"type": "nat", "external_ip": "10.0.2.210", "logical_ip": "172.16.100.0/24"},
     'nat: type must be one of "dnat", "snat" and "dnat_and_snat".'),
    ({"type": "snat", "external_ip": "10.0.2.999", "logical_ip": "172.16.100.0/24"},
     "10.0.2.999: Not a valid IPv4 or IPv6 address."),
    ({"type": "dnat", "external_ip": "10.0.2.210", "logical_ip": "172.16.100.0/24"},
     "172.16.100.0/24: Not a valid IPv4 address."),
    ({"type": "snat", "external_ip": "10.0.2.210", "logical_ip": "fd00::/64"},
     "fd00::/64: should be an IPv4 address or network."),
    ({"type": "snat", "external_ip": "10.0.2.210", "logical_ip": "172.16.100.0/24",
      "logical_port": "vm-port", "external_mac": "fa:16:3e:00:00:01"},
     'logical_port and external_mac are only valid when type is "dnat_and_snat".'),
    ({"type": "dnat_and_snat", "external_ip": "10.0.2.211", "logical_ip": "172.16.100.10",
      "logical_port": "vm-port", "external_mac": "fa:16:3e:zz:00:01"},
     "invalid mac address fa:16:3e:zz:00:01."),
    ({"type": "snat", "external_ip": "10.0.2.210", "logical_ip": "172.16.100.0/24",
      "options": {"stateless": "true"}},
     "stateless is not applicable to dnat or snat types"),
]


@pytest.mark.parametrize("cols", GOOD)
def test_a_valid_rule_is_written_with_its_router_reference(cols: dict[str, Any]) -> None:
    api = _api()
    nat = api.lr_nat_add("r", **cols)
    assert api.must("Logical_Router", "r")["nat"] == (nat.uuid,)
    assert nat["type"] == cols["type"]


@pytest.mark.parametrize(("cols", "message"), BAD)
def test_a_rule_ovn_would_refuse_is_refused_before_anything_is_written(
        cols: dict[str, Any], message: str) -> None:
    api = _api()
    before = api.db.seqno
    with pytest.raises(NatError) as err:
        api.lr_nat_add("r", **cols)
    assert str(err.value) == message
    assert api.db.seqno == before and not api.db.rows("NAT")
