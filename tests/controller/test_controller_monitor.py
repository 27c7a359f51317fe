"""A chassis's Southbound monitor condition (monitor.py, update_sb_monitors): which rows
it admits, how the server's updates read under it, and what a moved condition sends."""

from __future__ import annotations

from typing import Any

import pytest

from ovnlab.controller.monitor import Condition, Monitor
from ovnlab.controller.sb_index import SbIndex
from ovnlab.ovsdb import Change, Database, Row
from ovnlab.sb import SB_SCHEMA

ME = Condition(chassis="ch-me", name="chassis-me", local_lports=frozenset({"vm1"}),
               local_dps=frozenset({"dp-local"}))


def _pb(**cols: Any) -> Row:
    row = {"logical_port": "vm9", "type": "", "datapath": "dp-far", "chassis": None,
           "requested_chassis": None, "options": {}, "parent_port": None}
    return Row("Port_Binding", "pb", {**row, **cols})


@pytest.mark.parametrize(("row", "admitted"), [
    (_pb(), False),  # a VIF of another chassis on a datapath not local here
    (_pb(datapath="dp-local"), True),
    (_pb(type="patch"), True),
    (_pb(type="chassisredirect"), True),
    (_pb(type="external"), True),
    (_pb(chassis="ch-me"), True),
    (_pb(requested_chassis="ch-me"), True),
    (_pb(type="l3gateway", options={"l3gateway-chassis": "chassis-me"}), True),
    (_pb(type="l3gateway", options={"l3gateway-chassis": "chassis-other"}), False),
    (_pb(type="l2gateway", options={"l2gateway-chassis": "chassis-me"}), True),
    (_pb(logical_port="vm1"), True),  # plugged here, not yet claimed
    (_pb(parent_port="vm1"), True),  # a container in a VM plugged here
    (_pb(type="localnet"), False),
])
def test_port_bindings_admitted(row: Row, admitted: bool) -> None:
    assert ME.admits("Port_Binding", row) is admitted
    assert Condition(monitor_all=True).admits("Port_Binding", row)


def test_before_registering_only_the_gateway_ports_it_may_claim_are_admitted() -> None:
    unregistered = Condition(name="chassis-me")
    assert unregistered.admits("Port_Binding", _pb(type="l3gateway"))
    assert not unregistered.admits("Port_Binding", _pb(chassis="ch-me"))


def test_flows_groups_and_bindings_of_local_datapaths_only() -> None:
    lf = {"logical_datapath": "dp-far", "logical_dp_group": None}
    assert not ME.admits("Logical_Flow", Row("Logical_Flow", "a", lf))
    assert ME.admits("Logical_Flow", Row("Logical_Flow", "b", {**lf,
                                                                "logical_datapath": "dp-local"}))
    # a datapath group's flows always: a group's new row may come after its flows
    assert ME.admits("Logical_Flow", Row("Logical_Flow", "c", {"logical_datapath": None,
                                                                "logical_dp_group": "g"}))
    for table in ("MAC_Binding", "Multicast_Group"):
        assert ME.admits(table, Row(table, "x", {"datapath": "dp-local"}))
        assert not ME.admits(table, Row(table, "y", {"datapath": "dp-far"}))
    assert ME.admits("Chassis_Private", Row("Chassis_Private", "p", {"name": "chassis-me"}))
    assert not ME.admits("Chassis_Private", Row("Chassis_Private", "q", {"name": "other"}))
    assert ME.admits("Datapath_Binding", Row("Datapath_Binding", "d", {}))


def _monitor(cond: Condition) -> tuple[Database, Monitor]:
    sb = Database("OVN_Southbound", SB_SCHEMA)
    with sb.transaction() as txn:
        for dp in ("dp-local", "dp-far"):
            txn.insert("Datapath_Binding", uuid=dp, tunnel_key=len(dp))
        txn.insert("Port_Binding", uuid="far-vif", logical_port="vm9", datapath="dp-far",
                   tunnel_key=1)
        txn.insert("Port_Binding", uuid="near-vif", logical_port="vm2",
                   datapath="dp-local", tunnel_key=2)
        txn.insert("Logical_Flow", uuid="far-flow", logical_datapath="dp-far",
                   pipeline="ingress", table_id=0, priority=0, match="1", actions="next;")
    return sb, Monitor(sb, SbIndex(sb), cond)


def test_the_chassis_reads_only_the_admitted_rows() -> None:
    sb, monitor = _monitor(ME)
    view = monitor.view
    assert set(view.tables["Port_Binding"]) == {"near-vif"}
    assert [r.uuid for r in view.rows("Logical_Flow")] == []
    assert view.lookup("Port_Binding", "far-vif") is None
    assert "far-vif" not in view.tables["Port_Binding"]
    assert len(view.tables["Datapath_Binding"]) == 2  # not a conditional table


def test_updates_read_as_the_server_sends_them_under_the_condition() -> None:
    sb, monitor = _monitor(ME)
    far = sb.tables["Port_Binding"]["far-vif"]
    claimed = far.replace(chassis="ch-me")
    came = monitor.filter([Change("Port_Binding", "update", "far-vif", far, claimed)])
    assert [(c.op, c.old, c.new) for c in came] == [("insert", None, claimed)]
    went = monitor.filter([Change("Port_Binding", "update", "far-vif", claimed, far)])
    assert [(c.op, c.old, c.new) for c in went] == [("delete", claimed, None)]
    assert monitor.filter([Change("Port_Binding", "update", "far-vif", far, far)]) == []
    chassis = Change("Chassis", "insert", "c", None, Row("Chassis", "c", {}))
    assert monitor.filter([chassis]) == [chassis]


def test_a_datapath_becoming_local_sends_its_rows_and_leaving_takes_them_back() -> None:
    sb, monitor = _monitor(ME)
    wider = Condition(chassis="ch-me", name="chassis-me", local_lports=ME.local_lports,
                      local_dps=frozenset({"dp-local", "dp-far"}))
    came = monitor.move_to(wider)
    assert sorted((c.op, c.table, c.uuid) for c in came) == [
        ("insert", "Logical_Flow", "far-flow"), ("insert", "Port_Binding", "far-vif")]
    assert set(monitor.view.tables["Port_Binding"]) == {"near-vif", "far-vif"}
    went = monitor.move_to(ME)
    assert sorted((c.op, c.table, c.uuid) for c in went) == [
        ("delete", "Logical_Flow", "far-flow"), ("delete", "Port_Binding", "far-vif")]
    assert monitor.move_to(ME) == []


def test_monitor_all_sends_everything_at_once() -> None:
    sb, monitor = _monitor(ME)
    came = monitor.move_to(Condition(monitor_all=True, chassis="ch-me", name="chassis-me"))
    assert sorted(c.uuid for c in came) == ["far-flow", "far-vif"]
