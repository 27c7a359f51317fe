"""`ovn-appctl -t ovn-controller inc-engine/...` on a chassis of the seed lab, in the real
22.03 daemon's format."""

from __future__ import annotations

import re

from ovnlab.lab import Lab


def test_show_stats_recompute_and_clear_stats() -> None:
    lab = Lab.build("seed")
    res = lab.exec("compute1", "ovn-appctl -t ovn-controller inc-engine/show-stats")
    assert res.rc == 0
    nodes = re.findall(r"^Node: (\S+)\n- recompute: +(\d+)\n- compute: +(\d+)\n- abort: +0$",
                       res.stdout, re.M)
    names = [n for n, _r, _c in nodes]
    assert names[-1] == "flow_output" and {"SB_port_binding", "runtime_data", "ct_zones",
                                           "lflow_output", "pflow_output"} <= set(names)
    assert len(nodes) == res.stdout.count("Node: ")
    lflow = dict((n, int(r)) for n, r, _c in nodes)["lflow_output"]
    assert lab.exec("compute1", "ovn-appctl -t ovn-controller inc-engine/recompute").rc == 0
    after = lab.exec("compute1", "ovn-appctl --target=ovn-controller inc-engine/show-stats")
    assert f"Node: lflow_output\n- recompute: {lflow + 1:12}\n" in after.stdout
    assert lab.exec("compute1", "ovn-appctl -t ovn-controller inc-engine/clear-stats").rc == 0
    cleared = lab.exec("compute1", "ovn-appctl -t ovn-controller inc-engine/show-stats")
    assert "Node: lflow_output\n- recompute:            0\n- compute:              0\n" \
        in cleared.stdout


def test_memory_show_counts_the_idl_cells_as_the_real_daemon() -> None:
    """One line of name:value sorted by name, zero counters left out (the real 22.03
    chassis prints `idl-cells-OVN_Southbound:3481 idl-cells-Open_vSwitch:661 ...` on the
    article's lab). A Logical_Flow row is 11 cells (the IDL's `hash` column), a VIF
    plugged on br-int 57 (a Port and an Interface)."""
    lab = Lab.build("seed")

    def cells() -> dict[str, int]:
        out = lab.exec("compute1", "ovn-appctl -t ovn-controller memory/show").stdout
        assert out.endswith("\n") and out.count("\n") == 1 and "  " not in out
        pairs = [item.split(":") for item in out.split()]
        assert [k for k, _v in pairs] == sorted(k for k, _v in pairs)
        return {k: int(v) for k, v in pairs}

    before = cells()
    assert set(before) == {"idl-cells-OVN_Southbound", "idl-cells-Open_vSwitch"}
    sb = lab.sb
    with sb.transaction() as txn:  # a flow on a datapath group every chassis monitors
        group = txn.insert("Logical_DP_Group", datapaths=())
        txn.insert("Logical_Flow", logical_dp_group=group.uuid, pipeline="ingress",
                   table_id=0, priority=0, match="0", actions="drop;")
    lab.exec("compute1", "ovs-vsctl add-port br-int tap-probe -- set interface tap-probe "
                         "external_ids:iface-id=probe")
    after = cells()
    assert after["idl-cells-OVN_Southbound"] == before["idl-cells-OVN_Southbound"] + 11 + 1
    assert after["idl-cells-Open_vSwitch"] == before["idl-cells-Open_vSwitch"] + 22 + 35


def test_list_commands_in_the_real_daemons_layout() -> None:
    """The real 22.03 daemon lists 37 commands, one per line as `  %-23s %s`, sorted
    (`  memory/show             ` with its trailing blanks); ovnlab lists the ones it has."""
    lab = Lab.build("seed")
    out = lab.exec("compute1", "ovn-appctl -t ovn-controller list-commands").stdout
    lines = out.splitlines()
    assert lines[0] == "The available commands are:"
    assert "  memory/show             " in lines and "  list-commands           " in lines
    assert lines[1:] == sorted(lines[1:]) and out.endswith(" \n")
    for line in lines[1:]:  # every listed command runs
        command = line.strip()
        if command != "inc-engine/recompute":
            assert lab.exec("compute1", f"ovn-appctl -t ovn-controller {command}").rc == 0


def test_errors_as_the_real_tool() -> None:
    lab = Lab.build("seed")
    bad = lab.exec("compute1", "ovn-appctl -t ovn-controller inc-engine/bogus")
    assert (bad.rc, bad.stderr) == (2, '"inc-engine/bogus" is not a valid command (use '
                                       '"list-commands" to see a list of valid commands)\n'
                                       "ovn-appctl: ovn-controller: server returned an error\n")
    extra = lab.exec("compute1", "ovn-appctl -t ovn-controller inc-engine/show-stats foo")
    assert (extra.rc, extra.stderr.splitlines()[0]) == (
        2, '"inc-engine/show-stats" command takes at most 0 arguments')
    northd = lab.exec("compute1", "ovn-appctl inc-engine/show-stats")
    assert northd.rc == 1 and "ovn-northd.pid" in northd.stderr
