from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from ovnlab import topology
from ovnlab.ml2ovn import OVNMechanismDriver, new_nb
from ovnlab.ml2ovn.scenario import MiniNeutron, register_chassis
from ovnlab.ovsdb import Database
from ovnlab.sb.schema import new_sb


@dataclass
class Lab:
    topo: topology.Topology
    nb: Database
    sb: Database
    driver: OVNMechanismDriver
    neutron: MiniNeutron
    status_events: list[tuple[str, bool]] = field(default_factory=list)

    def chassis_of(self, hostname: str) -> str:
        return self.topo.node(hostname).system_id


def make_lab(name: str = "seed", *overrides: str, seed: int = 0) -> Lab:
    topo = topology.load(name, list(overrides))
    nb, sb = new_nb(), new_sb()
    register_chassis(sb, topo)
    driver = OVNMechanismDriver(nb, sb, topo.neutron.ovn, seed=seed)
    lab = Lab(topo, nb, sb, driver, MiniNeutron(driver, seed=seed))
    driver.on_port_status = lambda port_id, up: lab.status_events.append((port_id, up))
    return lab


@pytest.fixture
def lab_factory() -> Callable[..., Lab]:
    return make_lab


@pytest.fixture
def lab() -> Lab:
    return make_lab()


def cols(row: Any, *names: str) -> tuple[Any, ...]:
    return tuple(row[n] for n in names)
