"""A host's addresses and routing table, and the two questions the IP layer asks them.

Linux keeps these in the FIB (net/ipv4/fib_*.c) and devinet.c: `ip addr` rows with their
connected routes, `ip route` rows chosen by longest prefix then lowest metric, and the
source address a route gives a locally generated packet (the route's `src`, else an
address of its device on the next hop's subnet, else the device's first address). Pure
data and lookups: the stack in `host.py` owns the lists and edits them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ovnlab.packet import ip_str


def netmask(prefixlen: int) -> int:
    return (0xFFFFFFFF << (32 - prefixlen)) & 0xFFFFFFFF if prefixlen else 0


@dataclass(frozen=True, slots=True)
class Address:
    """One `ip addr` row: an IPv4 address with its prefix length on a device."""

    ip: int
    prefixlen: int
    dev: str

    @property
    def network(self) -> int:
        return self.ip & netmask(self.prefixlen)

    @property
    def broadcast(self) -> int:
        return self.network | (~netmask(self.prefixlen) & 0xFFFFFFFF)

    def contains(self, ip: int) -> bool:
        return ip & netmask(self.prefixlen) == self.network


@dataclass(frozen=True, slots=True)
class Route:
    """One routing-table entry; `proto` and `scope` as `ip route` prints them."""

    dst: int
    prefixlen: int
    dev: str
    via: int | None = None
    src: int | None = None
    proto: str = "boot"
    scope: str = "global"
    metric: int = 0

    def matches(self, ip: int) -> bool:
        return ip & netmask(self.prefixlen) == self.dst

    @property
    def prefix(self) -> str:
        return "default" if self.prefixlen == 0 else (
            ip_str(self.dst) if self.prefixlen == 32 and self.proto != "kernel"
            else f"{ip_str(self.dst)}/{self.prefixlen}")


def lookup(routes: Iterable[Route], dst: int) -> Route | None:
    """fib_lookup(): the longest matching prefix, the lowest metric among equals."""
    best: Route | None = None
    for r in routes:
        if r.matches(dst) and (best is None or r.prefixlen > best.prefixlen
                               or (r.prefixlen == best.prefixlen and r.metric < best.metric)):
            best = r
    return best


def primary(addresses: Iterable[Address], dev: str | None = None) -> int | None:
    """The first address (of `dev`, if given)."""
    for a in addresses:
        if dev is None or a.dev == dev:
            return a.ip
    return None


def source_on(addresses: Iterable[Address], dev: str, target: int) -> int | None:
    """inet_select_addr(): the address of `dev` on `target`'s subnet, else its first."""
    on_dev = [a for a in addresses if a.dev == dev]
    for a in on_dev:
        if a.contains(target):
            return a.ip
    return on_dev[0].ip if on_dev else None


def source_for(addresses: Sequence[Address], route: Route, dst: int) -> int:
    """The source address `route` gives a packet to `dst` that has none yet."""
    if route.src is not None:
        return route.src
    found = source_on(addresses, route.dev, route.via if route.via is not None else dst)
    return found if found is not None else primary(addresses) or 0
