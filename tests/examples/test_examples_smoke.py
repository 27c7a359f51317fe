"""Smoke tests: every script under examples/ runs to completion and says what it checked.

Each example exits non-zero when what it demonstrates does not hold, so a zero exit here
means the behaviour (not just the script) still works.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
# script -> a line its output must contain when everything held
EXPECTED = {
    "seed.py": "6/6 observations hold",
    "centralized_vs_distributed.py": "ok   on: no Geneve at all",
    "gateway_flagged_network_node.py": "ok   one Gateway_Chassis row: network, priority 1",
    "east_west.py": "ok   the network node never sees it",
    "gateway_failover.py": "ok   failback: network holds the gateway again",
}


def test_every_example_is_covered() -> None:
    assert sorted(p.name for p in EXAMPLES.glob("*.py")) == sorted(EXPECTED)


@pytest.mark.slow
@pytest.mark.parametrize("script", sorted(EXPECTED))
def test_example_runs_and_holds(script: str, tmp_path: Path) -> None:
    env = {**os.environ, "OVNLAB_STATE": str(tmp_path / "state")}  # nothing left in the tree
    proc = subprocess.run([sys.executable, str(EXAMPLES / script)], capture_output=True,
                          text=True, timeout=120, cwd=tmp_path, env=env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert EXPECTED[script] in proc.stdout
    assert "FAIL" not in proc.stdout
    assert not list(tmp_path.iterdir())  # in-process labs leave no state behind
