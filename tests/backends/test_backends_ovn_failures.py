"""Failures on the real backend through the lab's verbs (`ovnlab node`, `ovnlab link`):
real daemons killed and restarted, links set down, and what real OVN does about it (BFD
moves the gateway to the next chassis). Needs root and the OVN 22.03 programs."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from typing import Any

import pytest
from ovn22 import require_real

from ovnlab import observations as O
from ovnlab.lab import lab_on
from ovnlab.scenario import run_article
from ovnlab.topology import Backend


@pytest.fixture(scope="module")
def lab() -> Iterator[Any]:
    if os.geteuid() != 0:
        pytest.skip("the real backend needs root (network namespaces)")
    with lab_on(Backend.OVN, ovn_bin=str(require_real() / "bin")) as real:
        run_article(real.openstack)
        real.openstack.server_create("vm_2", network="n1", host="compute2")
        yield real


def _gateway_holder(lab: Any, f: O.Fip) -> str:
    """The hostname of the chassis the SB says holds the router's gateway port."""
    out = lab.exec("network", ["ovn-sbctl", "--bare", "--columns=chassis", "find",
                               "port_binding", f"logical_port=cr-lrp-{f.gw_port_id}"]).stdout
    uuid = out.strip()
    hostname = lab.exec("network", ["ovn-sbctl", "--bare", "--columns=hostname", "list",
                                    "chassis", uuid]).stdout.strip() if uuid else ""
    return hostname


def test_the_network_node_stops_and_the_gateway_moves_to_compute1(lab: Any) -> None:
    f = O.facts(lab)
    assert _gateway_holder(lab, f) == "network"
    state = lab.node_action("stop", "network")
    assert state == {"node": "network",
                     "daemons": {"ovn-controller": False, "ovs-vswitchd": False},
                     "links": {"eth0": False, "eth1": False}}
    assert _gateway_holder(lab, f) == "compute1"  # priority 2: BFD saw network go
    ping = lab.exec("vm_2", ["ping", "-c", "2", "-W", "2", "8.8.8.8"])
    assert ping.rc == 0, ping.stdout  # vm_2 (no FIP) now leaves through compute1
    cap = O.Capture(lab)
    assert O.ping(lab, "vm_2", "8.8.8.8", 1)[0] == 0
    assert cap.icmp("compute1", src=f.gw_ip)

    state = lab.node_action("start", "network")
    assert state["daemons"] == {"ovn-controller": True, "ovs-vswitchd": True}
    assert _gateway_holder(lab, f) == "network"  # back to the highest priority
    cap = O.Capture(lab)
    # The real lab loses 0-4 pings at failback (the provider switch learns the gateway's
    # new port from the GARPs): any reply of five counts.
    ping = lab.exec("vm_2", ["ping", "-c", "5", "-i", "0.2", "-W", "2", "8.8.8.8"])
    assert ping.rc == 0, ping.stdout
    assert cap.icmp("network", src=f.gw_ip) and not cap.icmp("compute1", src=f.gw_ip)


def test_a_killed_ovn_controller_is_started_again(lab: Any) -> None:
    state = lab.node_action("kill", "compute1", "ovn-controller")
    assert state["daemons"] == {"ovn-controller": False, "ovs-vswitchd": True}
    # the flows stay in ovs-vswitchd: vm_1's FIP keeps working without its controller
    assert lab.exec("vm_1", ["ping", "-c", "1", "-W", "2", "8.8.8.8"]).rc == 0
    state = lab.node_action("start", "compute1")
    assert state["daemons"] == {"ovn-controller": True, "ovs-vswitchd": True}
    assert lab.exec("vm_1", ["ping", "-c", "1", "-W", "2", "8.8.8.8"]).rc == 0


def test_a_link_down_cuts_the_host_off(lab: Any) -> None:
    f = O.facts(lab)
    assert lab.node_action("link-down", "exthost", "eth0") == {
        "node": "exthost", "links": {"eth0": False}}
    assert lab.exec("exthost", ["ping", "-c", "1", "-W", "1", f.fip or ""]).rc != 0
    assert lab.node_action("link-up", "exthost", "eth0")["links"] == {"eth0": True}
    assert lab.exec("exthost", ["ping", "-c", "1", "-W", "2", f.fip or ""]).rc == 0
    with pytest.raises(Exception, match=re.escape("exthost has no interface 'eth9'")):
        lab.node_action("link-down", "exthost", "eth9")
    with pytest.raises(Exception, match="unknown daemon 'sshd'"):
        lab.node_action("kill", "compute2", "sshd")
