"""A chassis leaves the Southbound changes that only move its own flows until something
observes it (controller/deferral.py): a tool, a packet. What it shows then is what a
recompute builds."""

from __future__ import annotations

from typing import Any

from scenario_clouds import CloudSpec, make_cloud

from ovnlab.flows.format import format_flow_mod
from ovnlab.lab import Lab


def _cloud(networks: int, *servers: tuple[str, str, str]) -> Lab:
    """The seed with `networks` tenant networks on a router with a gateway, and the
    servers (name, network, host) booted in turn."""
    lab = Lab.build("seed")
    make_cloud(lab, CloudSpec(networks=networks, gateway=True, vms=()))
    for name, network, host in servers:
        lab.openstack.server_create(name, network=network, host=host)
    return lab


# vm0 alone on n0 (compute1), vm1 on n1 (compute2)
APART = (("vm0", "n0", "compute1"), ("vm1", "n1", "compute2"))


def _desired(lab: Lab, host: str) -> list[str]:
    return sorted(format_flow_mod(f) for f in lab.controllers[host].flows())


def test_a_boot_elsewhere_waits_until_the_chassis_is_observed() -> None:
    """A server booted on compute2, on a network whose only other VM is on compute1:
    compute1's controller does not run for it, yet `ovs-ofctl dump-flows` there shows
    the new VM's flows, and they are what a recompute builds."""
    lab = _cloud(2, *APART)
    compute1 = lab.controllers["compute1"]
    runs = compute1.stats["runs"]
    lab.openstack.server_create("vm2", network="n1", host="compute2")
    assert compute1.stats["runs"] == runs, "compute1 ran for a boot it does not host"
    assert compute1.inputs.queued

    mac = _mac_of(lab, "vm2")
    dump = lab.exec("compute1", "ovs-ofctl dump-flows br-int")
    assert dump.rc == 0 and f"dl_dst={mac}" in dump.stdout
    assert compute1.stats["runs"] == runs + 1 and not compute1.inputs.queued
    caught_up = _desired(lab, "compute1")
    compute1.recompute()
    assert _desired(lab, "compute1") == caught_up


def test_a_packet_crossing_the_chassis_catches_it_up() -> None:
    lab = _cloud(1, ("vm0", "n0", "compute1"), ("vm1", "n0", "compute2"),
                 ("vm2", "n0", "compute2"))
    network = lab.controllers["network"]
    assert network.inputs.queued  # the network node hosts no VM of n0
    assert lab.exec("vm2", f"ping -c 1 {_ip_of(lab, 'vm0')}").rc == 0
    assert lab.controllers["compute1"].inputs.queued is False


def test_a_killed_controller_had_installed_all_it_received() -> None:
    """kill -9 ovn-controller on compute1 after a boot elsewhere: br-int keeps the flows
    of every update it had received, the new VM's included, as a real one would have
    installed them before it died."""
    lab = _cloud(2, *APART, ("vm2", "n1", "compute2"))
    assert lab.controllers["compute1"].inputs.queued
    lab.node_kill("compute1", "ovn-controller")
    dump = lab.exec("compute1", "ovs-ofctl dump-flows br-int")
    assert dump.rc == 0 and f"dl_dst={_mac_of(lab, 'vm2')}" in dump.stdout


def _port(lab: Lab, server: str) -> dict[str, Any]:
    device = lab.openstack.find("server", server)["id"]
    ports: list[dict[str, Any]] = lab.cloud.get_ports(lab.admin, filters={"device_id": [device]})
    return ports[0]


def _mac_of(lab: Lab, server: str) -> str:
    return str(_port(lab, server)["mac_address"])


def _ip_of(lab: Lab, server: str) -> str:
    return str(_port(lab, server)["fixed_ips"][0]["ip_address"])
