"""A lab's state directory: what the user created survives crashes and restarts.

Layout: `topology.yaml` (the resolved topology, fixed at first `up`), `state.db` (SQLite:
the cloud model; the NB is resynced from it at start as neutron-server does), `lab.json`
(the running daemon: pid and API port; absent or stale when no lab runs),
`clouds.yaml` (for the real openstack client), `daemon.log`.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import yaml

from ovnlab import topology as topo_mod
from ovnlab.errors import LabNotRunning, TopologyError

DEFAULT_STATE = ".ovnlab"


def state_dir(explicit: str | None = None) -> Path:
    return Path(explicit or os.environ.get("OVNLAB_STATE") or DEFAULT_STATE).resolve()


@dataclass(frozen=True, slots=True)
class Runtime:
    pid: int
    host: str
    port: int

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


class StateDir:
    def __init__(self, path: Path) -> None:
        self.path = path

    topology_file = property(lambda self: self.path / "topology.yaml")
    db_file = property(lambda self: self.path / "state.db")
    runtime_file = property(lambda self: self.path / "lab.json")
    clouds_file = property(lambda self: self.path / "clouds.yaml")
    log_file = property(lambda self: self.path / "daemon.log")

    def exists(self) -> bool:
        return self.topology_file.is_file()

    def create(self, topology_raw: dict[str, Any]) -> None:
        """Fix the lab's topology (validated first: a bad spec creates nothing)."""
        topo_mod.from_dict(json.loads(json.dumps(topology_raw)))
        self.path.mkdir(parents=True, exist_ok=True)
        tmp = self.topology_file.with_suffix(".tmp")
        tmp.write_text(yaml.safe_dump(topology_raw, sort_keys=False))
        tmp.replace(self.topology_file)

    def topology(self) -> topo_mod.Topology:
        if not self.exists():
            raise TopologyError(f"no lab in {self.path}: run `ovnlab up` first")
        return topo_mod.from_dict(yaml.safe_load(self.topology_file.read_text()))

    def write_runtime(self, runtime: Runtime) -> None:
        tmp = self.runtime_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(runtime)))
        tmp.replace(self.runtime_file)

    def runtime(self) -> Runtime | None:
        """The running daemon, or None when none runs (a stale record is ignored)."""
        try:
            rt = Runtime(**json.loads(self.runtime_file.read_text()))
        except (OSError, ValueError, TypeError):
            return None
        return rt if pid_alive(rt.pid) else None

    def require_runtime(self) -> Runtime:
        rt = self.runtime()
        if rt is None:
            raise LabNotRunning(f"no lab is running in {self.path} (start one with `ovnlab up`)")
        return rt

    def clear_runtime(self) -> None:
        self.runtime_file.unlink(missing_ok=True)

    def remove(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie child of ours is dead for our purposes
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True
