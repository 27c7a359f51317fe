from __future__ import annotations

import pytest

from ovnlab.datapath import Vswitch
from ovnlab.tools import ovs_ofctl

ARTICLE = ("table=14, priority=100,ip,reg14=0x1,metadata=0x3,nw_dst=10.0.2.216 "
           "actions=ct(commit,table=15,zone=NXM_NX_REG11[0..15],nat(dst=172.16.100.10))")


@pytest.fixture
def vs() -> Vswitch:
    v = Vswitch("compute1")
    br = v.add_bridge("br-int", fail_mode="secure")
    br.add_port("tap1")
    br.add_flow(ARTICLE)
    br.add_flow("table=0,priority=100,in_port=1,cookie=0x2b,actions=resubmit(,8)")
    return v


def test_dump_flows_with_and_without_stats(vs: Vswitch) -> None:
    out = ovs_ofctl.run(vs, ["dump-flows", "br-int"])
    assert out.rc == 0
    assert out.stdout.splitlines() == [
        " cookie=0x2b, duration=0s, table=0, n_packets=0, n_bytes=0, idle_age=0, "
        "priority=100,in_port=1 actions=resubmit(,8)",
        " cookie=0x0, duration=0s, table=14, n_packets=0, n_bytes=0, idle_age=0, "
        + ARTICLE.split(", ", 1)[1],
    ]
    out = ovs_ofctl.run(vs, ["--no-stats", "dump-flows", "br-int", "table=14"])
    assert out.stdout == " " + ARTICLE + "\n"


def test_dump_flows_filters_like_ovs(vs: Vswitch) -> None:
    assert ovs_ofctl.run(vs, ["dump-flows", "br-int", "ip,nw_dst=10.0.2.216"]).stdout.count(
        "\n") == 1
    assert ovs_ofctl.run(vs, ["dump-flows", "br-int", "cookie=0x2b/-1"]).stdout.count(
        "\n") == 1
    assert ovs_ofctl.run(vs, ["dump-flows", "br-int", "reg14=0x2"]).stdout == ""
    names = ovs_ofctl.run(vs, ["--names", "--no-stats", "dump-flows", "br-int", "table=0"])
    assert "in_port=tap1" in names.stdout


def test_names_are_the_port_descriptions_quoted_as_ovs_ofctl() -> None:
    """As a real chassis prints them: at most 15 characters (the OpenFlow 1.0 port
    description), quoted unless a letter then letters and digits; a name two ports share
    after truncation is printed as the number."""
    v = Vswitch("compute1")
    br = v.add_bridge("br-int", fail_mode="secure")
    for name in ("tap1", "tap2f58cde5-cf",
                 "patch-br-int-to-provnet-73c0ab78-8e9c-401c-bf5c-48cd4f38231d"):
        br.add_port(name)
    br.add_flow("in_port=1,actions=output:2,output:3")
    out = ovs_ofctl.run(v, ["--names", "--no-stats", "dump-flows", "br-int"]).stdout
    assert out == ' in_port=tap1 actions=output:"tap2f58cde5-cf",output:"patch-br-int-to"\n'
    br.add_port("patch-br-int-to-other")  # now ambiguous
    out = ovs_ofctl.run(v, ["--names", "--no-stats", "dump-flows", "br-int"]).stdout
    assert out == ' in_port=tap1 actions=output:"tap2f58cde5-cf",output:3\n'
    assert ovs_ofctl.run(v, ["add-flow", "br-int", 'in_port="tap2f58cde5-cf",actions=drop']).rc == 0


def test_add_del_mod_flows(vs: Vswitch) -> None:
    assert ovs_ofctl.run(vs, ["add-flow", "br-int", "table=3,priority=5,actions=drop"]).rc == 0
    assert vs.bridges["br-int"].n_flows == 3
    assert ovs_ofctl.run(vs, ["mod-flows", "br-int", "table=3,actions=output:1"]).rc == 0
    assert "actions=output:1" in ovs_ofctl.run(vs, ["dump-flows", "br-int", "table=3"]).stdout
    assert ovs_ofctl.run(vs, ["del-flows", "br-int", "table=3"]).rc == 0
    assert ovs_ofctl.run(vs, ["--strict", "del-flows", "br-int",
                              "table=14,ip,reg14=0x1,metadata=0x3,nw_dst=10.0.2.216"]).rc == 0
    assert vs.bridges["br-int"].n_flows == 2  # strict needs the priority too
    assert ovs_ofctl.run(vs, ["del-flows", "br-int"]).rc == 0
    assert vs.bridges["br-int"].n_flows == 0


@pytest.mark.parametrize("argv,err", [
    (["dump-flows", "br-foo"], "ovs-ofctl: br-foo is not a bridge or a socket\n"),
    (["frob", "br-int"], "ovs-ofctl: unknown command 'frob'; use --help for help\n"),
    (["add-flow", "br-int", "actions=frob"], "ovs-ofctl: unknown action frob\n"),
    (["dump-flows"], "ovs-ofctl: 'dump-flows' command requires at least 1 arguments\n"),
])
def test_errors_like_the_real_tool(vs: Vswitch, argv: list[str], err: str) -> None:
    res = ovs_ofctl.run(vs, argv)
    assert (res.rc, res.stderr) == (1, err)


def test_show_lists_ports(vs: Vswitch) -> None:
    text = ovs_ofctl.run(vs, ["show", "br-int"]).stdout
    assert text.startswith("OFPT_FEATURES_REPLY (xid=0x2): dpid:")
    assert " 1(tap1): addr:" in text and " LOCAL(br-int): addr:" in text
