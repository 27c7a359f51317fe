"""The article's scenario through the public Python API, observations 1-6 checked by
running the lab (DESIGN.md §1), on the emulated backend and on the real programs."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest
from scenario_backends import BACKENDS, lab_for

from ovnlab import observations as O
from ovnlab.lab import Lab
from ovnlab.packet import ip
from ovnlab.scenario import ARTICLE, run_article


@pytest.fixture(scope="module", params=BACKENDS)
def seed(request: pytest.FixtureRequest) -> Iterator[tuple[Lab, O.Fip]]:
    with lab_for(request.param) as lab:
        run_article(lab.openstack)
        yield lab, O.facts(lab)


def test_the_article_allocates_from_the_external_pool(seed: tuple[Lab, O.Fip]) -> None:
    _, f = seed
    assert f.fip is not None and f.vm_ip == "172.16.100.10" and f.vm_host.startswith("compute")
    for address in (f.fip, f.gw_ip):
        assert 210 <= int(address.rsplit(".", 1)[1]) <= 220
    assert f.fip_mac is not None and f.fip_mac.startswith("fa:16:3e:")


@pytest.mark.parametrize("check", [O.gateway_chassis, O.nat_rows, O.fip_flows],
                         ids=["1-gateway-chassis", "2-nat-rows", "3-fip-flows"])
def test_control_plane_observations(seed: tuple[Lab, O.Fip], check) -> None:  # type: ignore[no-untyped-def]
    lab, f = seed
    o = check(lab, f)
    assert o.ok, o.evidence


def test_observation_4_outbound_leaves_the_compute_node(seed: tuple[Lab, O.Fip]) -> None:
    lab, f = seed
    o = O.outbound_distributed(lab, f)
    assert o.ok, o.evidence


def test_observation_5_inbound_enters_the_compute_node(seed: tuple[Lab, O.Fip]) -> None:
    lab, f = seed
    o = O.inbound(lab, f)
    assert o.ok, o.evidence


@pytest.mark.parametrize("backend", BACKENDS)
def test_observation_6_without_fip_snat_on_the_network_node(backend: str) -> None:
    with lab_for(backend) as lab:
        _observation_6(lab)


def _observation_6(lab: Lab) -> None:
    run_article(lab.openstack)
    old_fip = O.facts(lab).fip or ""
    lab.openstack.server_remove_floating_ip(old_fip)
    f = O.facts(lab)
    assert f.fip is None
    o = O.outbound_centralized(lab, f)
    assert o.ok, o.evidence
    cap = O.Capture(lab)
    lab.exec("vm_1", "ping -c 2 8.8.8.8")
    # crossed the underlay from the VM's chassis to the gateway chassis, Geneve-encapsulated
    sent = [c for c in cap.geneve(f.vm_host) if c.direction == "out"]
    assert sent and all(c.packet.geneve is not None for c in sent)
    # the FIP stays allocated but unassociated: nobody answers ARP for it any more
    cap = O.Capture(lab)
    rc, _ = O.ping(lab, "exthost", old_fip, 1)
    assert rc == 1
    assert not any(c.packet.eth_type == 0x0806 and c.packet.arp_op == 2
                   and c.packet.arp_spa == ip(old_fip)
                   for n in lab.topology.nodes for c in cap.frames(n.hostname, "eth0"))


@pytest.mark.parametrize("backend", BACKENDS)
def test_dvr_off_then_on_moves_fip_traffic_without_recreating_anything(backend: str) -> None:
    with lab_for(backend, overrides=["ovn.enable_distributed_floating_ip=false"]) as lab:
        _dvr_off_then_on(lab)


def _dvr_off_then_on(lab: Lab) -> None:
    run_article(lab.openstack)
    f = O.facts(lab)
    assert O.nat_rows(lab, f, distributed=False).ok
    assert O.fip_flows(lab, f, distributed=False).ok
    assert O.outbound_fip_centralized(lab, f).ok
    ids_before = {r["id"] for r in lab.cloud.get_ports(lab.admin)}

    lab.config_set("ovn.enable_distributed_floating_ip", "true")  # GARPs re-point the FIP
    assert {r["id"] for r in lab.cloud.get_ports(lab.admin)} == ids_before
    assert O.nat_rows(lab, f, distributed=True).ok
    assert O.fip_flows(lab, f, distributed=True).ok
    o = O.outbound_distributed(lab, f)
    assert o.ok, o.evidence


def test_gw_only_topology_schedules_only_the_flagged_node() -> None:
    lab = Lab.build("gw-only")
    run_article(lab.openstack)
    f = O.facts(lab)
    rows = [r for r in lab.nb.rows("Gateway_Chassis") if r["name"].startswith(f"lrp-{f.gw_port_id}_")]
    network = lab.topology.node("network")
    assert [(r["chassis_name"], r["priority"]) for r in rows] == [(network.system_id, 1)]
    # distributed FIPs still work: the compute node has the bridge mapping
    assert O.outbound_distributed(lab, f).ok


def test_config_rejects_unknown_keys_and_values() -> None:
    lab = Lab.build("seed")
    with pytest.raises(Exception, match="unknown or read-only option"):
        lab.config_set("ovn.enable_dvr", "true")
    with pytest.raises(Exception, match="expected true or false"):
        lab.config_set("ovn.enable_distributed_floating_ip", "maybe")


def test_fip_on_a_port_that_is_down_has_no_external_mac_until_it_comes_up() -> None:
    lab = Lab.build("seed")
    for step in ARTICLE:
        if "server create" in step.command:
            continue  # the FIP goes to a plain port first: nothing plugs it, it stays DOWN
        if "floating ip" in step.command or "security group" in step.command:
            break
        step.run(lab.openstack)
    net = lab.openstack.find("network", "n1")
    port = lab.cloud.create_port(lab.admin, {"network_id": net["id"], "name": "spare"})
    fip = lab.openstack.floating_ip_create("ext_n2")
    lab.cloud.l3.update_floatingip(lab.admin, fip["id"], {"port_id": port["id"]})
    lab.converge()
    nat = next(n for n in lab.nb.rows("NAT") if n["type"] == "dnat_and_snat")
    assert lab.cloud.get_port(lab.admin, port["id"])["status"] == "DOWN"
    assert not nat["external_mac"] and nat["logical_port"] == port["id"]
    assert nat["external_ids"]["neutron:fip_external_mac"]


def test_dump_flows_counters_move_as_packets_pass(seed: tuple[Lab, O.Fip]) -> None:
    lab, f = seed

    def dnat_packets() -> int:
        """lr_in_unsnat's ct(nat) in the common zone: every inbound FIP packet crosses it
        (the lr_in_dnat commit flow only sees a connection's first packet)."""
        flows = O.nat_flows(lab, f, f.vm_host)
        line = next(x for x in flows if "table=12," in x and "reg10=0/0x1" in x)
        return int(line.split("n_packets=")[1].split(",")[0])

    before = dnat_packets()
    rc, out = O.ping(lab, "exthost", f.fip or "", 3)
    delivered = int(re.search(r"(\d+) received", out).group(1))  # type: ignore[union-attr]
    assert rc == 0 and delivered
    # real OVS adds a datapath flow's packets to its OpenFlow rules' counters every
    # revalidation (under a second); the emulated datapath at once
    deadline = time.monotonic() + 5
    while dnat_packets() != before + delivered and time.monotonic() < deadline:
        time.sleep(0.1)
    assert dnat_packets() == before + delivered


def test_flagging_a_gateway_with_ovs_vsctl_reschedules_the_router() -> None:
    """An operator sets ovn-cms-options on the network node: ovn-controller updates its
    Chassis row, Neutron's ChassisEvent reschedules, and only flagged chassis remain."""
    lab = Lab.build("seed")
    run_article(lab.openstack)
    f = O.facts(lab)
    assert O.gateway_chassis(lab, f).ok
    result = lab.exec("network", ["ovs-vsctl", "set", "open_vswitch", ".",
                                  "external_ids:ovn-cms-options=enable-chassis-as-gw"])
    assert result.rc == 0, result.stderr
    rows = [r for r in lab.nb.rows("Gateway_Chassis") if r["name"].startswith(f"lrp-{f.gw_port_id}_")]
    assert [(r["chassis_name"], r["priority"]) for r in rows] == [
        (lab.topology.node("network").system_id, 1)]
    assert O.outbound_distributed(lab, f).ok


def _provider_patch_ports(lab: Lab, host: str) -> list[str]:
    """The localnet patch ports ovn-controller created on `host`'s br-int: there only
    while the provider network is one of its local datapaths."""
    show = lab.exec(host, "ovs-vsctl list-ports br-int")
    assert show.rc == 0, show.stderr
    return [p for p in show.stdout.split() if p.startswith("patch-br-int-to-")]


def test_a_compute_node_not_a_gateway_reaches_the_provider_network_only_with_distributed_fips() -> None:
    """local_data.c need_add_peer_to_local: with centralized NAT only, the router's gateway
    port redirects always, so a chassis that cannot hold it stops its local datapaths
    there; a distributed FIP makes the provider network local again."""
    lab = Lab.build("gw-only", ["ovn.enable_distributed_floating_ip=false"])
    run_article(lab.openstack)
    f = O.facts(lab)
    assert f.vm_host == "compute1"
    assert _provider_patch_ports(lab, "network")
    assert not _provider_patch_ports(lab, "compute1")
    flows = lab.exec("compute1", "ovs-ofctl dump-flows br-int").stdout
    assert not re.search(rf"metadata={_provider_key(lab):#x}\b", flows)
    assert O.outbound_fip_centralized(lab, f).ok

    lab.config_set("ovn.enable_distributed_floating_ip", "true")
    assert _provider_patch_ports(lab, "compute1")
    o = O.outbound_distributed(lab, f)
    assert o.ok, o.evidence


def _provider_key(lab: Lab) -> int:
    out = lab.exec("network", "ovn-sbctl --bare --columns=tunnel_key,external_ids "
                   "list Datapath_Binding")
    assert out.rc == 0, out.stderr
    records = [r for r in out.stdout.strip().split("\n\n") if "ext_n2" in r]
    assert len(records) == 1, out.stdout
    return int(records[0].split()[0])
