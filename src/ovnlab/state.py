"""A lab's state directory: what the user created survives crashes and restarts.

Layout (`FILES`): `ovnlab-lab.json` (the marker: this directory holds a lab ovnlab made),
`topology.yaml` (the resolved topology, fixed at first `up`), `state.db` (SQLite: the cloud
model; the NB is resynced from it at start as neutron-server does), `lab.lock` (flock'd by
the one running daemon, which writes its pid there), `lab.json` (the running daemon's pid
and API port), `control.token` (mode 0600: the control API's secret), `clouds.yaml` (for
the real openstack client), `daemon.log`, `failures.json` (the nodes stopped, daemons
killed and links downed by `ovnlab node` / `ovnlab link`, so they survive `down`/`up`).

A directory is a lab only with the marker; `remove()` deletes only the files above and the
directory only if ovnlab created it, so a wrong `--state` never costs anyone's files.
"""

from __future__ import annotations

import json
import os
import secrets
import sqlite3
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import yaml

from ovnlab import statelock
from ovnlab import topology as topo_mod
from ovnlab.errors import LabNotRunning, LabRunning, OvnlabError, StateError

DEFAULT_STATE = ".ovnlab"
MARKER = "ovnlab-lab.json"
MARKER_FORMAT = 1
DB_TABLES = frozenset({"docs"})  # ovnlab.cloud.store's schema: a lab db without it is damaged
# Every file ovnlab may make in a state directory (SQLite's -wal/-shm/-journal, the
# .tmp files of atomic writes): `remove()` deletes these and nothing else.
FILES = (
    MARKER, "topology.yaml", "state.db", "state.db-wal", "state.db-shm", "state.db-journal",
    "lab.lock", "lab.json", "control.token", "clouds.yaml", "daemon.log", "failures.json",
    "ovnlab-lab.tmp", "topology.tmp", "lab.tmp", "failures.tmp",
)
TOKEN_HEADER = "X-Ovnlab-Token"  # carries control.token to the control API
_START_OVER = "`ovnlab destroy` it and `ovnlab up` a new lab"


def state_dir(explicit: str | None = None) -> Path:
    return Path(explicit or os.environ.get("OVNLAB_STATE") or DEFAULT_STATE).resolve()


@dataclass(frozen=True, slots=True)
class Runtime:
    pid: int
    host: str
    port: int
    web_url: str = ""  # the web view (`ovnlab web`); empty in a lab.json from before it

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


@dataclass(frozen=True, slots=True)
class Marker:
    """What ovnlab knows about a lab it made: whether it made the directory itself (only
    then may `destroy` remove it), and whether the daemon has initialised the db (from then
    on a missing or empty state.db is a lost lab, never a fresh one)."""

    created_dir: bool
    db_initialised: bool = False
    format: int = MARKER_FORMAT


class StateDir:
    def __init__(self, path: Path) -> None:
        self.path = path

    marker_file = property(lambda self: self.path / MARKER)
    topology_file = property(lambda self: self.path / "topology.yaml")
    db_file = property(lambda self: self.path / "state.db")
    lock_file = property(lambda self: self.path / "lab.lock")
    runtime_file = property(lambda self: self.path / "lab.json")
    token_file = property(lambda self: self.path / "control.token")
    clouds_file = property(lambda self: self.path / "clouds.yaml")
    log_file = property(lambda self: self.path / "daemon.log")
    failures_file = property(lambda self: self.path / "failures.json")

    # ------------------------------------------------------------ a lab or not
    def exists(self) -> bool:
        return self.marker_file.is_file()

    def marker(self) -> Marker:
        if not self.exists():
            raise LabNotRunning(f"no lab in {self.path} (start one with `ovnlab up`)")
        try:
            raw = json.loads(self.marker_file.read_text())
            marker = Marker(**raw)
        except (OSError, ValueError, TypeError) as exc:
            raise StateError(f"{self.marker_file}: not an ovnlab marker ({exc}); "
                             f"{_START_OVER}") from None
        if marker.format != MARKER_FORMAT:
            raise StateError(f"{self.marker_file}: format {marker.format}, this ovnlab "
                             f"reads {MARKER_FORMAT}")
        return marker

    def _write_marker(self, marker: Marker) -> None:
        _atomic_write(self.marker_file, json.dumps(asdict(marker)) + "\n")

    def prepare(self) -> bool:
        """Make the directory if needed (for the lock file); True when this call made it."""
        try:
            self.path.mkdir(parents=True)
            return True
        except FileExistsError:
            if not self.path.is_dir():
                raise StateError(f"{self.path}: not a directory") from None
            return False
        except OSError as exc:
            raise StateError(f"cannot create {self.path}: {exc.strerror}") from None

    def create(self, topology_raw: dict[str, Any], created_dir: bool) -> None:
        """Make a lab here (the caller holds the lock): the whole topology is validated
        first, and files that look like a lab's but carry no marker are never taken over."""
        plain = json.loads(json.dumps(topology_raw))  # no shared objects: YAML without aliases
        topo_mod.from_dict(plain)
        foreign = [n for n in ("topology.yaml", "state.db", "lab.json") if (self.path / n).exists()]
        if foreign:
            raise StateError(f"{self.path} holds {', '.join(foreign)} but no {MARKER}: not a "
                             "lab ovnlab made; choose another --state directory")
        try:
            _atomic_write(self.topology_file, yaml.safe_dump(plain, sort_keys=False))
            self._write_marker(Marker(created_dir=created_dir))  # last: the lab is whole
        except OSError as exc:
            self.topology_file.unlink(missing_ok=True)
            raise StateError(f"cannot write the lab into {self.path}: {exc.strerror}") from None

    def looks_legacy(self) -> bool:
        """The files of a lab made before the marker existed (`adopt_legacy` decides, under
        the lock, whether they are one)."""
        return not self.exists() and self.topology_file.is_file() and self.db_file.is_file()

    def adopt_legacy(self) -> bool:
        """A lab made by an ovnlab older than the marker (topology.yaml and state.db, no
        marker) is taken over only when both files are ovnlab's beyond doubt: the topology
        validates and the db is intact with every table of the cloud. The directory itself
        is never counted as ovnlab's (`destroy` then removes only the lab's files)."""
        if not self.looks_legacy():
            return False
        legacy = Marker(created_dir=False, db_initialised=True)
        try:
            topo_mod.from_dict(topo_mod.parse(self.topology_file.read_text(),
                                              str(self.topology_file)))
            self._check_db(legacy)
        except (OvnlabError, OSError):
            return False
        self._write_marker(legacy)
        return True

    def mark_db_initialised(self) -> None:
        marker = self.marker()
        if not marker.db_initialised:
            self._write_marker(replace(marker, db_initialised=True))

    # ------------------------------------------------------------ failures
    def read_failures(self) -> dict[str, Any]:
        """What `write_failures` kept ({} when every node runs)."""
        try:
            text = self.failures_file.read_text()
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise StateError(f"{self.failures_file}: {exc.strerror}") from None
        try:
            data = json.loads(text)
        except ValueError as exc:
            data = exc
        if not isinstance(data, dict):
            raise StateError(f"{self.failures_file}: not ovnlab's node and link failures "
                             f"({data}); delete it to start with every node up") from None
        return data

    def write_failures(self, failures: dict[str, Any]) -> None:
        """Keep the lab's failures (atomically); none: no file."""
        if failures:
            _atomic_write(self.failures_file, json.dumps(failures, sort_keys=True) + "\n")
        else:
            self.failures_file.unlink(missing_ok=True)

    # ------------------------------------------------------------ checks at start
    def topology(self) -> topo_mod.Topology:
        self.marker()
        try:
            text = self.topology_file.read_text()
        except FileNotFoundError:
            raise StateError(f"{self.topology_file} is missing: the lab's topology is lost; "
                             f"restore it, or {_START_OVER}") from None
        except OSError as exc:
            raise StateError(f"{self.topology_file}: {exc.strerror}") from None
        return topo_mod.from_dict(topo_mod.parse(text, str(self.topology_file)))

    def check(self) -> topo_mod.Topology:
        """Everything a start needs, before anything starts: the marker, the topology and
        an intact db (a missing, empty or damaged db is reported, never silently replaced
        by an empty lab)."""
        marker = self.marker()
        topo = self.topology()
        self._check_db(marker)
        return topo

    def _check_db(self, marker: Marker) -> None:
        db = self.db_file
        if not db.exists():
            if marker.db_initialised:
                raise StateError(f"{db} is missing: the lab's networks, ports and servers "
                                 f"are lost; restore it, or {_START_OVER}")
            return
        if marker.db_initialised and db.stat().st_size == 0:
            raise StateError(f"{db} is empty (0 bytes): the lab's networks, ports and servers "
                             f"are lost; restore it, or {_START_OVER}")
        try:
            conn = sqlite3.connect(f"{db.as_uri()}?mode=rw", uri=True)
            try:
                tables = {r[0] for r in conn.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table'")}
                verdict = conn.execute("PRAGMA quick_check").fetchone()[0]
            finally:
                conn.close()
        except sqlite3.Error as exc:
            raise StateError(f"{db} is damaged ({exc}); restore it, or {_START_OVER}") from None
        if verdict != "ok":
            raise StateError(f"{db} is damaged ({verdict}); restore it, or {_START_OVER}")
        missing = DB_TABLES - tables
        if marker.db_initialised and missing:
            raise StateError(f"{db} is damaged (no table {', '.join(sorted(missing))}); "
                             f"restore it, or {_START_OVER}")

    # ------------------------------------------------------------ the lock
    def lock(self) -> int:
        """The state dir's lock, held (the descriptor), or LabRunning naming the holder."""
        try:
            return statelock.acquire(self.lock_file)
        except statelock.LockHeld as held:
            who = f"pid {held.pid}" if held.pid else "a process that does not say its pid"
            raise LabRunning(f"a lab is already running in {self.path} ({who})") from None
        except OSError as exc:
            raise StateError(f"cannot lock {self.lock_file}: {exc.strerror}") from None

    def holder(self) -> int | None:
        """The verified pid of the running daemon, None when none runs."""
        try:
            return statelock.holder(self.lock_file)
        except statelock.LockHeld:
            raise StateError(f"{self.lock_file} is locked by a process that is not an ovnlab "
                             "daemon (no pid recorded)") from None

    def stop(self) -> int | None:
        """Stop the running daemon (SIGTERM, SIGKILL after 15 s): its pid, or None when none
        runs. Only the lock's verified holder is ever signalled."""
        pid = self.holder()
        if pid is None or not statelock.stop(pid, self.lock_file):
            return None
        self.clear_runtime()
        return pid

    # ------------------------------------------------------------ the running daemon
    def write_runtime(self, runtime: Runtime) -> None:
        _atomic_write(self.runtime_file, json.dumps(asdict(runtime)))

    def recorded_runtime(self) -> Runtime | None:
        try:
            return Runtime(**json.loads(self.runtime_file.read_text()))
        except (OSError, ValueError, TypeError):
            return None

    def runtime(self) -> Runtime | None:
        """The running daemon, or None: a record whose pid does not hold the lock is stale."""
        rt = self.recorded_runtime()
        if rt is None or self.holder() != rt.pid:
            return None
        return rt

    def require_runtime(self) -> Runtime:
        rt = self.runtime()
        if rt is None:
            raise LabNotRunning(f"no lab is running in {self.path} (start one with `ovnlab up`)")
        return rt

    def clear_runtime(self) -> None:
        self.runtime_file.unlink(missing_ok=True)
        self.token_file.unlink(missing_ok=True)

    def clear_stale(self) -> Runtime | None:
        """With no daemon running: drop a left-over lab.json; the record it held."""
        rt = self.recorded_runtime()
        if self.holder() is None and self.runtime_file.exists():
            self.clear_runtime()
            return rt
        return None

    # ------------------------------------------------------------ the control API's secret
    def write_token(self) -> str:
        token = secrets.token_urlsafe(32)
        fd = os.open(self.token_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
        with os.fdopen(fd, "w") as f:
            os.fchmod(fd, 0o600)  # an older file keeps its mode through O_CREAT
            f.write(token)
        return token

    def token(self) -> str:
        try:
            return self.token_file.read_text().strip()
        except OSError as exc:
            raise LabNotRunning(f"cannot read the lab's control token {self.token_file}: "
                                f"{exc.strerror}") from None

    # ------------------------------------------------------------ removal
    def remove(self) -> list[Path]:
        """Delete ovnlab's files, then the directory if ovnlab made it and nothing else is
        left; what stays (not ovnlab's) is returned. The caller holds the lock."""
        created = self.marker().created_dir
        try:
            for name in (*FILES[1:], MARKER):  # the marker last: a half-removed lab stays one
                path = self.path / name
                if path.is_file() or path.is_symlink():
                    path.unlink()
            left = sorted(self.path.iterdir())
            if created and not left:
                self.path.rmdir()
        except OSError as exc:
            raise StateError(f"cannot remove {exc.filename or self.path}: {exc.strerror}") from None
        return left


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text)
    tmp.replace(path)
