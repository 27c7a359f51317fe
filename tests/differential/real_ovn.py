"""The real OVN 22.03 programs (../shared/ovn-22.03) driven from tests: one central
control plane (NB and SB ovsdb-servers, ovn-northd) into which NB states are loaded in
turn, and chassis (ovsdb-server, userspace ovs-vswitchd, ovn-controller) without
namespaces, as ../shared/ovn-22.03/one-chassis.sh starts them. Every daemon is started
with a pidfile under one run directory and stopped by its pid."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
VSWITCH_SCHEMA = Path("/usr/share/openvswitch/vswitch.ovsschema")
TIMEOUT = 60.0


def ovn22_dir() -> Path:
    """$OVN22_DIR, else <repo>/../shared/ovn-22.03 (CI clones the repo beside shared/)."""
    return Path(os.environ.get("OVN22_DIR") or REPO.parent / "shared" / "ovn-22.03")


def missing() -> str | None:
    """Why the real programs cannot run here, or None."""
    bins = ovn22_dir() / "bin"
    for prog in ("ovn-northd", "ovn-controller", "ovn-nbctl", "ovn-sbctl"):
        if not (bins / prog).exists():
            return f"{bins / prog} is missing (set OVN22_DIR)"
    for prog in ("ovsdb-server", "ovsdb-tool", "ovsdb-client", "ovs-vswitchd", "ovs-vsctl",
                 "ovs-ofctl"):
        if shutil.which(prog) is None:
            return f"{prog} is missing (apt-get install openvswitch-switch)"
    return None


def run(*argv: str | Path, stdin: Path | None = None, env: dict[str, str] | None = None,
        timeout: float = TIMEOUT) -> str:
    with open(stdin or os.devnull, "rb") as infile:  # restore seeks: a file, not a pipe
        proc = subprocess.run([str(a) for a in argv], stdin=infile, capture_output=True,
                              timeout=timeout, env=env)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, argv))} failed ({proc.returncode}):\n"
                           + proc.stderr.decode(errors="replace"))
    return proc.stdout.decode()


def _daemon(run_dir: Path, name: str, argv: list[str | Path],
            env: dict[str, str] | None = None, unixctl: bool = True) -> Path:
    """Starts a daemon detached; `unixctl=False` for ovn-controller 22.03, which has no
    --unixctl option (its control socket goes to $OVN_RUNDIR)."""
    pidfile = run_dir / f"{name}.pid"
    ctl = [f"--unixctl={run_dir / (name + '.ctl')}"] if unixctl else []
    run(*argv, "--detach", "--no-chdir", f"--pidfile={pidfile}",
        f"--log-file={run_dir / (name + '.log')}", *ctl, "-vconsole:off", env=env)
    return pidfile


def stop(pidfiles: list[Path]) -> None:
    """SIGTERM each daemon by its pidfile, then wait for it to go."""
    pids = []
    for pidfile in pidfiles:
        if pidfile.exists():
            pid = int(pidfile.read_text())
            try:
                os.kill(pid, 15)
                pids.append(pid)
            except ProcessLookupError:
                pass
    deadline = time.monotonic() + 10
    while any(Path(f"/proc/{p}").exists() for p in pids) and time.monotonic() < deadline:
        time.sleep(0.05)


class Central:
    """NB + SB ovsdb-servers and ovn-northd, kept for a whole test session."""

    def __init__(self, run_dir: Path) -> None:
        self.dir = run_dir
        self.bin = ovn22_dir() / "bin"
        self.pidfiles: list[Path] = []
        run_dir.mkdir(parents=True, exist_ok=True)
        for db in ("nb", "sb"):
            path = run_dir / f"{db}.db"
            path.unlink(missing_ok=True)
            run("ovsdb-tool", "create", path, ovn22_dir() / "share" / f"ovn-{db}.ovsschema")
        self.empty = {db: run_dir / f"empty-{db}.db" for db in ("nb", "sb")}
        for db, path in self.empty.items():
            shutil.copy(run_dir / f"{db}.db", path)
        for db in ("nb", "sb"):
            path = run_dir / f"{db}.db"
            self.pidfiles.append(_daemon(run_dir, f"{db}db", [
                "ovsdb-server", f"--remote=punix:{self.sock(db)}", path]))
        self.nbctl("--no-wait", "init")
        self.pidfiles.append(_daemon(run_dir, "northd", [
            self.bin / "ovn-northd", f"--ovnnb-db=unix:{self.sock('nb')}",
            f"--ovnsb-db=unix:{self.sock('sb')}"]))

    def sock(self, db: str) -> Path:
        return self.dir / f"{db}.sock"

    def nbctl(self, *args: str) -> str:
        return run(self.bin / "ovn-nbctl", f"--db=unix:{self.sock('nb')}", *args)

    def sbctl(self, *args: str) -> str:
        return run(self.bin / "ovn-sbctl", f"--db=unix:{self.sock('sb')}", *args)

    def load_nb(self, nb_file: bytes) -> None:
        """Replace the NB's contents with an exported NB (`ovnlab export nb`), then wait
        for ovn-northd to bring the SB up to date. Both are emptied first, so that the SB
        is built from scratch as for a new deployment: tunnel keys then do not depend on
        the states loaded before, and a row UUID reused by the next state with other
        contents (ovnlab's UUIDs are seeded) is a new row, not an update."""
        for db in ("sb", "nb"):
            run("ovsdb-client", "restore", f"unix:{self.sock(db)}", stdin=self.empty[db])
        self.nbctl("--wait=sb", f"--timeout={int(TIMEOUT)}", "init", "--", "sync")
        snapshot = self.dir / "snapshot-nb.db"
        snapshot.write_bytes(nb_file)
        run("ovsdb-client", "restore", f"unix:{self.sock('nb')}", stdin=snapshot)
        self.nbctl("--wait=sb", f"--timeout={int(TIMEOUT)}", "sync")

    def reset_sb(self) -> None:
        """Empty the SB, so that ovn-northd rebuilds it from scratch from the NB."""
        run("ovsdb-client", "restore", f"unix:{self.sock('sb')}", stdin=self.empty["sb"])
        self.nbctl("--wait=sb", f"--timeout={int(TIMEOUT)}", "sync")

    def wait_hv(self) -> None:
        self.nbctl("--wait=hv", f"--timeout={int(TIMEOUT)}", "sync")

    def close(self) -> None:
        stop(self.pidfiles)


@dataclass(frozen=True)
class Vif:
    """A VIF on a chassis's br-int: its interface name and its logical port."""

    name: str
    iface_id: str


class RealChassis:
    """A real chassis (ovsdb-server, userspace ovs-vswitchd, ovn-controller) named as
    ovnlab's (system-id, hostname, encap IP, bridge mappings, cms options) and attached
    to a Central's SB."""

    def __init__(self, central: Central, run_dir: Path, system_id: str, hostname: str,
                 encap_ip: str, bridge_mappings: dict[str, str], cms_options: str) -> None:
        self.dir = run_dir
        self.system_id = system_id
        self.pidfiles: list[Path] = []
        self.env = {**os.environ, "OVS_RUNDIR": str(run_dir), "OVN_RUNDIR": str(run_dir)}
        run_dir.mkdir(parents=True, exist_ok=True)
        try:
            self._start(central, run_dir, system_id, hostname, encap_ip, bridge_mappings,
                        cms_options)
        except BaseException:
            stop(self.pidfiles)  # what did start is not left running
            raise
        self.vifs: set[Vif] = set()

    def _start(self, central: Central, run_dir: Path, system_id: str, hostname: str,
               encap_ip: str, bridge_mappings: dict[str, str], cms_options: str) -> None:
        conf = run_dir / "conf.db"
        conf.unlink(missing_ok=True)
        run("ovsdb-tool", "create", conf, VSWITCH_SCHEMA)
        self.pidfiles.append(_daemon(run_dir, "ovsdb", [
            "ovsdb-server", f"--remote=punix:{run_dir / 'db.sock'}", conf]))
        self.vsctl("--no-wait", "init")
        ext = {"system-id": system_id, "hostname": hostname, "ovn-encap-type": "geneve",
               "ovn-encap-ip": encap_ip, "ovn-remote": f"unix:{central.sock('sb')}"}
        if bridge_mappings:
            ext["ovn-bridge-mappings"] = ",".join(f"{k}:{v}" for k, v in bridge_mappings.items())
        if cms_options:
            ext["ovn-cms-options"] = cms_options
        self.vsctl("--no-wait", "set", "open", ".",
                   *(f'external_ids:{k}="{v}"' for k, v in ext.items()))
        self.pidfiles.append(_daemon(run_dir, "vswitchd", [
            "ovs-vswitchd", f"unix:{run_dir / 'db.sock'}"], env=self.env))
        for bridge in ("br-int", *sorted(set(bridge_mappings.values()))):
            self.vsctl("--may-exist", "add-br", bridge, "--", "set", "bridge", bridge,
                       "datapath_type=netdev", "other_config:disable-in-band=true",
                       *(["fail_mode=secure"] if bridge == "br-int" else []))
        self.pidfiles.append(_daemon(run_dir, "controller", [
            ovn22_dir() / "bin" / "ovn-controller", f"unix:{run_dir / 'db.sock'}"],
            env=self.env, unixctl=False))

    def vsctl(self, *args: str) -> str:
        return run("ovs-vsctl", f"--db=unix:{self.dir / 'db.sock'}", *args, env=self.env)

    def set_vifs(self, vifs: set[Vif]) -> None:
        """Plug and unplug internal ports on br-int so exactly `vifs` are there."""
        for vif in sorted(self.vifs - vifs, key=lambda v: v.name):
            self.vsctl("--if-exists", "del-port", "br-int", vif.name)
        for vif in sorted(vifs - self.vifs, key=lambda v: v.name):
            self.vsctl("--may-exist", "add-port", "br-int", vif.name, "--", "set", "interface",
                       vif.name, "type=internal", f"external_ids:iface-id={vif.iface_id}")
        self.vifs = set(vifs)

    def dump_flows(self) -> str:
        return run("ovs-ofctl", "--names", "dump-flows", "br-int", env=self.env)

    def close(self) -> None:
        stop(self.pidfiles)
