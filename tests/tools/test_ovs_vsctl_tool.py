from __future__ import annotations

from ovnlab.datapath import Vswitch
from ovnlab.tools import ovs_vsctl


def _node() -> Vswitch:
    vs = Vswitch("compute1")
    vs.external_ids.update({"system-id": "0d8f3c1e-7a1b-4a7e-9d0e-3c2b1a0f9e8d",
                            "ovn-bridge-mappings": "extnet0:br-ex",
                            "ovn-encap-ip": "192.168.50.11", "ovn-encap-type": "geneve"})
    br = vs.add_bridge("br-int", fail_mode="secure")
    br.add_port("tap1", external_ids={"iface-id": "vm_1"})
    br.add_port("ovn-networ-0", type="geneve",
                options={"remote_ip": "192.168.50.1", "key": "flow", "csum": "true"})
    ex = vs.add_bridge("br-ex")
    ex.add_port("eth0", type="system")
    ex.add_port("patch-provnet-0-to-br-int", type="patch",
                options={"peer": "patch-br-int-to-provnet-0"})
    return vs


def test_show_prints_like_ovs_vsctl() -> None:
    vs = _node()
    out = ovs_vsctl.run(vs, ["show"]).stdout.splitlines()
    assert out[0] == ovs_vsctl.open_vswitch_uuid(vs)
    assert out[1:] == [
        "    Bridge br-ex",
        "        Port br-ex",
        "            Interface br-ex",
        "                type: internal",
        "        Port eth0",
        "            Interface eth0",
        "        Port patch-provnet-0-to-br-int",
        "            Interface patch-provnet-0-to-br-int",
        "                type: patch",
        "                options: {peer=patch-br-int-to-provnet-0}",
        "    Bridge br-int",
        "        fail_mode: secure",
        "        Port br-int",
        "            Interface br-int",
        "                type: internal",
        "        Port ovn-networ-0",
        "            Interface ovn-networ-0",
        "                type: geneve",
        '                options: {csum="true", key=flow, remote_ip="192.168.50.1"}',
        "        Port tap1",
        "            Interface tap1",
        '    ovs_version: "3.1.0"',
    ]


def test_get_external_ids_and_keys() -> None:
    vs = _node()
    assert ovs_vsctl.run(vs, ["get", "open", ".", "external_ids:ovn-bridge-mappings"]).stdout \
        == '"extnet0:br-ex"\n'
    assert ovs_vsctl.run(vs, ["get", "Open_vSwitch", ".", "external_ids:ovn-encap-type"]).stdout \
        == "geneve\n"
    full = ovs_vsctl.run(vs, ["get", "Open_vSwitch", ".", "external_ids"]).stdout
    assert full.startswith('{hostname=compute1, ovn-bridge-mappings="extnet0:br-ex", ')
    assert 'system-id="0d8f3c1e-7a1b-4a7e-9d0e-3c2b1a0f9e8d"}' in full
    assert ovs_vsctl.run(vs, ["get", "Interface", "tap1", "external_ids:iface-id"]).stdout \
        == "vm_1\n"
    missing = ovs_vsctl.run(vs, ["get", "open", ".", "external_ids:nope"])
    assert missing.rc == 1 and 'no key "nope"' in missing.stderr


def test_list_and_exists() -> None:
    vs = _node()
    assert ovs_vsctl.run(vs, ["list-br"]).stdout == "br-ex\nbr-int\n"
    assert ovs_vsctl.run(vs, ["list-ports", "br-int"]).stdout == "ovn-networ-0\ntap1\n"
    assert ovs_vsctl.run(vs, ["br-exists", "br-int"]).rc == 0
    assert ovs_vsctl.run(vs, ["br-exists", "br-foo"]).rc == 2
    assert ovs_vsctl.run(vs, ["list-ports", "br-foo"]).stderr == (
        "ovs-vsctl: no bridge named br-foo\n")
    assert ovs_vsctl.run(vs, ["port-to-br", "eth0"]).stdout == "br-ex\n"


def test_set_external_ids() -> None:
    vs = _node()
    assert ovs_vsctl.run(vs, ["set", "open", ".", "external_ids:ovn-cms-options="
                              "enable-chassis-as-gw"]).rc == 0
    assert vs.external_ids["ovn-cms-options"] == "enable-chassis-as-gw"


def test_quoting_rules() -> None:
    assert ovs_vsctl.quote("flow") == "flow"
    assert ovs_vsctl.quote("true") == '"true"'
    assert ovs_vsctl.quote("192.168.50.1") == '"192.168.50.1"'
    assert ovs_vsctl.quote("provnet-0") == "provnet-0"
    assert ovs_vsctl.quote("extnet0:br-ex") == '"extnet0:br-ex"'


def test_add_and_delete_bridges_and_ports_in_one_chain() -> None:
    vs = _node()
    res = ovs_vsctl.run(vs, ["--may-exist", "add-br", "br-int", "--", "add-port", "br-int",
                             "tap9", "--", "set", "Interface", "tap9",
                             "external_ids:iface-id=vm_9", "--", "set", "Bridge", "br-int",
                             "fail_mode=secure"])
    assert res.rc == 0, res.stderr
    port = vs.bridges["br-int"].ports["tap9"]
    assert port.external_ids == {"iface-id": "vm_9"} and port.ofport == 3
    assert ovs_vsctl.run(vs, ["add-port", "br-ex", "tap9"]).stderr == (
        "ovs-vsctl: cannot create a port named tap9 because a port named tap9 already exists "
        "on bridge br-int\n")
    assert ovs_vsctl.run(vs, ["add-port", "br-int", "patch-a", "--", "set", "Interface",
                              "patch-a", "type=patch", "options:peer=patch-b"]).rc == 0
    assert vs.bridges["br-int"].ports["patch-a"].type == "patch"
    assert ovs_vsctl.run(vs, ["del-port", "br-int", "tap9"]).rc == 0
    assert ovs_vsctl.run(vs, ["del-port", "tap9"]).stderr == "ovs-vsctl: no port named tap9\n"
    assert ovs_vsctl.run(vs, ["--if-exists", "del-port", "tap9"]).rc == 0
    assert ovs_vsctl.run(vs, ["add-br", "br-ex"]).rc == 1
    assert ovs_vsctl.run(vs, ["del-br", "br-ex"]).rc == 0 and "br-ex" not in vs.bridges


def test_set_refuses_what_it_cannot_set_and_sets_nothing_of_the_command() -> None:
    vs = _node()
    before = ovs_vsctl.run(vs, ["show"]).stdout
    res = ovs_vsctl.run(vs, ["set", "Bridge", "br-int", "external_ids:owner=me",
                             "fail_mode=standalone"])
    assert res.rc == 1
    assert res.stderr.startswith("ovs-vsctl: fail_mode=standalone: ")
    assert vs.bridges["br-int"].fail_mode == "secure"
    assert "owner" not in vs.bridges["br-int"].external_ids  # the first setting too
    res = ovs_vsctl.run(vs, ["set", "Bridge", "br-int", "datapath_type=netdev"])
    assert res.stderr == ("ovs-vsctl: datapath_type=netdev: Bridge column datapath_type "
                          "cannot be set here\n")
    assert ovs_vsctl.run(vs, ["set", "Bridge", "br-int", "fail_mode="]).rc == 1
    assert ovs_vsctl.run(vs, ["show"]).stdout == before
    assert ovs_vsctl.run(vs, ["set", "Bridge", "br-int", "fail_mode=secure"]).rc == 0
