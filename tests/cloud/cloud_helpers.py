"""Helpers for the cloud tests (a module with a repo-unique name: `from conftest import`
breaks when several test directories have a conftest.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from ovnlab.cloud import Cloud, Context


class RecordingDriver:
    """Records every hook call; commits its calls only when the cloud's transaction does.
    `fail_on` makes a hook raise, to prove the cloud rolls its write back."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...]]] = []
        self.pending: list[tuple[str, tuple[Any, ...]]] | None = None
        self.depth = 0
        self.fail_on: str | None = None

    def bind(self, plugin: Any) -> None:
        """The cloud's read-only view of its resources (set up, not a hook: not recorded)."""
        self.plugin = plugin

    @contextmanager
    def transaction(self) -> Iterator[None]:
        outer = self.depth == 0
        if outer:
            self.pending = []
        self.depth += 1
        try:
            yield
        except BaseException:
            self.depth -= 1
            if outer:
                self.pending = None
            raise
        self.depth -= 1
        if outer:
            assert self.pending is not None
            self.calls += self.pending
            self.pending = None

    def __getattr__(self, name: str) -> Callable[..., None]:
        if name.startswith("_"):
            raise AttributeError(name)

        def hook(*args: Any) -> None:
            if name == self.fail_on:
                raise RuntimeError(f"driver failed in {name}")
            record = (name, args)
            if self.pending is not None:
                self.pending.append(record)
            else:
                self.calls.append(record)

        return hook

    def names(self) -> list[str]:
        return [name for name, _ in self.calls]

    def last(self, name: str) -> tuple[Any, ...]:
        return next(args for n, args in reversed(self.calls) if n == name)


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        self.now += 1
        return self.now


def article(cloud: Cloud, ctx: Context) -> dict[str, Any]:
    """DESIGN §1's commands through the Cloud API; returns what they created."""
    n1 = cloud.create_network(ctx, {"name": "n1", "admin_state_up": True,
                                    "provider:network_type": "geneve",
                                    "provider:segmentation_id": "123"})
    n1subnet = cloud.create_subnet(ctx, {"name": "n1subnet", "network_id": n1["id"],
                                         "cidr": "172.16.100.0/24", "ip_version": 4})
    ext = cloud.create_network(ctx, {"name": "ext_n2", "admin_state_up": True,
                                     "provider:network_type": "flat",
                                     "provider:physical_network": "extnet0",
                                     "router:external": True})
    extsubnet = cloud.create_subnet(ctx, {
        "name": "extsubnet", "network_id": ext["id"], "cidr": "10.0.2.0/24", "ip_version": 4,
        "enable_dhcp": False, "gateway_ip": "10.0.2.2",
        "allocation_pools": [{"start": "10.0.2.210", "end": "10.0.2.220"}]})
    image = cloud.nova.get_images(ctx, {"name": ["cirros"]})[0]
    flavor = next(f for f in cloud.nova.get_flavors(ctx) if f["name"] == "m1.nano")
    vm = cloud.nova.create_server(ctx, {"server": {
        "name": "vm_1", "imageRef": image["id"], "flavorRef": flavor["id"],
        "networks": [{"uuid": n1["id"], "fixed_ip": "172.16.100.10"}]}})
    router = cloud.l3.create_router(ctx, {"name": "r", "admin_state_up": True})
    cloud.l3.add_router_interface(ctx, router["id"], {"subnet_id": n1subnet["id"]})
    router = cloud.l3.update_router(ctx, router["id"],
                                 {"router": {"external_gateway_info": {"network_id": ext["id"]}}})
    fip = cloud.l3.create_floatingip(ctx, {"floating_network_id": ext["id"]})
    vm_port = cloud.get_ports(ctx, {"device_id": [vm["id"]]})[0]
    fip = cloud.l3.update_floatingip(ctx, fip["id"], {"port_id": vm_port["id"]})
    sg = cloud.security_groups.create_security_group(ctx, {"name": "allow-icmp-ssh",
                                           "description": "allow-icmp-ssh"})
    cloud.security_groups.create_security_group_rule(ctx, {"security_group_id": sg["id"], "direction": "ingress",
                                           "ethertype": "IPv4", "protocol": "icmp",
                                           "remote_ip_prefix": "0.0.0.0/0"})
    cloud.security_groups.create_security_group_rule(ctx, {"security_group_id": sg["id"], "direction": "ingress",
                                           "ethertype": "IPv4", "protocol": "tcp",
                                           "port_range_min": 22, "port_range_max": 22,
                                           "remote_ip_prefix": "0.0.0.0/0"})
    cloud.nova.server_add_security_group(ctx, vm["id"], "allow-icmp-ssh")
    return {"n1": n1, "n1subnet": n1subnet, "ext": ext, "extsubnet": extsubnet, "vm": vm,
            "router": router, "fip": fip, "vm_port": vm_port, "sg": sg}


def fails(cloud: Cloud, call: Callable[[], Any], status: int, type_: str,
          message: str | None = None) -> Any:
    """`call` must raise the given error and leave the store and the driver untouched."""
    from ovnlab.errors import OvnlabError

    before = cloud.store.snapshot()
    driver = cloud.driver
    calls_before = list(getattr(driver, "calls", []))
    with pytest.raises(OvnlabError) as info:
        call()
    err = info.value
    assert (err.status, err.type) == (status, type_), err.message
    if message is not None:
        assert err.message == message
    assert cloud.store.snapshot() == before
    assert list(getattr(driver, "calls", [])) == calls_before
    return err
