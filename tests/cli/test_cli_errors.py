"""The CLI's errors: clear, in the tool's style, and nothing changed."""

from __future__ import annotations

from pathlib import Path

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
