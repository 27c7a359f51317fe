"""Issue 2's "done when" for the NB: the article run through the Python API, then
`ovnlab exec network -- ovn-nbctl ...` shows observations 1 and 2 (whole lab: cloud, driver,
northd, controllers claiming the VM port)."""

from __future__ import annotations

import pytest

from ovnlab.lab import Lab
from ovnlab.scenario import run_article


@pytest.fixture(scope="module")
def lab() -> Lab:
    lab = Lab.build("seed")
    run_article(lab.openstack)
    return lab


def _ids(lab: Lab) -> tuple[str, str, str, str]:
    router = lab.openstack.find("router", "r")
    server = lab.openstack.find("server", "vm_1")
    vm_port = lab.cloud.get_ports(lab.admin, filters={"device_id": [server["id"]]})[0]
    fip_port = lab.cloud.get_ports(lab.admin, filters={"device_owner": ["network:floatingip"]})[0]
    return f"neutron-{router['id']}", router["external_gateway_info"]["external_fixed_ips"][0]["ip_address"], \
        vm_port["id"], fip_port["mac_address"]


def test_observation_1_gateway_chassis(lab: Lab) -> None:
    res = lab.exec("network", "ovn-nbctl --bare --columns=chassis_name,priority list gateway_chassis")
    assert res.rc == 0
    got = sorted(zip(*[iter(res.stdout.split())] * 2, strict=True), key=lambda p: p[1], reverse=True)
    assert got == [(lab.topology.node(h).system_id, p) for h, p in (("network", "3"), ("compute1", "2"),
                                                                     ("compute2", "1"))]


def test_observation_2_nat_rows(lab: Lab) -> None:
    router, gw_ip, vm_port, fip_mac = _ids(lab)
    fip = lab.cloud.l3.get_floatingips(lab.admin)[0]["floating_ip_address"]
    res = lab.exec("network", f"ovn-nbctl lr-nat-list {router}")
    assert res.rc == 0
    lines = [line.split() for line in res.stdout.splitlines()]
    assert lines[0] == ["TYPE", "GATEWAY_PORT", "EXTERNAL_IP", "EXTERNAL_PORT", "LOGICAL_IP",
                        "EXTERNAL_MAC", "LOGICAL_PORT"]
    assert lines[1:] == [["dnat_and_snat", fip, "172.16.100.10", fip_mac, vm_port],
                         ["snat", gw_ip, "172.16.100.0/24"]]


def test_config_set_and_errors(lab: Lab) -> None:
    router, *_ = _ids(lab)
    lab.cloud.set_config(enable_distributed_floating_ip=False)
    lab.converge()
    assert len(lab.exec("network", f"ovn-nbctl lr-nat-list {router}").stdout.splitlines()[1].split()) == 3
    lab.cloud.set_config(enable_distributed_floating_ip=True)
    lab.converge()
    assert len(lab.exec("network", f"ovn-nbctl lr-nat-list {router}").stdout.splitlines()[1].split()) == 5
    res = lab.exec("network", "ovn-nbctl lr-nat-list r")
    assert (res.rc, res.stderr) == (1, "ovn-nbctl: r: router name not found\n")


def test_acl_add_reject_answers_tcp_with_rst_and_udp_with_port_unreachable() -> None:
    """An ACL added with `ovn-nbctl acl-add` takes effect: 22.03's reject (Neutron writes
    none) answers TCP with a RST and UDP with ICMP port unreachable, where the security
    group alone drops silently."""
    lab = Lab.build("seed")
    run_article(lab.openstack)
    fip = lab.cloud.l3.get_floatingips(lab.admin)[0]["floating_ip_address"]
    pg = "pg_" + lab.openstack.find("security_group", "allow-icmp-ssh")["id"].replace("-", "_")
    udp = f"traceroute -n -U -p 81 -f 3 -m 3 -q 1 -w 2 {fip}"
    assert "timed out" in lab.exec("extgw", f"nc -zv -w 2 {fip} 81").stderr
    assert lab.exec("extgw", udp).stdout.splitlines()[1].split() == ["3", "*"]
    res = lab.exec("network", f"ovn-nbctl --type=port-group acl-add {pg} to-lport 1003 "
                              f"'outport == @{pg} && ip4 && (tcp.dst == 81 || udp.dst == 81)' "
                              "reject")
    assert (res.rc, res.stderr) == (0, "")
    assert "Connection refused" in lab.exec("extgw", f"nc -zv -w 2 {fip} 81").stderr
    assert lab.exec("extgw", udp).stdout.splitlines()[1].split()[:2] == ["3", fip]
    assert "succeeded" in lab.exec("extgw", f"nc -zv -w 2 {fip} 22").stderr + \
        lab.exec("extgw", f"nc -zv -w 2 {fip} 22").stdout
