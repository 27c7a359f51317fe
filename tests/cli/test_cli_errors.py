"""The CLI's errors: clear, in the tool's style, and nothing changed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from cli_helpers import ovnlab


def test_commands_need_a_running_lab(tmp_path: Path) -> None:
    state = tmp_path / "none"
    for args in (("status",), ("down",), ("exec", "network", "--", "ovn-nbctl", "show"),
                 ("config", "set", "ovn.enable_distributed_floating_ip", "true")):
        result = ovnlab(state, *args)
        assert result.returncode == 2, args
        assert "no lab is running" in result.stderr
    assert not state.exists()


def test_bad_topology_creates_nothing(tmp_path: Path) -> None:
    state = tmp_path / "bad"
    result = ovnlab(state, "up", "--topology", "nonesuch")
    assert result.returncode == 1 and "unknown topology 'nonesuch'" in result.stderr
    result = ovnlab(state, "up", "--set", "ovn.enable_dvr=true")
    assert result.returncode == 1 and "neutron.ovn.enable_dvr: unknown key" in result.stderr
    topo = tmp_path / "t.yaml"
    topo.write_text("nodes:\n  - {hostname: a, role: compute, system_id: x, tunnel_ip: 1.1.1.1}\n")
    result = ovnlab(state, "up", "--topology", str(topo))
    assert result.returncode == 1 and "nodes[0].system_id" in result.stderr
    assert not state.exists()


def test_usage_errors_are_argparse_style(tmp_path: Path) -> None:
    result = ovnlab(tmp_path, "frobnicate")
    assert result.returncode == 2 and "invalid choice: 'frobnicate'" in result.stderr


def test_a_topology_without_an_admin_creates_nothing(tmp_path: Path) -> None:
    state = tmp_path / "lab"
    topo = tmp_path / "t.yaml"
    topo.write_text("base: seed\nprojects:\n  - name: demo\n"
                    "    users: [{name: demo, password: secret}]\n")
    result = ovnlab(state, "up", "--topology", str(topo))
    assert result.returncode == 1
    assert result.stderr == "ovnlab: projects: no user has `admin: true`; a lab needs an admin user\n"
    assert not state.exists()


def test_a_yaml_alias_bomb_is_refused(tmp_path: Path) -> None:
    state = tmp_path / "lab"
    topo = tmp_path / "bomb.yaml"
    levels = ['a0: &a0 "lol"'] + [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]"
                                  for i in range(1, 10)]
    topo.write_text("\n".join(levels) + "\nnodes: *a9\n")
    result = ovnlab(state, "up", "--topology", str(topo), timeout=30)
    assert result.returncode == 1 and "YAML aliases (*a0) are not allowed" in result.stderr
    assert not state.exists()


@pytest.mark.parametrize(("option", "value"), [("--tcp", "0"), ("--udp", "65536"),
                                               ("--tcp", "ssh")])
def test_trace_ports_are_checked_by_argparse(tmp_path: Path, option: str, value: str) -> None:
    result = ovnlab(tmp_path / "lab", "trace", "vm_1", "8.8.8.8", option, value)
    assert result.returncode == 2
    assert f"argument {option}: " in result.stderr
    assert "out of range (1-65535)" in result.stderr or "invalid port number" in result.stderr


def test_a_reader_that_leaves_early_gets_no_traceback() -> None:
    """`ovnlab demo | head -1`: the pipe closes under a long output, as with a shell tool."""
    proc = subprocess.Popen([sys.executable, "-m", "ovnlab.cli.main", "demo"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.readline()
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 141
    assert "Traceback" not in err, err
