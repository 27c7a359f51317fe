"""The real OVN 22.03 programs (../shared/ovn-22.03, $OVN22_DIR) beside ovnlab in the
benchmarks: a central control plane (NB and SB ovsdb-servers, ovn-northd) started on an NB
and SB that ovnlab's exporter wrote, and one chassis (ovsdb-server, ovs-vswitchd,
ovn-controller on a dummy datapath, as ../shared/ovn-22.03/one-chassis.sh starts one).
Every daemon gets a pidfile under one run directory and is stopped by its pid; peak memory
is each daemon's VmHWM (/proc/PID/status) read before it is stopped.

The approach is tests/differential/real_ovn.py's; benchmarks do not import tests, so the
little both need is repeated here."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

from ovnlab.backends.ovn.procs import stop
from ovnlab.export import DbKind

REPO = Path(__file__).resolve().parents[1]
VSWITCH_SCHEMA = Path("/usr/share/openvswitch/vswitch.ovsschema")
TIMEOUT = 600.0  # the real northd takes ~100 s for a full build at 10k FIPs
RUN_ROOT = Path(os.environ.get("OVNLAB_REAL_RUN", "/tmp/ovnlab-bench-real22"))


def ovn22_dir() -> Path:
    """$OVN22_DIR, else <repo>/../shared/ovn-22.03 (CI's layout), else two levels up (a git
    worktree under <dir>/wt/NAME beside <dir>/shared)."""
    if os.environ.get("OVN22_DIR"):
        return Path(os.environ["OVN22_DIR"])
    candidates = [parent / "shared" / "ovn-22.03" for parent in REPO.parents[:2]]
    return next((c for c in candidates if c.is_dir()), candidates[0])


def missing() -> str | None:
    """Why the real programs cannot run here, or None."""
    bins = ovn22_dir() / "bin"
    for prog in ("ovn-northd", "ovn-controller", "ovn-nbctl", "ovn-sbctl"):
        if not (bins / prog).exists():
            return f"{bins / prog} is missing (set OVN22_DIR)"
    for prog in ("ovsdb-server", "ovsdb-client", "ovs-vswitchd", "ovs-vsctl"):
        if shutil.which(prog) is None:
            return f"{prog} is missing (apt-get install openvswitch-switch)"
    if not VSWITCH_SCHEMA.exists():
        return f"{VSWITCH_SCHEMA} is missing (apt-get install openvswitch-switch)"
    return None


def unavailable_note() -> dict[str, Any] | None:
    """The note a benchmark prints instead of the real figures, or None if they can run."""
    why = missing()
    return None if why is None else {"ran": False, "note": f"real OVN 22.03 not run: {why}"}


def run(*argv: str | Path, env: dict[str, str] | None = None) -> str:
    proc = subprocess.run([str(a) for a in argv], capture_output=True, timeout=TIMEOUT,
                          env=env, stdin=subprocess.DEVNULL)
    if proc.returncode != 0:
        command = " ".join(map(str, argv))
        command = command if len(command) < 300 else command[:300] + " ..."
        raise RuntimeError(f"{command} failed ({proc.returncode}):\n"
                           + proc.stderr.decode(errors="replace"))
    return proc.stdout.decode()


def timed(*argv: str | Path) -> float:
    """Seconds `argv` took to return (e.g. an `ovn-nbctl --wait=...` command)."""
    t0 = time.perf_counter()
    run(*argv)
    return time.perf_counter() - t0


class Daemons:
    """Daemons started with pidfiles under one directory, stopped together."""

    def __init__(self, run_dir: Path) -> None:
        self.dir = run_dir
        self.pidfiles: dict[str, Path] = {}
        if run_dir.exists():
            shutil.rmtree(run_dir)
        run_dir.mkdir(parents=True)

    def start(self, name: str, argv: list[str | Path], env: dict[str, str] | None = None,
              unixctl: bool = True) -> None:
        """ovn-controller has no --unixctl: its control socket goes to $OVN_RUNDIR."""
        pidfile = self.dir / f"{name}.pid"
        ctl = [f"--unixctl={self.dir / (name + '.ctl')}"] if unixctl else []
        run(*argv, "--detach", "--no-chdir", f"--pidfile={pidfile}",
            f"--log-file={self.dir / (name + '.log')}", *ctl, "-vconsole:off", env=env)
        self.pidfiles[name] = pidfile

    def pid(self, name: str) -> int:
        return int(self.pidfiles[name].read_text())

    def peak_rss_mib(self, name: str) -> float:
        """The daemon's peak resident set (VmHWM) so far."""
        for line in Path(f"/proc/{self.pid(name)}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
        raise RuntimeError(f"no VmHWM for {name}")

    def stop(self) -> None:
        """Each daemon stopped by its pidfile (procs.stop: SIGTERM, then SIGKILL)."""
        stop(list(self.pidfiles.values()))


class Central:
    """NB and SB ovsdb-servers opened on database files (ovnlab's, from its exporter:
    `export_db`), and ovn-northd. The
    NB gets its NB_Global row (`ovn-nbctl init`) before northd starts, so the first
    `--wait=sb sync` times northd's whole first build."""

    def __init__(self, run_dir: Path, nb_file: bytes, sb_file: bytes) -> None:
        self.bin = ovn22_dir() / "bin"
        self.daemons = Daemons(run_dir)
        self.dir = run_dir
        try:
            for kind, data in ((DbKind.NB, nb_file), (DbKind.SB, sb_file)):
                path = run_dir / f"{kind.value}.db"
                path.write_bytes(data)
                self.daemons.start(f"{kind.value}db", [
                    "ovsdb-server", f"--remote=punix:{self.sock(kind)}", path])
            self.nbctl("--no-wait", "init")
        except BaseException:
            self.close()
            raise

    def sock(self, kind: DbKind) -> Path:
        return self.dir / f"{kind.value}.sock"

    def nbctl_argv(self, *args: str) -> list[str | Path]:
        return [self.bin / "ovn-nbctl", f"--db=unix:{self.sock(DbKind.NB)}",
                f"--timeout={int(TIMEOUT)}", *args]

    def nbctl(self, *args: str) -> str:
        return run(*self.nbctl_argv(*args))

    def sbctl(self, *args: str) -> str:
        return run(self.bin / "ovn-sbctl", f"--db=unix:{self.sock(DbKind.SB)}", *args)

    def lflow_counts(self) -> tuple[int, int]:
        """(logical flows per datapath, Logical_Flow rows): a row with a logical_dp_group
        is one flow on each of the group's datapaths."""
        rows = self.sbctl("--format=csv", "--data=bare", "--no-headings",
                          "--columns=logical_dp_group", "list", "logical_flow").splitlines()
        sizes = {uuid: len(dps.split()) for uuid, _, dps in (
            line.partition(",") for line in self.sbctl(
                "--format=csv", "--data=bare", "--no-headings", "--columns=_uuid,datapaths",
                "list", "logical_dp_group").splitlines())}
        return sum(sizes[group] if group else 1 for group in rows), len(rows)

    def start_northd(self) -> float:
        """Start ovn-northd on the loaded NB; seconds until the SB is current."""
        t0 = time.perf_counter()
        self.daemons.start("northd", [
            self.bin / "ovn-northd", f"--ovnnb-db=unix:{self.sock(DbKind.NB)}",
            f"--ovnsb-db=unix:{self.sock(DbKind.SB)}"])
        self.nbctl("--wait=sb", "sync")
        return time.perf_counter() - t0

    def wait(self, level: str, *command: str) -> float:
        """Seconds for `ovn-nbctl --wait=LEVEL COMMAND` (sb: ovn-northd has written the
        SB; hv: every chassis's ovn-controller has its OpenFlow current)."""
        return timed(*self.nbctl_argv(f"--wait={level}", *(command or ("sync",))))

    def peak_rss_mib(self) -> dict[str, float]:
        return {name: self.daemons.peak_rss_mib(name) for name in ("northd", "nbdb", "sbdb")}

    def close(self) -> None:
        self.daemons.stop()


class Chassis:
    """One real chassis without namespaces: ovsdb-server + ovs-vswitchd (dummy datapath)
    + ovn-controller, connected to a Central's SB, with VIFs plugged on br-int."""

    def __init__(self, central: Central, run_dir: Path, system_id: str, encap_ip: str,
                 bridge_mappings: dict[str, str]) -> None:
        self.daemons = Daemons(run_dir)
        self.dir = run_dir
        self.env = {**os.environ, "OVS_RUNDIR": str(run_dir), "OVN_RUNDIR": str(run_dir)}
        try:
            self._start(central, system_id, encap_ip, bridge_mappings)
        except BaseException:
            self.close()
            raise

    def _start(self, central: Central, system_id: str, encap_ip: str,
               bridge_mappings: dict[str, str]) -> None:
        conf = self.dir / "conf.db"
        run("ovsdb-tool", "create", conf, VSWITCH_SCHEMA)
        self.daemons.start("ovsdb", ["ovsdb-server", f"--remote=punix:{self.dir / 'db.sock'}",
                                     conf])
        self.vsctl("--no-wait", "init")
        self.daemons.start("vswitchd", [
            "ovs-vswitchd", "--enable-dummy", "--disable-system", "--disable-system-route",
            f"unix:{self.dir / 'db.sock'}"], env=self.env)
        ext = {"system-id": system_id, "hostname": system_id, "ovn-encap-type": "geneve",
               "ovn-encap-ip": encap_ip, "ovn-remote": f"unix:{central.sock(DbKind.SB)}",
               "ovn-bridge-mappings": ",".join(f"{k}:{v}" for k, v in bridge_mappings.items())}
        self.vsctl("set", "open", ".", *(f'external_ids:{k}="{v}"' for k, v in ext.items()))
        for bridge in ("br-int", *sorted(set(bridge_mappings.values()))):
            self.vsctl("--may-exist", "add-br", bridge, "--", "set", "bridge", bridge,
                       "datapath_type=dummy", "other_config:disable-in-band=true",
                       *(["fail_mode=secure"] if bridge == "br-int" else []))
        self.daemons.start("controller", [
            ovn22_dir() / "bin" / "ovn-controller", f"unix:{self.dir / 'db.sock'}"],
            env=self.env, unixctl=False)

    def vsctl(self, *args: str) -> str:
        return run("ovs-vsctl", f"--db=unix:{self.dir / 'db.sock'}", *args, env=self.env)

    def plug(self, iface_ids: list[str]) -> None:
        """One dummy VIF on br-int per logical port, in one ovs-vsctl transaction."""
        args: list[str] = []
        for k, iface_id in enumerate(iface_ids):
            args += ["--", "add-port", "br-int", f"vif{k}", "--", "set", "interface",
                     f"vif{k}", "type=dummy", f"external_ids:iface-id={iface_id}"]
        if args:
            self.vsctl(*args[1:])

    def flow_count(self) -> int:
        out = run("ovs-ofctl", "dump-aggregate", "br-int", env=self.env)
        return int(out.split("flow_count=")[1].split()[0])

    def peak_rss_mib(self) -> float:
        return self.daemons.peak_rss_mib("controller")

    def close(self) -> None:
        self.daemons.stop()


def ratio(ovnlab: float, real: float) -> float | None:
    """How many times ovnlab's figure the real one is (>1: ovnlab is faster/smaller)."""
    return round(real / ovnlab, 2) if ovnlab > 0 else None
