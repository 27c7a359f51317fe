"""Every flow the controllers install for the article's scenario is accepted by the real
ovs-ofctl and printed by it exactly as ovnlab prints it."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from ovnlab.flows import format_flow

pytestmark = [pytest.mark.oracle, pytest.mark.slow,
              pytest.mark.skipif(shutil.which("ovs-ofctl") is None,
                                 reason="needs openvswitch-common")]


def _article_flows() -> list[str]:
    from ovnlab.lab import Lab

    lab = Lab.build("seed")
    os_ = lab.openstack
    os_.network_create("n1", provider_network_type="geneve", provider_segment=123)
    os_.subnet_create("n1subnet", network="n1", subnet_range="172.16.100.0/24")
    os_.network_create("ext_n2", provider_network_type="flat",
                       provider_physical_network="extnet0", external=True)
    os_.subnet_create("extsubnet", network="ext_n2", subnet_range="10.0.2.0/24", dhcp=False,
                      gateway="10.0.2.2", allocation_pool=("10.0.2.210", "10.0.2.220"))
    os_.server_create("vm_1", network="n1", fixed_ip="172.16.100.10")
    os_.router_create("r")
    os_.router_add_subnet("r", "n1subnet")
    os_.router_set_external_gateway("r", "ext_n2")
    fip = os_.floating_ip_create("ext_n2")
    os_.server_add_floating_ip("vm_1", fip["floating_ip_address"])
    return [format_flow(f) for vs in lab.vswitches.values() for b in vs.bridges.values()
            for f in b.flows()]


def test_controller_flows_pass_the_real_parser(tmp_path: Path) -> None:
    flows = _article_flows()
    assert len(flows) > 500
    path = tmp_path / "flows.txt"
    path.write_text("\n".join(flows) + "\n")
    proc = subprocess.run(["ovs-ofctl", "parse-flows", str(path)], capture_output=True,
                          text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    theirs = [ln.split(" ADD ", 1)[1] for ln in proc.stdout.splitlines() if " ADD " in ln]
    theirs = [re.sub(r"(^| )(cookie|idle|hard|importance):\S+", "",
                     re.sub(r"^table:\d+ ", "", t)).lstrip() for t in theirs]
    # OVN's `dec_ttl()` (NXAST_DEC_TTL_CNT_IDS, no ids) has no text of its own: ovs-ofctl
    # reads `dec_ttl()` as the plain action and prints `dec_ttl`.
    ours = [re.sub(r"^(cookie=\S+, )?(table=\d+, )?", "", f).replace("dec_ttl()", "dec_ttl")
            for f in flows]
    assert ours == theirs
