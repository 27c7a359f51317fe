"""tcpdump through the lab (`ovnlab exec NODE -- tcpdump ...`) after the article's ping."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from ovnlab.lab import Lab
from ovnlab.packet import PROTO_ICMP
from ovnlab.scenario import run_article

REQUEST = re.compile(r"^\d\d:\d\d:\d\d\.\d{6} IP 10\.0\.2\.\d+ > dns\.google: ICMP echo request, "
                     r"id \d+, seq \d+, length 64$")


@pytest.fixture(scope="module")
def lab() -> Lab:
    lab = Lab.build("seed")
    run_article(lab.openstack)
    lab.exec("vm_1", "ping -c 3 8.8.8.8")  # whether replies come back is the fabric's test
    return lab


def _icmp_frames(lab: Lab, node: str) -> int:
    return sum(1 for c in lab.fabric.captures(node).get("eth0", [])
               if c.packet.eth_type == 0x0800 and c.packet.ip_proto == PROTO_ICMP)


def test_history_prints_every_recorded_icmp_frame_with_names(lab: Lab) -> None:
    total = 0
    for node in ("network", "compute1", "compute2"):
        result = lab.exec(node, "tcpdump -i eth0 --history icmp")
        assert result.rc == 0, result.stderr
        lines = result.stdout.splitlines()
        assert len(lines) == _icmp_frames(lab, node)
        assert all(REQUEST.match(x) or " ICMP echo reply, " in x for x in lines)
        assert f"{len(lines)} packet" in result.stderr
        total += len(lines)
    assert total >= 1  # the requests left through some chassis's eth0


def test_unknown_interface_and_bad_filter(lab: Lab) -> None:
    assert lab.exec("compute1", "tcpdump -i eth9").stderr.startswith(
        "tcpdump: eth9: No such device exists")
    bad = lab.exec("compute1", "tcpdump -i eth0 --history icmp and")
    assert (bad.rc, bad.stderr) == (1, "tcpdump: can't parse filter expression: syntax error\n")


@pytest.mark.oracle
@pytest.mark.skipif(shutil.which("tcpdump") is None, reason="Debian's tcpdump is not installed")
def test_pcap_of_a_real_run_reads_in_debian_tcpdump(lab: Lab, tmp_path: Path) -> None:
    for node in ("network", "compute1"):
        path = tmp_path / f"{node}.pcap"
        assert lab.exec(node, f"tcpdump -i eth0 --history -w {path}").rc == 0
        real = subprocess.run(["tcpdump", "-r", str(path), "-n"], capture_output=True,
                              text=True, env={"TZ": "UTC"}, check=True)
        ours = lab.exec(node, "tcpdump -i eth0 -n --history")
        assert real.stdout == ours.stdout
