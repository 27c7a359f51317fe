"""Fixtures: the seed topology's fabric on fake Open vSwitches."""

from __future__ import annotations

import pytest
from fabric_fakes import FakeController, FakeVswitch

from ovnlab import topology
from ovnlab.fabric import Fabric


@pytest.fixture
def seed_fabric() -> tuple[Fabric, dict[str, FakeVswitch], dict[str, FakeController]]:
    topo = topology.load("seed")
    vswitches = {n.hostname: FakeVswitch(n.hostname) for n in topo.nodes}
    controllers = {n.hostname: FakeController() for n in topo.nodes}
    subnets = {"sub-n1": {"id": "sub-n1", "cidr": "172.16.100.0/24",
                          "gateway_ip": "172.16.100.1"}}
    fabric = Fabric.build(topo, vswitches, controllers, subnets=subnets.get)
    return fabric, vswitches, controllers
