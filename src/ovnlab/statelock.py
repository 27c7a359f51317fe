"""One daemon per state directory: an exclusive flock(2) on the directory's lock file,
held for the daemon's whole life.

`ovnlab up` takes the lock, then hands the locked file descriptor to the daemon it starts
(the lock belongs to the open file, so it passes with the descriptor and there is no
window between the two). The holder writes its pid into the file. Who holds the lock is
verified through /proc (`/proc/PID/fdinfo` lists a descriptor's flock), never taken on
the file's word: a pid written there may be stale, and the number reused by another
process. Signals go through a pidfd, so a pid reused after the check is never signalled.
"""

from __future__ import annotations

import errno
import fcntl
import os
import select
import signal
import time
from pathlib import Path

PID_WAIT = 10.0  # seconds to wait for a new holder to write its pid (a daemon starting)


class LockHeld(Exception):
    """The lock is held; `pid` is its verified holder (None: it could not be verified)."""

    def __init__(self, pid: int | None) -> None:
        super().__init__(pid)
        self.pid = pid


def acquire(path: Path) -> int:
    """The locked descriptor (close-on-exec; `pass_fds` hands it on), or LockHeld.
    OSError (read-only directory...) propagates for the caller to word."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise LockHeld(_wait_for_holder(path)) from None
    except BaseException:
        os.close(fd)
        raise
    return fd


def adopt(fd: int) -> None:
    """Check an inherited descriptor holds the lock (flock on the same open file is a no-op;
    on any other it fails rather than waits)."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise LockHeld(None) from None


def record(fd: int, pid: int) -> None:
    """Write the holder's pid into the lock file (only the holder ever writes it)."""
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{pid}\n".encode(), 0)


def holder(path: Path) -> int | None:
    """The pid holding the lock, verified; None when nobody holds it. LockHeld(None) when it
    is held by a process that does not say who it is (not an ovnlab daemon)."""
    if not _locked(path):
        return None
    pid = _wait_for_holder(path)
    if pid is None:
        raise LockHeld(None)
    return pid


def _locked(path: Path) -> bool:
    """Whether anyone holds a flock on `path`, from /proc/locks: looking must not take the
    lock even for a moment, or a concurrent `up` would find it held."""
    try:
        st = path.stat()
        with open("/proc/locks") as f:
            locks = f.read()
    except FileNotFoundError:
        return False
    key = f" {os.major(st.st_dev):02x}:{os.minor(st.st_dev):02x}:{st.st_ino} "
    return any(" FLOCK " in line and key in line for line in locks.splitlines())


def _wait_for_holder(path: Path) -> int | None:
    """The verified pid in the lock file; a winner that has just locked writes it within
    moments, so wait a little before giving up."""
    deadline = time.monotonic() + PID_WAIT
    while True:
        pid = _recorded_pid(path)
        if pid is not None and holds(pid, path):
            return pid
        if time.monotonic() > deadline:
            return None
        time.sleep(0.02)


def _recorded_pid(path: Path) -> int | None:
    try:
        text = path.read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def holds(pid: int, path: Path) -> bool:
    """Whether process `pid` has `path` open with a flock on it (per /proc/PID/fdinfo)."""
    try:
        target = path.stat()
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return False
    for fd in fds:
        try:
            st = os.stat(f"/proc/{pid}/fd/{fd}")
            if (st.st_dev, st.st_ino) != (target.st_dev, target.st_ino):
                continue
            with open(f"/proc/{pid}/fdinfo/{fd}") as f:
                if any(line.startswith("lock:") and " FLOCK " in line for line in f):
                    return True
        except OSError:
            continue
    return False


def stop(pid: int, path: Path, grace: float = 15.0) -> bool:
    """SIGTERM the lock's holder `pid`, SIGKILL it after `grace` seconds; False (and no
    signal) when `pid` does not hold the lock at `path`."""
    try:
        pidfd = os.pidfd_open(pid)
    except ProcessLookupError:
        return False
    try:
        if not holds(pid, path):  # checked after pidfd_open: the pidfd is this process
            return False
        _signal(pidfd, signal.SIGTERM)
        if not select.select([pidfd], [], [], grace)[0]:
            _signal(pidfd, signal.SIGKILL)
            select.select([pidfd], [], [], grace)
        return True
    finally:
        os.close(pidfd)


def _signal(pidfd: int, signum: int) -> None:
    try:
        signal.pidfd_send_signal(pidfd, signum)
    except ProcessLookupError:
        pass  # it exited meanwhile
    except OSError as exc:
        if exc.errno != errno.ESRCH:
            raise
