"""Fixtures for the API tests: the real `ovnlab.cloud.Cloud` (in-memory store, seed topology)
with a recording driver, the app, logged-in clients, and a served app."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from api_helpers import TOPOLOGY, Client, Clock, RecordingDriver

from ovnlab import api
from ovnlab.cloud import Cloud


@pytest.fixture
def driver() -> RecordingDriver:
    return RecordingDriver()


@pytest.fixture
def cloud(driver: RecordingDriver) -> Iterator[Cloud]:
    c = Cloud(None, TOPOLOGY, driver)
    yield c
    c.close()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def app(cloud: Cloud, clock: Clock) -> api.App:
    return api.make_app(cloud, clock=clock)


@pytest.fixture
def client(app: api.App) -> Client:
    c = Client(app)
    assert c.login().status == 201
    return c


@pytest.fixture
def demo(app: api.App) -> Client:
    c = Client(app)
    assert c.login("demo", "demo").status == 201
    return c


@pytest.fixture
def make_client(app: api.App) -> Callable[[], Client]:
    return lambda: Client(app)


@pytest.fixture
def served(app: api.App) -> Iterator[api.ApiServer]:
    server = api.serve(app, "127.0.0.1", 0, background=True)
    yield server
    server.close()
