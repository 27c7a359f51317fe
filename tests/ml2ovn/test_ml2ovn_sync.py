from __future__ import annotations

from ovnlab.ml2ovn import OVNMechanismDriver, new_nb
from ovnlab.ml2ovn.scenario import seed_scenario, set_lsp_up
from ovnlab.ml2ovn.sync import canonical


def test_sync_on_an_empty_nb_equals_the_incremental_result(lab) -> None:
    seed_scenario(lab.neutron, vm_up=False)
    fresh = new_nb(seed=1)
    drv = OVNMechanismDriver(fresh, lab.sb, lab.topo.neutron.ovn)
    drv.sync(lab.neutron.snapshot())
    assert canonical(fresh) == canonical(lab.nb)


def test_sync_of_an_up_to_date_nb_changes_nothing(lab) -> None:
    seed_scenario(lab.neutron)
    seqno = lab.nb.seqno
    lab.driver.sync(lab.neutron.snapshot())
    assert lab.nb.seqno == seqno


def test_sync_repairs_drift_and_keeps_uuids(lab) -> None:
    s = seed_scenario(lab.neutron)
    expected = canonical(lab.nb, with_up=True)
    lr = lab.driver.api.must("Logical_Router", f"neutron-{s['router']['id']}")
    vm = lab.driver.api.must("Logical_Switch_Port", s["vm_port"]["id"])
    gwc = lab.nb.rows("Gateway_Chassis")[1]
    with lab.nb.transaction():
        lab.driver.api.delete("NAT", s["fip"]["id"])
        lab.driver.api.delete("Gateway_Chassis", gwc.uuid)
        lab.driver.api.set(vm, addresses=("00:00:00:00:00:01",))
        lab.driver.api.lr_add("neutron-stale")
    assert canonical(lab.nb, with_up=True) != expected
    lab.driver.sync(lab.neutron.snapshot())
    got = canonical(lab.nb, with_up=True)
    assert {t: v for t, v in got.items() if t != "Gateway_Chassis"} == \
        {t: v for t, v in expected.items() if t != "Gateway_Chassis"}
    # As Neutron's repair does: the surviving chassis keep the top priorities, the missing
    # one is scheduled again below them.
    prios = sorted((g["priority"], g["chassis_name"]) for g in lab.nb.rows("Gateway_Chassis"))
    assert prios[-1] == (3, lab.chassis_of("network"))
    assert prios[0] == (1, gwc["chassis_name"])
    assert lab.driver.api.must("Logical_Router", lr["name"]).uuid == lr.uuid
    assert lab.driver.api.must("Logical_Switch_Port", vm["name"]).uuid == vm.uuid
    assert s["fip"]["id"] in lab.nb.tables["NAT"]


def test_sync_keeps_gateway_chassis_and_external_mac_of_a_down_port(lab) -> None:
    s = seed_scenario(lab.neutron)
    set_lsp_up(lab.nb, s["vm_port"]["id"], False)  # DVR keeps external_mac on port down
    before = [(g["name"], g["priority"]) for g in lab.nb.rows("Gateway_Chassis")]
    lab.driver.sync(lab.neutron.snapshot())
    assert lab.nb.tables["NAT"][s["fip"]["id"]]["external_mac"] == "fa:16:3e:9f:84:ff"
    assert [(g["name"], g["priority"]) for g in lab.nb.rows("Gateway_Chassis")] == before


def test_after_sync_the_driver_handles_new_operations(lab) -> None:
    s = seed_scenario(lab.neutron, with_fip=False)
    fresh = new_nb(seed=3)
    drv = OVNMechanismDriver(fresh, lab.sb, lab.topo.neutron.ovn)
    drv.sync(lab.neutron.snapshot())
    lab.neutron.driver = drv
    fip = lab.neutron.floatingip(s["ext_n2"], s["extsubnet"], "10.0.2.216", mac="fa:16:3e:9f:84:ff")
    lab.neutron.associate(fip, s["vm_port"], s["router"])
    nat = fresh.tables["NAT"][fip["id"]]
    assert nat["logical_port"] == s["vm_port"]["id"]
    assert nat["external_mac"] is None  # LSP.up unknown in a fresh NB until northd reports it
    set_lsp_up(fresh, s["vm_port"]["id"], True)
    assert fresh.tables["NAT"][fip["id"]]["external_mac"] == "fa:16:3e:9f:84:ff"
