"""Neutron's resync takes `[ovn] enable_distributed_floating_ip` from the cloud's config,
its one home: a config change whose request is rolled back after the driver applied it
leaves the NB as the (old) config says once the cloud resyncs."""

from __future__ import annotations

from typing import Any

import pytest
from cloud_helpers import Clock, article

from ovnlab import topology
from ovnlab.cloud import Cloud
from ovnlab.ovsdb import Database

ml2ovn = pytest.importorskip("ovnlab.ml2ovn")
scenario = pytest.importorskip("ovnlab.ml2ovn.scenario")
sb_schema = pytest.importorskip("ovnlab.sb.schema")


def _fip_mac(nb: Database) -> Any:
    return next(r["external_mac"] for r in nb.rows("NAT") if r["type"] == "dnat_and_snat")


def test_resync_after_a_rolled_back_config_change_follows_the_cloud() -> None:
    topo = topology.load("seed")
    nb, sb = ml2ovn.new_nb(), sb_schema.new_sb()
    scenario.register_chassis(sb, topo)
    driver = ml2ovn.OVNMechanismDriver(nb, sb, topo.neutron.ovn)
    cloud = Cloud(None, topo, driver, clock=Clock())
    r = article(cloud, cloud.admin_context())
    scenario.set_lsp_up(nb, r["vm_port"]["id"], True)
    distributed_mac = _fip_mac(nb)
    assert distributed_mac

    with pytest.raises(RuntimeError), cloud.store.transaction():
        cloud.set_config(enable_distributed_floating_ip=False)
        assert not _fip_mac(nb)  # the driver's NB transaction committed
        raise RuntimeError("the request fails after the change")
    assert cloud.get_config()["enable_distributed_floating_ip"] is True
    cloud.sync_driver()
    assert _fip_mac(nb) == distributed_mac
    assert driver.distributed is True
