"""Oracle: Debian's tcpdump reading a pcap file written by ovnlab.capture.pcap."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

import pytest

from ovnlab.capture.pcap import write_file
from ovnlab.packet import Packet

TCPDUMP = shutil.which("tcpdump") or next(
    (p for p in ("/usr/bin/tcpdump", "/usr/sbin/tcpdump") if os.path.exists(p)), None)


def _dns_isolation() -> list[str] | None:
    """A prefix that runs tcpdump without network, so its reverse DNS fails at once (and
    cannot find real names such as dns.google) when a test prints names (no -n)."""
    if shutil.which("unshare") is None:
        return None
    probe = subprocess.run(["unshare", "-n", "true"], capture_output=True, check=False)
    return ["unshare", "-n"] if probe.returncode == 0 else None


NO_DNS = _dns_isolation() if TCPDUMP is not None else None


class Oracle:
    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.count = 0

    def run(self, packets: Sequence[tuple[float, Packet]], flags: Sequence[str] = ("-n",),
            expr: str | None = None) -> subprocess.CompletedProcess[str]:
        self.count += 1
        path = self.tmp / f"oracle{self.count}.pcap"
        write_file(path, packets)
        argv = [str(TCPDUMP), "-r", str(path), *flags]
        if not any(f.startswith("-") and "n" in f for f in flags):
            assert NO_DNS is not None, "resolving tcpdump runs need `unshare -n`"
            argv = [*NO_DNS, *argv]
        if expr is not None:
            argv.append(expr)
        # TZ=UTC: tcpdump prints local time of day; our pcap epoch is the lab's start
        return subprocess.run(argv, capture_output=True, text=True, env={"TZ": "UTC"},
                              check=False)

    def lines(self, packets: Sequence[tuple[float, Packet]], flags: Sequence[str] = ("-n",),
              expr: str | None = None) -> list[str]:
        """One entry per packet (continuation lines of -v output joined back)."""
        out = self.run(packets, flags, expr)
        assert out.returncode == 0, out.stderr
        entries: list[str] = []
        for line in out.stdout.splitlines():
            if len(line) > 8 and line[2] == ":" and line[:2].isdigit():
                entries.append(line)
            else:
                entries[-1] += "\n" + line
        return entries


def make_oracle(tmp: Path) -> Oracle:
    """The `oracle` fixture's body (no conftest.py here: other test dirs import theirs)."""
    if TCPDUMP is None:
        pytest.skip("Debian's tcpdump is not installed")
    return Oracle(tmp)
