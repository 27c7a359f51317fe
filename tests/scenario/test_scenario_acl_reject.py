"""ACL `reject` as OVN 22.03: the logical flows of build_reject_acl_rules, and pinctrl's
answers (a TCP reset for TCP, ICMP port unreachable for UDP) sent back to the sender.

The real ovn-northd 22.03.9 (one-chassis.sh; `ovn-nbctl acl-add sw from-lport 1500
'ip4.dst == 8.8.8.8 && (udp || tcp.dst == 80)' reject` on a switch with an allow-related
ACL) writes:
  table=9 (ls_in_acl          ), priority=2500 , match=((reg0[10] == 1) && ip4.dst == 8.8.8.8 && (udp || tcp.dst == 80)), action=(ct_commit { ct_mark.blocked = 1; };  reg0 = 0; reject { /* eth.dst <-> eth.src; ip.dst <-> ip.src; is implicit. */ outport <-> inport; next(pipeline=egress,table=5); };)
  table=9 (ls_in_acl          ), priority=2500 , match=((reg0[9] == 1) && ip4.dst == 8.8.8.8 && (udp || tcp.dst == 80)), action=(reg0 = 0; reject { /* eth.dst <-> eth.src; ip.dst <-> ip.src; is implicit. */ outport <-> inport; next(pipeline=egress,table=5); };)
"""

from __future__ import annotations

import re

import pytest

from ovnlab.lab import Lab
from ovnlab.scenario import run_article

MATCH = "ip4.dst == 8.8.8.8 && (udp || tcp.dst == 80)"
REAL_FLOWS = [
    "  table=9 (ls_in_acl          ), priority=2500 , match=((reg0[10] == 1) && "
    f"{MATCH}), action=(ct_commit {{ ct_mark.blocked = 1; }};  reg0 = 0; reject {{ /* "
    "eth.dst <-> eth.src; ip.dst <-> ip.src; is implicit. */ outport <-> inport; "
    "next(pipeline=egress,table=5); };)",
    "  table=9 (ls_in_acl          ), priority=2500 , match=((reg0[9] == 1) && "
    f"{MATCH}), action=(reg0 = 0; reject {{ /* eth.dst <-> eth.src; ip.dst <-> ip.src; is "
    "implicit. */ outport <-> inport; next(pipeline=egress,table=5); };)",
]


def _add_acl(lab: Lab, direction: str, match: str) -> None:
    n1 = next(r for r in lab.nb.rows("Logical_Switch")
              if r["external_ids"].get("neutron:network_name") == "n1")
    with lab.nb.transaction() as txn:
        acl = txn.insert("ACL", direction=direction, priority=1500, action="reject",
                         match=match)
        txn.update("Logical_Switch", n1.uuid, acls=set(n1["acls"]) | {acl.uuid})
    lab.converge()


@pytest.fixture(scope="module")
def lab() -> Lab:
    lab = Lab.build("seed")
    run_article(lab.openstack)
    _add_acl(lab, "from-lport", MATCH)
    _add_acl(lab, "to-lport", "tcp.dst == 22")
    return lab


def test_reject_flows_are_the_real_northds(lab: Lab) -> None:
    lines = lab.exec("network", "ovn-sbctl lflow-list").stdout.splitlines()
    for flow in REAL_FLOWS:
        assert flow in lines


def test_tcp_is_refused_with_a_reset(lab: Lab) -> None:
    r = lab.exec("vm_1", "nc -z -v -w 1 8.8.8.8 80")
    assert r.stderr == "nc: connect to 8.8.8.8 port 80 (tcp) failed: Connection refused\n"
    dump = lab.exec("vm_1", "tcpdump -n -v -i eth0 --history tcp").stdout
    assert re.search(r"8\.8\.8\.8\.80 > 172\.16\.100\.10\.\d+: Flags \[R\.\], cksum 0x[0-9a-f]+ "
                     r"\(correct\), seq 0, ack \d+", dump)
    assert "(tos 0x0, ttl 63, id 0, offset 0, flags [DF], proto TCP (6), length 40)" in dump


def test_udp_gets_port_unreachable_in_the_rejected_hosts_name(lab: Lab) -> None:
    r = lab.exec("vm_1", "traceroute -U -n -q 1 8.8.8.8")
    assert r.stdout.splitlines()[1:] and r.stdout.splitlines()[1].startswith(" 1  8.8.8.8  ")
    assert len(r.stdout.splitlines()) == 2  # "reached" at hop 1: pinctrl answered for it
    dump = lab.exec("vm_1", "tcpdump -n -i eth0 --history icmp").stdout
    assert "8.8.8.8 > 172.16.100.10: ICMP 8.8.8.8 udp port 53 unreachable" in dump


def test_icmp_passes_a_udp_and_tcp_reject(lab: Lab) -> None:
    assert lab.exec("vm_1", "ping -c 1 8.8.8.8").rc == 0


def test_to_lport_reject_answers_from_outside_through_the_fip(lab: Lab) -> None:
    fip = next(n["external_ip"] for n in lab.nb.rows("NAT") if n["type"] == "dnat_and_snat")
    r = lab.exec("exthost", f"nc -z -v -w 1 {fip} 22")
    assert r.stderr == f"nc: connect to {fip} port 22 (tcp) failed: Connection refused\n"
