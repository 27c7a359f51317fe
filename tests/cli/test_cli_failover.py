"""`ovnlab node stop|start|kill` and `ovnlab link down|up` on a running lab, through the
daemon's control API; `ovnlab demo --failover`."""

from __future__ import annotations

from pathlib import Path

from cli_helpers import ovnlab


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
    assert "8/8 failover checks hold." in result.stdout
    assert not (tmp_path / "none").exists()  # in-process: nothing written
