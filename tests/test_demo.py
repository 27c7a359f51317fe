"""`ovnlab demo` on both backends: the article's observations hold on ovnlab's emulation
and on the real OVN 22.03 programs, and both say the same about which chassis carried
what. The real one needs root and the programs (tests/ovn22.py)."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
from ovn22 import require_real

pytestmark = pytest.mark.slow


def _demo(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ovnlab.cli.main", "demo", *args],
                          capture_output=True, text=True, timeout=300)


def _summary(out: str) -> str:
    return out.split("Summary: which chassis carried what", 1)[1].rsplit("observations hold", 1)[0]


def _namespaces() -> set[str]:
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    return {line.split()[0] for line in out.splitlines() if line.strip()}


def test_the_article_holds_on_real_ovn_as_on_the_emulation() -> None:
    if os.geteuid() != 0:
        pytest.skip("the real backend needs root (network namespaces)")
    bindir = require_real() / "bin"
    real = _demo("--backend", "ovn", "--ovn-bin", str(bindir))
    assert real.returncode == 0, real.stdout[-3000:] + real.stderr
    assert "7/7 observations hold" in real.stdout
    assert "on the real programs: OVN 22.03" in real.stdout
    assert "DNAT (table 14) and SNAT (table 43) flows" in real.stdout  # 22.03's tables
    prefix = re.search(r"network namespaces (\S+)\*", real.stdout)
    assert prefix is not None
    assert not [ns for ns in _namespaces() if ns.startswith(prefix.group(1))]  # none left

    emulated = _demo()
    assert emulated.returncode == 0
    assert _summary(real.stdout).strip() == _summary(emulated.stdout).strip()
    assert "eth0 ICMP on compute1; Geneve on none" in _summary(real.stdout)


def test_the_failover_chapter_is_the_emulations_alone() -> None:
    out = _demo("--backend", "ovn", "--failover")
    assert out.returncode == 2 and "--failover runs on the emulated backend only" in out.stderr


def test_the_article_holds_on_debians_ovn_23_03_where_given() -> None:
    """Debian 12's OVN 23.03 (`apt-get download ovn-common ovn-central ovn-host`, `dpkg -x`
    into DIR; OVN23_BIN=DIR/usr/bin), whose NAT flows sit in tables 15 and 45."""
    bindir = os.environ.get("OVN23_BIN")
    if not bindir or os.geteuid() != 0:
        pytest.skip("set OVN23_BIN to Debian's OVN 23.03 programs (and run as root)")
    real = _demo("--backend", "ovn", "--ovn-bin", bindir)
    assert real.returncode == 0, real.stdout[-3000:] + real.stderr
    assert "on the real programs: OVN 23.03" in real.stdout
    assert "DNAT (table 15) and SNAT (table 45) flows" in real.stdout
    assert "7/7 observations hold" in real.stdout
