"""The cloud's Nova lifecycle, server groups and Neutron subnet allocation, called as the
API calls them: state changes and what the lab plugs, the scheduler's group filters, and a
property of the subnet allocator (every subnet a pool hands out lies in its prefixes and
overlaps no other)."""

from __future__ import annotations

import ipaddress
from typing import Any

from cloud_helpers import fails
from hypothesis import given, settings
from hypothesis import strategies as st

from ovnlab.cloud import Cloud, Context
from ovnlab.cloud.servergroups import Policy
from ovnlab.cloud.subnetpools import allocate, available
from ovnlab.errors import OvnlabError


def _server(cloud: Cloud, ctx: Context, name: str = "vm", **extra: Any) -> str:
    net = cloud.create_network(ctx, {"network": {"name": f"n-{name}"}})
    cloud.create_subnet(ctx, {"subnet": {"network_id": net["id"], "cidr": "10.3.0.0/24",
                                         "ip_version": 4}})
    image = cloud.nova.get_images(ctx)[0]["id"]
    server = cloud.nova.create_server(ctx, {"server": {
        "name": name, "imageRef": image, "flavorRef": "42",
        "networks": [{"uuid": net["id"]}], **extra}})
    for port in cloud.get_ports(ctx, {"device_id": [server["id"]]}):
        cloud.update_port_status(port["id"], "ACTIVE")
    return str(server["id"])


def test_stop_start_and_what_the_lab_plugs(cloud: Cloud, admin: Context) -> None:
    sid = _server(cloud, admin)
    assert cloud.nova.get_server(admin, sid)["status"] == "ACTIVE"
    cloud.nova.stop_server(admin, sid)
    assert cloud.nova.get_server(admin, sid)["OS-EXT-STS:power_state"] == 4
    assert cloud.get_vifs(admin) == []
    fails(cloud, lambda: cloud.nova.stop_server(admin, sid), 409, "InstanceInvalidState")
    cloud.nova.reboot_server(admin, sid, hard=True)
    assert [s["id"] for s, _ in cloud.get_vifs(admin)] == [sid]


def test_a_lock_refuses_the_owner_not_an_admin(cloud: Cloud, admin: Context,
                                               demo: Context) -> None:
    sid = _server(cloud, demo)
    cloud.nova.lock_server(demo, sid, None)
    fails(cloud, lambda: cloud.nova.stop_server(demo, sid), 409, "InstanceIsLocked")
    fails(cloud, lambda: cloud.nova.delete_server(demo, sid), 409, "InstanceIsLocked")
    cloud.nova.stop_server(admin, sid)
    assert cloud.nova.get_server(demo, sid)["status"] == "SHUTOFF"


def test_anti_affinity_runs_out_of_hosts(cloud: Cloud, admin: Context) -> None:
    group = cloud.server_groups.create_server_group(admin, "g", Policy.ANTI_AFFINITY)
    hosts = [cloud.nova.get_server(admin, _server(cloud, admin, f"vm{i}", scheduler_hints={
        "group": group["id"]}))["OS-EXT-SRV-ATTR:host"] for i in range(3)]
    assert hosts[0] != hosts[1] and hosts[0] and hosts[1]
    assert hosts[2] is None  # NoValidHost: no port, no host
    assert len(cloud.server_groups.get_server_group(admin, group["id"])["members"]) == 3


def test_a_pools_subnets_come_from_its_prefixes(cloud: Cloud, admin: Context) -> None:
    pool = cloud.subnetpools.create_subnetpool(admin, {"subnetpool": {
        "name": "p", "prefixes": ["10.60.0.0/23"], "default_prefixlen": 24}})
    cidrs = []
    for i in range(2):
        net = cloud.create_network(admin, {"network": {"name": f"n{i}"}})
        cidrs.append(cloud.create_subnet(admin, {"subnet": {
            "network_id": net["id"], "ip_version": 4,
            "subnetpool_id": pool["id"]}})["cidr"])
    assert cidrs == ["10.60.0.0/24", "10.60.1.0/24"]
    net = cloud.create_network(admin, {"network": {"name": "full"}})
    fails(cloud, lambda: cloud.create_subnet(admin, {"subnet": {
        "network_id": net["id"], "ip_version": 4, "subnetpool_id": pool["id"]}}),
        500, "SubnetAllocationError")


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(16, 28), min_size=1, max_size=20))
def test_allocations_stay_inside_and_never_overlap(sizes: list[int]) -> None:
    pool = {"prefixes": ["10.0.0.0/16", "192.168.0.0/20"], "min_prefixlen": 8,
            "max_prefixlen": 32, "default_prefixlen": 24}
    prefixes = [ipaddress.ip_network(p) for p in pool["prefixes"]]  # type: ignore[union-attr]
    taken: list[str] = []
    for size in sizes:
        free_before = sum(b.num_addresses for b in available(pool, taken))
        try:
            cidr = allocate(pool, taken, size, None)
        except OvnlabError:
            # only when no free block of that size is left
            assert all(b.prefixlen > size for b in available(pool, taken))
            continue
        assert cidr.prefixlen == size
        assert any(cidr.subnet_of(p) for p in prefixes)  # type: ignore[arg-type]
        assert not any(cidr.overlaps(ipaddress.ip_network(t)) for t in taken)
        taken.append(str(cidr))
        assert sum(b.num_addresses for b in available(pool, taken)) == (
            free_before - cidr.num_addresses)
