"""`ovnlab up --backend ovn` where the real backend cannot run: it names what is missing
and the apt command, exits 1, and starts and writes nothing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ovnlab import topology
from ovnlab.backends.ovn.layout import Layout
from ovnlab.cli.main import main


def _ovnlab(state: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ovnlab.cli.main", "--state", str(state), *args],
                          capture_output=True, text=True, timeout=60)


def _namespaces(state: Path) -> set[str]:
    """Namespaces named after the lab in `state` (other labs may run beside)."""
    prefix = Layout.of(state, topology.load("seed")).prefix
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    return {ns for line in out.splitlines() if line.strip()
            if (ns := line.split()[0]).startswith(prefix)}


def test_missing_programs_are_named_with_the_apt_command(tmp_path: Path) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    state = tmp_path / "lab"
    up = _ovnlab(state, "up", "--backend", "ovn", "--ovn-bin", str(empty))
    assert up.returncode == 1
    for program in ("ovn-northd", "ovn-controller", "ovn-nbctl", "ovn-sbctl", "ovn-trace"):
        assert f"  - {program} (in {empty})" in up.stderr
    assert "install with: apt-get install -y ovn-central ovn-host" in up.stderr
    assert "--ovn-bin DIR" in up.stderr and "nothing was started." in up.stderr
    assert not state.exists()  # no lab was made
    assert _namespaces(state) == set()


def test_without_root_it_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("os.geteuid", lambda: 1000)
    state = tmp_path / "lab"
    rc = main(["--state", str(state), "up", "--backend", "ovn", "--ovn-bin", str(tmp_path)])
    assert rc == 1
    err = capsys.readouterr().err
    assert "  - root (network namespaces and veths need it: run as root)" in err
    assert not state.exists()


def test_an_unknown_backend_in_a_topology_is_refused(tmp_path: Path) -> None:
    topo = tmp_path / "t.yaml"
    topo.write_text("base: seed\nbackend: kvm\n")
    up = _ovnlab(tmp_path / "lab", "up", "--topology", str(topo))
    assert up.returncode == 1
    assert "backend: expected one of emulated, ovn, got 'kvm'" in up.stderr
    assert not (tmp_path / "lab").exists()


def test_a_lab_keeps_its_backend(tmp_path: Path) -> None:
    """The backend is part of the topology, fixed at the first `up`."""
    state = tmp_path / "lab"
    assert _ovnlab(state, "up").returncode == 0
    try:
        again = _ovnlab(state, "up", "--backend", "ovn")
        assert again.returncode == 1 and "its topology is fixed" in again.stderr
    finally:
        _ovnlab(state, "destroy")
