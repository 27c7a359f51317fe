"""DHCP on the wire: busybox's udhcpc in a VM, answered by pinctrl from the port's
DHCP_Options (put_dhcp_opts), as OVN 22.03 does; a subnet without DHCP answers nothing.

Real 22.03 lab (lab.sh; its DHCP_Options' server_mac, which populate-seed.sh stores with
escaped colons so that the response flow does not compile, set right first), in vm1:
`busybox udhcpc -i eth0 -n -q -s /bin/true` prints on stderr
    udhcpc: started, v1.35.0
    udhcpc: broadcasting discover
    udhcpc: broadcasting select for 172.16.100.10, server 172.16.100.1
    udhcpc: lease of 172.16.100.10 obtained from 172.16.100.1, lease time 43200
and tcpdump -v on eth0 shows, per exchange:
    IP (tos 0x0, ttl 64, id 0, offset 0, flags [none], proto UDP (17), length 328)
        0.0.0.0.68 > 255.255.255.255.67: BOOTP/DHCP, Request from fa:16:3e:a6:e3:4d, length 300
    IP (tos 0x0, ttl 64, id 0, offset 0, flags [none], proto UDP (17), length 308)
        172.16.100.1.67 > 172.16.100.10.68: BOOTP/DHCP, Reply, length 280
with the options Offer/ACK, Lease-Time 43200, MTU 1442, Subnet-Mask 255.255.255.0,
Default-Gateway 172.16.100.1, Server-ID 172.16.100.1, in that order.
"""

from __future__ import annotations

import struct

import pytest

from ovnlab.lab import Lab
from ovnlab.packet import PROTO_UDP, ip_str
from ovnlab.scenario import run_article


@pytest.fixture(scope="module")
def lab() -> Lab:
    lab = Lab.build("seed")
    run_article(lab.openstack)
    return lab


def _dhcp_options(body: bytes) -> dict[int, bytes]:
    out, i = {}, 240
    while i + 1 < len(body) and body[i] != 255:
        if body[i] == 0:
            i += 1
            continue
        out[body[i]] = body[i + 2:i + 2 + body[i + 1]]
        i += 2 + body[i + 1]
    return out


def test_udhcpc_gets_the_ports_address_in_four_messages(lab: Lab) -> None:
    r = lab.exec("vm_1", "udhcpc -i eth0 -n -q")
    assert (r.rc, r.stdout) == (0, "")
    assert r.stderr == ("udhcpc: started, v1.35.0\nudhcpc: broadcasting discover\n"
                        "udhcpc: broadcasting select for 172.16.100.10, server 172.16.100.1\n"
                        "udhcpc: lease of 172.16.100.10 obtained from 172.16.100.1, "
                        "lease time 43200\n")
    lines = lab.exec("vm_1", "tcpdump -n -i eth0 --history port 67 or port 68").stdout
    lines = [x.split(" ", 1)[1] for x in lines.splitlines()]
    request = ("IP 0.0.0.0.68 > 255.255.255.255.67: BOOTP/DHCP, Request from "
               "fa:16:3e:a6:e3:4d, length 300")
    reply = "IP 172.16.100.1.67 > 172.16.100.10.68: BOOTP/DHCP, Reply, length 280"
    assert lines == [request, reply, request, reply] * 2  # at boot, then this run
    verbose = lab.exec("vm_1", "tcpdump -n -v -i eth0 --history port 67").stdout
    assert "(tos 0x0, ttl 64, id 0, offset 0, flags [none], proto UDP (17), length 308)" \
        in verbose
    answers = [c.packet for c in lab.fabric.captures("vm_1")["eth0"]
               if c.packet.ip_proto == PROTO_UDP and c.packet.tp_src == 67]
    offer, ack = (_dhcp_options(p.payload) for p in answers[-2:])
    assert list(ack) == [53, 51, 26, 1, 3, 54]  # the options in the real reply's order
    assert (offer[53], ack[53]) == (b"\x02", b"\x05")
    assert ip_str(int.from_bytes(ack[3], "big")) == "172.16.100.1"  # router
    assert ip_str(int.from_bytes(ack[54], "big")) == "172.16.100.1"  # server id
    assert struct.unpack("!H", ack[26])[0] == 1442  # Neutron's MTU for a Geneve network
    assert ip_str(int.from_bytes(answers[-1].payload[16:20], "big")) == "172.16.100.10"


def test_a_subnet_without_dhcp_answers_nothing(lab: Lab) -> None:
    os = lab.openstack
    os.network_create("nodhcp", provider_network_type="geneve")
    os.subnet_create("nodhcp-subnet", network="nodhcp", subnet_range="172.16.200.0/24",
                     dhcp=False)
    os.server_create("vm_nodhcp", network="nodhcp")
    assert "inet " not in lab.exec("vm_nodhcp", "ip -4 addr show dev eth0").stdout
    r = lab.exec("vm_nodhcp", "udhcpc -i eth0 -n -q -t 2 -T 1")
    assert (r.rc, r.stderr) == (1, "udhcpc: started, v1.35.0\nudhcpc: broadcasting discover\n"
                                   "udhcpc: broadcasting discover\nudhcpc: no lease, failing\n")
