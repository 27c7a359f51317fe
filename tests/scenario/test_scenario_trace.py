"""`ovnlab trace`: one packet and its reply, with the chassis that did each step."""

from __future__ import annotations

import pytest

from ovnlab import observations as O
from ovnlab.lab import Lab
from ovnlab.scenario import run_article


@pytest.fixture(scope="module")
def seed() -> tuple[Lab, O.Fip]:
    lab = Lab.build("seed")
    run_article(lab.openstack)
    lab.exec("vm_1", "ping -c 1 8.8.8.8")  # neighbours learnt, as on a running cloud
    return lab, O.facts(lab)


def test_distributed_path_names_the_compute_node_and_its_nat(seed: tuple[Lab, O.Fip]) -> None:
    lab, f = seed
    text = lab.trace_text("vm_1", "8.8.8.8", "icmp", 0, "summary")
    assert f"chassis: {f.vm_host} (br-int, br-ex)" in text
    assert f"SNAT {f.vm_ip} -> {f.fip} on {f.vm_host}" in text
    assert f"DNAT {f.fip} -> {f.vm_ip} on {f.vm_host}" in text
    assert "tunnels:" not in text and "disposition: reply: echo reply from 8.8.8.8" in text
    hops = text.split("\n\n")[0].splitlines()
    assert "vm_1" in hops[-1] and hops[-1].endswith("(deliver)")  # the journey ends there


def test_minimal_path_lists_each_hop(seed: tuple[Lab, O.Fip]) -> None:
    lab, f = seed
    text = lab.trace_text("vm_1", "8.8.8.8", "icmp", 0, "minimal")
    assert f"vm_1:eth0 -> {f.vm_host}:" in text and f"{f.vm_host}:eth0 -> extgw:eth0" in text


def test_detailed_trace_maps_cookies_to_logical_flows(seed: tuple[Lab, O.Fip]) -> None:
    lab, f = seed
    text = lab.trace_text("exthost", f.fip or "", "icmp", 0, "detailed")
    assert 'bridge("br-int")' in text and "cookie 0x" in text
    assert "* lr_in_dnat priority 100" in text and f"ct_dnat_in_czone({f.vm_ip})" in text
    assert "* lr_in_admission" in text and f'is_chassis_resident("{f.vm_port_id}")' in text


def test_centralized_path_shows_the_tunnel_to_the_gateway() -> None:
    lab = Lab.build("seed")
    run_article(lab.openstack)
    f = O.facts(lab)
    lab.openstack.server_remove_floating_ip(f.fip or "")
    lab.exec("vm_1", "ping -c 1 8.8.8.8")
    text = lab.trace_text("vm_1", "8.8.8.8", "icmp", 0, "summary")
    network = lab.topology.node("network")
    vm_chassis = lab.topology.node(f.vm_host)
    assert f"SNAT {f.vm_ip} -> {f.gw_ip} on network" in text
    assert f"geneve vni 0x3 opt 0x10003 {vm_chassis.tunnel_ip} -> {network.tunnel_ip}" in text


def test_trace_rejects_unknown_endpoints(seed: tuple[Lab, O.Fip]) -> None:
    lab, _ = seed
    with pytest.raises(Exception, match="nope"):
        lab.trace_text("nope", "8.8.8.8")
