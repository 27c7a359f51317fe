"""On the real backend a server gets its address by DHCP when it boots, as the emulated
backend's VMs do: busybox's udhcpc in its namespace, answered by ovn-controller's pinctrl
from Neutron's DHCP_Options; the lease gives the address, the MTU, the routes and the name
servers. A subnet without DHCP leaves the server unaddressed. Once up, the server listens
on TCP 22 (its sshd); a host powered off and on restarts its servers, which ask again. Needs root and the real OVN 22.03 programs (tests/ovn22.py)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ovn22 import require_real

from ovnlab.lab import lab_on
from ovnlab.observations import Capture
from ovnlab.scenario import run_article
from ovnlab.topology import Backend

FIP = "10.0.2.211"


@pytest.fixture(scope="module")
def lab() -> Iterator[Any]:
    if os.geteuid() != 0:
        pytest.skip("the real backend needs root (network namespaces)")
    with lab_on(Backend.OVN, "seed", (), str(require_real() / "bin")) as real:
        run_article(real.openstack)
        yield real


def _out(lab: Any, node: str, command: str) -> str:
    result = lab.exec(node, command)
    assert result.rc == 0, result.stderr
    return str(result.stdout)


def _sshd_running(lab: Any, server: str) -> bool:
    """A live process whose command line names the server's listener pidfile."""
    pidfile = str(lab.layout.rundir(server) / "sshd.pid")
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and pidfile in (proc / "cmdline").read_bytes().decode(
                    errors="replace"):
                return True
        except OSError:
            continue
    return False


def test_vm_1_leases_its_port_address_at_boot(lab: Any) -> None:
    addr = _out(lab, "vm_1", "ip -4 addr show dev eth0")
    assert "mtu 1442" in addr and "inet 172.16.100.10/24 " in addr
    assert _out(lab, "vm_1", "ip route").splitlines()[0].split() == \
        ["default", "via", "172.16.100.1", "dev", "eth0"]
    console = lab.compute.console_path("vm_1").read_text().splitlines()
    assert console == [
        "udhcpc: started, v1.35.0", "udhcpc: broadcasting discover",
        "udhcpc: broadcasting select for 172.16.100.10, server 172.16.100.1",
        "udhcpc: lease of 172.16.100.10 obtained from 172.16.100.1, lease time 43200"]


def test_udhcpc_again_is_answered_on_the_vms_own_chassis(lab: Any) -> None:
    capture = Capture(lab, ("eth0", "eth1"))
    result = lab.exec("vm_1", "udhcpc -i eth0")
    assert result.rc == 0
    assert "udhcpc: lease of 172.16.100.10 obtained from 172.16.100.1" in result.stderr
    # pinctrl on compute1 answered: nothing of it on any chassis's provider NIC or underlay
    for chassis in ("network", "compute1", "compute2"):
        for iface in ("eth0", "eth1"):
            dhcp = [c for c in capture.frames(chassis, iface)
                    if c.packet.tp_dst in (67, 68) or (c.packet.geneve is not None
                                                       and c.packet.geneve.inner.tp_dst in (67, 68))]
            assert dhcp == [], (chassis, iface)
    assert "inet 172.16.100.10/24 " in _out(lab, "vm_1", "ip -4 addr show dev eth0")
    assert _out(lab, "vm_1", "ping -c 1 -W 2 dns.google").count(" 0% packet loss") == 1


def test_udhcpc_takes_no_other_script(lab: Any) -> None:
    result = lab.exec("vm_1", "udhcpc -i eth0 -s /bin/true")
    assert result.rc == 1 and "the lab's script applies the lease" in result.stderr
    assert lab.exec("vm_1", "udhcpc -nqs/bin/true").rc == 1
    assert "inet 172.16.100.10/24 " in _out(lab, "vm_1", "ip -4 addr show dev eth0")


def test_lease_carries_dns_servers_and_static_routes(lab: Any) -> None:
    os_ = lab.openstack
    os_.network_create("dnsnet", provider_network_type="geneve")
    os_.subnet_create("dnsnet-subnet", network="dnsnet", subnet_range="192.168.77.0/24",
                      dns_nameservers=["8.8.8.8", "1.1.1.1"],
                      host_routes=[{"destination": "10.9.0.0/16", "nexthop": "192.168.77.254"}])
    os_.server_create("vm_dns", network="dnsnet")
    routes = _out(lab, "vm_dns", "ip route")
    # option 121 (Neutron adds the default route to it) replaces the router option
    assert "10.9.0.0/16 via 192.168.77.254 dev eth0" in routes
    assert "default via 192.168.77.1 dev eth0" in routes
    resolv = Path("/etc/netns", lab.layout.ns("vm_dns"), "resolv.conf").read_text()
    assert resolv == "nameserver 8.8.8.8\nnameserver 1.1.1.1\n"


def test_no_dhcp_subnet_leaves_the_server_unaddressed(lab: Any) -> None:
    os_ = lab.openstack
    os_.network_create("static", provider_network_type="geneve")
    os_.subnet_create("static-subnet", network="static", subnet_range="172.16.201.0/24",
                      dhcp=False)
    os_.server_create("vm_static", network="static")
    console = lab.compute.console_path("vm_static").read_text().splitlines()
    assert console[-1] == "udhcpc: no lease, failing"
    assert console.count("udhcpc: broadcasting discover") == 3
    assert "inet " not in _out(lab, "vm_static", "ip -4 addr show dev eth0")
    assert _out(lab, "vm_static", "ip route") == ""


def test_a_booted_server_listens_on_ssh_until_deleted(lab: Any) -> None:
    ssh = lab.exec("extgw", f"nc -zv -w 4 {FIP} 22")
    assert ssh.rc == 0 and "succeeded" in ssh.stderr
    assert lab.exec("extgw", f"nc -zv -w 2 {FIP} 80").rc == 1  # the security group's
    os_ = lab.openstack
    os_.network_create("gone", provider_network_type="geneve")
    os_.subnet_create("gone-subnet", network="gone", subnet_range="172.16.202.0/24")
    os_.server_create("vm_gone", network="gone")
    assert _sshd_running(lab, "vm_gone")
    os_.server_delete("vm_gone")
    assert not _sshd_running(lab, "vm_gone")
    assert "vm_gone" not in lab.node_names()


def test_a_host_powered_on_again_restarts_its_servers(lab: Any) -> None:
    """`node stop` powers compute1 off (its servers' NICs down: the kernel drops their
    routes); `node start` brings the servers back, asking for their lease again."""
    lab.node_action("stop", "compute1")
    assert lab.exec("vm_1", "ip route").stdout == ""
    lab.node_action("start", "compute1")
    assert _out(lab, "vm_1", "ip route").splitlines()[0].split() == \
        ["default", "via", "172.16.100.1", "dev", "eth0"]
    assert " 0% packet loss" in _out(lab, "vm_1", "ping -c 1 -W 2 dns.google")
