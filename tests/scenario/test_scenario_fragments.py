"""Over-MTU datagrams without DF: the VM's stack fragments them as Linux does, conntrack
reassembles them before ct() and the datapath sends them on in fragments of the largest
size they came in (the kernel datapath's mru), and the receiver reassembles them. A
fragment larger than the port it leaves by is dropped, as the kernel datapath drops it:
the real lab's `ping -s 1500` from a VM to the internet gets no reply, because the far
end's 1500-byte fragments do not fit the VM's 1442-byte tap."""

from __future__ import annotations

import pytest

from ovnlab.fabric.nodes import VM
from ovnlab.lab import Lab
from ovnlab.scenario import run_article


@pytest.fixture(scope="module")
def lab() -> Lab:
    lab = Lab.build("seed")
    run_article(lab.openstack)
    lab.openstack.server_create("vm_2", network="n1", host="compute2")
    return lab


def _vm(lab: Lab, name: str) -> VM:
    node = lab.fabric.node(name)
    assert isinstance(node, VM)
    return node


def _address(lab: Lab, vm: str) -> str:
    line = next(x for x in lab.exec(vm, "ip -4 addr show dev eth0").stdout.splitlines()
                if "inet " in x)
    return line.split()[1].split("/")[0]


def test_vm_to_vm_across_chassis_reassembles(lab: Lab) -> None:
    vm2 = _address(lab, "vm_2")
    r = lab.exec("vm_1", f"ping -c 2 -s 2000 {vm2}")
    assert "2 packets transmitted, 2 received, 0% packet loss" in r.stdout
    assert f"2008 bytes from {vm2}: icmp_seq=1" in r.stdout
    lines = [x.split(" ", 1)[1] for x in lab.exec(
        "vm_1", f"tcpdump -n -i eth0 --history icmp and host {vm2}").stdout.splitlines()]
    assert lines[:4] == [
        f"IP 172.16.100.10 > {vm2}: ICMP echo request, id {_echo_id(lines[0])}, seq 1, "
        "length 1416",
        f"IP 172.16.100.10 > {vm2}: ip-proto-1",
        f"IP {vm2} > 172.16.100.10: ICMP echo reply, id {_echo_id(lines[0])}, seq 1, "
        "length 1416",
        f"IP {vm2} > 172.16.100.10: ip-proto-1"]
    verbose = lab.exec("vm_1", "tcpdump -n -v -i eth0 --history icmp").stdout
    assert "offset 0, flags [+], proto ICMP (1), length 1436" in verbose
    assert "offset 1416, flags [none], proto ICMP (1), length 612" in verbose
    # both fragments crossed the underlay inside Geneve, each fitting it
    underlay = lab.exec("compute2", "tcpdump -n -i eth1 --history").stdout
    assert f"IP 172.16.100.10 > {vm2}: ip-proto-1" in underlay


def _echo_id(line: str) -> str:
    return line.split(", id ", 1)[1].split(",", 1)[0]


def test_through_the_fip_the_far_ends_fragments_do_not_fit_the_tap(lab: Lab) -> None:
    lab.exec("vm_1", "ping -c 1 8.8.8.8")  # the router's next hop resolved
    tap = lab.fabric.interface("compute1", _vm(lab, "vm_1").tap)
    dropped = tap.tx_dropped
    r = lab.exec("vm_1", "ping -c 1 -W 1 -s 2000 8.8.8.8")
    assert "1 packets transmitted, 0 received, 100% packet loss" in r.stdout
    out = lab.exec("compute1", "tcpdump -n -v -i eth0 --history icmp").stdout
    # the request left compute1 in the VM's fragment sizes, SNATed to the FIP...
    assert "offset 0, flags [+], proto ICMP (1), length 1436)\n    10.0.2.211 > 8.8.8.8" in out
    # ...and the reply came back in fragments of the internet's 1500
    assert "offset 0, flags [+], proto ICMP (1), length 1500)\n    8.8.8.8 > 10.0.2.211" in out
    assert tap.tx_dropped == dropped + 2  # refragmented at 1500 for a 1442 tap: dropped


def test_what_fits_the_tap_comes_back(lab: Lab) -> None:
    r = lab.exec("vm_1", "ping -c 1 -s 1400 8.8.8.8")
    assert "1 received" in r.stdout
