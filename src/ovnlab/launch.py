"""Starting a lab's daemon from its state directory (`ovnlab up`), under the lock.

The lock is taken before anything is written and handed to the daemon with its file
descriptor, so there is never a moment when two `up`s both think they own the directory.
A lab this call created and that then fails to start is removed again: nothing is left
half-made.
"""

from __future__ import annotations

import os
import select
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ovnlab import topology as topo_mod
from ovnlab.errors import OvnlabError, StateError
from ovnlab.state import MARKER, Runtime, StateDir

START_TIMEOUT = 60.0
LOG_TAIL = 15  # daemon.log lines shown when the daemon died without saying why


@dataclass(frozen=True, slots=True)
class Started:
    runtime: Runtime
    topology: topo_mod.Topology


def up(state: StateDir, topology: str | None, overrides: Sequence[str], port: int,
       listen: str | None = None, backend: str | None = None,
       ovn_bin: str | None = None) -> Started:
    """Start the lab in `state` (created from `topology` + `overrides` if it holds none;
    `backend`/`ovn_bin` set its topology's `backend:`/`ovn_bin:`)."""
    chosen = {k: v for k, v in (("backend", backend),
                                ("ovn_bin", str(Path(ovn_bin).resolve()) if ovn_bin else None))
              if v is not None}
    raw = None if state.exists() or state.looks_legacy() else _validated(
        topology, overrides, chosen)
    if raw is None and (topology or overrides or chosen):
        raise OvnlabError(f"{state.path} already holds a lab; its topology is fixed "
                          "(use `ovnlab config set` or `ovnlab destroy` first)")
    created_dir = state.prepare()
    try:
        lock = state.lock()
    except OvnlabError:
        if created_dir:
            _rmdir_if_empty(state)
        raise
    created = False
    try:
        state.adopt_legacy()
        if not state.exists():  # looked at again under the lock
            state.create(raw or _validated(topology, overrides), created_dir)
            created = True
        topo = state.check()
        _preflight(topo)
        return Started(_spawn(state, lock, port, listen), topo)
    except OvnlabError:
        if created:
            state.remove()
        elif not state.exists():  # no lab here after all: leave the directory as found
            state.lock_file.unlink(missing_ok=True)
            if created_dir:
                _rmdir_if_empty(state)
        raise
    finally:
        os.close(lock)  # the daemon holds its own copy from here on


def _validated(topology: str | None, overrides: Sequence[str],
               chosen: dict[str, str] | None = None) -> dict[str, Any]:
    raw = topo_mod.load_raw(topology or "seed")
    for item in overrides:
        topo_mod.apply_override(raw, item)
    raw.update(chosen or {})
    topo_mod.from_dict(raw)  # the whole topology, before any file is written
    return raw


def _preflight(topo: topo_mod.Topology) -> None:
    """The real backend's programs, root and `ip netns`, before anything starts (the
    daemon finds them again itself)."""
    if topo.backend is topo_mod.Backend.OVN:
        from ovnlab.backends.ovn.programs import locate

        locate(topo.ovn_bin)


def _clean_backend(state: StateDir) -> None:
    """What a real-backend daemon that died without its `close()` left: its daemons and
    namespaces, by the record it wrote before making each."""
    record_file = state.path / "ovn" / "created.json"
    if record_file.exists():
        from ovnlab.backends.ovn.procs import Record

        Record.load(record_file).clean()


def _rmdir_if_empty(state: StateDir) -> None:
    try:
        state.path.rmdir()
    except OSError:
        pass  # another `up` works in it


def _spawn(state: StateDir, lock: int, port: int, listen: str | None = None) -> Runtime:
    """Start the daemon holding `lock`; its Runtime once it answers."""
    read_end, write_end = os.pipe()
    try:
        with open(state.log_file, "ab") as log:
            log_start = log.tell()
            proc = subprocess.Popen(
                [sys.executable, "-m", "ovnlab.daemon", "--state", str(state.path),
                 "--port", str(port), "--lock-fd", str(lock), "--ready-fd", str(write_end),
                 *(["--listen", listen] if listen else [])],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True,
                pass_fds=(lock, write_end),
            )
    finally:
        os.close(write_end)
    try:
        line = _read_line(read_end, START_TIMEOUT)
    finally:
        os.close(read_end)
    if line is None:
        proc.terminate()
        proc.wait()
        raise OvnlabError(f"the lab did not start within {START_TIMEOUT:.0f} s "
                          f"(see {state.log_file})")
    if line == "ready":
        rt = state.recorded_runtime()
        if rt is not None and rt.pid == proc.pid:
            return rt
        line = f"error: {state.runtime_file} was not written"
    if proc.poll() is None:
        proc.terminate()
    proc.wait()
    if line.startswith("error: "):
        raise OvnlabError(f"the lab failed to start: {line.removeprefix('error: ')}")
    raise OvnlabError(f"the lab failed to start:\n{_log_since(state, log_start)}")


def _read_line(fd: int, timeout: float) -> str | None:
    """The daemon's one report line; '' when it closed the pipe without one (it died);
    None when it said nothing in time."""
    data, deadline = b"", time.monotonic() + timeout
    while not data.endswith(b"\n"):
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            return None
        chunk = os.read(fd, 4096)
        if not chunk:
            break
        data += chunk
    return data.decode(errors="replace").strip()


def _log_since(state: StateDir, offset: int) -> str:
    try:
        with open(state.log_file, "rb") as f:
            f.seek(offset)
            text = f.read().decode(errors="replace")
    except OSError as exc:
        raise StateError(f"the lab failed to start; {state.log_file}: {exc.strerror}") from None
    return "\n".join(text.splitlines()[-LOG_TAIL:])


# ---------------------------------------------------------------- down, destroy


@dataclass(frozen=True, slots=True)
class Stopped:
    pid: int | None  # the daemon stopped, None when none ran
    stale: Runtime | None = None  # a left-over lab.json removed (its pid left alone)


def down(state: StateDir) -> Stopped:
    pid = state.stop()
    _clean_backend(state)
    if pid is not None:
        return Stopped(pid)
    return Stopped(None, state.clear_stale())


@dataclass(frozen=True, slots=True)
class Destroyed:
    stopped: int | None
    removed_dir: bool
    left: tuple[str, ...]  # names in the directory that are not ovnlab's, left alone


def destroy(state: StateDir) -> Destroyed:
    """Stop the lab and remove ovnlab's files, the directory only if ovnlab made it."""
    if not state.path.exists():
        raise StateError(f"no lab in {state.path}: it does not exist")
    if not state.exists():
        raise StateError(f"{state.path} is not a lab ovnlab made (it has no {MARKER}); "
                         "nothing removed")
    stopped = state.stop()
    lock = state.lock()
    try:
        _clean_backend(state)
        shutil.rmtree(state.path / "ovn", ignore_errors=True)  # the real backend's databases
        left = state.remove()
    finally:
        os.close(lock)
    return Destroyed(stopped, not state.path.exists(), tuple(p.name for p in left))
