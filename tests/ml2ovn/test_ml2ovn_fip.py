"""The one rule for a FIP's distributed NAT (`ovnlab.ml2ovn.fip`), and every path through
the driver that applies it: create, port up/down, the option toggle, resync; and the NB
samples built with it agree with what the driver writes."""

from __future__ import annotations

import pytest

from ovnlab.ml2ovn import fip, names
from ovnlab.ml2ovn.scenario import seed_scenario, set_lsp_up
from ovnlab.nb.types import NatType
from ovnlab.northd.samples import seed_nb

MAC, OLD = "fa:16:3e:00:00:01", "fa:16:3e:00:00:02"

# (distributed, port up, FIP port MAC known, what the row has) -> external_mac, as
# Neutron's ovn_client / mech_driver write it (LP#2025264: a port going down keeps it).
RULE = [
    (False, True, MAC, OLD, None),
    (False, False, MAC, OLD, None),
    (False, True, MAC, None, None),
    (True, True, MAC, None, MAC),
    (True, True, MAC, OLD, MAC),
    (True, False, MAC, None, None),
    (True, False, MAC, OLD, OLD),
    (True, True, None, OLD, OLD),
    (True, True, None, None, None),
    (True, False, MAC, "", None),
]


@pytest.mark.parametrize(("distributed", "up", "fip_mac", "current", "want"), RULE)
def test_external_mac_rule(distributed: bool, up: bool, fip_mac: str | None,
                           current: str | None, want: str | None) -> None:
    assert fip.external_mac(distributed=distributed, port_up=up, fip_mac=fip_mac,
                            current=current) == want


def test_nat_columns_of_a_fip() -> None:
    f = {"id": "f1", "fixed_ip_address": "10.0.0.5", "floating_ip_address": "172.24.4.9",
         "port_id": "p1", "revision_number": 3, "floating_network_id": "ext"}
    cols = fip.nat_columns(f, "r1", MAC, distributed=True, port_up=False)
    assert cols["type"] == NatType.DNAT_AND_SNAT == "dnat_and_snat"
    assert (cols["logical_ip"], cols["external_ip"], cols["logical_port"]) == \
        ("10.0.0.5", "172.24.4.9", "p1")
    assert "external_mac" not in cols  # a port not up yet: centralized until it is
    assert cols["external_ids"] == {
        names.FIP_ID: "f1", names.REVISION: "3", names.FIP_PORT_ID: "p1",
        names.ROUTER_NAME: "neutron-r1", names.FIP_EXTERNAL_MAC: MAC,
        names.FIP_NETWORK_ID: "ext"}
    assert fip.nat_columns(f, "r1", MAC, distributed=True, port_up=True)["external_mac"] == MAC
    assert "external_mac" not in fip.nat_columns(f, "r1", MAC, distributed=False, port_up=True)


def test_every_driver_path_follows_the_rule(lab_factory) -> None:
    """Create (port down, then up), port down, toggle off and on, resync: the row's
    external_mac is what the rule gives for the state at each step."""
    lab = lab_factory("seed")
    s = seed_scenario(lab.neutron, vm_up=False)
    port, row = s["vm_port"]["id"], lambda: lab.nb.tables["NAT"][s["fip"]["id"]]
    fip_mac = row()["external_ids"][names.FIP_EXTERNAL_MAC]
    assert row()["external_mac"] is None
    set_lsp_up(lab.nb, port, True)
    assert row()["external_mac"] == fip_mac
    set_lsp_up(lab.nb, port, False)
    assert row()["external_mac"] == fip_mac  # kept on port down
    lab.driver.set_distributed_floating_ip(False)
    assert row()["external_mac"] is None
    lab.driver.set_distributed_floating_ip(True)  # the port is down: nothing to announce
    assert row()["external_mac"] is None
    set_lsp_up(lab.nb, port, True)
    lab.driver.sync(lab.neutron.snapshot())
    assert row()["external_mac"] == fip_mac


@pytest.mark.parametrize("distributed", [True, False])
def test_nb_samples_agree_with_the_driver(lab_factory, distributed: bool) -> None:
    """The seed's NB sample (northd's fixture) holds the FIP row the driver writes."""
    lab = lab_factory("seed", f"ovn.enable_distributed_floating_ip={str(distributed).lower()}")
    s = seed_scenario(lab.neutron)
    driver_row = lab.nb.tables["NAT"][s["fip"]["id"]]
    sample = next(r for r in seed_nb(distributed).rows("NAT") if fip.is_fip_nat(r))
    assert sample["external_mac"] == driver_row["external_mac"]
