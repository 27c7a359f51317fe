"""`[ovn] ovn_emit_need_to_frag`: when a router's internal network has a larger MTU than
its external one, Neutron sets the gateway port's `gateway_mtu`, northd checks the frame
length (`check_pkt_larger`) and the router answers a DF packet too big for the gateway
with ICMP "fragmentation needed" carrying that MTU, from the gateway address."""

from __future__ import annotations

import pytest

from ovnlab.lab import Lab
from ovnlab.scenario import run_article


def _lab(*overrides: str) -> Lab:
    lab = Lab.build("seed", list(overrides))
    run_article(lab.openstack)
    ext = next(n for n in lab.cloud.get_networks(lab.admin) if n["name"] == "ext_n2")
    lab.openstack.cloud.update_network(lab.admin, ext["id"], {"mtu": 1400})
    lab.exec("vm_1", "ping -c 1 8.8.8.8")  # the router's next hop resolved
    return lab


@pytest.fixture(scope="module")
def lab() -> Lab:
    return _lab("ovn.ovn_emit_need_to_frag=true")


def test_neutron_sets_gateway_mtu_when_the_external_mtu_drops(lab: Lab) -> None:
    options = lab.exec("network", "ovn-nbctl --bare --columns=options list "
                                  "Logical_Router_Port").stdout
    assert "gateway_mtu=1400" in options
    flows = lab.exec("compute1", "ovs-ofctl dump-flows br-int").stdout
    assert "check_pkt_larger(1414)->OXM_OF_PKT_REG4[1]" in flows  # 1400 + Ethernet


def test_a_df_packet_too_big_gets_frag_needed(lab: Lab) -> None:
    r = lab.exec("vm_1", "ping -c 1 -s 1400 -M do 8.8.8.8")
    assert "From 10.0.2.210 icmp_seq=1 Frag needed and DF set (mtu = 1400)" in r.stdout
    assert "1 packets transmitted, 0 received, +1 errors" in r.stdout
    dump = lab.exec("vm_1", "tcpdump -n -i eth0 --history icmp and src 10.0.2.210").stdout
    assert "ICMP 8.8.8.8 unreachable - need to frag (mtu 1400)" in dump
    assert "1 received" in lab.exec("vm_1", "ping -c 1 -s 1300 -M do 8.8.8.8").stdout


def test_traceroute_shows_the_gateway_mtu(lab: Lab) -> None:
    out = lab.exec("vm_1", "traceroute -n -q 1 -F 8.8.8.8 1420").stdout
    assert out.splitlines()[2].startswith(" 2  10.0.2.210 ") and "!F-1400" in out


def test_without_the_option_the_packet_is_sent_on() -> None:
    lab = _lab()
    assert "gateway_mtu" not in lab.exec("network", "ovn-nbctl list Logical_Router_Port").stdout
    r = lab.exec("vm_1", "ping -c 1 -W 1 -s 1400 -M do 8.8.8.8")
    # the 1428-byte packet leaves through the 1400-byte external network anyway (only the
    # Neutron MTU changed; eth0 is 1500): OVN alone never sends frag-needed for it
    assert "Frag needed" not in r.stdout
