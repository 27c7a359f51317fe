"""The seed built by the ML2/OVN driver (not by hand), compiled by northd incrementally."""

from typing import Any

from ovnlab import topology
from ovnlab.ml2ovn import OVNMechanismDriver, new_nb
from ovnlab.ml2ovn.scenario import MiniNeutron, register_chassis, seed_scenario
from ovnlab.northd import Northd
from ovnlab.ovsdb import Database, Row
from ovnlab.sb import new_sb


def lflows(sb: Database) -> list[tuple[str, str, int, int, str, str]]:
    name = {d.uuid: d["external_ids"]["name"] for d in sb.rows("Datapath_Binding")}
    return sorted((name[f["logical_datapath"]], f["pipeline"], f["table_id"], f["priority"],
                   f["match"], f["actions"]) for f in sb.rows("Logical_Flow"))


def stage_flows(sb: Database, stage: str, needle: str) -> list[Row]:
    return [f for f in sb.rows("Logical_Flow")
            if f["external_ids"]["stage-name"] == stage and needle in f["match"]]


def build() -> tuple[Any, Database, Database, Northd, dict[str, Any], MiniNeutron]:
    topo = topology.load("seed", [])
    nb, sb = new_nb(), new_sb()
    register_chassis(sb, topo)
    driver = OVNMechanismDriver(nb, sb, topo.neutron.ovn)
    neutron = MiniNeutron(driver)
    northd = Northd(nb, sb)
    northd.run()
    res = seed_scenario(neutron)
    northd.run()
    # ovn-controller on compute1 claims the VM port.
    vm = res["vm_port"]["id"]
    compute1 = sb.get("Chassis", topo.node("compute1").system_id)
    pb = sb.find("Port_Binding", logical_port=vm)[0]
    with sb.transaction() as txn:
        txn.update("Port_Binding", pb.uuid, chassis=compute1.uuid, up=True)
    northd.run()
    return topo, nb, sb, northd, res, neutron


def test_driver_seed_gives_distributed_fip_flows() -> None:
    topo, nb, sb, northd, res, _ = build()
    vm = res["vm_port"]["id"]
    assert nb.get("Logical_Switch_Port", vm)["up"] is True
    snat = stage_flows(sb, "lr_out_snat", "ip4.src == 172.16.100.10")
    assert {f["priority"] for f in snat} == {161, 162}
    assert all(f'is_chassis_resident("{vm}")' in f["match"] for f in snat)
    assert any(f["actions"].endswith("ct_snat_in_czone(10.0.2.216);") for f in snat)
    dnat = stage_flows(sb, "lr_in_dnat", "10.0.2.216")
    assert [f["actions"] for f in dnat] == ["ct_dnat_in_czone(172.16.100.10);"]
    cr = [p for p in sb.rows("Port_Binding") if p["type"] == "chassisredirect"]
    assert len(cr) == 1
    ha = sb.get("HA_Chassis_Group", cr[0]["ha_chassis_group"])
    by_prio = sorted(((sb.get("HA_Chassis", u)["priority"],
                       sb.get("Chassis", sb.get("HA_Chassis", u)["chassis"])["hostname"])
                      for u in ha["ha_chassis"]), reverse=True)
    assert [h for _, h in by_prio] == ["network", "compute1", "compute2"]
    fresh = new_sb()
    register_chassis(fresh, topo)
    Northd(nb, fresh).run()
    assert lflows(sb) == lflows(fresh)


def test_fip_disassociation_leaves_centralized_snat() -> None:
    topo, nb, sb, northd, res, neutron = build()
    neutron.disassociate(res["fip"])
    northd.run()
    assert not stage_flows(sb, "lr_out_snat", "ip4.src == 172.16.100.10")
    snat = stage_flows(sb, "lr_out_snat", "172.16.100.0/24")
    assert [f["priority"] for f in snat if "reg9[4]" not in f["match"]] == [153]
    assert "is_chassis_resident(\"cr-lrp-" in snat[0]["match"]
    fresh = new_sb()
    register_chassis(fresh, topo)
    Northd(nb, fresh).run()
    assert lflows(sb) == lflows(fresh)


def test_distributed_off_centralizes_the_fip() -> None:
    topo, nb, sb, northd, res, neutron = build()
    neutron.driver.set_distributed_floating_ip(False)
    northd.run()
    vm = res["vm_port"]["id"]
    snat = stage_flows(sb, "lr_out_snat", "ip4.src == 172.16.100.10")
    assert snat and all(f'is_chassis_resident("{vm}")' not in f["match"] for f in snat)
    assert all('is_chassis_resident("cr-lrp-' in f["match"] for f in snat)
