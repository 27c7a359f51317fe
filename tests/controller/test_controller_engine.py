"""ovn-controller on the incremental engine (ovnlab.incproc): after any sequence of SB and
vswitch changes, what the change handlers left equals a full recompute of every node
(Engine.check, as OVN's `inc-engine/recompute` comparisons), and a run only happens when
an input has work."""

from __future__ import annotations

from typing import Any

from ctl_seed import VM_MAC, lflow, seed_lab
from hypothesis import given, settings
from hypothesis import strategies as st

from ovnlab.controller.pinctrl import put_mac_binding
from ovnlab.incproc import converge

OPS = ("fip_add", "fip_del", "lflow_mod", "move_vm", "alive", "macb", "pb_key",
       "address_set", "port_group", "mc_group", "datapath")


def _apply(lab: Any, op: str, i: int) -> None:  # noqa: C901 - one branch per SB change kind
    sb, u = lab.sb, lab.u
    if op == "fip_add":
        with sb.transaction() as txn:
            lflow(txn, u["r"], "ingress", 6, 100, f"ip && ip4.dst == 10.0.2.{100 + i}",
                  f"ct_dnat_in_czone(172.16.100.{20 + i});")
    elif op == "fip_del":
        rows = [r for r in sb.rows("Logical_Flow") if r["table_id"] == 6]
        if rows:
            with sb.transaction() as txn:
                txn.delete("Logical_Flow", rows[i % len(rows)].uuid)
    elif op == "lflow_mod":
        rows = sb.rows("Logical_Flow")
        row = rows[i % len(rows)]
        with sb.transaction() as txn:
            txn.update("Logical_Flow", row.uuid, priority=row["priority"] + 1)
    elif op == "move_vm":
        host = ("compute1", "compute2")[i % 2]
        for h in ("compute1", "compute2"):
            lab.vswitches[h].bridges["br-int"].ports.pop("tap-vm1", None)
        lab.vswitches[host].bridges["br-int"].add_port(
            "tap-vm1", external_ids={"iface-id": "vm_1", "attached-mac": VM_MAC})
    elif op == "alive":
        for c in lab.controllers.values():
            c.set_chassis_alive(("network", "compute1")[i % 2], bool(i % 3))
    elif op == "macb":
        put_mac_binding(lab.controllers["network"], 3, 1, f"10.0.2.{i % 9 + 1}",
                        f"02:00:00:00:00:{i % 100:02d}")
    elif op == "pb_key":
        with sb.transaction() as txn:
            txn.update("Port_Binding", u["n1-r"], tunnel_key=(2, 5)[i % 2])
    elif op == "address_set":
        _address_set(sb, u, i)
    elif op == "port_group":
        _port_group(sb, i)
    elif op == "mc_group":
        with sb.transaction() as txn:
            txn.insert("Multicast_Group", datapath=u["n1"], name=f"mc{i}",
                       tunnel_key=32768 + 10 + i, ports=(u["vm_1"],))
    elif op == "datapath":
        with sb.transaction() as txn:
            txn.update("Datapath_Binding", u["r"],
                       external_ids={"name": "neutron-r", "logical-router": "z",
                                     **({"snat-ct-zone": "9"} if i % 2 else {})})


def _address_set(sb: Any, u: dict[str, str], i: int) -> None:
    rows = sb.rows("Address_Set")
    with sb.transaction() as txn:
        if not rows:
            txn.insert("Address_Set", name="as1", addresses=("10.1.0.1", "10.1.0.2"))
            lflow(txn, u["r"], "ingress", 7, 90, "ip4.src == $as1", "next;")
        else:
            addrs = tuple(f"10.1.0.{n}" for n in range(1, 3 + i % 4))
            txn.update("Address_Set", rows[0].uuid, addresses=addrs)


def _port_group(sb: Any, i: int) -> None:
    rows = sb.rows("Port_Group")
    with sb.transaction() as txn:
        if rows:
            txn.update("Port_Group", rows[0].uuid, ports=("vm_1",) if i % 2 else ())
        else:
            txn.insert("Port_Group", name="pg1", ports=("vm_1",))


@settings(max_examples=12, deadline=None)
@given(st.lists(st.sampled_from(OPS), min_size=1, max_size=8))
def test_incremental_runs_equal_a_full_recompute(ops: list[str]) -> None:
    lab = seed_lab()
    controllers = list(lab.controllers.values())
    for i, op in enumerate(ops):
        _apply(lab, op, i)
        converge(controllers)
        for c in controllers:
            assert not c.pending
            c.run_if_pending()  # what was left for an observer (deferral.py)
            assert c.engine.check() == [], (op, c.name)


def test_a_run_without_changes_does_nothing() -> None:
    lab = seed_lab()
    c = lab.controllers["compute1"]
    runs = c.stats["runs"]
    c.run()
    assert not c.pending and c.stats["runs"] == runs
    with lab.sb.transaction() as txn:  # a change of a table it does not watch
        txn.insert("DNS", records={"vm1": "172.16.100.10"})
    assert not c.pending
    with lab.sb.transaction() as txn:
        lflow(txn, lab.u["r"], "ingress", 6, 100, "ip4.dst == 10.0.2.99", "drop;")
    assert c.pending and c.engine.pending
    c.run()
    assert not c.pending and c.stats["runs"] == runs + 1
    stats = c.engine_stats()
    assert "Node: lflow_output\n- recompute:" in stats and "Node: SB_logical_flow" in stats


def test_handlers_cope_without_recomputing() -> None:
    """A new logical flow is compiled by lflow_output's change handler alone."""
    lab = seed_lab()
    c = lab.controllers["compute1"]
    node = next(n for n in c.engine.nodes if n.name == "lflow_output")
    recomputes, computes = node.stats.recompute, node.stats.compute
    with lab.sb.transaction() as txn:
        lflow(txn, lab.u["r"], "ingress", 6, 100, "ip && ip4.dst == 10.0.2.99",
              "ct_dnat_in_czone(172.16.100.99);")
    c.run()
    assert (node.stats.recompute, node.stats.compute) == (recomputes, computes + 1)
    assert any("nw_dst=10.0.2.99" in line for line in c.dump_flows())


def test_tunnel_liveness_is_handled_without_recomputing_runtime_data() -> None:
    """A peer declared dead: runtime_data's handler works out again which gateway ports
    lead here (binding.c's claims of chassisredirect ports); it does not re-derive every
    binding, and what it leaves is a recompute's."""
    lab = seed_lab()
    c = lab.controllers["compute1"]
    runtime = next(n for n in c.engine.nodes if n.name == "runtime_data")
    recomputes, computes = runtime.stats.recompute, runtime.stats.compute
    c.set_chassis_alive("network", False)
    assert runtime.stats.recompute == recomputes and runtime.stats.compute > computes
    assert c.engine.check() == []


def test_the_article_lab_is_what_a_recompute_gives() -> None:
    """The seed cloud built through the API: every chassis's engine, after the whole
    article (FIP added, pinged, removed), equals a full recompute; nothing is pending."""
    from ovnlab.lab import Lab
    from ovnlab.scenario import run_article

    lab = Lab.build("seed")
    run_article(lab.openstack)
    for host, c in lab.controllers.items():
        assert not c.pending, host
        c.run_if_pending()  # what it left for an observer (deferral.py)
        assert c.engine.check() == [], host


def test_chassis_settings_come_from_the_vswitch() -> None:
    """ovn-controller reads system-id, hostname, the encap and the bridge mappings from
    the Open_vSwitch row's external_ids; without a system-id it has no chassis."""
    import pytest

    from ovnlab.controller import Controller
    from ovnlab.datapath import Vswitch
    from ovnlab.errors import OvnlabError
    from ovnlab.sb import new_sb

    sb = new_sb()
    vs = Vswitch("hv9")
    with pytest.raises(OvnlabError, match="system-id is not set"):
        Controller(sb, vs)
    assert not sb.rows("Chassis") and not vs.bridges
    vs.external_ids.update({"system-id": "c-9", "ovn-encap-type": "geneve",
                            "ovn-encap-ip": "192.168.9.9",
                            "ovn-bridge-mappings": "physnet1:br-phys,physnet2:br-p2"})
    c = Controller(sb, vs)
    ch = sb.get("Chassis", "c-9")
    enc = sb.get("Encap", ch["encaps"][0])
    assert (c.name, ch["hostname"], enc["ip"]) == ("c-9", "hv9", "192.168.9.9")
    assert ch["other_config"]["ovn-bridge-mappings"] == "physnet1:br-phys,physnet2:br-p2"
    assert {"br-int", "br-phys", "br-p2"} <= set(vs.bridges)
