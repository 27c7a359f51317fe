"""DHCP as tcpdump 4.99 prints it with -v and -vv (print-bootp.c): the exchange a VM has
when it boots, with Neutron's options (a metadata route, DNS servers), checked against
Debian's tcpdump on the same pcap."""

from __future__ import annotations

from pathlib import Path

import pytest
from capture_oracle import Oracle, make_oracle

from ovnlab.capture.format import FormatOptions, Formatter
from ovnlab.lab import Lab
from ovnlab.packet import PROTO_UDP, Packet
from ovnlab.scenario import run_article


@pytest.fixture
def oracle(tmp_path: Path) -> Oracle:
    return make_oracle(tmp_path)


@pytest.fixture(scope="module")
def exchange() -> list[tuple[float, Packet]]:
    lab = Lab.build("seed", ["ovn.ovn_metadata_enabled=true"])
    run_article(lab.openstack)
    os = lab.openstack
    os.network_create("dnsnet", provider_network_type="geneve")
    os.subnet_create("dnsnet-subnet", network="dnsnet", subnet_range="192.168.77.0/24",
                     dns_nameservers=["8.8.8.8", "1.1.1.1"])
    os.server_create("vm_dns", network="dnsnet")
    return [(c.time, c.packet) for vm in ("vm_1", "vm_dns")
            for c in lab.fabric.node(vm).interfaces["eth0"].captures
            if c.packet.ip_proto == PROTO_UDP and {c.packet.tp_src, c.packet.tp_dst} & {67, 68}]


def test_the_boot_exchange_names_its_messages(exchange: list[tuple[float, Packet]]) -> None:
    text = [Formatter(FormatOptions(numeric=True, verbose=1)).format(p, t) for t, p in exchange]
    kinds = [line.split("DHCP-Message (53), length 1: ")[1].split("\n")[0] for line in text]
    assert kinds == ["Discover", "Offer", "Request", "ACK"] * 2
    assert "Classless-Static-Route (121), length 14: (169.254.169.254/32:172.16.100.2)," \
           "(default:172.16.100.1)" in text[1]
    assert "Domain-Name-Server (6), length 8: 8.8.8.8,1.1.1.1" in text[-1]


@pytest.mark.oracle
@pytest.mark.parametrize("flags", [("-n", "-v"), ("-n", "-vv"), ("-n",)])
def test_matches_real_tcpdump(oracle: Oracle, exchange: list[tuple[float, Packet]],
                              flags: tuple[str, ...]) -> None:
    f = Formatter(FormatOptions(numeric=True, verbose=flags.count("-v") + 2 * flags.count("-vv")))
    assert [f.format(p, t) for t, p in exchange] == oracle.lines(exchange, flags)
