from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import pytest
from cli_helpers import ovnlab


@pytest.fixture
def state_dir(tmp_path: Path) -> Iterator[Path]:
    state = tmp_path / "lab"
    yield state
    ovnlab(state, "down")


@pytest.fixture
def read_only() -> Callable[[Path], AbstractContextManager[None]]:
    """`with read_only(path):` the directory cannot be written. root ignores file modes, so
    as root it becomes a read-only bind mount of itself (skipped where mounting is denied)."""

    @contextmanager
    def make(path: Path) -> Iterator[None]:
        if os.geteuid() != 0:
            mode = path.stat().st_mode
            path.chmod(0o555)
            try:
                yield
            finally:
                path.chmod(mode)
            return
        if subprocess.run(["mount", "--bind", str(path), str(path)],
                          capture_output=True).returncode != 0:
            pytest.skip("cannot bind-mount here")
        try:
            subprocess.run(["mount", "-o", "remount,ro,bind", str(path)], check=True,
                           capture_output=True)
            yield
        finally:
            subprocess.run(["umount", str(path)], check=True, capture_output=True)

    return make
