"""`ovnlab exec NODE -- ovn-trace ...` on the seed lab after the article's commands: the
logical path of the article's packets, the options, and the real tool's errors."""

from __future__ import annotations

import re

import pytest

from ovnlab.lab import Lab
from ovnlab.scenario import run_article

VM_MAC = "fa:16:3e:a6:e3:4d"


@pytest.fixture(scope="module")
def lab() -> Lab:
    lab = Lab.build("seed")
    run_article(lab.openstack)
    return lab


def _ids(lab: Lab) -> dict[str, str]:
    server = lab.openstack.find("server", "vm_1")
    vm_port = lab.cloud.get_ports(lab.admin, filters={"device_id": [server["id"]]})[0]
    router = lab.openstack.find("router", "r")
    ri = lab.cloud.get_ports(lab.admin, filters={"device_id": [router["id"]],
                                                  "device_owner": ["network:router_interface"]})[0]
    fip = lab.cloud.l3.get_floatingips(lab.admin)[0]
    fip_port = lab.cloud.get_ports(lab.admin, filters={"device_owner": ["network:floatingip"]})[0]
    return {"vm": vm_port["id"], "vm_mac": vm_port["mac_address"], "ri_mac": ri["mac_address"],
            "fip": fip["floating_ip_address"], "fip_mac": fip_port["mac_address"],
            "router": f"neutron-{router['id']}"}


def _to_internet(ids: dict[str, str], dst: str = "8.8.8.8") -> str:
    return (f'inport == "{ids["vm"]}" && eth.src == {ids["vm_mac"]} && eth.dst == {ids["ri_mac"]} '
            f"&& ip4.src == 172.16.100.10 && ip4.dst == {dst} && ip.ttl == 64 && icmp4.type == 8")


def _trace(lab: Lab, *args: str) -> str:
    res = lab.exec("network", ["ovn-trace", *args])
    assert res.rc == 0, res.stderr
    return res.stdout


def test_vm_to_internet_takes_its_fip_and_leaves_by_the_localnet_port(lab: Lab) -> None:
    ids = _ids(lab)
    # no MAC_Binding for the next hop 10.0.2.2 yet: the router asks for it
    before = _trace(lab, "--minimal", "n1", _to_internet(ids))
    assert "    arp {\n        eth.dst = ff:ff:ff:ff:ff:ff;\n" in before
    assert "ct_snat" not in before
    assert lab.exec("vm_1", "ping -c 1 8.8.8.8").rc == 0  # learns 10.0.2.2's MAC_Binding
    out = _trace(lab, "--minimal", "n1", _to_internet(ids))
    assert out.splitlines()[0].startswith(
        f"# icmp,reg14=0x1,vlan_tci=0x0000,dl_src={ids['vm_mac']},dl_dst={ids['ri_mac']},"
        "nw_src=172.16.100.10,nw_dst=8.8.8.8,nw_tos=0,nw_ecn=0,nw_ttl=64,nw_frag=no,icmp_type=8")
    assert "ip.ttl--;" in out
    assert f"eth.src = {ids['fip_mac']};" in out  # the FIP's own MAC: distributed
    assert f"ct_snatin_czone(ip4.src={ids['fip']}) {{\n" in out
    # minimal output nests what follows each ct_* transformation in braces
    assert '        ct_snatin_czone(ip4.src=10.0.2.211) {\n            output("provnet-73c0ab");\n' \
        '        };\n    };\n};\n' in out


def test_detailed_is_the_default_with_stage_headers(lab: Lab) -> None:
    ids = _ids(lab)
    out = _trace(lab, "n1", _to_internet(ids))
    head = 'ingress(dp="n1", inport="2f58cd")'
    assert out.split("\n", 1)[1].startswith(f"\n{head}\n{'-' * len(head)}\n")
    assert re.search(r"\n 0\. ls_in_port_sec_l2 \(northd\.c:\w+\): inport == \"2f58cd\" && "
                     r"eth\.src == \{fa:16:3e:a6:e3:4d\}, priority 50, uuid [0-9a-f]{8}\n"
                     r"    next;\n", out)
    assert 'ingress(dp="r", inport="lrp-6b3d0b")' in out
    assert "\nct_next(ct_state=est|trk /* default (use --ct to customize) */)\n" in out


def test_ct_states_are_used_in_order(lab: Lab) -> None:
    ids = _ids(lab)
    inbound = (f'inport == "provnet-73c0ab78-8e9c-401c-bf5c-48cd4f38231d" && eth.src == '
               f"52:54:00:00:00:64 && eth.dst == {ids['fip_mac']} && ip4.src == 10.0.2.100 && "
               f"ip4.dst == {ids['fip']} && ip.ttl == 64 && icmp4.type == 8")
    out = _trace(lab, "--ct", "new", "--ct=est,rpl", "ext_n2", inbound)
    assert "\nct_snatin_czone /* assuming no un-snat entry, so no change */\n" in out
    assert "\nct_dnatin_czone(ip4.dst=172.16.100.10)\n" in out
    assert "\nct_next(ct_state=est|rpl|trk)\n" in out  # the second --ct, at n1's egress
    assert out.rstrip().endswith('/* output to "2f58cd", type "" */')


def test_no_friendly_names_prints_full_names(lab: Lab) -> None:
    ids = _ids(lab)
    out = _trace(lab, "--summary", "--no-friendly-names", "n1", _to_internet(ids))
    assert f'inport="{ids["vm"]}"' in out and 'inport="2f58cd"' not in out


def test_arp_for_the_gateway_is_answered_by_the_switch(lab: Lab) -> None:
    ids = _ids(lab)
    arp = (f'inport == "{ids["vm"]}" && eth.src == {ids["vm_mac"]} && eth.dst == '
           f"ff:ff:ff:ff:ff:ff && arp.op == 1 && arp.sha == {ids['vm_mac']} && arp.spa == "
           "172.16.100.10 && arp.tpa == 172.16.100.1 && arp.tha == 00:00:00:00:00:00")
    out = _trace(lab, "--minimal", arp)  # the datapath comes from the inport
    # 22.03's switch answers for its router port's addresses itself (ls_in_arp_rsp), back
    # to the VM's port: the router's pipeline is never entered
    assert out.splitlines()[1:9] == [
        f"eth.dst = {ids['vm_mac']};", f"eth.src = {ids['ri_mac']};", "arp.op = 2;",
        f"arp.tha = {ids['vm_mac']};", f"arp.sha = {ids['ri_mac']};",
        "arp.tpa = 172.16.100.10;", "arp.spa = 172.16.100.1;", 'output("2f58cd");']
    assert 'dp="r"' not in _trace(lab, "--summary", arp)


@pytest.mark.parametrize(("args", "stdout"), [
    (["nosuch", 'inport == "x"'], 'unknown datapath "nosuch"\n'),
    (["ip4"], "error parsing flow: flow match expression does not match on inport\n"),
    (['inport == "zz" && ip4'], 'unknown port "zz"\n'),
    (["n1", "ip4 && ip6"], "error parsing flow: Constraints are contradictory.\n"),
    (["n1", "ip4 &&"], "error parsing flow: Syntax error at `end of input' expecting field name."
                       "\n"),
])
def test_what_the_real_tool_reports_on_stdout(lab: Lab, args: list[str], stdout: str) -> None:
    res = lab.exec("network", ["ovn-trace", *args])
    assert (res.rc, res.stdout) == (0, stdout)


@pytest.mark.parametrize(("args", "stderr"), [
    ([], "ovn-trace: one or two non-option arguments are required (use --help for help)\n"),
    (["a", "b", "c"], "ovn-trace: one or two non-option arguments are required (use --help for "
                      "help)\n"),
    (["--ct", "bogus", "n1", "ip4"], "ovn-trace: bogus: unknown connection tracking state flag\n"),
    (["--bogus", "n1", "ip4"], "ovn-trace: unrecognized option '--bogus'\n"),
    (["n1", "ip4", "--ct"], "ovn-trace: option '--ct' requires an argument\n"),
    (["--lb-dst=nope", "n1", "ip4"], "ovn-trace: nope: bad address\n"),
])
def test_usage_errors_exit_1(lab: Lab, args: list[str], stderr: str) -> None:
    res = lab.exec("network", ["ovn-trace", *args])
    assert (res.rc, res.stdout, res.stderr) == (1, "", stderr)


def test_datapath_by_neutron_name_nb_name_or_uuid_prefix(lab: Lab) -> None:
    ids = _ids(lab)
    switch = next(r for r in lab.sb.rows("Datapath_Binding")
                  if r["external_ids"].get("name2") == "n1")
    names = ["n1", switch["external_ids"]["name"], switch.uuid[:8],
             switch["external_ids"]["logical-switch"][:4]]
    outs = {name: _trace(lab, "--summary", name, _to_internet(ids)) for name in names}
    assert len(set(outs.values())) == 1
    assert 'ingress(dp="n1", inport="2f58cd") {' in outs["n1"]
