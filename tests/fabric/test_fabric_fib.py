"""A host's routing decisions (fabric/fib.py) through its stack: which route a destination
takes and which source address a packet without one gets."""

from __future__ import annotations

import ipaddress

from hypothesis import given, settings
from hypothesis import strategies as st

from ovnlab.fabric import Fabric
from ovnlab.fabric.host import HostStack
from ovnlab.packet import ip, ip_str


def router() -> HostStack:
    f = Fabric()
    node = f.add_host("r", [("a", "10.0.0.1/24", None), ("b", "10.0.1.1/24", None),
                            ("b", "10.0.2.1/24", None)], forwarding=True)
    return node.stack


def test_longest_prefix_wins_then_the_lower_metric() -> None:
    stack = router()
    stack.add_route("default", via="10.0.0.254")
    stack.add_route("192.0.2.0/24", via="10.0.1.254", metric=20)
    stack.add_route("192.0.2.0/24", via="10.0.0.254", metric=10)
    stack.add_route("192.0.2.128/25", via="10.0.1.254", metric=99)
    assert stack.lookup_route(ip("192.0.2.200")).via == ip("10.0.1.254")  # /25 over /24
    assert stack.lookup_route(ip("192.0.2.5")).via == ip("10.0.0.254")  # metric 10 over 20
    assert stack.lookup_route(ip("198.51.100.1")).prefixlen == 0
    assert stack.lookup_route(ip("10.0.1.9")).dev == "eth1"  # the connected route


def test_source_is_the_route_src_else_the_device_address_on_the_next_hop_subnet() -> None:
    stack = router()
    via_b = stack.add_route("203.0.113.0/24", via="10.0.2.254")
    assert ip_str(stack.source_for(via_b, ip("203.0.113.7"))) == "10.0.2.1"  # eth2's /24
    pinned = stack.add_route("198.51.100.0/24", dev="eth1", src="10.0.0.1")
    assert ip_str(stack.source_for(pinned, ip("198.51.100.7"))) == "10.0.0.1"
    off_subnet = stack.add_route("100.64.0.0/10", dev="eth1")
    assert ip_str(stack.source_for(off_subnet, ip("100.64.0.9"))) == "10.0.1.1"  # eth1's first


routes = st.lists(st.tuples(st.integers(0, 0xFFFFFFFF), st.integers(0, 32), st.integers(0, 3)),
                  min_size=1, max_size=12)


@settings(max_examples=40, deadline=None)
@given(routes, st.integers(0, 0xFFFFFFFF))
def test_lookup_is_the_most_specific_matching_route(table: list[tuple[int, int, int]],
                                                    dst: int) -> None:
    stack = router()
    for net, plen, metric in table:
        prefix = ipaddress.ip_network((net, plen), strict=False)
        stack.add_route(str(prefix), dev="eth0", metric=metric)
    chosen = stack.lookup_route(dst)
    matching = [r for r in stack.routes if ipaddress.ip_address(dst)
                in ipaddress.ip_network((r.dst, r.prefixlen))]
    if not matching:
        assert chosen is None
        return
    assert chosen is not None and chosen in matching
    best = max(r.prefixlen for r in matching)
    assert chosen.prefixlen == best
    assert chosen.metric == min(r.metric for r in matching if r.prefixlen == best)
