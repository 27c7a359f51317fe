"""A long `ovnlab exec` does not hold the lab: API requests are served while it runs, and
when its client goes away the tool stops (the lab is free and quiet again)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from cli_helpers import ovnlab
from test_cli_live import _read_until

pytestmark = pytest.mark.slow

LONG_PING = ["ping", "-c", "200000", "-i", "0.001", "-q", "8.8.8.8"]  # minutes of wall time


def _exec(state: Path, node: str, *argv: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "ovnlab.cli.main", "--state", str(state),
                             "exec", node, "--", *argv],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_the_api_answers_while_a_long_exec_runs_and_a_gone_client_stops_it(
        state_dir: Path) -> None:
    assert ovnlab(state_dir, "up").returncode == 0
    port = json.loads((state_dir / "lab.json").read_text())["port"]
    pinger = _exec(state_dir, "exthost", *LONG_PING)
    try:
        time.sleep(1.0)  # the ping holds the lab by now
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/identity/v3", timeout=30) as r:
            assert r.status == 200
        status = ovnlab(state_dir, "status", timeout=30)
        assert status.returncode == 0, status.stderr
        assert pinger.poll() is None  # both answered while the exec was still running
    finally:
        pinger.terminate()  # the client goes away mid-run
        pinger.wait(30)
    # the daemon notices at its next keep-alive and stops the ping: no echo leaves any more
    time.sleep(3.0)
    follower = _exec(state_dir, "exthost", "tcpdump", "-i", "eth0", "-n", "-c", "1", "icmp")
    try:
        assert follower.stderr is not None
        # its header comes once the capture is registered on exthost's eth0
        assert "tcpdump: " in _read_until(follower.stderr, "tcpdump: ", 60)
        time.sleep(2.0)
        assert follower.poll() is None  # -c 1 is still waiting for its first echo
    finally:
        follower.terminate()
        out, _ = follower.communicate(timeout=30)
    assert "ICMP" not in out
    assert "exec ping on exthost: client gone, stopping it" in \
        (state_dir / "daemon.log").read_text()
    quick = ovnlab(state_dir, "exec", "exthost", "--", "ping", "-c", "1", "8.8.8.8")
    assert quick.returncode == 0 and "1 received" in quick.stdout
