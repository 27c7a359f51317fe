"""Fixtures for the cloud tests: a seed-topology cloud with a recording fake driver."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from cloud_helpers import Clock, RecordingDriver

from ovnlab import topology
from ovnlab.cloud import Cloud, Context


@pytest.fixture
def seed() -> topology.Topology:
    return topology.load("seed")


@pytest.fixture
def driver() -> RecordingDriver:
    return RecordingDriver()


@pytest.fixture
def cloud(seed: topology.Topology, driver: RecordingDriver) -> Iterator[Cloud]:
    c = Cloud(None, seed, driver, clock=Clock())  # type: ignore[arg-type]
    yield c
    c.close()


@pytest.fixture
def admin(cloud: Cloud) -> Context:
    return cloud.identity.authenticate("admin", "secret", "admin")


@pytest.fixture
def demo(cloud: Cloud) -> Context:
    return cloud.identity.authenticate("demo", "secret", "demo")
