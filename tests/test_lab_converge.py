"""The lab's convergence: daemons never call each other; a database write only queues
changes for the daemons that read them, and converge() runs whichever have work until
none has."""

from __future__ import annotations

from ovnlab.lab import Lab


def test_a_write_queues_work_that_only_converge_runs() -> None:
    lab = Lab.build("seed")
    assert not lab.northd.pending and not lab.driver.pending
    with lab.nb.transaction() as txn:
        txn.insert("Logical_Switch", name="sw-extra")
    assert lab.northd.pending  # northd's listener only queued the change
    assert not any(dp["external_ids"].get("name") == "sw-extra"
                   for dp in lab.sb.rows("Datapath_Binding"))
    lab.converge()
    assert not lab.northd.pending
    assert any(dp["external_ids"].get("name") == "sw-extra"
               for dp in lab.sb.rows("Datapath_Binding"))


def test_a_port_claim_reaches_neutron_through_the_loop() -> None:
    lab = Lab.build("seed")
    net = lab.openstack.network_create("n1")
    lab.openstack.subnet_create("s1", network="n1", subnet_range="172.16.100.0/24")
    server = lab.openstack.server_create("vm_1", network="n1", fixed_ip="172.16.100.10")
    port = lab.cloud.get_ports(lab.admin, filters={"device_id": [server["id"]]})[0]
    # the controller claimed the port, northd set LSP.up, the driver told Neutron
    assert lab.nb.get("Logical_Switch_Port", port["id"])["up"] is True
    assert port["status"] == "ACTIVE" and net["status"] == "ACTIVE"
    assert not lab.northd.pending and not lab.driver.pending
