"""ICMP errors along the article's path (vm_1 -> router r -> FIP -> extgw -> 8.8.8.8), as
the real OVN 22.03 lab shows them (/work/shared/ovn-22.03/lab.sh, its exthost given
forwarding and a default route so that it acts as extgw does here).

Real lab, `ping -c1 -t1 8.8.8.8` in vm1, tcpdump -v on vm1's eth0:
    IP (tos 0x0, ttl 254, id 0, offset 0, flags [DF], proto ICMP (1), length 112)
        172.16.100.1 > 172.16.100.10: ICMP time exceeded in-transit, length 92
        IP (tos 0x0, ttl 1, id 38203, offset 0, flags [DF], proto ICMP (1), length 84)
        172.16.100.10 > 8.8.8.8: ICMP echo request, id 957, seq 1, length 64
`ping -c1 -t2 8.8.8.8` (From 10.0.2.2 icmp_seq=1 Time to live exceeded), on vm1:
    IP (tos 0xc0, ttl 63, id 6681, offset 0, flags [none], proto ICMP (1), length 112)
        10.0.2.2 > 172.16.100.10: ICMP time exceeded in-transit, length 92
        IP (tos 0x0, ttl 1, id 38204, offset 0, flags [DF], proto ICMP (1), length 84)
        172.16.100.10 > 8.8.8.8: ICMP echo request, id 958, seq 1, length 64
and on exthost's eth0 the same error addressed to the FIP, quoting 10.0.2.211 > 8.8.8.8.
"""

from __future__ import annotations

import re

import pytest

from ovnlab.lab import Lab
from ovnlab.scenario import run_article


@pytest.fixture(scope="module")
def lab() -> Lab:
    lab = Lab.build("seed")
    run_article(lab.openstack)
    return lab


def _icmp_errors(lab: Lab, node: str) -> list[str]:
    out = lab.exec(node, "tcpdump -n -v -i eth0 --history icmp and icmp[0] != 8 "
                         "and icmp[0] != 0")
    assert out.rc == 0, out.stderr
    return out.stdout.splitlines()


def test_ttl_1_is_answered_by_the_router_with_a_well_formed_error(lab: Lab) -> None:
    r = lab.exec("vm_1", "ping -c1 -t1 8.8.8.8")
    assert "From 172.16.100.1 icmp_seq=1 Time to live exceeded" in r.stdout
    lines = _icmp_errors(lab, "vm_1")
    assert lines[0].startswith("00:")
    assert lines[0].endswith("IP (tos 0x0, ttl 254, id 0, offset 0, flags [DF], proto ICMP "
                             "(1), length 112)")
    assert lines[1] == "    172.16.100.1 > 172.16.100.10: ICMP time exceeded in-transit, length 92"
    assert lines[2].startswith("\tIP (tos 0x0, ttl 1, id ")
    assert lines[2].endswith("flags [DF], proto ICMP (1), length 84)")
    assert lines[3].startswith("    172.16.100.10 > 8.8.8.8: ICMP echo request, id ")


def test_ttl_2_error_from_extgw_is_un_natted_inside_and_out(lab: Lab) -> None:
    before = len(_icmp_errors(lab, "extgw"))
    r = lab.exec("vm_1", "ping -c1 -t2 8.8.8.8")
    assert "From 10.0.2.2 icmp_seq=1 Time to live exceeded" in r.stdout
    outside = _icmp_errors(lab, "extgw")[before:]
    assert re.search(r"IP \(tos 0xc0, ttl 64, id \d+, offset 0, flags \[none\], proto ICMP "
                     r"\(1\), length 112\)$", outside[0])
    assert outside[1] == "    10.0.2.2 > 10.0.2.211: ICMP time exceeded in-transit, length 92"
    assert outside[3].startswith("    10.0.2.211 > 8.8.8.8: ICMP echo request")
    inside = _icmp_errors(lab, "vm_1")[-4:]
    assert " ttl 63, " in inside[0] and "flags [none]" in inside[0]
    assert inside[1] == "    10.0.2.2 > 172.16.100.10: ICMP time exceeded in-transit, length 92"
    assert inside[3].startswith("    172.16.100.10 > 8.8.8.8: ICMP echo request")


def test_hop_2_answers_through_the_centralized_snat_too(lab: Lab) -> None:
    """vm_2 has no FIP: its packets leave SNAT'ed to the router's gateway IP on the
    network node, and extgw's errors come back through that connection."""
    lab.openstack.server_create("vm_2", network="n1", host="compute2")
    r = lab.exec("vm_2", "ping -c1 -t2 8.8.8.8")
    assert "From 10.0.2.2 icmp_seq=1 Time to live exceeded" in r.stdout
    outside = "\n".join(_icmp_errors(lab, "extgw"))
    assert "    10.0.2.2 > 10.0.2.210: ICMP time exceeded in-transit, length 92" in outside
