"""Where a real lab's pieces live: its namespaces (named after the lab, so two labs with
different state directories coexist) and its run directories (under the state dir)."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from ovnlab.topology import Topology

SUBDIR = "ovn"  # in the state directory: databases, sockets, pidfiles, logs, created.json
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


@dataclass(frozen=True, slots=True)
class Layout:
    base: Path  # <state>/ovn
    prefix: str  # "<topology>-<6 hex of the state dir>-"

    @classmethod
    def of(cls, state_path: Path, topology: Topology) -> Layout:
        digest = hashlib.sha1(str(state_path.resolve()).encode()).hexdigest()[:6]
        return cls(state_path / SUBDIR, f"{_UNSAFE.sub('_', topology.name)}-{digest}-")

    def ns(self, node: str) -> str:
        """The namespace of a node (chassis, host, server) by its lab name."""
        return self.prefix + _UNSAFE.sub("_", node)

    @property
    def fabric_ns(self) -> str:
        return self.prefix + "fabric"  # the wires: one Linux bridge per segment

    @property
    def central(self) -> Path:
        return self.base / "central"

    def rundir(self, node: str) -> Path:
        return self.base / _UNSAFE.sub("_", node)

    @property
    def record_file(self) -> Path:
        return self.base / "created.json"
