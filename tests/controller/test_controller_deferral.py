"""Which Southbound changes a chassis may leave for its first observer (deferral.py)."""

from __future__ import annotations

import pytest

from ovnlab.controller.deferral import Here, can_wait
from ovnlab.ovsdb import Change, Row

HERE = Here("uuid-me", "chassis-me", "host-me", {"vm1": 5}, frozenset({"vm1", "cr-lrp"}),
            ha_member=False)
GATEWAY = Here("uuid-me", "chassis-me", "host-me", {}, frozenset(), ha_member=True)


def _pb(name: str = "vm9", *, type: str = "", chassis: str | None = "uuid-other",
        nat: tuple[str, ...] = (), **options: str) -> Row:
    return Row("Port_Binding", f"pb-{name}", {
        "logical_port": name, "type": type, "chassis": chassis, "options": options,
        "nat_addresses": nat})


def _fip(port: str) -> str:
    return f'fa:16:3e:00:00:01 172.24.4.10 is_chassis_resident("{port}")'


def _group(*ref_chassis: str, ha_chassis: tuple[str, ...] = ("hc1",)) -> Row:
    return Row("HA_Chassis_Group", "g", {"name": "lrp", "ha_chassis": ha_chassis,
                                         "ref_chassis": ref_chassis})


def _group_update(old: Row, new: Row) -> Change:
    return Change("HA_Chassis_Group", "update", "g", old, new)


def _router_port(*nat: str, peer: str = "lsp") -> Row:
    return _pb("lrp", type="patch", chassis=None, nat=nat, peer=peer)


def _update(old: Row, new: Row) -> Change:
    return Change("Port_Binding", "update", old.uuid, old, new)


@pytest.mark.parametrize("change", [
    Change("Logical_Flow", "insert", "lf", None, Row("Logical_Flow", "lf", {})),
    Change("Address_Set", "update", "as", Row("Address_Set", "as", {}),
           Row("Address_Set", "as", {})),
    Change("MAC_Binding", "delete", "mb", Row("MAC_Binding", "mb", {}), None),
    Change("Port_Binding", "insert", "pb-vm9", None, _pb(chassis=None)),
    _update(_pb(chassis=None), _pb()),  # claimed by another chassis
    _update(_pb(), _pb(**{"requested-chassis": "chassis-other"})),
    _update(_router_port(), _router_port(_fip("vm9"))),  # a FIP of a VM elsewhere
    _update(_router_port(_fip("vm9")), _router_port()),
    _update(_router_port(_fip("vm1")), _router_port(_fip("vm1"), _fip("vm9"))),
    _group_update(_group("uuid-a"), _group("uuid-a", "uuid-b")),  # serves one more
], ids=["lflow", "address-set", "mac-binding", "vif-created", "vif-claimed-elsewhere",
        "vif-requested-elsewhere", "fip-elsewhere-added", "fip-elsewhere-removed",
        "fip-elsewhere-beside-one-here", "gateway-serves-another"])
def test_what_moves_only_this_chassis_flows_can_wait(change: Change) -> None:
    assert can_wait([change], HERE)


@pytest.mark.parametrize("change", [
    _update(_pb(chassis=None), _pb(chassis="uuid-me")),  # our own claim
    _update(_pb(chassis="uuid-me"), _pb(chassis=None)),  # a release
    _update(_pb(), _pb(**{"requested-chassis": "host-me"})),
    _update(_pb(), _pb(**{"requested-chassis": "chassis-me"})),
    Change("Port_Binding", "insert", "pb-vm1", None, _pb("vm1", chassis=None)),  # plugged here
    Change("Port_Binding", "insert", "pb-p", None, _pb("p", type="patch", chassis=None)),
    _update(_pb("cr", type="chassisredirect"), _pb("cr", type="chassisredirect")),
    Change("Chassis", "insert", "ch", None, Row("Chassis", "ch", {})),
    Change("SB_Global", "update", "g", Row("SB_Global", "g", {}), Row("SB_Global", "g", {})),
    Change("Datapath_Binding", "insert", "dp", None, Row("Datapath_Binding", "dp", {})),
    _update(_router_port(), _router_port(_fip("vm1"))),  # a FIP announced here
    _update(_router_port(_fip("vm1")), _router_port()),
    _update(_router_port(), _router_port(_fip("cr-lrp"))),  # centralized, gateway here
    _update(_router_port(_fip("vm9")), _router_port(_fip("vm9"), peer="other")),
    _group_update(_group("uuid-a"), _group("uuid-a", "uuid-me")),  # serves this one now
    _group_update(_group("uuid-me"), _group()),
    _group_update(_group("uuid-a"), _group("uuid-a", ha_chassis=("hc1", "hc2"))),
], ids=["claim-here", "release-here", "requested-by-hostname", "requested-by-name",
        "plugged-here", "patch-port", "gateway-port", "chassis", "sb-global", "datapath",
        "fip-here-added", "fip-here-removed", "nat-on-active-gateway", "patch-peer",
        "gateway-serves-this-one", "gateway-no-longer-serves-it", "gateway-members"])
def test_what_claims_configures_or_announces_cannot(change: Change) -> None:
    flow_only = Change("Logical_Flow", "insert", "lf", None, Row("Logical_Flow", "lf", {}))
    assert not can_wait([flow_only, change], HERE)


def test_a_gateway_runs_bfd_with_every_chassis_its_group_serves() -> None:
    """A member of the group: a chassis it serves coming changes its BFD peers."""
    change = _group_update(_group("uuid-a"), _group("uuid-a", "uuid-b"))
    assert can_wait([change], HERE)
    assert not can_wait([change], GATEWAY)
