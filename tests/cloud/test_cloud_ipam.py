from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ovnlab.cloud import ipam
from ovnlab.errors import BadRequest, Conflict

ip4 = ipaddress.IPv4Address


def test_defaults_for_a_slash_24() -> None:
    net = ipam.parse_cidr("172.16.100.0/24")
    gw = ipam.default_gateway(net)
    assert gw == ip4("172.16.100.1")
    assert [str(p) for p in ipam.default_pools(net, gw)] == ["172.16.100.2-172.16.100.254"]


def test_gateway_in_the_middle_splits_the_pool() -> None:
    net = ipam.parse_cidr("10.0.2.0/24")
    pools = ipam.default_pools(net, ip4("10.0.2.2"))
    assert [str(p) for p in pools] == ["10.0.2.1-10.0.2.1", "10.0.2.3-10.0.2.254"]


@pytest.mark.parametrize("text, reason", [
    ("10.0.0.1/24", "'10.0.0.1/24' isn't a recognized IP subnet cidr, '10.0.0.0/24' is recommended"),
    ("banana", "'banana' is not a valid IP subnet"),
    ("10.0.0.0/33", "'10.0.0.0/33' is not a valid IP subnet"),
])
def test_bad_cidrs(text: str, reason: str) -> None:
    with pytest.raises(BadRequest) as info:
        ipam.parse_cidr(text)
    assert info.value.message == f"Invalid input for cidr. Reason: {reason}."


def test_pool_validation_messages() -> None:
    net = ipam.parse_cidr("10.0.2.0/24")
    with pytest.raises(BadRequest) as out:
        ipam.validate_pools(net, [ipam.Pool(ip4("10.0.2.250"), ip4("10.0.3.5"))], None)
    assert out.value.type == "OutOfBoundsAllocationPool"
    assert out.value.message == ("The allocation pool 10.0.2.250-10.0.3.5 spans beyond the "
                                 "subnet cidr 10.0.2.0/24.")
    with pytest.raises(Conflict) as overlap:
        ipam.validate_pools(net, [ipam.Pool(ip4("10.0.2.10"), ip4("10.0.2.20")),
                                  ipam.Pool(ip4("10.0.2.15"), ip4("10.0.2.30"))], None)
    assert overlap.value.type == "OverlappingAllocationPools"
    with pytest.raises(Conflict) as gw:
        ipam.validate_pools(net, [ipam.Pool(ip4("10.0.2.1"), ip4("10.0.2.20"))], ip4("10.0.2.2"))
    assert gw.value.message == "Gateway ip 10.0.2.2 conflicts with allocation pool 10.0.2.1-10.0.2.20."
    with pytest.raises(BadRequest) as invalid:
        ipam.parse_pools([{"start": "10.0.2.20", "end": "10.0.2.10"}], net)
    assert invalid.value.type == "InvalidAllocationPool"


def test_gateway_rules() -> None:
    net = ipam.parse_cidr("10.0.0.0/24")
    for bad in ("10.0.0.0", "10.0.0.255"):
        with pytest.raises(BadRequest) as info:
            ipam.validate_gateway(net, ip4(bad))
        assert info.value.message == "Invalid input for operation: Gateway is not valid on subnet."
    ipam.validate_gateway(net, ip4("192.168.1.1"))  # off-subnet gateways are allowed (on-link)


@st.composite
def subnet_and_used(draw: st.DrawFn) -> tuple[ipam.IPNetwork, ipam.IPAddress | None, set[ipam.IPAddress]]:
    prefix = draw(st.integers(min_value=24, max_value=30))
    base = draw(st.integers(min_value=0, max_value=2**24 - 1)) << 8
    net = ipaddress.ip_network((base, prefix), strict=False)
    hosts = list(net.hosts())
    gateway = draw(st.one_of(st.none(), st.sampled_from(hosts)))
    used = set(draw(st.lists(st.sampled_from(hosts), max_size=len(hosts))))
    return net, gateway, used


@settings(max_examples=200, deadline=None)
@given(subnet_and_used())
def test_allocation_is_lowest_free_in_pools(case: tuple[ipam.IPNetwork, ipam.IPAddress | None,
                                                        set[ipam.IPAddress]]) -> None:
    net, gateway, used = case
    pools = ipam.default_pools(net, gateway)
    ipam.validate_pools(net, pools, gateway)  # defaults are always valid
    covered = {ipaddress.ip_address(n) for p in pools for n in range(int(p.start), int(p.end) + 1)}
    assert covered == set(net.hosts()) - {gateway}
    got = ipam.first_free(pools, used)
    free = sorted(covered - used)
    assert got == (free[0] if free else None)


@settings(max_examples=100, deadline=None)
@given(subnet_and_used())
def test_repeated_allocation_never_duplicates(case: tuple[ipam.IPNetwork, ipam.IPAddress | None,
                                                          set[ipam.IPAddress]]) -> None:
    net, gateway, used = case
    pools = ipam.default_pools(net, gateway)
    taken = set(used)
    while (ip := ipam.first_free(pools, taken)) is not None:
        assert ip not in taken and ip in net and ip != gateway
        taken.add(ip)
    assert taken >= set(net.hosts()) - {gateway}


ops = st.lists(st.one_of(
    st.tuples(st.just("auto"), st.just(0)),
    st.tuples(st.just("ask"), st.integers(min_value=0, max_value=15)),
    st.tuples(st.just("delete"), st.integers(min_value=0, max_value=20)),
), max_size=25)


@settings(max_examples=60, deadline=None)
@given(ops)
def test_port_ipam_invariants(sequence: list[tuple[str, int]]) -> None:
    """Ports on a /28 with pool .2-.14: addresses stay unique, inside the subnet, asked-for
    addresses are honoured or refused with Neutron's errors, freed addresses are reused."""
    from ovnlab import topology
    from ovnlab.cloud import Cloud
    from ovnlab.errors import OvnlabError

    cloud = Cloud(None, topology.load("seed"))
    admin = cloud.admin_context()
    net = cloud.create_network(admin, {"name": "n"})
    sub = cloud.create_subnet(admin, {"network_id": net["id"], "cidr": "10.9.0.0/28"})
    cidr = ipaddress.ip_network("10.9.0.0/28")
    pool = {str(cidr[i]) for i in range(2, 15)}
    live: list[str] = []
    for op, arg in sequence:
        used = {cloud.get_port(admin, p)["fixed_ips"][0]["ip_address"] for p in live}
        if op == "delete":
            if live:
                cloud.delete_port(admin, live.pop(arg % len(live)))
            continue
        body: dict = {"network_id": net["id"]}
        wanted = str(cidr[arg]) if op == "ask" else None
        if wanted:
            body["fixed_ips"] = [{"subnet_id": sub["id"], "ip_address": wanted}]
        try:
            port = cloud.create_port(admin, body)
        except OvnlabError as e:
            if wanted is None:
                assert e.type == "IpAddressGenerationFailure" and used >= pool
            elif arg in (0, 15):
                assert e.type == "InvalidIpForSubnet"
            else:
                assert e.type == "IpAddressAlreadyAllocated" and wanted in used
            continue
        ip = port["fixed_ips"][0]["ip_address"]
        assert ip not in used and ipaddress.ip_address(ip) in cidr
        if wanted:
            assert ip == wanted
        else:
            free = sorted(pool - used, key=ipaddress.ip_address)
            assert ip == free[0]
        live.append(port["id"])
    cloud.close()
