"""Gateway failover through the Lab API: a chassis powered off while VMs ping the
internet every 0.2 s; BFD (real control messages on the clock) detects it, the next
chassis by priority claims the cr-lrp, and it is claimed back when the node returns."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ovnlab.errors import BadRequest, NotFound
from ovnlab.failover import _Prober
from ovnlab.lab import Lab
from ovnlab.packet import ip
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
    probe = _Prober(lab, ["vm_1", "vm_2"], ip("8.8.8.8"))
    lab.fabric.run(1.0)
    t0 = lab.fabric.now
    lab.fabric.stop_node("network")
    claims = _watch(lab, 6.0)
    assert [c for _t, c in claims] == ["compute1"]  # priority 2 takes over, once
    assert 2.0 <= claims[0][0] <= 3.1
    lost1, _ = probe.window("vm_1", t0, lab.fabric.now)
    lost2, outage2 = probe.window("vm_2", t0, lab.fabric.now)
    assert lost1 == 0  # the FIP VM goes out through its own chassis
    assert 10 <= lost2 <= 15 and 2.0 <= outage2 <= 3.2
    status = lab.exec("compute2", "ovs-vsctl show").stdout
    assert 'forwarding="false"' in status and "Control Detection Time Expired" in status
    assert lab.sb.lookup("Chassis", lab.topology.node("network").system_id) is not None

    t1 = lab.fabric.now
    lab.fabric.start_node("network")
    back = _watch(lab, 4.0)
    assert [c for _t, c in back] == ["network"]  # preemptive failback
    assert back[0][0] < 2.0
    lost2, _ = probe.window("vm_2", t1, lab.fabric.now)
    assert lost2 <= 4
    probe.stop()


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


@settings(max_examples=4, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.tuples(st.sampled_from(["network", "compute1", "compute2"]), st.booleans()),
                min_size=1, max_size=4))
def test_one_active_gateway_whatever_fails(events: list[tuple[str, bool]]) -> None:
    """Once BFD has settled, the cr-lrp is on the highest-priority chassis that is up,
    and every VM whose chassis is up reaches the internet."""
    lab = _lab()
    down: set[str] = set()
    for node, stop in events:
        if stop and len(down) < 2:
            lab.node_stop(node)
            down.add(node)
        elif not stop and node in down:
            lab.node_start(node)
            down.discard(node)
        lab.wait(4.0)
    live = [n for n in ("network", "compute1", "compute2") if n not in down]
    assert _holder(lab) == live[0]
    for vm, host in (("vm_1", "compute1"), ("vm_2", "compute2")):
        if host not in down:
            assert lab.exec(vm, "ping -c 2 -i 0.2 8.8.8.8").rc == 0, (vm, down)
