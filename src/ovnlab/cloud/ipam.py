"""IPAM as Neutron's reference driver does it: pure functions over `ipaddress` values.

Allocation is deterministic: the lowest free address of the subnet's allocation pools.
Real Neutron picks randomly among the first free addresses of a pool, so on a real cloud the
router gateway and floating IPs land anywhere in the pool; here the first allocation from
`10.0.2.210-10.0.2.220` is `.210`, the next `.211`, and so on.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ovnlab.cloud import exceptions as exc

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True, slots=True)
class Pool:
    start: IPAddress
    end: IPAddress

    def __contains__(self, ip: object) -> bool:
        return (isinstance(ip, type(self.start))
                and int(self.start) <= int(ip) <= int(self.end))

    def __str__(self) -> str:  # netaddr.IPRange's form, as Neutron's messages print it
        return f"{self.start}-{self.end}"

    def as_dict(self) -> dict[str, str]:
        return {"start": str(self.start), "end": str(self.end)}


def parse_cidr(text: object) -> IPNetwork:
    """A subnet CIDR; host bits set or garbage are rejected as Neutron's validator does."""
    if not isinstance(text, str) or "/" not in text:
        raise exc.invalid_attr("cidr", f"'{text}' is not a valid IP subnet")
    try:
        ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise exc.invalid_attr("cidr", f"'{text}' is not a valid IP subnet") from None
    net = ipaddress.ip_network(text, strict=False)
    if str(net) != text:
        raise exc.invalid_attr(
            "cidr", f"'{text}' isn't a recognized IP subnet cidr, '{net}' is recommended")
    return net


def parse_ip(text: object, attr: str) -> IPAddress:
    if not isinstance(text, str):
        raise exc.invalid_attr(attr, f"'{text}' is not a valid IP address")
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        raise exc.invalid_attr(attr, f"'{text}' is not a valid IP address") from None


def host_range(net: IPNetwork) -> Pool | None:
    """Addresses a port may use: not the network address, nor the IPv4 broadcast."""
    first = int(net.network_address) + 1
    last = int(net.broadcast_address) - (1 if net.version == 4 else 0)
    if net.prefixlen >= net.max_prefixlen - 1:  # /31 and /32: every address
        first, last = int(net.network_address), int(net.broadcast_address)
    if first > last:
        return None
    return Pool(ipaddress.ip_address(first), ipaddress.ip_address(last))


def is_valid_host(net: IPNetwork, ip: IPAddress) -> bool:
    hosts = host_range(net)
    return hosts is not None and ip in hosts


def default_gateway(net: IPNetwork) -> IPAddress | None:
    hosts = host_range(net)
    return hosts.start if hosts else None


def default_pools(net: IPNetwork, gateway: IPAddress | None) -> list[Pool]:
    """Every host address, minus the gateway (which may split the range in two)."""
    hosts = host_range(net)
    if hosts is None:
        return []
    if gateway is None or gateway not in hosts:
        return [hosts]
    pools = []
    if int(gateway) > int(hosts.start):
        pools.append(Pool(hosts.start, ipaddress.ip_address(int(gateway) - 1)))
    if int(gateway) < int(hosts.end):
        pools.append(Pool(ipaddress.ip_address(int(gateway) + 1), hosts.end))
    return pools


def parse_pools(raw: object, net: IPNetwork) -> list[Pool]:
    if not isinstance(raw, list):
        raise exc.invalid_attr("allocation_pools", f"Invalid data format for IP pool: '{raw}'")
    pools = []
    for item in raw:
        if not isinstance(item, dict) or set(item) != {"start", "end"}:
            raise exc.invalid_attr("allocation_pools",
                                   f"Invalid data format for IP pool: '{item}'")
        start = parse_ip(item["start"], "allocation_pools")
        end = parse_ip(item["end"], "allocation_pools")
        if start.version != net.version or end.version != net.version or int(start) > int(end):
            raise exc.BadRequest(f"The allocation pool {item['start']}-{item['end']} is not valid.",
                                 type="InvalidAllocationPool")
        pools.append(Pool(start, end))
    return pools


def validate_pools(net: IPNetwork, pools: Sequence[Pool], gateway: IPAddress | None) -> None:
    """Neutron's `_validate_allocation_pools` and the gateway conflict check."""
    hosts = host_range(net)
    for pool in pools:
        if hosts is None or pool.start not in hosts or pool.end not in hosts:
            raise exc.BadRequest(
                f"The allocation pool {pool} spans beyond the subnet cidr {net}.",
                type="OutOfBoundsAllocationPool")
    ordered = sorted(pools, key=lambda p: int(p.start))
    for a, b in zip(ordered, ordered[1:], strict=False):
        if int(b.start) <= int(a.end):
            raise exc.Conflict(
                f"Found overlapping allocation pools: {a} {b} for subnet {net}.",
                type="OverlappingAllocationPools")
    if gateway is not None:
        for pool in pools:
            if gateway in pool:
                raise exc.Conflict(
                    f"Gateway ip {gateway} conflicts with allocation pool {pool}.",
                    type="GatewayConflictWithAllocationPools")


def validate_gateway(net: IPNetwork, gateway: IPAddress) -> None:
    """`check_gateway_invalid_in_subnet`: outside the subnet is allowed (on-link routes),
    but not the IPv4 network or broadcast address, nor another IP version."""
    if gateway.version != net.version:
        raise exc.invalid_input(
            f"gateway_ip '{gateway}' does not match the ip_version '{net.version}'")
    if gateway in net and net.version == 4 and gateway in (net.network_address,
                                                            net.broadcast_address):
        raise exc.invalid_input("Gateway is not valid on subnet")


def first_free(pools: Iterable[Pool], used: set[IPAddress]) -> IPAddress | None:
    """The lowest pool address not in `used` (deterministic allocation)."""
    for pool in sorted(pools, key=lambda p: int(p.start)):
        n = int(pool.start)
        while n <= int(pool.end):
            ip = ipaddress.ip_address(n)
            if ip not in used:
                return ip
            n += 1
    return None


def overlaps(a: IPNetwork, b: IPNetwork) -> bool:
    return a.version == b.version and a.overlaps(b)
