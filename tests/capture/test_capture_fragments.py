"""IPv4 fragments as tcpdump 4.99 prints them: the first with its L4 header decoded (the
fragment's own length), the later ones as `ip-proto-N` (`icmp`, `udp` without -n), and
`offset N, flags [+]` with -v. Checked against Debian's tcpdump on the same pcap."""

from __future__ import annotations

from pathlib import Path

import pytest
from capture_oracle import NO_DNS, Oracle, make_oracle

from ovnlab.capture.format import FormatOptions, Formatter
from ovnlab.ipfrag import fragment
from ovnlab.packet import PROTO_ICMP, PROTO_UDP, Packet, ip, mac

VM_MAC, GW_MAC = mac("fa:16:3e:a6:e3:4d"), mac("fa:16:3e:49:df:2c")


@pytest.fixture
def oracle(tmp_path: Path) -> Oracle:
    return make_oracle(tmp_path)


def _datagrams() -> list[Packet]:
    base = Packet(eth_src=VM_MAC, eth_dst=GW_MAC, ip_src=ip("172.16.100.10"),
                  ip_dst=ip("8.8.8.8"), ip_id=4242, ip_df=False)
    return [
        base.with_(ip_proto=PROTO_ICMP, icmp_type=8, icmp_id=7, icmp_seq=1,
                   payload=bytes(range(256)) * 8),
        base.with_(ip_proto=PROTO_ICMP, icmp_type=0, icmp_id=7, icmp_seq=2,
                   payload=bytes(3000)),
        base.with_(ip_proto=PROTO_UDP, tp_src=40000, tp_dst=40001, payload=b"x" * 1600),
    ]


@pytest.mark.oracle
@pytest.mark.parametrize("mtu", [1500, 1442, 576])
@pytest.mark.parametrize("flags", [("-n",), ("-n", "-v"), ()])
def test_fragments_print_as_real_tcpdump(oracle: Oracle, mtu: int,
                                         flags: tuple[str, ...]) -> None:
    if not flags and NO_DNS is None:
        pytest.skip("needs `unshare -n` to run tcpdump without -n")
    pieces = [p for d in _datagrams() for p in fragment(d, mtu)]
    assert len(pieces) > len(_datagrams())
    timed = [(i * 0.001, p) for i, p in enumerate(pieces)]
    options = FormatOptions(numeric="-n" in flags, verbose=int("-v" in flags))
    f = Formatter(options)
    real = oracle.lines(timed, flags)
    assert [f.format(p, t) for t, p in timed] == real
