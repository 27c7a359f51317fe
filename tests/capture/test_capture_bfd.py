"""BFD control messages as tcpdump prints them (print-bfd.c), against Debian's tcpdump."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from capture_oracle import Oracle, make_oracle
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ovnlab.capture.format import FormatOptions, Formatter
from ovnlab.packet import ETH_IP, PROTO_UDP, Geneve, Packet, ip


@pytest.fixture
def oracle(tmp_path: Path) -> Oracle:
    return make_oracle(tmp_path)


def bfd(diag: int, state: int, flags: int, mult: int, my: int, your: int, tx: int, rx: int,
        echo: int, sport: int) -> Packet:
    payload = struct.pack("!BBBBIIIII", (1 << 5) | diag, (state << 6) | flags, mult, 24, my,
                          your, tx, rx, echo)
    return Packet(eth_src=0x020000000001, eth_dst=0x002320000001, eth_type=ETH_IP,
                  ip_src=ip("169.254.1.0"), ip_dst=ip("169.254.1.1"), ip_proto=PROTO_UDP,
                  ip_ttl=255, ip_tos=0x18, tp_src=sport, tp_dst=3784, payload=payload)


messages = st.builds(bfd, st.integers(0, 9), st.integers(0, 3),
                     st.sampled_from([0, 0x20, 0x10, 0x08, 0x02, 0x01, 0x3B]),
                     st.integers(1, 255), st.integers(1, 2**32 - 1), st.integers(0, 2**32 - 1),
                     st.sampled_from([100_000, 1_000_000, 300_000, 1500]),
                     st.sampled_from([1_000_000, 100_000, 0]), st.sampled_from([0, 50_000]),
                     # OVS's source ports (49152-65535); tcpdump takes 49152 for BCM-LI first
                     st.integers(49153, 65535))


@pytest.mark.oracle
@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(packets=st.lists(messages, min_size=1, max_size=8), verbose=st.booleans(),
       tunnelled=st.booleans())
def test_bfd_lines_match_real_tcpdump(oracle: Oracle, packets: list[Packet], verbose: bool,
                                      tunnelled: bool) -> None:
    if tunnelled:  # as OVS sends them: inside Geneve, VNI 0, no option
        packets = [Packet(eth_src=1, eth_dst=2, eth_type=ETH_IP, ip_src=ip("192.168.50.1"),
                          ip_dst=ip("192.168.50.11"), ip_proto=PROTO_UDP, tp_src=40000,
                          tp_dst=6081, geneve=Geneve(vni=0, inner=p, critical=False))
                   for p in packets]
    timed = [(i * 0.5, p) for i, p in enumerate(packets)]
    flags = ("-n", "-v") if verbose else ("-n",)
    f = Formatter(FormatOptions(numeric=True, verbose=int(verbose)))
    assert [f.format(p, t) for t, p in timed] == oracle.lines(timed, flags)
