"""The state directory: its lock names a holder only when /proc confirms it, and removal
deletes only what ovnlab made."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from ovnlab import statelock, topology
from ovnlab.errors import LabRunning, StateError
from ovnlab.state import MARKER, StateDir

HOLD = textwrap.dedent("""
    import sys
    from pathlib import Path
    from ovnlab import statelock
    from ovnlab.state import StateDir
    fd = StateDir(Path(sys.argv[1])).lock()
    statelock.record(fd, int(sys.argv[2]))
    print("locked", flush=True)
    sys.stdin.read()
""")


@pytest.fixture
def lab(tmp_path: Path) -> StateDir:
    state = StateDir(tmp_path / "lab")
    created = state.prepare()
    fd = state.lock()
    try:
        state.create(topology.load_raw("seed"), created)
    finally:
        os.close(fd)
    return state


@contextmanager
def _holding(state: StateDir, recorded: int | None = None) -> Iterator[subprocess.Popen[str]]:
    """Another process holds the lock and records `recorded` (default: its own pid)."""
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(state.path), "0"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline() == "locked\n"
    state.lock_file.write_text(f"{proc.pid if recorded is None else recorded}\n")
    try:
        yield proc
    finally:
        proc.kill()
        proc.wait()


@pytest.fixture
def held(lab: StateDir) -> Iterator[subprocess.Popen[str]]:
    with _holding(lab) as proc:
        yield proc


def test_the_holder_is_verified_through_proc(lab: StateDir, held: subprocess.Popen[str]) -> None:
    assert lab.holder() == held.pid
    with pytest.raises(LabRunning, match=rf"already running in {lab.path} \(pid {held.pid}\)"):
        lab.lock()
    held.kill()
    held.wait()
    assert lab.holder() is None
    os.close(lab.lock())  # free again


def test_a_pid_that_does_not_hold_the_lock_is_not_its_holder(
        lab: StateDir, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(statelock, "PID_WAIT", 0.5)  # how long a starting daemon may take
    sleeper = subprocess.Popen(["sleep", "100"])
    try:
        with _holding(lab, recorded=sleeper.pid):
            with pytest.raises(StateError, match="locked by a process that is not an ovnlab"):
                lab.holder()
            with pytest.raises(StateError):
                lab.stop()
        assert sleeper.poll() is None  # never signalled
    finally:
        sleeper.kill()
        sleeper.wait()


def test_no_lock_file_means_no_holder(tmp_path: Path) -> None:
    assert StateDir(tmp_path / "none").holder() is None
    assert not (tmp_path / "none").exists()


def test_remove_deletes_only_ovnlabs_files(lab: StateDir) -> None:
    (lab.path / "thesis.tex").write_text("important\n")
    (lab.path / "state.db-wal").write_bytes(b"")
    (lab.path / "daemon.log").mkdir()  # a directory by one of ovnlab's names is not ovnlab's
    left = lab.remove()
    assert [p.name for p in left] == ["daemon.log", "thesis.tex"]
    assert sorted(p.name for p in lab.path.iterdir()) == ["daemon.log", "thesis.tex"]
    assert not lab.exists()


def test_remove_keeps_a_directory_ovnlab_did_not_make(tmp_path: Path) -> None:
    state = StateDir(tmp_path)
    fd = state.lock()
    try:
        state.create(topology.load_raw("seed"), created_dir=False)
        assert state.remove() == []
    finally:
        os.close(fd)
    assert tmp_path.is_dir() and list(tmp_path.iterdir()) == []


def test_a_lab_is_never_made_over_unmarked_lab_files(tmp_path: Path) -> None:
    (tmp_path / "topology.yaml").write_text("mine\n")
    state = StateDir(tmp_path)
    with pytest.raises(StateError, match=rf"holds topology.yaml but no {MARKER}"):
        state.create(topology.load_raw("seed"), created_dir=False)
    assert (tmp_path / "topology.yaml").read_text() == "mine\n"
    assert not state.exists()


def test_a_fresh_lab_has_no_db_yet_and_that_is_fine(lab: StateDir) -> None:
    assert lab.check().name == "seed"
    lab.mark_db_initialised()
    with pytest.raises(StateError, match="state.db is missing"):
        lab.check()


def test_a_damaged_marker_is_reported(lab: StateDir) -> None:
    lab.marker_file.write_text("{not json")
    with pytest.raises(StateError, match=rf"{MARKER}: not an ovnlab marker"):
        lab.check()


def test_the_token_file_is_private(lab: StateDir) -> None:
    lab.token_file.write_text("old")
    lab.token_file.chmod(0o644)
    token = lab.write_token()
    assert stat.S_IMODE(lab.token_file.stat().st_mode) == 0o600
    assert lab.token() == token and len(token) >= 32
    assert lab.write_token() != token
