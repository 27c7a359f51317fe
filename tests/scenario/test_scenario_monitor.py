"""Conditional monitoring (controller/monitor.py): a chassis is sent the Southbound rows
of its local datapaths, so a network with no port on it costs it nothing, until a
server there makes the network local; `ovn-monitor-all=true` sends it everything."""

from __future__ import annotations

import re

from scenario_clouds import CloudSpec, make_cloud

from ovnlab.flows.format import format_flow_mod
from ovnlab.lab import Lab


def _idl_cells(lab: Lab, host: str) -> int:
    """The cells of the SB rows the chassis's IDL holds."""
    out = lab.exec(host, "ovn-appctl -t ovn-controller memory/show")
    assert out.rc == 0, out.stderr
    found = re.fullmatch(r"idl-cells-OVN_Southbound:(\d+) idl-cells-Open_vSwitch:\d+\n",
                         out.stdout)
    assert found, out.stdout
    return int(found.group(1))


def _isolated(lab: Lab) -> None:
    """The seed cloud, and a network on no router (no patch port leads to it)."""
    make_cloud(lab, CloudSpec(networks=1, gateway=True, vms=((1, 0, False),)))
    lab.openstack.network_create("iso", provider_network_type="geneve")
    lab.openstack.subnet_create("iso-subnet", network="iso", subnet_range="192.168.50.0/24")


def _mac_ip(lab: Lab, server: str) -> tuple[str, str]:
    device = lab.openstack.find("server", server)["id"]
    port = lab.cloud.get_ports(lab.admin, filters={"device_id": [device]})[0]
    return str(port["mac_address"]), str(port["fixed_ips"][0]["ip_address"])


def test_a_network_with_no_port_here_is_not_sent_until_a_server_makes_it_local() -> None:
    lab = Lab.build("seed")
    _isolated(lab)
    before = _idl_cells(lab, "compute2")
    lab.openstack.server_create("a", network="iso", host="compute1")
    mac_a, ip_a = _mac_ip(lab, "a")
    assert _idl_cells(lab, "compute1") > before + 500  # a's network: its flows and ports
    assert _idl_cells(lab, "compute2") < before + 50  # nothing of it but shared rows
    assert mac_a not in lab.exec("compute2", "ovs-ofctl dump-flows br-int").stdout

    lab.openstack.server_create("b", network="iso", host="compute2")
    assert _idl_cells(lab, "compute2") > before + 500
    dump = lab.exec("compute2", "ovs-ofctl dump-flows br-int").stdout
    assert f"dl_dst={mac_a}" in dump  # a, on compute1, is reached through the tunnel
    assert lab.exec("b", f"ping -c 1 {ip_a}").rc == 0
    compute2 = lab.controllers["compute2"]
    caught_up = sorted(format_flow_mod(f) for f in compute2.flows())
    compute2.recompute()
    assert sorted(format_flow_mod(f) for f in compute2.flows()) == caught_up


def test_monitor_all_sends_everything_and_is_published_in_the_chassis_row() -> None:
    lab = Lab.build("seed")
    _isolated(lab)
    lab.openstack.server_create("a", network="iso", host="compute1")
    conditional = _idl_cells(lab, "compute2")

    def published() -> str:
        out = lab.exec("compute2", "ovn-sbctl --bare --columns=other_config list Chassis")
        host = lab.exec("compute2", "ovn-sbctl --bare --columns=hostname list Chassis")
        rows = dict(zip(host.stdout.split(), out.stdout.strip().split("\n\n"), strict=True))
        return re.search(r"ovn-monitor-all=(\w+)", rows["compute2"]).group(1)  # type: ignore[union-attr]

    assert published() == "false"
    assert lab.exec("compute2", "ovs-vsctl set open . external_ids:ovn-monitor-all=true").rc == 0
    everything = _idl_cells(lab, "compute2")
    assert everything > conditional + 500
    assert published() == "true"
    assert lab.exec("compute2", "ovs-vsctl set open . external_ids:ovn-monitor-all=false").rc == 0
    assert _idl_cells(lab, "compute2") == conditional
    assert published() == "false"
