"""tcpdump follows live through `ovnlab exec`, like the real one: lines appear as another
terminal's ping runs, and it stops after -c N."""

from __future__ import annotations

import select
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

import pytest
from cli_helpers import ovnlab

pytestmark = pytest.mark.slow


def _read_until(stream: IO[str], text: str, timeout: float) -> str:
    """Lines from a pipe until one contains `text` (tcpdump's header), or the timeout."""
    seen, deadline = "", time.monotonic() + timeout
    while text not in seen and time.monotonic() < deadline:
        ready, _, _ = select.select([stream], [], [], 0.2)
        if ready:
            line = stream.readline()
            if not line:
                break
            seen += line
    return seen


def test_tcpdump_follows_a_ping_from_another_terminal(state_dir: Path, tmp_path: Path) -> None:
    assert ovnlab(state_dir, "up").returncode == 0
    follower = subprocess.Popen(
        [sys.executable, "-m", "ovnlab.cli.main", "--state", str(state_dir), "exec", "exthost",
         "--", "tcpdump", "-i", "eth0", "-c", "3", "-w", "ping.pcap", "--print", "icmp"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    assert follower.stderr is not None
    header = _read_until(follower.stderr, "listening on eth0", timeout=60)
    assert "listening on eth0" in header, header
    assert ovnlab(state_dir, "exec", "exthost", "--", "ping", "-c", "2", "8.8.8.8").returncode == 0
    out, err = follower.communicate(timeout=60)
    assert follower.returncode == 0, err
    lines = out.splitlines()
    assert len(lines) == 3
    assert "IP 10.0.2.100 > dns.google: ICMP echo request, id" in lines[0]
    assert "IP dns.google > 10.0.2.100: ICMP echo reply" in lines[1]
    assert "3 packets captured" in err
    # -w wrote a pcap file where the client runs, readable by the real tcpdump
    assert (tmp_path / "ping.pcap").stat().st_size > 24
    real = subprocess.run(["tcpdump", "-r", str(tmp_path / "ping.pcap"), "-n"],
                          capture_output=True, text=True)
    if real.returncode == 0 or "command not found" not in real.stderr:
        assert real.stdout.count("ICMP echo") == 3, real.stderr


def test_an_interrupted_tcpdump_keeps_what_it_wrote(state_dir: Path, tmp_path: Path) -> None:
    """-w FILE is written on the client's side as packets come, so Ctrl-C keeps them."""
    import signal

    assert ovnlab(state_dir, "up").returncode == 0
    follower = subprocess.Popen(
        [sys.executable, "-m", "ovnlab.cli.main", "--state", str(state_dir), "exec", "exthost",
         "--", "tcpdump", "-i", "eth0", "-w", "live.pcap", "--print", "icmp"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    assert follower.stderr is not None and follower.stdout is not None
    assert "listening on eth0" in _read_until(follower.stderr, "listening on eth0", timeout=60)
    assert ovnlab(state_dir, "exec", "exthost", "--", "ping", "-c", "2", "8.8.8.8").returncode == 0
    pcap = tmp_path / "live.pcap"
    full = 24 + 4 * (16 + 98)  # the pcap header, then 4 records of 98-byte ICMP frames
    deadline = time.monotonic() + 30
    while (not pcap.exists() or pcap.stat().st_size < full) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert pcap.exists() and pcap.stat().st_size == full  # written while it follows
    assert follower.poll() is None
    follower.send_signal(signal.SIGINT)
    out, err = follower.communicate(timeout=60)
    assert follower.returncode == 0, err
    assert out.count("ICMP echo") == 4 and "4 packets captured" in err
    real = subprocess.run(["tcpdump", "-r", str(pcap), "-n"], capture_output=True, text=True)
    assert real.returncode == 0, real.stderr
    assert real.stdout.count("ICMP echo") == 4


def test_sigint_stops_a_capture_that_inherited_it_ignored(state_dir: Path,
                                                          tmp_path: Path) -> None:
    """Started in the background of a script, a command inherits SIGINT ignored; tcpdump
    installs its own handler (setsignal(SIGINT, cleanup)), so `kill -INT` still stops it."""
    import signal

    assert ovnlab(state_dir, "up").returncode == 0
    follower = subprocess.Popen(
        [sys.executable, "-m", "ovnlab.cli.main", "--state", str(state_dir), "exec", "exthost",
         "--", "tcpdump", "-i", "eth0", "-w", "bg.pcap", "icmp"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    assert follower.stderr is not None
    assert "listening on eth0" in _read_until(follower.stderr, "listening on eth0", timeout=60)
    follower.send_signal(signal.SIGINT)
    _out, err = follower.communicate(timeout=30)
    assert follower.returncode == 0 and "packets captured" in err
