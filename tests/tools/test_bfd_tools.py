"""What the operator's tools show of BFD on a lab: tcpdump on the underlay (byte for byte
what Debian's tcpdump prints for the same pcap), `ovs-appctl bfd/show`, `ovs-vsctl`."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from ovnlab.lab import Lab
from ovnlab.scenario import run_article


@pytest.fixture(scope="module")
def lab() -> Lab:
    lab = Lab.build("seed")
    run_article(lab.openstack)
    lab.fabric.run(2.0)
    lab.node_stop("network")
    lab.wait(3.5)  # compute1 and compute2 time the network node out
    return lab


def test_tcpdump_prints_bfd_control_messages(lab: Lab) -> None:
    out = lab.exec("compute1", "tcpdump -n -i eth1 --history udp port 6081").stdout.splitlines()
    bfd = [x for x in out if "BFDv1, Control" in x]
    assert bfd and all(": Geneve, Flags [none], vni 0x0: IP 169.254.1.0." in x for x in bfd)
    assert any(x.endswith("State Up, Flags: [none], length: 24") for x in bfd)
    assert any(x.endswith("State Down, Flags: [none], length: 24") for x in bfd)


@pytest.mark.oracle
@pytest.mark.skipif(shutil.which("tcpdump") is None, reason="Debian's tcpdump is not installed")
@pytest.mark.parametrize("flags", ["-n", "-n -v"])
def test_bfd_lines_match_debian_tcpdump(lab: Lab, tmp_path: Path, flags: str) -> None:
    path = tmp_path / "eth1.pcap"
    assert lab.exec("compute1", f"tcpdump -i eth1 --history -w {path} udp port 6081").rc == 0
    real = subprocess.run(["tcpdump", "-r", str(path), *flags.split()], capture_output=True,
                          text=True, env={"TZ": "UTC"}, check=True)
    ours = lab.exec("compute1", f"tcpdump -i eth1 {flags} --history udp port 6081")
    assert "Detection Timer Multiplier" in real.stdout or "-v" not in flags
    assert real.stdout == ours.stdout


def test_bfd_show(lab: Lab) -> None:
    net = lab.topology.node("network").system_id
    c2 = lab.topology.node("compute2").system_id
    out = lab.exec("compute1", "ovs-appctl bfd/show").stdout
    sessions = out.split("---- ")[1:]
    assert sorted(s.split(" ----")[0] for s in sessions) == sorted(
        [f"ovn-{net[:6]}-0", f"ovn-{c2[:6]}-0"])
    to_net = lab.exec("compute1", f"ovs-appctl bfd/show ovn-{net[:6]}-0").stdout
    assert "  Forwarding: false\n" in to_net
    assert "  Local Session State: down\n" in to_net
    assert "  Local Diagnostic: Control Detection Time Expired\n" in to_net
    assert to_net.endswith("  Remote Detect Multiplier: 0\n")  # nothing heard since
    to_c2 = lab.exec("compute1", f"ovs-appctl bfd/show ovn-{c2[:6]}-0").stdout
    # Open vSwitch 3.1's layout, as the real lab's ovs-appctl printed it
    assert to_c2.startswith("  Forwarding: true\n  Detect Multiplier: 3\n"
                            "  Concatenated Path Down: false\n  TX Interval: Approx 1000ms\n"
                            "  RX Interval: Approx 1000ms\n  Detect Time: now +")
    assert "  Local Minimum TX Interval: 100ms\n  Local Minimum RX Interval: 1000ms\n" in to_c2
    assert "  Remote Session State: up\n" in to_c2
    assert to_c2.endswith("  Remote Minimum RX Interval: 1000ms\n"
                          "  Remote Detect Multiplier: 3\n")
    last_tx = int(to_c2.split("Last TX Time: now ")[1].split("ms")[0])
    next_tx = int(to_c2.split("Next TX Time: now ")[1].split("ms")[0])
    assert last_tx <= 0 <= next_tx  # the last message went, the next is to come
    bad = lab.exec("compute1", "ovs-appctl bfd/show nosuch")
    assert (bad.rc, bad.stderr) == (
        2, "no such bfd object\novs-appctl: ovs-vswitchd: server returned an error\n")


def test_vsctl_shows_the_verdict(lab: Lab) -> None:
    net = lab.topology.node("network").system_id
    status = lab.exec("compute1", f"ovs-vsctl get interface ovn-{net[:6]}-0 bfd_status")
    assert 'forwarding="false"' in status.stdout and "state=down" in status.stdout
    assert lab.exec("compute1", f"ovs-vsctl get interface ovn-{net[:6]}-0 bfd").stdout == \
        '{check_tnl_key="true", enable="true"}\n'
