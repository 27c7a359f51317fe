"""`ovnlab trace` on the real backend: each chassis's real `ofproto/trace`, followed across
Geneve tunnels and out of the provider NIC, and the reply traced back in. Needs root and
the OVN 22.03 programs (tests/ovn22.py)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ovn22 import require_real

from ovnlab.errors import BadRequest, NotFound
from ovnlab.lab import lab_on
from ovnlab.scenario import run_article
from ovnlab.topology import Backend


@pytest.fixture(scope="module")
def lab() -> Iterator[Any]:
    if os.geteuid() != 0:
        pytest.skip("the real backend needs root (network namespaces)")
    with lab_on(Backend.OVN, ovn_bin=str(require_real() / "bin")) as real:
        run_article(real.openstack)
        real.openstack.server_create("vm_2", network="n1", host="compute2")
        yield real


def _tables(text: str, chassis: str, leg: str) -> set[int]:
    """The tables the summary lists under `chassis`'s hops of `leg`."""
    tables: set[int] = set()
    current = False
    for line in text.splitlines():
        if m := re.match(r"  (request|reply)\s+(\S+)\s+bridge", line):
            current = (m.group(1), m.group(2)) == (leg, chassis)
        elif current and (t := re.match(r"\s+table\s+(\d+) \(br-int\)", line)):
            tables.add(int(t.group(1)))
    return tables


def test_vm_1_to_the_internet_through_its_fip_on_compute1(lab: Any) -> None:
    text = lab.trace_text("vm_1", "8.8.8.8")
    dnat, snat = lab.nat_tables
    hops = [line.split()[:2] for line in text.splitlines() if " bridge " in line]
    assert hops == [["request", "compute1"], ["reply", "compute1"]], text
    assert snat in _tables(text, "compute1", "request"), text
    assert dnat in _tables(text, "compute1", "reply"), text
    assert "nat(src=10.0.2.211)" in text and "nat(dst=172.16.100.10)" in text, text
    assert "leaves compute1 on eth0 (br-ex)" in text and "extgw receives it" in text, text
    assert "disposition: left compute1 on eth0 to extgw; its reply: delivered to vm_1" in text
    assert "not shown: " in text


def test_vm_2_without_fip_tunnels_to_the_gateway_chassis(lab: Any) -> None:
    text = lab.trace_text("vm_2", "google-dns", mode="minimal")
    assert "compute2:br-int -> network:br-int  (leaves network on eth0" in text, text
    summary = lab.trace_text("vm_2", "8.8.8.8")
    assert "tunnels: compute2 geneve to network (tun_id=" in summary, summary
    snat = lab.nat_tables[1]
    assert snat in _tables(summary, "network", "request"), summary
    assert "nat(src=10.0.2.210)" in summary, summary
    tcp = lab.trace_text("vm_2", "8.8.8.8", proto="tcp", port=53, mode="minimal")
    assert "(tcp port 53)" in tcp and "compute2:br-int -> network:br-int" in tcp, tcp
    # the reply's un-SNAT needs conntrack's entry, which ofproto/trace does not have
    assert "its reply: not followed past network's un-NAT (conntrack)" in summary, summary


def test_what_does_not_map_is_refused(lab: Any) -> None:
    with pytest.raises(BadRequest, match="starts from a server"):
        lab.trace_text("google-dns", "vm_1")
    with pytest.raises(NotFound, match="Name or service not known"):
        lab.trace_text("vm_1", "nowhere")
    with pytest.raises(BadRequest, match="unknown trace mode"):
        lab.trace_text("vm_1", "8.8.8.8", mode="loud")


def test_the_cli_relays_the_real_trace_and_its_errors(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("the real backend needs root (network namespaces)")
    state = tmp_path / "lab"
    try:
        up = _ovnlab(state, "up", "--backend", "ovn", "--ovn-bin", str(require_real() / "bin"))
        assert up.returncode == 0, up.stderr
        # no servers yet: nothing for the real trace to start from
        out = _ovnlab(state, "trace", "extgw", "8.8.8.8", "--tcp", "80")
        assert out.returncode == 1 and out.stdout == ""
        assert "starts from a server (servers: none); 'extgw' is not one" in out.stderr
    finally:
        _ovnlab(state, "destroy")


def _ovnlab(state: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ovnlab.cli.main", "--state", str(state), *args],
                          capture_output=True, text=True, timeout=120)
