"""VMs get their address by DHCP when they boot, as cirros does (busybox udhcpc on eth0):
DISCOVER, OFFER, REQUEST, ACK on the VM's tap on its own chassis, answered by that
chassis's pinctrl from the port's DHCP_Options; the address, the router, the MTU and the
name servers come from the lease. On a subnet without DHCP nothing answers and the VM
stays unaddressed, as on a real cloud."""

from __future__ import annotations

import pytest

from ovnlab.fabric.nodes import VM
from ovnlab.lab import Lab
from ovnlab.packet import ip_str
from ovnlab.scenario import run_article


@pytest.fixture(scope="module")
def lab() -> Lab:
    lab = Lab.build("seed")
    run_article(lab.openstack)
    return lab


def _vm(lab: Lab, name: str) -> VM:
    node = lab.fabric.node(name)
    assert isinstance(node, VM)
    return node


def _dhcp_lines(lab: Lab, node: str, iface: str) -> list[str]:
    out = lab.exec(node, f"tcpdump -n -i {iface} --history port 67 or port 68").stdout
    return [line.split(" ", 1)[1] for line in out.splitlines()]


def test_vm_1_leases_its_port_address_at_boot(lab: Lab) -> None:
    vm = _vm(lab, "vm_1")
    assert vm.console == [
        "udhcpc: started, v1.35.0", "udhcpc: broadcasting discover",
        "udhcpc: broadcasting select for 172.16.100.10, server 172.16.100.1",
        "udhcpc: lease of 172.16.100.10 obtained from 172.16.100.1, lease time 43200"]
    addr = lab.exec("vm_1", "ip -4 addr show dev eth0").stdout
    assert "mtu 1442" in addr and "inet 172.16.100.10/24 " in addr
    assert lab.exec("vm_1", "ip route").stdout.splitlines()[0] == \
        "default via 172.16.100.1 dev eth0 "
    # the exchange crossed the VM's tap on compute1 only: pinctrl there answered it
    request = ("IP 0.0.0.0.68 > 255.255.255.255.67: BOOTP/DHCP, Request from "
               "fa:16:3e:a6:e3:4d, length 300")
    reply = "IP 172.16.100.1.67 > 172.16.100.10.68: BOOTP/DHCP, Reply, length 280"
    assert _dhcp_lines(lab, "compute1", vm.tap)[:4] == [request, reply, request, reply]
    for chassis in ("network", "compute2"):
        for iface in ("eth0", "eth1"):
            assert _dhcp_lines(lab, chassis, iface) == []


def test_lease_carries_dns_servers_and_static_routes(lab: Lab) -> None:
    os = lab.openstack
    os.network_create("dnsnet", provider_network_type="geneve")
    os.subnet_create("dnsnet-subnet", network="dnsnet", subnet_range="192.168.77.0/24",
                     dns_nameservers=["8.8.8.8", "1.1.1.1"],
                     host_routes=[{"destination": "10.9.0.0/16", "nexthop": "192.168.77.254"}])
    os.server_create("vm_dns", network="dnsnet")
    stack = _vm(lab, "vm_dns").stack
    assert [ip_str(a) for a in stack.nameservers] == ["8.8.8.8", "1.1.1.1"]
    routes = lab.exec("vm_dns", "ip route").stdout
    # option 121 (Neutron adds the default route to it) replaces the router option
    assert "10.9.0.0/16 via 192.168.77.254 dev eth0" in routes
    assert "default via 192.168.77.1 dev eth0" in routes


def test_no_dhcp_subnet_leaves_the_vm_unaddressed(lab: Lab) -> None:
    os = lab.openstack
    os.network_create("static", provider_network_type="geneve")
    os.subnet_create("static-subnet", network="static", subnet_range="172.16.201.0/24",
                     dhcp=False)
    os.server_create("vm_static", network="static")
    vm = _vm(lab, "vm_static")
    assert vm.console[-1] == "udhcpc: no lease, failing"
    assert vm.console.count("udhcpc: broadcasting discover") == 3
    assert "inet " not in lab.exec("vm_static", "ip -4 addr show dev eth0").stdout
    assert lab.exec("vm_static", "ip route").stdout == ""
    assert lab.exec("vm_static", "ping -c 1 -W 1 172.16.201.1").rc == 2
    # the discovers crossed the tap and nothing answered
    lines = _dhcp_lines(lab, vm.chassis, vm.tap)
    assert lines and all("Request from" in line for line in lines)
