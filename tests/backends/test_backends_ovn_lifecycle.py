"""The real backend's lifecycle through the `ovnlab` CLI: the real tools run in a node's
namespace with their exit codes; two labs coexist; `down` stops exactly what `up` started;
a killed daemon leaves nothing that `down` cannot clean; `destroy` removes the state.
Needs root and the real OVN 22.03 programs (tests/ovn22.py)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from ovn22 import require_real

from ovnlab import topology
from ovnlab.backends.ovn.layout import Layout


def _ovnlab(state: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ovnlab.cli.main", "--state", str(state), *args],
                          capture_output=True, text=True, timeout=120)


def _exec(state: Path, node: str, *argv: str) -> subprocess.CompletedProcess[str]:
    return _ovnlab(state, "exec", node, "--", *argv)


def _namespaces(state: Path) -> set[str]:
    """The namespaces of the lab in `state` (named after it: other labs may run beside)."""
    prefix = Layout.of(state, topology.load("seed")).prefix
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    return {ns for line in out.splitlines() if line.strip()
            if (ns := line.split()[0]).startswith(prefix)}


def _lab_daemons(state: Path) -> list[int]:
    """Live processes whose command line names the lab's state directory (its ovsdb-servers,
    ovs-vswitchds, ovn-controllers, ovn-northd), found in /proc, not from ovnlab's files."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            argv = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            stat = (proc / "stat").read_text().split(")")[-1].split()[0]
        except OSError:
            continue
        if f"{state}/ovn/" in argv and stat != "Z" and "ovnlab" not in argv:
            found.append(int(proc.name))
    return found


@pytest.fixture
def ovn_up() -> list[str]:
    if os.geteuid() != 0:
        pytest.skip("the real backend needs root (network namespaces)")
    return ["up", "--backend", "ovn", "--ovn-bin", str(require_real() / "bin")]


@pytest.fixture
def states(tmp_path: Path) -> Iterator[list[Path]]:
    made = [tmp_path / "a", tmp_path / "b"]
    yield made
    for state in made:
        _ovnlab(state, "destroy")


def test_two_labs_run_the_real_tools_side_by_side(ovn_up: list[str], states: list[Path]) -> None:
    for state in states:
        up = _ovnlab(state, *ovn_up)
        assert up.returncode == 0, up.stderr
        assert "is up on real OVN" in up.stdout
    a, b = states
    # a namespace per chassis, external router, internet host, external host, and the
    # wires, per lab, each lab's named after it
    expected = {"network", "compute1", "compute2", "extgw", "google-dns", "exthost", "fabric"}
    for state in states:
        prefix = Layout.of(state, topology.load("seed")).prefix
        assert prefix.startswith("seed-")
        assert {ns.removeprefix(prefix) for ns in _namespaces(state)} == expected
    assert not _namespaces(a) & _namespaces(b)

    for state in states:
        sysid = _exec(state, "compute1", "ovs-vsctl", "get", "open_vswitch", ".",
                      "external_ids:system-id")
        assert sysid.returncode == 0 and sysid.stdout.strip() == '"1d03fd7e-8c1b-4f6e-b0a4-2f9c3e7d5a02"'
        mappings = _exec(state, "network", "ovs-vsctl", "get", "open_vswitch", ".",
                         "external_ids:ovn-bridge-mappings")
        assert mappings.stdout.strip() == '"extnet0:br-ex"'
        assert "br-int" in _exec(state, "compute2", "ovs-ofctl", "show", "br-int").stdout
        assert _exec(state, "network", "ovn-sbctl", "show").stdout.count("Chassis ") == 3
        assert "192.168.50.11/24" in _exec(state, "compute1", "ip", "-br", "addr").stdout
        assert "ovn-controller" in _exec(state, "compute1", "ovn-appctl", "-t",
                                         "ovn-controller", "version").stdout
    # the external router forwards to the internet host; exthost reaches it through it
    ping = _exec(a, "exthost", "ping", "-c", "1", "-W", "2", "dns.google")
    assert ping.returncode == 0 and "64 bytes from dns.google (8.8.8.8)" in ping.stdout

    # the real tools' exit codes and messages
    nat = _exec(a, "network", "ovn-nbctl", "lr-nat-list", "nope")
    assert nat.returncode == 1 and "ovn-nbctl: nope: router name not found" in nat.stderr
    assert _exec(a, "compute1", "ovs-vsctl", "br-exists", "br-nope").returncode == 2
    assert _exec(a, "exthost", "ping", "-c", "1", "-W", "1", "10.0.2.250").returncode == 1
    assert _exec(a, "network", "frobnicate").returncode == 127
    missing = _exec(a, "nope", "ip", "addr")
    assert missing.returncode == 1 and "no node 'nope'" in missing.stderr

    # down stops exactly its own lab: b keeps running
    a_daemons = _lab_daemons(a)
    assert len(a_daemons) == 3 + 3 * 3  # NB, SB, northd; per chassis ovsdb, vswitchd, controller
    assert _ovnlab(a, "down").returncode == 0
    assert _lab_daemons(a) == []
    assert _namespaces(a) == set() and len(_namespaces(b)) == 7
    assert _exec(b, "network", "ovn-sbctl", "show").stdout.count("Chassis ") == 3
    assert (a / "ovn" / "central" / "ovnnb_db.db").is_file()  # kept: `up` resumes it


def test_a_killed_daemon_leaves_nothing_down_cannot_clean(ovn_up: list[str],
                                                           states: list[Path]) -> None:
    state = states[0]
    assert _ovnlab(state, *ovn_up).returncode == 0
    pid = json.loads((state / "lab.json").read_text())["pid"]
    os.kill(pid, signal.SIGKILL)
    assert _lab_daemons(state) and _namespaces(state)  # what the crash left
    down = _ovnlab(state, "down")
    assert down.returncode == 2  # no lab is running...
    assert _lab_daemons(state) == [] and _namespaces(state) == set()  # ...and nothing left
    again = _ovnlab(state, *ovn_up[:1])
    assert again.returncode == 0, again.stderr
    assert _exec(state, "compute2", "ovs-vsctl", "br-exists", "br-int").returncode == 0
    destroyed = _ovnlab(state, "destroy")
    assert destroyed.returncode == 0 and not state.exists()
    assert _lab_daemons(state) == [] and _namespaces(state) == set()
