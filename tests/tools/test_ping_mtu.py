"""ping against MTUs: IP_PMTUDISC_DO refuses what does not fit the route's device, and a
Linux router answers a DF packet too big for its next hop with "frag needed".

Real OVN 22.03 lab (vm1's eth0 has MTU 1400 there; ovnlab's VMs get Neutron's 1442):
    $ ping -c1 -s 1500 -M do 198.51.100.10
    PING 198.51.100.10 (198.51.100.10) 1500(1528) bytes of data.
    ping: local error: message too long, mtu=1400        (stderr)
    --- 198.51.100.10 ping statistics ---
    1 packets transmitted, 0 received, +1 errors, 100% packet loss, time 0ms
    $ ping -c1 -s 1300 -M do 198.51.100.10
    1308 bytes from 198.51.100.10: icmp_seq=1 ttl=63 time=1.01 ms
    $ ping -c1 -s 1500 -W1 198.51.100.10        (no reply: the far end's answer, in
    PING 198.51.100.10 (198.51.100.10) 1500(1528) bytes of data.   fragments of up to
                                                                    1500 bytes, does not
    --- 198.51.100.10 ping statistics ---                           fit the VM's tap)
"""

from __future__ import annotations

import pytest

from ovnlab.fabric import Fabric
from ovnlab.lab import Lab
from ovnlab.scenario import run_article
from ovnlab.tools import ping, traceroute


@pytest.fixture(scope="module")
def lab() -> Lab:
    lab = Lab.build("seed")
    run_article(lab.openstack)
    return lab


def test_dont_fragment_bigger_than_the_vm_mtu_is_a_local_error(lab: Lab) -> None:
    r = lab.exec("vm_1", "ping -c1 -s 1500 -M do 8.8.8.8")
    assert r.rc == 1
    assert r.stderr == "ping: local error: message too long, mtu=1442\n"
    assert "1 packets transmitted, 0 received, +1 errors, 100% packet loss" in r.stdout
    dump = lab.exec("vm_1", "tcpdump -n -i eth0 --history icmp and greater 1400").stdout
    assert dump == ""  # nothing left the VM


def test_what_fits_leaves_with_df(lab: Lab) -> None:
    r = lab.exec("vm_1", "ping -c1 -s 1400 -M do 8.8.8.8")
    assert "1408 bytes from 8.8.8.8: icmp_seq=1" in r.stdout
    dump = lab.exec("vm_1", "tcpdump -n -v -i eth0 --history icmp[0] == 8").stdout
    assert "flags [DF], proto ICMP (1), length 1428)" in dump


def test_dont_clears_df(lab: Lab) -> None:
    lab.exec("vm_1", "ping -c1 -s 100 -M dont 8.8.8.8")
    dump = lab.exec("vm_1", "tcpdump -n -v -i eth0 --history icmp[0] == 8").stdout
    assert "flags [none], proto ICMP (1), length 128)" in dump


def test_bad_pmtudisc_option(lab: Lab) -> None:
    r = lab.exec("vm_1", "ping -M maybe 8.8.8.8")
    assert (r.rc, r.stderr) == (2, "ping: invalid -M argument: maybe\n")


def _world() -> Fabric:
    f = Fabric()
    f.add_segment("extnet0")
    f.add_external_router("extgw", "extnet0", "10.0.2.2", "02:00:0a:00:02:02", "10.0.2.0/24")
    f.add_internet_host("google-dns", "8.8.8.8", "dns.google")
    f.add_external_host("exthost", "extnet0", "10.0.2.100", "02:00:0a:00:02:64", "10.0.2.2",
                        "10.0.2.0/24")
    return f


def test_router_answers_frag_needed_with_its_next_hop_mtu() -> None:
    f = _world()
    extgw = f.node("extgw")
    out_dev = extgw.stack.lookup_route(0x08080808).dev  # type: ignore[attr-defined]
    extgw.interfaces[out_dev].mtu = 1400
    r = ping.run(f, "exthost", ["-c", "1", "-s", "1450", "-M", "do", "-n", "8.8.8.8"])
    assert "From 10.0.2.2 icmp_seq=1 Frag needed and DF set (mtu = 1400)" in r.stdout
    t = traceroute.run(f, "exthost", ["-n", "-F", "-q", "1", "8.8.8.8", "1450"])
    lines = t.stdout.splitlines()
    assert lines[1].startswith(" 1  10.0.2.2  ")  # TTL first, as Linux's ip_forward
    assert lines[2].startswith(" 2  10.0.2.2  ") and lines[2].endswith(" ms !F-1400")
    assert len(lines) == 3


def test_nothing_larger_than_an_mtu_crosses_an_interface(lab: Lab) -> None:
    """1414 + 28 = 1442 bytes is the VM's MTU: one byte more and no echo crosses, whether
    the VM sends it or the far end sends it to the VM (its tap has the same MTU)."""
    assert "1422 bytes from 8.8.8.8: icmp_seq=1" in lab.exec(
        "vm_1", "ping -c1 -W1 -s 1414 8.8.8.8").stdout
    assert "1 packets transmitted, 0 received" in lab.exec(
        "vm_1", "ping -c1 -W1 -s 1415 8.8.8.8").stdout
    fip = next(n["external_ip"] for n in lab.nb.rows("NAT") if n["type"] == "dnat_and_snat")
    assert lab.exec("exthost", f"ping -c1 -W1 -s 1414 {fip}").rc == 0
    big = lab.exec("exthost", f"ping -c1 -W1 -s 1450 {fip}")
    assert "1 packets transmitted, 0 received" in big.stdout
    taps = lab.fabric.node("compute1").interfaces  # type: ignore[attr-defined]
    assert any(i.tx_dropped for name, i in taps.items() if name.startswith("tap"))
