"""Where packets go, for the paths beyond the article (issue: packets across the lab)."""

from __future__ import annotations

import pytest
from scenario_backends import BACKENDS, lab_for

from ovnlab import observations as O
from ovnlab.lab import Lab
from ovnlab.packet import ETH_IP, ICMP_ECHO_REQUEST, PROTO_ICMP, Packet, ip, ip_str
from ovnlab.scenario import ARTICLE, run_article


def _article_without_security_group() -> Lab:
    lab = Lab.build("seed")
    for step in ARTICLE[:-1]:
        step.run(lab.openstack)
    return lab


@pytest.mark.parametrize("backend", BACKENDS)
def test_vm_with_fip_and_vm_without_fip_at_the_same_time(backend: str) -> None:
    with lab_for(backend) as lab:
        _fip_and_no_fip(lab)


def _fip_and_no_fip(lab: Lab) -> None:
    run_article(lab.openstack)
    lab.openstack.server_create("vm_2", network="n1", host="compute2")
    f1 = O.facts(lab, server="vm_1")
    f2 = O.facts(lab, server="vm_2")
    assert f1.vm_host == "compute1" and f2.vm_host == "compute2" and f2.fip is None

    cap = O.Capture(lab)
    rc1, _ = O.ping(lab, "vm_1", "8.8.8.8")
    rc2, _ = O.ping(lab, "vm_2", "8.8.8.8")
    assert rc1 == rc2 == 0
    assert cap.icmp("compute1", src=f1.fip, kind=ICMP_ECHO_REQUEST)
    assert cap.icmp("network", src=f2.gw_ip, kind=ICMP_ECHO_REQUEST)
    assert not cap.icmp("network", src=f1.fip) and not cap.icmp("compute1", src=f2.gw_ip)
    assert not cap.icmp("compute2")  # vm_2's traffic is tunnelled to the gateway chassis
    assert [c for c in cap.geneve("compute2") if c.direction == "out"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_east_west_routed_on_the_source_chassis_and_tunnelled_directly(backend: str) -> None:
    with lab_for(backend) as lab:
        _east_west(lab)


def _east_west(lab: Lab) -> None:
    os = lab.openstack
    os.network_create("a", provider_network_type="geneve")
    os.subnet_create("a-sub", network="a", subnet_range="192.168.10.0/24")
    os.network_create("b", provider_network_type="geneve")
    os.subnet_create("b-sub", network="b", subnet_range="192.168.20.0/24")
    os.router_create("r")
    os.router_add_subnet("r", "a-sub")
    os.router_add_subnet("r", "b-sub")
    os.server_create("va", network="a", host="compute1")
    vb = os.server_create("vb", network="b", host="compute2")
    vb_ip = lab.cloud.get_ports(lab.admin, filters={"device_id": [vb["id"]]})[0]["fixed_ips"][0]["ip_address"]

    cap = O.Capture(lab)
    result = lab.exec("va", ["ping", "-c", "2", vb_ip])
    assert result.rc == 0, result.stdout
    assert "ttl=63" in result.stdout  # one router hop, done on compute1
    sent = [c for c in cap.geneve("compute1") if c.direction == "out"]
    assert sent
    compute2 = lab.topology.node("compute2")
    assert all(ip_str(c.packet.ip_dst) == compute2.tunnel_ip for c in sent)
    assert not cap.geneve("network") and not cap.icmp("network")


def test_a_vm_arp_for_its_gateway_is_answered_on_its_own_chassis() -> None:
    """The router port's addresses are answered by the switch's ARP responder (22.03's
    `ls_in_arp_rsp` for "router" addresses): nothing is flooded to the network's other
    chassis and the router learns no MAC_Binding from it."""
    lab = Lab.build("seed")
    run_article(lab.openstack)
    lab.openstack.server_create("vm_2", network="n1", host="compute2")  # n1 spans 2 chassis
    cap = O.Capture(lab)
    rc, out = O.ping(lab, "vm_1", "172.16.100.1", 1)
    assert rc == 0, out
    assert "172.16.100.1 dev eth0 lladdr" in lab.exec("vm_1", "ip neigh").stdout
    assert not any(cap.geneve(n.hostname) for n in lab.topology.nodes)
    assert not [r for r in lab.sb.rows("MAC_Binding") if r["ip"] == "172.16.100.10"]


def test_default_security_group_drops_inbound_until_allow_icmp_ssh() -> None:
    lab = _article_without_security_group()
    f = O.facts(lab)
    rc, _ = O.ping(lab, "exthost", f.fip or "", 2)
    assert rc == 1
    nc = lab.exec("exthost", ["nc", "-z", "-w", "1", f.fip or "", "22"])
    assert nc.rc == 1
    trace = lab.trace_text("exthost", f.fip or "", "icmp", 0, "detailed")
    assert "acl" in trace.lower() and "drop" in trace.lower()

    ARTICLE[-1].run(lab.openstack)  # openstack server add security group vm_1 allow-icmp-ssh
    rc, out = O.ping(lab, "exthost", f.fip or "", 3)
    assert rc == 0, out
    nc = lab.exec("exthost", ["nc", "-z", "-v", "-w", "1", f.fip or "", "22"])
    assert nc.rc == 0, nc.stdout + nc.stderr
    # a port the group does not open stays closed (dropped, not reset)
    assert lab.exec("exthost", ["nc", "-z", "-w", "1", f.fip or "", "80"]).rc == 1


@pytest.mark.parametrize("backend", BACKENDS)
def test_egress_and_replies_pass_with_only_the_default_group(backend: str) -> None:
    with lab_for(backend) as lab:
        for step in ARTICLE[:-1]:
            step.run(lab.openstack)
        rc, out = O.ping(lab, "vm_1", "8.8.8.8")
        assert rc == 0, out
        # inbound to the FIP stays dropped by the default group
        f = O.facts(lab)
        assert O.ping(lab, "exthost", f.fip or "", 2)[0] == 1


@pytest.mark.parametrize("spoof", ["ip", "mac"])
def test_port_security_drops_spoofed_frames(spoof: str) -> None:
    lab = Lab.build("seed")
    run_article(lab.openstack)
    O.ping(lab, "vm_1", "10.0.2.100", 1)  # resolve the gateway first
    vm = lab["vm_1"]
    eth0 = vm.interfaces["eth0"]
    gw_mac = next(n.mac for n in vm.stack.neighbours.values() if n.mac is not None)
    src_mac = 0x02AABBCCDDEE if spoof == "mac" else eth0.mac
    src_ip = ip("172.16.100.99") if spoof == "ip" else ip("172.16.100.10")
    cap = O.Capture(lab)
    for seq in range(3):
        eth0.send(Packet(eth_src=src_mac, eth_dst=gw_mac, eth_type=ETH_IP, ip_src=src_ip,
                         ip_dst=ip("10.0.2.100"), ip_proto=PROTO_ICMP,
                         icmp_type=ICMP_ECHO_REQUEST, icmp_id=7, icmp_seq=seq))
    lab.fabric.run(1.0)
    assert not any(cap.icmp(n.hostname) for n in lab.topology.nodes)
    assert not any(cap.geneve(n.hostname) for n in lab.topology.nodes)


def test_first_packet_is_buffered_while_the_next_hop_is_resolved() -> None:
    """pinctrl's buffered packets: the packet that triggered `arp` is sent once the reply
    is learnt, so a fresh lab's very first ping is answered (0% loss, as real OVN)."""
    lab = Lab.build("seed")
    run_article(lab.openstack)
    f = O.facts(lab)
    assert lab.exec("vm_1", ["ping", "-c", "1", "8.8.8.8"]).rc == 0
    assert lab.exec("exthost", ["ping", "-c", "1", f.fip or ""]).rc == 0


def test_first_ping_to_the_router_gateway_ip_is_answered() -> None:
    """Real 22.03 lab: `ip neigh flush dev eth0; ping -c 2 10.0.2.210` from exthost:
        64 bytes from 10.0.2.210: icmp_seq=1 ttl=254 time=1.13 ms
        64 bytes from 10.0.2.210: icmp_seq=2 ttl=254 time=0.543 ms
    The router learns exthost's MAC from its ARP request before the echo comes, yet its
    flows do not know it yet: the reply is held for an ARP whose answer changes no
    MAC_Binding row, and pinctrl's every-loop run releases it all the same."""
    lab = Lab.build("seed")
    run_article(lab.openstack)
    result = lab.exec("exthost", "ping -c 2 10.0.2.210")
    assert "64 bytes from 10.0.2.210: icmp_seq=1 ttl=254 time=" in result.stdout
    assert "2 packets transmitted, 2 received, 0% packet loss" in result.stdout
    first = result.stdout.splitlines()[1]
    assert float(first.split("time=")[1].split()[0]) < 10  # ms: released at once, not by a timer


def test_packet_held_on_one_chassis_is_released_by_a_mac_learnt_on_another() -> None:
    """Centralized: the VM's chassis routes and ARPs, but the reply reaches the gateway
    chassis, which writes the MAC_Binding; the SB change releases the held packet."""
    lab = Lab.build("seed", ["ovn.enable_distributed_floating_ip=false"])
    run_article(lab.openstack)
    result = lab.exec("vm_1", ["ping", "-c", "1", "8.8.8.8"])
    assert result.rc == 0, result.stdout
    (mb,) = [m for m in lab.sb.rows("MAC_Binding") if m["ip"] == "10.0.2.2"]
    assert mb["mac"] == "02:00:0a:00:02:02"


def test_an_ipv6_only_server_boots_unaddressed_and_the_lab_keeps_working() -> None:
    lab = Lab.build("seed")
    os = lab.openstack
    os.network_create("v6", provider_network_type="geneve")
    lab.cloud.create_subnet(lab.admin, {"name": "v6s", "network_id": os.find("network", "v6")["id"],
                                        "cidr": "2001:db8::/64", "ip_version": 6})
    os.server_create("v6vm", network="v6")
    assert os.find("server", "v6vm")["status"] == "ACTIVE"
    assert "inet " not in lab.exec("v6vm", "ip -4 addr show eth0").stdout
    assert lab.exec("exthost", "ping -c 1 8.8.8.8").rc == 0


def test_chassis_ids_sharing_six_characters_get_distinct_tunnels() -> None:
    """encaps.c's tunnel_create_name: `ovn-<id[:6]>-<n>` with the first free n."""
    from ovnlab import topology

    raw = topology.load_raw("seed")
    for i, node in enumerate(raw["nodes"]):
        node["system_id"] = f"aaaaaa00-0000-4000-8000-00000000000{i}"
    lab = Lab(topology.from_dict(raw))
    run_article(lab.openstack)
    lab.openstack.server_create("vm_2", network="n1", host="compute2")
    tunnels = sorted(p for p in lab.vswitches["compute2"].bridges["br-int"].ports
                     if p.startswith("ovn-"))
    assert tunnels == ["ovn-aaaaaa-0", "ovn-aaaaaa-1"]
    assert lab.exec("vm_2", "ping -c 2 8.8.8.8").rc == 0


def test_gateway_failover_follows_the_bundle_to_the_next_live_chassis() -> None:
    """vm_2 (compute2, no FIP) reaches the internet through the gateway port, which the
    network node holds: compute2 sends to it with bundle(active_backup) over its tunnels
    to the group's chassis by priority. With the network node powered off (its BFD
    sessions time out), compute1 takes the gateway and the bundle's next member carries."""
    lab = Lab.build("seed")
    run_article(lab.openstack)
    lab.openstack.server_create("vm_2", network="n1", host="compute2")
    f2 = O.facts(lab, server="vm_2")
    cap = O.Capture(lab)
    assert O.ping(lab, "vm_2", "8.8.8.8")[0] == 0
    assert cap.icmp("network", src=f2.gw_ip, kind=ICMP_ECHO_REQUEST)

    lab.node_stop("network")
    lab.wait(3.5)  # BFD's detection time: 3 x 1000 ms after the last message
    net = lab.controllers["network"].name
    tunnel = lab.exec("compute2", f"ovs-vsctl get interface ovn-{net[:6]}-0 bfd_status")
    assert "forwarding=\"false\"" in tunnel.stdout
    cap = O.Capture(lab)
    assert O.ping(lab, "vm_2", "8.8.8.8")[0] == 0
    assert cap.icmp("compute1", src=f2.gw_ip, kind=ICMP_ECHO_REQUEST)
    assert not cap.icmp("network")
