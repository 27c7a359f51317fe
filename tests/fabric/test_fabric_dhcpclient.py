"""The boot-time DHCP client's lease parsing (busybox udhcpc, as cirros applies it)."""

from __future__ import annotations

import struct

from ovnlab.fabric.dhcpclient import (
    OPT_DNS,
    OPT_MTU,
    OPT_NETMASK,
    OPT_ROUTER,
    OPT_SERVER_ID,
    OPT_STATIC_ROUTES,
    Lease,
    StaticRoute,
)
from ovnlab.packet import ip


def _ip(text: str) -> bytes:
    return struct.pack("!I", ip(text))


def test_lease_of_neutrons_options() -> None:
    routes = (bytes([32]) + _ip("169.254.169.254") + _ip("172.16.100.2")
              + bytes([0]) + _ip("172.16.100.1") + bytes([16, 10, 9]) + _ip("172.16.100.254"))
    lease = Lease.from_ack(ip("172.16.100.10"), {
        OPT_NETMASK: _ip("255.255.255.0"), OPT_ROUTER: _ip("172.16.100.1"),
        OPT_MTU: struct.pack("!H", 1442), OPT_SERVER_ID: _ip("172.16.100.1"),
        OPT_DNS: _ip("8.8.8.8") + _ip("1.1.1.1"), OPT_STATIC_ROUTES: routes})
    assert (lease.prefixlen, lease.mtu, lease.server) == (24, 1442, ip("172.16.100.1"))
    assert lease.dns == (ip("8.8.8.8"), ip("1.1.1.1"))
    assert lease.static_routes == (
        StaticRoute(ip("169.254.169.254"), 32, ip("172.16.100.2")),
        StaticRoute(0, 0, ip("172.16.100.1")),
        StaticRoute(ip("10.9.0.0"), 16, ip("172.16.100.254")))


def test_a_truncated_static_route_stops_the_list() -> None:
    routes = bytes([24, 10, 0, 0]) + _ip("172.16.100.1") + bytes([24, 10, 1])
    lease = Lease.from_ack(ip("172.16.100.10"), {OPT_STATIC_ROUTES: routes})
    assert lease.static_routes == (StaticRoute(ip("10.0.0.0"), 24, ip("172.16.100.1")),)
    assert lease.prefixlen == 24 and lease.mtu is None  # busybox's defaults without them
