"""Generated request bodies against every cloud operation: an operation either succeeds or
raises an `ovnlab.errors` error (never a TypeError, KeyError...), and a failed one changes
neither the store nor the driver."""

from __future__ import annotations

from typing import Any

from cloud_helpers import Clock, RecordingDriver, article
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ovnlab import topology
from ovnlab.cloud import Cloud
from ovnlab.errors import OvnlabError

KEYS = ["name", "network_id", "subnet_id", "port_id", "cidr", "ip_version", "gateway_ip",
        "allocation_pools", "start", "end", "enable_dhcp", "dns_nameservers", "host_routes",
        "destination", "nexthop", "fixed_ips", "ip_address", "mac_address", "device_id",
        "device_owner", "security_groups", "port_security_enabled", "binding:host_id",
        "admin_state_up", "shared", "router:external", "provider:network_type",
        "provider:physical_network", "provider:segmentation_id", "mtu", "project_id",
        "tenant_id", "external_gateway_info", "enable_snat", "external_fixed_ips", "routes",
        "floating_network_id", "floating_ip_address", "fixed_ip_address", "description",
        "security_group_id", "direction", "ethertype", "protocol", "port_range_min",
        "port_range_max", "remote_ip_prefix", "remote_group_id", "stateful", "imageRef",
        "flavorRef", "networks", "uuid", "fixed_ip", "port", "availability_zone", "tags"]
SPECIAL = ["", "n1", "10.0.2.0/24", "10.0.2.215", "172.16.100.10", "172.16.100.0/25",
           "fa:16:3e:00:00:01", "true", "geneve", "flat", "vlan", "extnet0", "default", "tcp",
           "icmp", "ingress", "egress", "IPv4", "IPv6", "::/0", "0.0.0.0/0", "auto", "none",
           "nova:compute1", "42", "cirros", "-1", "4095", "network:router_interface",
           "compute:nova"]
scalars = (st.none() | st.booleans() | st.integers(-5, 70000) | st.floats(allow_nan=True)
           | st.text(max_size=6) | st.sampled_from(SPECIAL))
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
    st.sampled_from(KEYS), inner, max_size=4), max_leaves=8)
bodies = st.dictionaries(st.sampled_from(KEYS), values, max_size=6)

OPERATIONS = ["create_network", "update_network", "create_subnet", "update_subnet",
              "create_port", "update_port", "create_router", "update_router",
              "add_router_interface", "remove_router_interface", "create_floatingip",
              "update_floatingip", "create_security_group", "update_security_group",
              "create_security_group_rule", "create_server", "delete_network", "delete_subnet",
              "delete_port", "delete_router", "delete_floatingip", "delete_security_group",
              "delete_server", "server_add_security_group", "server_remove_security_group"]


L3_OPERATIONS = {"create_router", "update_router", "add_router_interface",
                 "remove_router_interface", "create_floatingip", "update_floatingip",
                 "delete_router", "delete_floatingip"}
NOVA_OPERATIONS = {"create_server", "delete_server", "server_add_security_group",
                   "server_remove_security_group"}


def _world() -> tuple[Cloud, dict[str, Any]]:
    cloud = Cloud(None, topology.load("seed"), RecordingDriver(), clock=Clock())  # type: ignore[arg-type]
    return cloud, article(cloud, cloud.admin_context())


CLOUD, WORLD = _world()
IDS = [v["id"] for v in WORLD.values()] + [
    p["id"] for p in CLOUD.get_ports(CLOUD.admin_context())]


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(op=st.sampled_from(OPERATIONS), body=bodies, target=st.sampled_from(IDS) | st.text(max_size=4),
       who=st.sampled_from(["admin", "demo"]), data=st.data())
def test_operations_fail_cleanly(op: str, body: dict[str, Any], target: str, who: str,
                                 data: st.DataObject) -> None:
    cloud = CLOUD
    ctx = cloud.identity.authenticate(who, "secret", who)
    for key in ("network_id", "subnet_id", "port_id", "security_group_id", "floating_network_id",
                "remote_group_id"):
        if key in body and data.draw(st.booleans()):
            body[key] = data.draw(st.sampled_from(IDS))
    family = (cloud.nova if op in NOVA_OPERATIONS else cloud.l3 if op in L3_OPERATIONS
              else cloud.security_groups if "security_group" in op else cloud)
    method = getattr(family, op)
    if op.startswith("create_"):
        args: tuple[Any, ...] = (body,)
    elif op.startswith("delete_"):
        args = (target,)
    elif op.startswith("server_"):
        args = (target, str(body.get("name", "default")))
    else:
        args = (target, body)
    before = cloud.store.snapshot()
    calls = len(cloud.driver.calls)  # type: ignore[attr-defined]
    try:
        with cloud.store.transaction():  # undo successful operations too: keep the world fixed
            try:
                method(ctx, *args)
            except OvnlabError:
                assert cloud.store.snapshot() == before
                assert len(cloud.driver.calls) == calls  # type: ignore[attr-defined]
                raise _Expected() from None
            raise _Expected()
    except _Expected:
        pass
    assert cloud.store.snapshot() == before


class _Expected(Exception):
    pass
