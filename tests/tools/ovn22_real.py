"""The real OVN 22.03 programs (../shared/ovn-22.03, README there) for tests that compare
ovnlab with them: where they are, and a real ovsdb-server serving a database file.

The comparison skips when the programs are absent, but FAILS when OVNLAB_REQUIRE_REAL=1
(CI sets it), so it can never be skipped silently there.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ovn22 import require_real

from ovnlab.ovsdb import Database
from ovnlab.sb.schema import SB_SCHEMA


def ovn22_dir() -> Path:
    """The real programs' directory (skips the test without them; fails it in CI)."""
    return require_real()


class RealSouthbound:
    """A real ovsdb-server serving one SB database file, and the real ovn-trace on it."""

    def __init__(self, ovn22: Path, run: Path) -> None:
        self.ovn22 = ovn22
        self.run = run
        self.sock = run / "sb.sock"

    def start(self, db_file: Path) -> None:
        subprocess.run(["ovsdb-server", "--detach", "--no-chdir", f"--pidfile={self.run}/sb.pid",
                        f"--remote=punix:{self.sock}", f"--unixctl={self.run}/sb.ctl",
                        "-vconsole:off", f"--log-file={self.run}/sb.log", str(db_file)],
                       check=True, timeout=30)

    def stop(self) -> None:
        pidfile = self.run / "sb.pid"
        if pidfile.exists():
            pid = int(pidfile.read_text().strip())
            subprocess.run(["kill", str(pid)], check=False)
            for _ in range(50):
                if not Path(f"/proc/{pid}").exists():
                    break
                time.sleep(0.05)

    def ovn_trace(self, args: list[str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(self.ovn22 / "bin" / "ovn-trace"), f"--db=unix:{self.sock}",
                               *args], capture_output=True, text=True, timeout=60)

    def load(self) -> Database:
        """The served SB as an ovnlab Database (the tables ovnlab's schema has)."""
        ops = ["OVN_Southbound", *({"op": "select", "table": t, "where": []} for t in SB_SCHEMA)]
        out = subprocess.run(["ovsdb-client", "transact", f"unix:{self.sock}", json.dumps(ops)],
                             capture_output=True, text=True, check=True, timeout=60).stdout
        db = Database("OVN_Southbound", SB_SCHEMA)
        with db.transaction() as txn:
            for table, result in zip(SB_SCHEMA, json.loads(out), strict=False):
                cols = SB_SCHEMA[table]
                for row in result["rows"]:
                    data = {c: _value(row[c], cols[c].optional, cols[c].kind)
                            for c in cols if c in row}
                    txn.insert(table, row["_uuid"][1], **data)
        return db


def _atom(v: object) -> object:
    if isinstance(v, list):
        if v[0] in ("uuid", "named-uuid"):
            return v[1]
        if v[0] == "set":
            return tuple(_atom(x) for x in v[1])
        if v[0] == "map":
            return {_atom(k): _atom(x) for k, x in v[1]}
    return v


def _value(raw: object, optional: bool, kind: str) -> object:
    v = _atom(raw)
    if optional:
        return (v[0] if v else None) if isinstance(v, tuple) else v
    if kind == "set" and not isinstance(v, tuple):
        return (v,)
    return v


@contextmanager
def real_southbound(ovn22: Path, run: Path, db_file: Path) -> Iterator[RealSouthbound]:
    sb = RealSouthbound(ovn22, run)
    sb.start(db_file)
    try:
        yield sb
    finally:
        sb.stop()


@contextmanager
def real_northd(ovn22: Path, run: Path, nb_script: Path) -> Iterator[RealSouthbound]:
    """one-chassis.sh's control plane (NB, SB, ovn-northd) fed by a script of ovn-nbctl
    commands (e.g. populate-seed.sh); yields the SB northd wrote."""
    env = {**os.environ, "OVN22_ONE_RUN": str(run), "NB_DB": f"unix:{run}/nb.sock"}
    one = [str(ovn22 / "one-chassis.sh")]
    try:
        subprocess.run([*one, "up"], env=env, check=True, capture_output=True, timeout=120)
        subprocess.run(["bash", str(nb_script)], env=env, check=True, capture_output=True,
                       timeout=120)
        subprocess.run([str(ovn22 / "bin" / "ovn-nbctl"), f"--db=unix:{run}/nb.sock",
                        "--wait=sb", "--timeout=60", "sync"], check=True, timeout=90)
        yield RealSouthbound(ovn22, run)
    finally:
        subprocess.run([*one, "down"], env=env, check=False, capture_output=True, timeout=60)
