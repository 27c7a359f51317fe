"""The cloud with the real ML2/OVN driver writing an NB database."""

from __future__ import annotations

from typing import Any

import pytest
from cloud_helpers import Clock, article

from ovnlab import topology
from ovnlab.cloud import Cloud
from ovnlab.errors import OvnlabError
from ovnlab.ovsdb import Database

ml2ovn = pytest.importorskip("ovnlab.ml2ovn")
scenario = pytest.importorskip("ovnlab.ml2ovn.scenario")
sb_schema = pytest.importorskip("ovnlab.sb.schema")


def _build(name: str = "seed") -> tuple[Cloud, Database, Any]:
    topo = topology.load(name)
    nb, sb = ml2ovn.new_nb(), sb_schema.new_sb()
    scenario.register_chassis(sb, topo)
    driver = ml2ovn.OVNMechanismDriver(nb, sb, topo.neutron.ovn)
    cloud = Cloud(None, topo, driver, clock=Clock())
    driver.on_port_status = lambda port_id, up: cloud.update_port_status(
        port_id, "ACTIVE" if up else "DOWN")
    return cloud, nb, driver


def _nat(nb: Database, type_: str) -> list[Any]:
    return [row for row in nb.rows("NAT") if row["type"] == type_]


def _set_lsp_up(nb: Database, port_id: str, up: bool) -> None:
    """What northd does when the VM's chassis claims the port."""
    lsp = nb.find("Logical_Switch_Port", name=port_id)[0]
    with nb.transaction() as txn:
        txn.update("Logical_Switch_Port", lsp.uuid, up=up)


def test_article_through_the_real_driver() -> None:
    cloud, nb, _ = _build()
    admin = cloud.admin_context()
    r = article(cloud, admin)
    gw_ip = r["router"]["external_gateway_info"]["external_fixed_ips"][0]["ip_address"]
    fip = r["fip"]
    assert {row["name"] for row in nb.rows("Logical_Switch")} >= {
        f"neutron-{r['n1']['id']}", f"neutron-{r['ext']['id']}"}
    assert [row["name"] for row in nb.rows("Logical_Router")] == [f"neutron-{r['router']['id']}"]
    snat = _nat(nb, "snat")
    assert [(row["external_ip"], row["logical_ip"]) for row in snat] == [(gw_ip, "172.16.100.0/24")]
    dnat = _nat(nb, "dnat_and_snat")
    assert [(row["external_ip"], row["logical_ip"], row["logical_port"]) for row in dnat] == [
        (fip["floating_ip_address"], "172.16.100.10", r["vm_port"]["id"])]
    assert not dnat[0]["external_mac"]  # the VM port is still down
    gw_port = cloud.get_ports(admin, {"device_owner": ["network:router_gateway"]})[0]
    gateway_chassis = [row for row in nb.rows("Gateway_Chassis")
                       if row["name"].startswith(f"lrp-{gw_port['id']}_")]
    assert sorted(row["priority"] for row in gateway_chassis) == [1, 2, 3]

    # the chassis claims the port: the driver's event reaches the cloud, and back
    _set_lsp_up(nb, r["vm_port"]["id"], True)
    assert cloud.nova.get_server(admin, r["vm"]["id"])["status"] == "ACTIVE"
    assert cloud.l3.get_floatingip(admin, fip["id"])["status"] == "ACTIVE"
    fip_port_mac = next(p["mac_address"] for p in cloud.get_ports(admin)
                        if p["device_owner"] == "network:floatingip")
    assert _nat(nb, "dnat_and_snat")[0]["external_mac"] == fip_port_mac

    cloud.set_config(enable_distributed_floating_ip=False)
    assert not _nat(nb, "dnat_and_snat")[0]["external_mac"]
    cloud.set_config(enable_distributed_floating_ip=True)
    assert _nat(nb, "dnat_and_snat")[0]["external_mac"] == fip_port_mac

    cloud.l3.update_floatingip(admin, fip["id"], {"port_id": None})
    assert _nat(nb, "dnat_and_snat") == []


def test_failed_operation_leaves_cloud_and_nb_untouched() -> None:
    cloud, nb, _ = _build()
    admin = cloud.admin_context()
    r = article(cloud, admin)
    before_store = cloud.store.snapshot()
    before_nb = {t: [dict(row) for row in nb.rows(t)] for t in ("NAT", "Logical_Router_Port",
                                                                 "Logical_Switch_Port")}
    with pytest.raises(OvnlabError):
        cloud.l3.remove_router_interface(admin, r["router"]["id"], {"subnet_id": r["n1subnet"]["id"]})
    assert cloud.store.snapshot() == before_store
    assert {t: [dict(row) for row in nb.rows(t)] for t in before_nb} == before_nb


def test_resync_from_resources_is_a_no_op() -> None:
    cloud, nb, driver = _build()
    article(cloud, cloud.admin_context())
    before = {t: sorted(str(dict(row)) for row in nb.rows(t)) for t in ("NAT", "Logical_Router",
                                                                         "Logical_Switch_Port")}
    driver.sync(cloud.resources())
    after = {t: sorted(str(dict(row)) for row in nb.rows(t)) for t in before}
    assert after == before
