"""Gateway failover through the Lab API: a chassis powered off while VMs ping the
internet every 0.2 s; BFD (real control messages on the clock) detects it, the next
chassis by priority claims the cr-lrp, and it is claimed back when the node returns."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ovnlab.errors import BadRequest, NotFound
from ovnlab.failover import measure
from ovnlab.lab import Lab
from ovnlab.packet import ETH_ARP, ip
from ovnlab.scenario import run_article


def _lab() -> Lab:
    lab = Lab.build("seed")
    run_article(lab.openstack)
    lab.openstack.server_create("vm_2", network="n1", host="compute2")  # no FIP
    return lab


def _holder(lab: Lab) -> str:
    pb = next(r for r in lab.sb.rows("Port_Binding") if r["type"] == "chassisredirect")
    return str(lab.sb.tables["Chassis"][pb["chassis"]]["hostname"]) if pb["chassis"] else ""


def _watch(lab: Lab, seconds: float) -> list[tuple[float, str]]:
    """The cr-lrp's holder as it changes, sampled every 50 ms of virtual time."""
    start, changes, last = lab.fabric.now, [], _holder(lab)
    while lab.fabric.now < start + seconds:
        lab.fabric.run(0.05)
        if _holder(lab) != last:
            last = _holder(lab)
            changes.append((round(lab.fabric.now - start, 2), last))
    return changes


def test_network_node_dies_and_returns() -> None:
    lab = _lab()
    assert _holder(lab) == "network"
    report = measure(lab, "network", ["vm_1", "vm_2"])
    stop, start = report.stop, report.start
    assert stop.bfd_down is not None and 2.0 <= stop.bfd_down <= 3.0
    assert [c.chassis for c in stop.claims] == ["compute1"]  # priority 2 takes over, once
    assert stop.claims[0].time - stop.bfd_down < 0.01  # ovn-controller wakes on bfd_status
    assert ("compute1" in [n for _t, n in stop.garps])
    fip, snat = stop.vms
    assert fip.lost == 0  # the FIP VM goes out through its own chassis
    assert 10 <= snat.lost <= 15 and 2.0 <= snat.outage <= 3.2
    assert stop.snat_via == ("compute1",)
    # the SB keeps the dead chassis's row
    assert lab.sb.lookup("Chassis", lab.topology.node("network").system_id) is not None
    assert start.bfd_up is not None and start.bfd_up < 1.5
    assert start.claims[-1].chassis == "network"  # preemptive failback
    assert 0.9 <= start.claims[-1].time <= 2.2  # start-up, then BFD's handshake
    assert start.snat_via == ("network",) and all(v.lost <= 4 for v in start.vms)
    assert _holder(lab) == "network"


def test_a_restarted_node_starts_as_the_real_daemons_do() -> None:
    """Power on: ovs-vswitchd is up 0.13 s later (its BFD sessions Down), ovn-controller
    once connected and the SB downloaded; the switch's first packet to each chassis is an
    ARP request (its tunnel neighbour cache starts empty), so the peers hear its first
    BFD message only at its next transmission, already Init, and go Down -> Up at once,
    as the real 22.03 lab logs it; the gateway comes back after that handshake."""
    lab = _lab()
    lab.node_stop("network")
    lab.wait(4.0)
    t0 = lab.fabric.now
    lab.fabric.start_node("network")
    network = lab.fabric.chassis("network")
    assert network.running == set()
    lab.fabric.run(0.131)
    assert lab.node_state("network")["daemons"] == {"ovn-controller": False,
                                                    "ovs-vswitchd": True}
    lab.fabric.run(network.controller_boot())
    assert all(lab.node_state("network")["daemons"].values())
    booted = lab.fabric.now - t0
    changes = _watch(lab, 3.0)
    assert changes[-1][1] == "network" and 0.9 <= booted + changes[-1][0] <= 2.25
    sent = [c for c in lab.fabric.captures("network")["eth1"]
            if c.direction == "out" and c.time >= t0]
    assert sent[0].packet.eth_type == ETH_ARP  # who-has, not BFD
    assert sent[0].time - t0 == pytest.approx(0.13, abs=0.001)
    peers = [(e.old, e.new) for name in ("compute1", "compute2")
             for e in lab.fabric.chassis(name).bfd.log
             if e.time > t0 and e.remote_ip == network.tunnel_ip]
    assert peers == [("down", "up"), ("down", "up")]


def test_detection_is_bfds_timeout_after_the_last_message() -> None:
    """Wherever the node dies between two control messages, its peers give up
    3 x 1000 ms after the last one they received."""
    for offset in (1.1, 1.35, 1.6, 1.85):
        lab = _lab()
        lab.wait(offset)
        t0 = lab.fabric.now
        lab.node_stop("network")
        claims = _watch(lab, 4.0)
        assert [c for _t, c in claims] == ["compute1"]
        assert 2.0 <= claims[0][0] <= 3.05
        down = next(e for e in lab.fabric.chassis("compute1").bfd.log
                    if e.time > t0 and e.new == "down")
        assert down.diagnostic == "Control Detection Time Expired"
        assert down.time - _last_heard(lab, "compute1", "network", t0) == \
            pytest.approx(3.0, abs=0.001)


def _last_heard(lab: Lab, node: str, peer: str, before: float) -> float:
    peer_ip = ip(lab.fabric.chassis(peer).tunnel_ip)
    return max(c.time for c in lab.fabric.captures(node)["eth1"]
               if c.direction == "in" and c.time <= before and c.packet.geneve is not None
               and c.packet.ip_src == peer_ip and c.packet.geneve.inner.tp_dst == 3784)


def test_bfd_control_messages_on_the_underlay() -> None:
    lab = _lab()
    lab.fabric.run(3.0)
    frames = [c.packet for c in lab.fabric.captures("compute2")["eth1"]]
    bfd = [f for f in frames if f.geneve is not None and f.geneve.inner.tp_dst == 3784]
    assert len(bfd) >= 4  # about one a second to each of two peers
    assert all(f.geneve is not None and f.geneve.vni == 0 and f.geneve.inner.ip_ttl == 255
               for f in bfd)


def test_killed_ovn_controller_keeps_installed_flows() -> None:
    lab = _lab()
    assert lab.exec("vm_1", "ping -c 1 8.8.8.8").rc == 0  # neighbours learnt (packet-ins)
    lab.node_kill("compute1", "ovn-controller")
    assert lab.node_state("compute1")["daemons"] == {"ovn-controller": False,
                                                     "ovs-vswitchd": True}
    assert lab.exec("vm_1", "ping -c 3 -i 0.2 8.8.8.8").rc == 0


def test_killed_vswitchd_cuts_the_fip_vm_and_restart_restores_it() -> None:
    lab = _lab()
    lab.node_kill("compute1", "ovs-vswitchd")
    assert lab.exec("vm_1", "ping -c 3 -i 0.2 8.8.8.8").rc == 1
    assert lab.exec("vm_2", "ping -c 3 -i 0.2 8.8.8.8").rc == 0  # other VMs unaffected
    lab.node_start("compute1")
    assert lab.exec("vm_1", "ping -c 3 -i 0.2 8.8.8.8").rc == 0


def test_a_powered_off_node_runs_nothing() -> None:
    lab = _lab()
    lab.node_stop("compute1")
    for node in ("compute1", "vm_1"):  # the chassis, and the VM it hosts
        result = lab.exec(node, "ip addr")
        assert (result.rc, result.stderr) == (
            255, f"ovnlab exec: {node} is powered off (`ovnlab node start compute1`)\n")
    assert lab.exec("network", "ovn-sbctl show").rc == 0
    lab.node_start("compute1")
    assert lab.exec("vm_1", "ip addr").rc == 0


def test_link_down_and_up() -> None:
    lab = _lab()
    lab.link_set("vm_2", "eth0", False)
    assert lab.exec("vm_2", "ping -c 2 -i 0.2 8.8.8.8").rc == 1
    lab.link_set("vm_2", "eth0", True)
    assert lab.exec("vm_2", "ping -c 2 -i 0.2 8.8.8.8").rc == 0


def test_bad_input_is_refused_and_changes_nothing() -> None:
    lab = _lab()
    with pytest.raises(NotFound):
        lab.node_stop("nosuch")
    with pytest.raises(BadRequest, match="unknown daemon"):
        lab.node_kill("network", "sshd")
    with pytest.raises(BadRequest, match="is not a chassis"):
        lab.node_stop("vm_1")
    with pytest.raises(NotFound):
        lab.link_set("network", "eth9", False)
    state = lab.node_state("network")
    assert all(state["daemons"].values()) and all(state["links"].values())


GATEWAYS = ("network", "compute1", "compute2")  # the router's gateway chassis, by priority


def _snat_here(lab: Lab, node: str, gw_ip: str) -> bool:
    """Whether `node`'s br-int SNATs to the router's address (the gateway is active here)."""
    return f"nat(src={gw_ip})" in lab.exec(node, "ovs-ofctl dump-flows br-int").stdout


@settings(max_examples=6, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.tuples(st.sampled_from(GATEWAYS), st.booleans()), min_size=1, max_size=5))
def test_one_active_gateway_whatever_fails(events: list[tuple[str, bool]]) -> None:
    """Whatever chassis stop and start, once BFD has settled at most one chassis is the
    active gateway. While two or more gateway chassis are up it is the highest-priority
    one, and every VM whose chassis is up reaches the internet. A lone survivor whose BFD
    peers are all down does not claim (ha_chassis_group_is_active: an empty set of active
    tunnels means this chassis is cut off, and with every gateway chassis in the group
    no ref_chassis tunnel is up either), so only FIP VMs reach the internet then: the
    real 22.03 lab did the same (comp2 left alone, the cr-lrp stayed bound to the dead
    netnode)."""
    lab = _lab()
    gw_ip = next(iter(_gateway_addresses(lab)))
    down: set[str] = set()
    for node, stop in events:
        if stop and node not in down:
            lab.node_stop(node)
            down.add(node)
        elif not stop and node in down:
            lab.node_start(node)
            down.discard(node)
        lab.wait(4.0)  # past BFD's 3 s detection time and its ~1 s handshake
    live = [n for n in GATEWAYS if n not in down]
    active = [n for n in live if _snat_here(lab, n, gw_ip)]
    assert len(active) <= 1
    if len(live) >= 2:
        assert active == [live[0]] and _holder(lab) == live[0]
    else:
        assert active == []
    for vm, host, fip in (("vm_1", "compute1", True), ("vm_2", "compute2", False)):
        if host not in down:
            reaches = lab.exec(vm, "ping -c 2 -i 0.2 8.8.8.8").rc == 0
            assert reaches == (fip or len(live) >= 2), (vm, down)


def _gateway_addresses(lab: Lab) -> set[str]:
    return {a.split("/")[0] for pb in lab.sb.rows("Port_Binding")
            if pb["type"] == "chassisredirect" for m in pb["mac"] for a in m.split()[1:]}


def test_nb_cfg_heartbeat_stops_with_ovn_controller() -> None:
    """Neutron's agent liveness source: each running ovn-controller reports NB_Global's
    nb_cfg back with a timestamp; a killed one falls behind and turns dead once
    agent_down_time has passed since its last report."""
    lab = _lab()
    lab.ping_all_chassis()
    beats = lab.chassis_heartbeats()
    assert all(b.reported == b.nb_cfg and b.alive(75) for b in beats.values())
    lab.node_kill("compute2", "ovn-controller")
    lab.wait(40.0)
    lab.ping_all_chassis()
    lab.wait(40.0)
    lab.ping_all_chassis()
    beats = lab.chassis_heartbeats()
    assert beats["compute1"].reported == beats["compute1"].nb_cfg
    assert beats["compute1"].reported_at == pytest.approx(lab.fabric.now, abs=0.001)  # a ms timestamp
    assert beats["compute2"].nb_cfg - beats["compute2"].reported == 2
    assert beats["compute1"].alive(75) and not beats["compute2"].alive(75)
    assert beats["compute2"].alive(120)  # not yet agent_down_time since its last report
    lab.node_start("compute2")
    assert lab.chassis_heartbeats()["compute2"].reported == beats["compute2"].nb_cfg
