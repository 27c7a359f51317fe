"""The central services: the Northbound and Southbound ovsdb-servers and ovn-northd, as
ovn-ctl starts them (sockets and pidfiles named ovnnb_db/ovnsb_db in the OVN rundir).

The Northbound's file stays in the lab's state, so `down`/`up` resumes it. The Southbound
starts empty at each `up`: northd rebuilds it from the Northbound and the chassis register
again, one after the other, so that gateway scheduling sees them in the topology's order
(a kept SB would hand them over in no particular order)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ovnlab.backends.ovn.procs import Record, run
from ovnlab.backends.ovn.programs import Programs


@dataclass(frozen=True, slots=True)
class Central:
    rundir: Path

    @property
    def nb_remote(self) -> str:
        return f"unix:{self.rundir / 'ovnnb_db.sock'}"

    @property
    def sb_remote(self) -> str:
        return f"unix:{self.rundir / 'ovnsb_db.sock'}"

    def pidfiles(self) -> list[Path]:
        return [self.rundir / f"{name}.pid" for name in ("ovn-northd", "ovnsb_db", "ovnnb_db")]

    def env(self) -> dict[str, str]:
        """What ovn-nbctl, ovn-sbctl, ovn-trace and `ovn-appctl -t ovn-northd` read."""
        return {"OVN_RUNDIR": str(self.rundir), "OVN_NB_DB": self.nb_remote,
                "OVN_SB_DB": self.sb_remote}

    def start(self, programs: Programs, record: Record) -> None:
        self.rundir.mkdir(parents=True, exist_ok=True)
        for db, schema, ctl in (("ovnnb_db", programs.nb_schema, "ovn-nbctl"),
                                ("ovnsb_db", programs.sb_schema, "ovn-sbctl")):
            if db == "ovnsb_db":
                (self.rundir / f"{db}.db").unlink(missing_ok=True)
            self._ensure_db(programs, self.rundir / f"{db}.db", schema)
            pidfile = self.rundir / f"{db}.pid"
            record.pidfile(pidfile)
            run([programs["ovsdb-server"], "--detach", "--no-chdir", f"--pidfile={pidfile}",
                 f"--log-file={self.rundir / f'{db}.log'}", f"--unixctl={self.rundir / f'{db}.ctl'}",
                 f"--remote=punix:{self.rundir / f'{db}.sock'}", "-vconsole:off",
                 str(self.rundir / f"{db}.db")])
            run([programs[ctl], *(["--no-wait"] if ctl == "ovn-nbctl" else []), "init"],
                self.env())
        pidfile = self.rundir / "ovn-northd.pid"
        record.pidfile(pidfile)
        run([programs["ovn-northd"], "--detach", "--no-chdir", f"--pidfile={pidfile}",
             f"--log-file={self.rundir / 'ovn-northd.log'}", "-vconsole:off",
             f"--ovnnb-db={self.nb_remote}", f"--ovnsb-db={self.sb_remote}"], self.env())

    @staticmethod
    def _ensure_db(programs: Programs, db: Path, schema: Path) -> None:
        """Create the database, or convert one made by another OVN release's schema."""
        if not db.exists():
            run([programs["ovsdb-tool"], "create", str(db), str(schema)])
            return
        needs = run([programs["ovsdb-tool"], "needs-conversion", str(db), str(schema)])
        if needs.stdout.strip() == "yes":
            run([programs["ovsdb-tool"], "convert", str(db), str(schema)])
