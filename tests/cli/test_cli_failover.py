"""`ovnlab node stop|start|kill` and `ovnlab link down|up` on a running lab, through the
daemon's control API; `ovnlab demo --failover`."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from cli_helpers import openstack, openstack_env, ovnlab

ARTICLE = Path(__file__).resolve().parents[2] / "examples" / "article.sh"


def test_node_and_link_commands(state_dir: Path) -> None:
    assert ovnlab(state_dir, "up").returncode == 0
    stop = ovnlab(state_dir, "node", "stop", "compute2")
    assert stop.returncode == 0, stop.stderr
    assert stop.stdout.startswith("compute2: ovn-controller stopped; ovs-vswitchd stopped; "
                                  "links: eth0 DOWN")
    start = ovnlab(state_dir, "node", "start", "compute2")
    assert start.stdout.startswith("compute2: ovn-controller running; ovs-vswitchd running; "
                                   "links: eth0 up")
    kill = ovnlab(state_dir, "node", "kill", "network", "ovn-controller")
    assert "network: ovn-controller stopped; ovs-vswitchd running;" in kill.stdout
    link = ovnlab(state_dir, "link", "down", "network", "eth1")
    assert link.returncode == 0 and "eth1 DOWN" in link.stdout
    # refused, and nothing changed
    for args, message in ((("node", "stop", "nosuch"), "no node 'nosuch' in this lab"),
                          (("node", "kill", "network", "sshd"), "unknown daemon 'sshd'"),
                          (("link", "down", "network", "eth9"), "network: no interface 'eth9'")):
        bad = ovnlab(state_dir, *args)
        assert bad.returncode == 1 and message in bad.stderr, bad.stderr
    usage = ovnlab(state_dir, "link", "sideways", "network", "eth1")
    assert usage.returncode == 2 and "invalid choice: 'sideways'" in usage.stderr
    again = ovnlab(state_dir, "link", "up", "network", "eth1")
    assert again.stdout.endswith("links: eth0 up, br-int up, br-ex up, eth1 up\n")


def test_demo_failover_chapter(tmp_path: Path) -> None:
    result = ovnlab(tmp_path / "none", "demo", "--failover")
    assert result.returncode == 0, result.stdout[-2000:]
    assert "claimed by compute1" in result.stdout
    assert "9/9 failover checks hold." in result.stdout
    assert not (tmp_path / "none").exists()  # in-process: nothing written


def _exec(state: Path, node: str, *argv: str) -> subprocess.CompletedProcess[str]:
    return ovnlab(state, "exec", node, "--", *argv)


def _alive(state: Path) -> dict[str, bool]:
    """`openstack network agent list`: each host's agent alive or not."""
    listing = openstack(state, "network", "agent", "list", "-f", "json")
    assert listing.returncode == 0, listing.stderr
    return {a["Host"]: a["Alive"] for a in json.loads(listing.stdout)}


def _now(state: Path) -> float:
    """The lab's virtual time (`ovnlab wait 0`)."""
    return float(ovnlab(state, "wait", "0").stdout.split()[2])


@pytest.mark.slow
def test_network_node_dies_under_the_real_client(state_dir: Path) -> None:
    """The article through the real openstack client, a VM without a floating IP on
    compute2, then the network node powered off while that VM pings: compute1 takes the
    gateway; Neutron reports the network node's agent dead once agent_down_time (75 s of
    virtual time) has passed; powered on, the network node takes the gateway back."""
    assert ovnlab(state_dir, "up").returncode == 0
    run = subprocess.run(["bash", str(ARTICLE)], capture_output=True, text=True, timeout=600,
                         env=openstack_env(state_dir))
    assert run.returncode == 0, run.stdout + run.stderr
    image = openstack(state_dir, "image", "show", "cirros", "-f", "value", "-c", "id")
    vm_2 = openstack(state_dir, "server", "create", "--nic", "net-id=n1", "--flavor",
                     "m1.nano", "--image", image.stdout.strip(), "--availability-zone",
                     "nova:compute2", "vm_2")
    assert vm_2.returncode == 0, vm_2.stderr
    gateway = json.loads(openstack(state_dir, "router", "show", "r", "-f", "json").stdout)
    gw_ip = gateway["external_gateway_info"]["external_fixed_ips"][0]["ip_address"]
    assert _alive(state_dir) == {"network": True, "compute1": True, "compute2": True}

    stop = ovnlab(state_dir, "node", "stop", "network")
    assert stop.returncode == 0 and "network: ovn-controller stopped" in stop.stdout
    ping = _exec(state_dir, "vm_2", "ping", "-c", "25", "-i", "0.2", "8.8.8.8")
    assert ping.returncode == 0, ping.stdout  # answered again once compute1 leads
    sent, got = map(int, re.findall(r"(\d+) packets transmitted, (\d+) received",
                                    ping.stdout)[0])
    assert 10 <= sent - got <= 16, ping.stdout  # BFD's 2-3 s, pings every 0.2 s
    bfd = _exec(state_dir, "compute1", "ovs-appctl", "bfd/show").stdout
    assert "Forwarding: false" in bfd and "Control Detection Time Expired" in bfd
    assert f"IP {gw_ip} > 8.8.8.8: ICMP echo request" in _exec(
        state_dir, "compute1", "tcpdump", "-i", "eth0", "-n", "--history", "icmp").stdout

    # Neutron's liveness: each agent list pings the chassis (at most every 37 s of the
    # lab's virtual time); the network node turns dead once two nb_cfg behind and silent
    # for agent_down_time (75 s) since its last report, the list before the stop
    assert _alive(state_dir)["network"]
    system_id = re.search(r"system_id: (\S+)", (state_dir / "topology.yaml").read_text())
    assert system_id is not None
    for _ in range(4):
        ovnlab(state_dir, "wait", "40")
        alive = _alive(state_dir)
        assert alive["compute1"] and alive["compute2"]
        if not alive["network"]:
            break
    assert not alive["network"]
    stamp = _exec(state_dir, "compute1", "ovn-sbctl", "--bare", "--columns=nb_cfg_timestamp",
                  "find", "Chassis_Private", f"name={system_id.group(1)}").stdout
    assert _now(state_dir) - int(stamp) / 1000 >= 75  # silent for agent_down_time

    start = ovnlab(state_dir, "node", "start", "network")
    assert start.stdout.startswith("network: ovn-controller running; ovs-vswitchd running")
    back = _exec(state_dir, "vm_2", "ping", "-c", "15", "-i", "0.2", "8.8.8.8")
    sent, got = map(int, re.findall(r"(\d+) packets transmitted, (\d+) received",
                                    back.stdout)[0])
    assert sent - got <= 4, back.stdout  # preemptive failback after the BFD handshake
    assert f"IP {gw_ip} > 8.8.8.8: ICMP echo request" in _exec(
        state_dir, "network", "tcpdump", "-i", "eth0", "-n", "--history", "icmp").stdout
    assert _alive(state_dir)["network"]


def test_failures_survive_down_and_up(state_dir: Path) -> None:
    """A stopped node, a killed daemon and a downed link are kept in the state dir
    (failures.json) and are down again after `ovnlab down` / `ovnlab up`."""
    assert ovnlab(state_dir, "up").returncode == 0
    ovnlab(state_dir, "node", "stop", "compute2")
    ovnlab(state_dir, "node", "kill", "compute1", "ovn-controller")
    ovnlab(state_dir, "link", "down", "network", "eth0")
    assert ovnlab(state_dir, "down").returncode == 0
    assert ovnlab(state_dir, "up").returncode == 0
    show = {n: ovnlab(state_dir, "node", "show", n).stdout
            for n in ("network", "compute1", "compute2")}
    assert show["compute2"].startswith("compute2: ovn-controller stopped; ovs-vswitchd "
                                       "stopped; links: eth0 DOWN")
    assert show["compute1"].startswith("compute1: ovn-controller stopped; ovs-vswitchd "
                                       "running; links: eth0 up")
    assert show["network"].startswith("network: ovn-controller running; ovs-vswitchd "
                                      "running; links: eth0 DOWN")
    assert _exec(state_dir, "compute2", "ip", "addr").returncode == 255
    for seconds in ("-1", "3601", "nan"):
        bad = ovnlab(state_dir, "wait", seconds)
        assert bad.returncode == 1 and "wait: seconds must be within 0..3600" in bad.stderr
    assert ovnlab(state_dir, "node", "show", "vm_9").returncode == 1

    for verb in (("node", "start", "compute2"), ("node", "start", "compute1"),
                 ("link", "up", "network", "eth0")):
        assert ovnlab(state_dir, *verb).returncode == 0
    assert not (state_dir / "failures.json").exists()  # nothing down: nothing kept
    ovnlab(state_dir, "node", "stop", "compute1")
    ovnlab(state_dir, "down")
    (state_dir / "failures.json").write_text("[not json")
    bad = ovnlab(state_dir, "up")
    assert bad.returncode == 1 and "failures.json" in bad.stderr, bad.stderr
