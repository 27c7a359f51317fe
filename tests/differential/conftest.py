"""The differential tier's session: one real OVN 22.03 control plane for all states, the
allow-list entries each comparison used, and the skip rule (skip when the real programs
are absent, FAIL instead when OVNLAB_REQUIRE_REAL=1, so CI can never silently skip)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest
from compare import Tracker
from ovn22 import require_real
from real_ovn import Central, Underlay


@pytest.fixture(scope="session")
def real_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    require_real()
    return tmp_path_factory.mktemp("ovn22")


@pytest.fixture(scope="session")
def central(real_dir: Path) -> Iterator[Central]:
    with closing(Central(real_dir / "central")) as c:
        yield c


@pytest.fixture(scope="session")
def underlay(real_dir: Path) -> Iterator[Underlay]:
    with closing(Underlay(real_dir / "underlay")) as u:
        yield u


@pytest.fixture(scope="session")
def tracker() -> Tracker:
    return Tracker()
