"""The real OVN 22.03 programs (../shared/ovn-22.03) driven from tests: one central
control plane (NB and SB ovsdb-servers, ovn-northd) into which NB states are loaded in
turn, and chassis (ovsdb-server, ovs-vswitchd, ovn-controller) without namespaces, as
../shared/ovn-22.03/one-chassis.sh starts one, on dummy datapaths so that several coexist.
Every daemon is started with a pidfile under one run directory and stopped by its pid."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from ovn22 import VSWITCH_SCHEMA, ovn22_dir

from ovnlab.backends.ovn.procs import stop

TIMEOUT = 60.0


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
    """Start a daemon detached; its pidfile is returned (ovn-controller has no
    --unixctl: its control socket goes to $OVN_RUNDIR)."""
    pidfile = run_dir / f"{name}.pid"
    ctl = [f"--unixctl={run_dir / (name + '.ctl')}"] if unixctl else []
    run(*argv, "--detach", "--no-chdir", f"--pidfile={pidfile}",
        f"--log-file={run_dir / (name + '.log')}", *ctl, "-vconsole:off", env=env)
    return pidfile


def _rows(csv: str) -> list[tuple[str, str]]:
    return [(a, b) for a, _, b in (line.partition(",") for line in csv.splitlines())]


@dataclass(frozen=True)
class Keys:
    """Tunnel keys as ovnlab's northd allocated them, to be requested from the real one
    (`requested-tnl-key`): both allocate free keys in an arbitrary order (the real one in
    hash order), and pinning them is how OpenFlow tables, which carry the keys in
    metadata, reg14/reg15 and tunnel headers, become comparable. chassisredirect ports
    cannot request a key: theirs is written into the real SB once northd made the port
    (northd keeps a valid key it finds there)."""

    switches: dict[str, int]  # Logical_Switch name -> datapath key
    routers: dict[str, int]
    switch_ports: dict[str, int]  # LSP name -> port key
    router_ports: dict[str, int]
    redirect_ports: dict[str, int] = field(default_factory=dict)  # cr-lrp-... -> port key

    def sb_settings(self) -> list[str]:
        """ovn-sbctl commands giving the chassisredirect ports ovnlab's keys."""
        args: list[str] = []
        for name, key in sorted(self.redirect_ports.items()):
            args += ["--", "set", "port_binding", name, f"tunnel_key={key}"]
        return args[1:]

    def requests(self) -> list[str]:
        args: list[str] = []
        for table, column, keys in (
                ("logical_switch", "other_config", self.switches),
                ("logical_router", "options", self.routers),
                ("logical_switch_port", "options", self.switch_ports),
                ("logical_router_port", "options", self.router_ports)):
            for name, key in sorted(keys.items()):
                args += ["--", "set", table, name, f"{column}:requested-tnl-key={key}"]
        return args[1:]


class Central:
    """NB + SB ovsdb-servers and ovn-northd, kept for a whole test session."""

    def __init__(self, run_dir: Path) -> None:
        self.dir = run_dir
        self.bin = ovn22_dir() / "bin"
        self.pidfiles: list[Path] = []
        self.cfg = 0  # the last nb_cfg a sync waited for
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

    def load_nb(self, nb_file: bytes, keys: Keys | None = None,
                sb_file: bytes | None = None) -> None:
        """Replace the NB's contents with an exported NB (`ovnlab export nb`), then wait
        for ovn-northd to bring the SB up to date. Both are emptied first, so that the SB
        is built from scratch as for a new deployment: tunnel keys then do not depend on
        the states loaded before, and a row UUID reused by the next state with other
        contents (ovnlab's UUIDs are seeded) is a new row, not an update. `sb_file` (an
        exported SB, e.g. with registered chassis) then replaces the empty SB."""
        for db in ("sb", "nb"):
            run("ovsdb-client", "restore", f"unix:{self.sock(db)}", stdin=self.empty[db])
        self.nbctl("init")
        self._sync()
        if sb_file is not None:
            snapshot_sb = self.dir / "snapshot-sb.db"
            snapshot_sb.write_bytes(sb_file)
            run("ovsdb-client", "restore", f"unix:{self.sock('sb')}", stdin=snapshot_sb)
        snapshot = self.dir / "snapshot-nb.db"
        snapshot.write_bytes(nb_file)
        run("ovsdb-client", "restore", f"unix:{self.sock('nb')}", stdin=snapshot)
        if keys is not None:
            self.nbctl(*keys.requests())
        self._sync()
        if keys is not None and keys.redirect_ports:
            self._pin_redirect_ports(keys)

    def _sync(self) -> None:
        """`ovn-nbctl --wait=sb sync` from an nb_cfg never used before: a restored
        NB_Global brings its own nb_cfg/sb_cfg back (ovnlab's, 0), and the SB would have
        already seen nb_cfg + 1, so northd would report it done before its run."""
        self.cfg += 2
        self.nbctl("set", "NB_Global", ".", f"nb_cfg={self.cfg}")
        self.nbctl("--wait=sb", f"--timeout={int(TIMEOUT)}", "sync")

    def _pin_redirect_ports(self, keys: Keys) -> None:
        """The chassisredirect ports' keys into the SB; northd may still be settling the
        ports it just made, so a rejected write (a key briefly held by another) is retried
        after it syncs again."""
        for attempt in range(5):
            try:
                self.sbctl(*keys.sb_settings())
                break
            except RuntimeError:
                if attempt == 4:
                    raise
                self.nbctl("--wait=sb", f"--timeout={int(TIMEOUT)}", "sync")
                time.sleep(0.2)
        self.nbctl("--wait=sb", f"--timeout={int(TIMEOUT)}", "sync")

    def claims(self) -> dict[str, str]:
        """chassisredirect port -> the name of the chassis that claimed it (HA election)."""
        names = dict(_rows(self.sbctl("--format=csv", "--data=bare", "--no-headings",
                                      "--columns=_uuid,name", "list", "chassis")))
        return {port: names.get(chassis, chassis) for port, chassis in _rows(self.sbctl(
            "--format=csv", "--data=bare", "--no-headings", "--columns=logical_port,chassis",
            "find", "port_binding", "type=chassisredirect")) if chassis}

    def wait_hv(self) -> None:
        self.nbctl("--wait=hv", f"--timeout={int(TIMEOUT)}", "sync")

    def close(self) -> None:
        stop(self.pidfiles)


@dataclass(frozen=True)
class Vif:
    """A VIF on a chassis's br-int: its interface name and its logical port."""

    name: str
    iface_id: str


class Underlay:
    """The chassis's underlay: a hub bridge (NORMAL switching) in its own ovs-vswitchd,
    one port per chassis, each a dummy stream to that chassis's br-phys, as OVN's
    testsuite wires simulated hypervisors (`net_add`, `net_attach`). Geneve and the BFD
    that decides which HA gateway chassis is active cross it."""

    def __init__(self, run_dir: Path) -> None:
        self.dir = run_dir
        self.pidfiles: list[Path] = []
        self.env = {**os.environ, "OVS_RUNDIR": str(run_dir)}
        run_dir.mkdir(parents=True, exist_ok=True)
        try:
            self.pidfiles += _switch(run_dir, self.env)
            self.vsctl("add-br", "underlay", "--", "set", "bridge", "underlay",
                       "datapath_type=dummy")
        except BaseException:
            self.close()
            raise

    def vsctl(self, *args: str) -> str:
        return run("ovs-vsctl", f"--db=unix:{self.dir / 'db.sock'}", *args)

    def attach(self, name: str) -> Path:
        sock = self.dir / f"{name}.sock"
        self.vsctl("--may-exist", "add-port", "underlay", name, "--", "set", "interface", name,
                   "type=dummy", f"options:pstream=punix:{sock}")
        return sock

    def detach(self, name: str) -> None:
        self.vsctl("--if-exists", "del-port", "underlay", name)

    def close(self) -> None:
        stop(self.pidfiles)


def _switch(run_dir: Path, env: dict[str, str] | None = None) -> list[Path]:
    """ovsdb-server + ovs-vswitchd for dummy datapaths and netdevs (as OVS's and OVN's
    testsuites run many hypervisors on one host: every bridge `datapath_type=dummy`, every
    port `type=dummy`): no kernel or tap device, so they never collide, and userspace
    native tunnelling carries Geneve."""
    conf = run_dir / "conf.db"
    conf.unlink(missing_ok=True)
    run("ovsdb-tool", "create", conf, VSWITCH_SCHEMA)
    pidfiles = [_daemon(run_dir, "ovsdb", [
        "ovsdb-server", f"--remote=punix:{run_dir / 'db.sock'}", conf])]
    run("ovs-vsctl", f"--db=unix:{run_dir / 'db.sock'}", "--no-wait", "init")
    pidfiles.append(_daemon(run_dir, "vswitchd", [
        "ovs-vswitchd", "--enable-dummy", "--disable-system", "--disable-system-route",
        f"unix:{run_dir / 'db.sock'}"], env=env))
    return pidfiles


class RealChassis:
    """A real chassis (ovsdb-server, ovs-vswitchd, ovn-controller) named as ovnlab's
    (system-id, hostname, encap IP, bridge mappings, cms options), attached to a
    Central's SB and to the Underlay by br-phys, which holds the encap IP."""

    def __init__(self, central: Central, underlay: Underlay, run_dir: Path, system_id: str,
                 hostname: str, encap_ip: str, bridge_mappings: dict[str, str],
                 cms_options: str) -> None:
        self.dir = run_dir
        self.system_id = system_id
        self.encap_ip = encap_ip
        self.underlay = underlay
        self.pidfiles: list[Path] = []
        self.vifs: set[Vif] = set()
        self.env = {**os.environ, "OVS_RUNDIR": str(run_dir), "OVN_RUNDIR": str(run_dir)}
        run_dir.mkdir(parents=True, exist_ok=True)
        try:
            self._start(central, hostname, bridge_mappings, cms_options)
        except BaseException:
            self.close()
            raise

    def _start(self, central: Central, hostname: str, bridge_mappings: dict[str, str],
               cms_options: str) -> None:
        ext = {"system-id": self.system_id, "hostname": hostname, "ovn-encap-type": "geneve",
               "ovn-encap-ip": self.encap_ip, "ovn-remote": f"unix:{central.sock('sb')}"}
        if bridge_mappings:
            ext["ovn-bridge-mappings"] = ",".join(f"{k}:{v}" for k, v in bridge_mappings.items())
        if cms_options:
            ext["ovn-cms-options"] = cms_options
        self.pidfiles += _switch(self.dir, self.env)
        self.vsctl("set", "open", ".", *(f'external_ids:{k}="{v}"' for k, v in ext.items()))
        for bridge in ("br-int", *sorted(set(bridge_mappings.values()))):
            self.vsctl("--may-exist", "add-br", bridge, "--", "set", "bridge", bridge,
                       "datapath_type=dummy", "other_config:disable-in-band=true",
                       *(["fail_mode=secure"] if bridge == "br-int" else []))
        sock = self.underlay.attach(self.system_id[:15])
        self.vsctl("add-br", "br-phys", "--", "set", "bridge", "br-phys", "datapath_type=dummy",
                   "--", "add-port", "br-phys", "phys0", "--", "set", "interface", "phys0",
                   "type=dummy", f"options:stream=unix:{sock}")
        self.appctl("netdev-dummy/ip4addr", "br-phys", f"{self.encap_ip}/24")
        self.appctl("ovs/route/add", f"{self.encap_ip}/24", "br-phys")
        self.phys_mac = self.vsctl("get", "interface", "br-phys", "mac_in_use").strip().strip('"')
        self.pidfiles.append(_daemon(self.dir, "controller", [
            ovn22_dir() / "bin" / "ovn-controller", f"unix:{self.dir / 'db.sock'}"],
            env=self.env, unixctl=False))

    def vsctl(self, *args: str) -> str:
        return run("ovs-vsctl", f"--db=unix:{self.dir / 'db.sock'}", *args, env=self.env)

    def appctl(self, *args: str) -> str:
        return run("ovs-appctl", f"--target={self.dir / 'vswitchd.ctl'}", *args, env=self.env)

    def neighbour(self, other: RealChassis) -> None:
        """A static underlay ARP entry for another chassis (OVN's testsuite populates them
        so, `ovn_populate_arp`)."""
        self.appctl("tnl/arp/set", "br-phys", other.encap_ip, other.phys_mac)

    def set_vifs(self, vifs: set[Vif]) -> None:
        """Plug and unplug ports on br-int so exactly `vifs` are there."""
        for vif in sorted(self.vifs - vifs, key=lambda v: v.name):
            self.vsctl("--if-exists", "del-port", "br-int", vif.name)
        for vif in sorted(vifs - self.vifs, key=lambda v: v.name):
            self.vsctl("--may-exist", "add-port", "br-int", vif.name, "--", "set", "interface",
                       vif.name, "type=dummy", f"external_ids:iface-id={vif.iface_id}")
        self.vifs = set(vifs)

    def dump_flows(self) -> str:
        return run("ovs-ofctl", "--names", "dump-flows", "br-int", env=self.env)

    def close(self) -> None:
        close_all([self])

    def _unplug(self) -> None:
        try:
            self.underlay.detach(self.system_id[:15])
        except RuntimeError:
            pass  # the underlay is gone already


def close_all(chassis: list[RealChassis]) -> None:
    """Stop several chassis at once (each daemon takes a while to exit: in parallel)."""
    stop([pidfile for ch in chassis for pidfile in ch.pidfiles])
    for ch in chassis:
        ch._unplug()
