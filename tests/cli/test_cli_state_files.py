"""A lab's files damaged or missing, a port taken, a read-only directory: `ovnlab up` says
which file and what to do in one line, exits non-zero, starts nothing and never replaces a
lost lab with an empty one."""

from __future__ import annotations

import shutil
import socket
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import daemons, openstack, ovnlab

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def stopped_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A lab that ran once (its db initialised, one network in it), then stopped."""
    state = tmp_path_factory.mktemp("stopped") / "lab"
    assert ovnlab(state, "up").returncode == 0
    net = openstack(state, "network", "create", "kept")
    assert net.returncode == 0, net.stderr
    assert ovnlab(state, "down").returncode == 0
    yield state


def _garbage(db: Path) -> None:
    db.write_bytes(b"this is not a database\n" * 300)


def _truncate(db: Path) -> None:
    data = db.read_bytes()
    db.write_bytes(data[: len(data) // 2 + 100])


def _zero(db: Path) -> None:
    db.write_bytes(bytes(db.stat().st_size))


def _drop_table(db: Path) -> None:
    with sqlite3.connect(db) as conn:
        conn.execute("DROP TABLE docs")
    conn.close()


DAMAGE: dict[str, tuple[Callable[[Path], None], str]] = {
    "garbage": (_garbage, "state.db is damaged (file is not a database)"),
    "zeroed": (_zero, "state.db is damaged (file is not a database)"),
    "truncated": (_truncate, "state.db is damaged"),
    "zero bytes": (lambda db: db.write_bytes(b""), "state.db is empty (0 bytes)"),
    "deleted": (lambda db: db.unlink(), "state.db is missing"),
    "table dropped": (_drop_table, "state.db is damaged (no table docs)"),
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_a_damaged_or_lost_db_is_reported_not_replaced(stopped_lab: Path, tmp_path: Path,
                                                       damage: str) -> None:
    state = tmp_path / "lab"
    shutil.copytree(stopped_lab, state)
    spoil, message = DAMAGE[damage]
    db = state / "state.db"
    spoil(db)
    before = db.read_bytes() if db.exists() else None
    result = ovnlab(state, "up")
    assert result.returncode == 1, result.stdout
    assert f"ovnlab: {state}/{message}" in result.stderr, result.stderr
    assert "destroy" in result.stderr  # what to do
    assert "Traceback" not in result.stderr and len(result.stderr.splitlines()) == 1
    assert not daemons(state)
    assert (db.read_bytes() if db.exists() else None) == before  # left as found


def test_a_lost_topology_is_reported_not_replaced_by_the_seed(stopped_lab: Path,
                                                              tmp_path: Path) -> None:
    state = tmp_path / "lab"
    shutil.copytree(stopped_lab, state)
    (state / "topology.yaml").unlink()
    result = ovnlab(state, "up")
    assert result.returncode == 1
    assert f"ovnlab: {state}/topology.yaml is missing" in result.stderr
    assert not (state / "topology.yaml").exists() and not daemons(state)


def test_an_intact_copy_resumes_with_its_networks(stopped_lab: Path, tmp_path: Path) -> None:
    """The control case: the damage above, not the copying, is what `up` refuses."""
    state = tmp_path / "lab"
    shutil.copytree(stopped_lab, state)
    try:
        assert ovnlab(state, "up").returncode == 0
        listed = openstack(state, "network", "list", "-f", "value", "-c", "Name")
        assert listed.stdout.split() == ["kept"]
    finally:
        ovnlab(state, "down")


def test_a_lab_from_before_the_marker_resumes_and_destroy_keeps_its_directory(
        stopped_lab: Path, tmp_path: Path) -> None:
    """A state dir written by an ovnlab older than the marker is still the user's lab."""
    state = tmp_path / "lab"
    shutil.copytree(stopped_lab, state)
    (state / "ovnlab-lab.json").unlink()
    try:
        assert ovnlab(state, "up").returncode == 0
        listed = openstack(state, "network", "list", "-f", "value", "-c", "Name")
        assert listed.stdout.split() == ["kept"]
    finally:
        ovnlab(state, "down")
    assert ovnlab(state, "destroy").returncode == 0
    assert state.is_dir() and not (state / "state.db").exists()  # not made by ovnlab: kept


def test_files_that_only_look_like_a_lab_are_not_taken_over(tmp_path: Path) -> None:
    state = tmp_path / "lab"
    state.mkdir()
    (state / "topology.yaml").write_text("name: mine\n")
    (state / "state.db").write_text("my notes\n")
    result = ovnlab(state, "up")
    assert result.returncode == 1 and "not a lab ovnlab made" in result.stderr
    assert (state / "state.db").read_text() == "my notes\n" and not daemons(state)


@pytest.mark.parametrize("port", ["99999", "-1", "http"])
def test_up_port_is_validated_by_argparse(tmp_path: Path, port: str) -> None:
    result = ovnlab(tmp_path / "lab", "up", "--port", port)
    assert result.returncode == 2
    assert "argument --port: " in result.stderr
    assert "out of range (0-65535)" in result.stderr or "invalid port number" in result.stderr
    assert not (tmp_path / "lab").exists()


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def test_a_port_in_use_leaves_nothing_half_made(tmp_path: Path, busy_port: int) -> None:
    state = tmp_path / "lab"
    result = ovnlab(state, "up", "--port", str(busy_port))
    assert result.returncode == 1
    assert result.stderr == (f"ovnlab: the lab failed to start: cannot listen on "
                             f"127.0.0.1:{busy_port}: Address already in use\n")
    assert not state.exists() and not daemons(state)


def test_a_port_in_use_keeps_an_existing_lab(stopped_lab: Path, tmp_path: Path,
                                             busy_port: int) -> None:
    state = tmp_path / "lab"
    shutil.copytree(stopped_lab, state)
    result = ovnlab(state, "up", "--port", str(busy_port))
    assert result.returncode == 1 and "Address already in use" in result.stderr
    assert (state / "state.db").is_file() and (state / "topology.yaml").is_file()
    assert not (state / "lab.json").exists() and not daemons(state)


def test_up_in_a_read_only_directory(tmp_path: Path, read_only: Any) -> None:
    parent = tmp_path / "ro"
    parent.mkdir()
    with read_only(parent):
        inside = ovnlab(parent / "lab", "up")
        assert inside.returncode == 1
        assert inside.stderr.startswith(f"ovnlab: cannot create {parent}/lab: ")
        itself = ovnlab(parent, "up")
        assert itself.returncode == 1
        assert itself.stderr.startswith(f"ovnlab: cannot lock {parent}/lab.lock: ")
        assert len(inside.stderr.splitlines()) == len(itself.stderr.splitlines()) == 1
        assert list(parent.iterdir()) == []
