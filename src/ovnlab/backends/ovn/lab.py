"""`OvnLab`: the same cloud, ML2/OVN driver and commands as `ovnlab.lab.Lab`, on the real
programs. Start-up builds every namespace and daemon (recording each first), waits for the
chassis to register, then connects the driver's Northbound to the real NB (ovsdbapp) and
resyncs it from the cloud, as neutron-server does at start.

After each cloud operation the lab converges: nova-compute's part (namespaces for new
servers' ports, taps on their chassis's br-int: nova.py), then OVN's news pulled back
(ports up, chassis), handed to the driver, until quiet; then `--wait=hv`, so that the new
servers boot (DHCP from ovn-controller's pinctrl) and a command run next finds the flows
installed. Node failures are nodes.py's.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from ovnlab import labconfig
from ovnlab.backends.ovn import hosts as hosts_mod
from ovnlab.backends.ovn.central import Central
from ovnlab.backends.ovn.chassis import ChassisRun, active_tunnels, bfd_settled
from ovnlab.backends.ovn.execs import TOOLS, run_tool
from ovnlab.backends.ovn.guest import UdhcpcError
from ovnlab.backends.ovn.layout import Layout
from ovnlab.backends.ovn.netns import Netns
from ovnlab.backends.ovn.nodes import Nodes
from ovnlab.backends.ovn.northbound import RealNorthbound
from ovnlab.backends.ovn.nova import Compute
from ovnlab.backends.ovn.procs import Record
from ovnlab.backends.ovn.programs import Programs, locate
from ovnlab.cloud import Cloud
from ovnlab.converging import ConvergingCloud
from ovnlab.errors import BadRequest, NotFound, OvnlabError
from ovnlab.ml2ovn import OVNMechanismDriver
from ovnlab.nb.schema import NB_SCHEMA
from ovnlab.ovsdb import Database
from ovnlab.sb.schema import SB_SCHEMA
from ovnlab.tools import ToolResult, fail
from ovnlab.tools.files import LocalFiles, ToolFiles
from ovnlab.topology import Topology

CHASSIS_WAIT = 30.0  # seconds for every chassis to register in the SB at start
PORT_UP_WAIT = 15.0  # seconds for a newly plugged port's LSP to go up
HV_WAIT = 10.0  # seconds for `--wait=hv` after a change
GATEWAY_WAIT = 20.0  # seconds for BFD to elect each router gateway's chassis (lab.sh: ~7 s)
# After distributed FIPs are switched, the chassis now answering for the FIPs announces
# them (pinctrl's GARPs); until then the external router still sends their traffic to the
# old chassis, which drops it. Measured: the first GARP leaves about 0.5 s after
# `--wait=hv` returns. A neutron-server restart takes longer than this anyway.
GARP_SETTLE = 1.0
MAX_ROUNDS = 20
TRACE_ATTEMPTS = 3  # traces while the first packet's packet-ins still settle
TRACE_RETRY = 0.5


class OvnLab:
    """Built with `OvnLab.open(state_dir)` (the daemon) and closed with `close()`, which
    stops every daemon it started and deletes its namespaces."""

    def __init__(self, topology: Topology, state_path: Path) -> None:
        self.topology = topology
        self.started = time.monotonic()
        self.programs: Programs = locate(topology.ovn_bin)
        self.layout = Layout.of(state_path, topology)
        self.layout.base.mkdir(parents=True, exist_ok=True)
        self.record = Record.load(self.layout.record_file)
        self.record.clean(self.programs["ip"])  # what a crashed run left behind
        self.netns = Netns(self.record, self.programs["ip"])
        self.central = Central(self.layout.central)
        self.chassis = {
            n.hostname: ChassisRun(n, self.layout.ns(n.hostname), self.layout.rundir(n.hostname),
                                   hosts_mod.chassis_nics(topology, n.hostname))
            for n in topology.nodes}
        self.compute = Compute(topology, self.layout, self.netns, self.programs, self.record,
                               self.chassis)
        self.nodes = Nodes(self.programs, self.netns, self.record, self.layout, self.chassis,
                           self._servers_on)
        self.real: RealNorthbound | None = None
        self.nb = Database("OVN_Northbound", NB_SCHEMA)
        self.sb = Database("OVN_Southbound", SB_SCHEMA)
        try:
            self._start()
            self.driver = OVNMechanismDriver(self.nb, self.sb, topology.neutron.ovn)
            self.cloud = Cloud(state_path / "state.db", topology, self.driver)
            self.driver.on_port_status = self._port_status
            self.driver.defer_port_events = True
            self.admin = self.cloud.admin_context()
            self.driver.sync(self.cloud.resources())
            self.converge()
        except BaseException:
            self._stop()
            raise
        self.startup_seconds = time.monotonic() - self.started

    @classmethod
    def open(cls, path: Path | str) -> OvnLab:
        from ovnlab.state import StateDir

        state = StateDir(Path(path))
        return cls(state.topology(), state.path)

    # ------------------------------------------------------------ start and stop
    def _start(self) -> None:
        self.central.start(self.programs, self.record)
        hosts_mod.Fabric(self.topology, self.layout, self.netns).build()
        self.compute.start()
        self.real = RealNorthbound(self.central.nb_remote, self.central.sb_remote,
                                   self.nb, self.sb)
        # one after the other, in the topology's order: the gateway scheduler breaks ties
        # by the order chassis registered (as a deployment brings up its nodes)
        for ch in self.chassis.values():
            ch.start(self.programs, self.netns, self.record, self.central)
            self._wait_chassis(ch)

    def _wait_chassis(self, ch: ChassisRun) -> None:
        assert self.real is not None
        deadline = time.monotonic() + CHASSIS_WAIT
        while True:
            self.real.pull()
            if self.sb.find("Chassis", name=ch.spec.system_id):
                return
            if time.monotonic() > deadline:
                raise OvnlabError(f"chassis {ch.spec.hostname} did not register in the "
                                  f"Southbound within {CHASSIS_WAIT:.0f} s (see "
                                  f"{ch.rundir / 'ovn-controller.log'})")
            time.sleep(0.02)

    def close(self) -> None:
        try:
            self.cloud.close()
        finally:
            self._stop()

    def _stop(self) -> None:
        if self.real is not None:
            self.real.close()
            self.real = None
        self.record.clean(self.programs["ip"])
        self.compute.close()

    # ------------------------------------------------------------ the control loop
    @property
    def openstack(self) -> Any:
        from ovnlab.client import OpenStack

        return OpenStack(ConvergingCloud(self.cloud, self.converge, self._nb_seqno), self.admin)

    def locked_cloud(self, lock: AbstractContextManager[Any]) -> Any:
        return ConvergingCloud(self.cloud, self.converge, self._nb_seqno, lock)

    def _nb_seqno(self) -> int:
        return self.nb.seqno

    def _port_status(self, port_id: str, up: bool) -> None:
        self.cloud.update_port_status(port_id, "ACTIVE" if up else "DOWN")

    def converge(self) -> None:
        assert self.real is not None
        plugged = self.compute.plug(self.cloud, self.admin)
        if plugged:
            self._wait_ports_up(plugged)
        for _ in range(MAX_ROUNDS):
            seqnos = (self.nb.seqno, self.sb.seqno)
            changed = self.real.pull()
            events = self.driver.run()
            if not changed and not events and (self.nb.seqno, self.sb.seqno) == seqnos:
                break
        self._wait_hv()
        if plugged:
            self.compute.boot(self.compute.names(plugged), self.programs.env())
        if self._wait_gateways():
            # A gateway moved meanwhile: every chassis must have seen the move too (the one
            # that released it would otherwise still SNAT as the gateway for a moment).
            self._wait_hv()

    def _wait_gateways(self) -> bool:
        """Until BFD between the running chassis has settled and each gateway port is
        held by the one running chassis that BFD elects, in its own view and in the
        Southbound (bounded: the lab goes on without). Not while a
        chassis runs ovs-vswitchd without ovn-controller: its BFD still says it lives, and
        nobody updates what it held. True if it had to wait."""
        assert self.real is not None
        if any(ch.running("ovs-vswitchd") != ch.running("ovn-controller")
               for ch in self.chassis.values()):
            return False
        alive = self._running()
        deadline = time.monotonic() + GATEWAY_WAIT
        waited = False
        last: dict[str, dict[str, str]] = {}
        since = time.monotonic()
        while time.monotonic() < deadline:
            views = {ch.spec.system_id: ch.bfd_sessions(self.programs, self.netns)
                     for ch in alive}
            if views != last:
                last, since = views, time.monotonic()
            if bfd_settled(views, time.monotonic() - since) and self.real.gateways_settled(
                    {me: active_tunnels(sessions) for me, sessions in views.items()}):
                break
            waited = True
            time.sleep(0.05)
        return waited

    def _running(self) -> list[ChassisRun]:
        """The chassis whose ovn-controller and ovs-vswitchd run."""
        return [ch for ch in self.chassis.values()
                if ch.running("ovn-controller") and ch.running("ovs-vswitchd")]

    def _wait_hv(self) -> None:
        """`ovn-nbctl --wait=hv sync`: bump nb_cfg, wait for the running chassis (a dead
        one never reports, and NB_Global.hv_cfg would wait for it)."""
        assert self.real is not None
        nbg = next(iter(self.nb.rows("NB_Global")))
        target = int(nbg["nb_cfg"]) + 1
        with self.nb.transaction() as txn:
            txn.update("NB_Global", nbg.uuid, nb_cfg=target)
        alive = {ch.spec.system_id for ch in self._running()}
        deadline = time.monotonic() + HV_WAIT
        while not self.real.chassis_caught_up(alive, target) and time.monotonic() < deadline:
            time.sleep(0.02)

    def _wait_ports_up(self, ports: list[str]) -> None:
        assert self.real is not None
        deadline = time.monotonic() + PORT_UP_WAIT
        while time.monotonic() < deadline:
            self.real.pull()
            lsps = {r["name"]: r for r in self.nb.rows("Logical_Switch_Port")}
            if all(lsps.get(p) is not None and lsps[p]["up"] for p in ports):
                return
            time.sleep(0.05)

    # ------------------------------------------------------------ operator tools
    def node_names(self) -> list[str]:
        names = [n.hostname for n in self.topology.nodes]
        names += [r.name for r in self.topology.external_routers]
        names += [h.name for h in self.topology.internet_hosts]
        names += [h.name for h in self.topology.external_hosts]
        return names + sorted(self.compute.by_name())

    def _servers_on(self, chassis: str) -> list[str]:
        return [name for name, (host, _s) in self.compute.by_name().items() if host == chassis]

    def _node_name(self, name: str) -> str:
        try:
            return self.topology.node(name).hostname
        except KeyError:
            pass
        if name in self.node_names():
            return name
        raise NotFound(f"no node {name!r} in this lab (nodes: {', '.join(self.node_names())})")

    def tool_env(self, node: str) -> dict[str, str]:
        """The node's own databases and rundirs; the central NB/SB for ovn-nbctl/-sbctl."""
        env = {**self.programs.env(), **self.central.env()}
        if node in self.chassis:
            env.update(self.chassis[node].env())
        if node in self.compute.by_name():
            env.update(self.compute.guest.env(self.layout.ns(node)))
        return env

    def exec(self, node: str, argv: Sequence[str] | str, files: ToolFiles | None = None, *,
             checkpoint: Callable[[], None] | None = None) -> ToolResult:
        """Run the real tool in the node's namespace, with its exit code. Files it reads or
        writes (`tcpdump -r/-w`) go through `files`, the caller's side."""
        import shlex

        args = shlex.split(argv) if isinstance(argv, str) else list(argv)
        if not args:
            return fail("ovnlab exec: missing command", 2)
        try:
            name = self._node_name(node)
        except OvnlabError as exc:
            return fail(exc.message, exc.exit_code)
        if args[0] == "udhcpc":  # busybox's, with the lab's lease script (guest.py)
            try:
                args = self.compute.guest.udhcpc(args[1:])
            except UdhcpcError as exc:
                return fail(str(exc), 1)
        elif args[0] not in TOOLS or shutil.which(args[0], path=self.tool_env(name)["PATH"]) is None:
            return fail(f"{args[0]}: command not found on {name}", 127)
        try:
            return run_tool([self.programs["ip"], "netns", "exec", self.layout.ns(name)], args,
                            {**os.environ, **self.tool_env(name)}, files or LocalFiles(),
                            checkpoint)
        finally:
            self.converge()

    # ------------------------------------------------------------ what the article's checks read
    def capture_session(self, ifaces: Sequence[str]) -> Any:
        """Real captures on every chassis's `ifaces` from now on (`observations.Capture`)."""
        from ovnlab.backends.ovn.wire import WireCapture

        names = {h.ip: h.reverse_name or h.name for h in self.topology.internet_hosts}
        return WireCapture(self.programs["ip"], {n: ch.ns for n, ch in self.chassis.items()},
                           ifaces, names)

    @property
    def nat_tables(self) -> tuple[int, int]:
        """The OpenFlow tables of the FIP's DNAT and SNAT flows in this OVN release."""
        from ovnlab.backends.ovn.programs import nat_tables

        return nat_tables(self.programs.version())

    # ------------------------------------------------------------ the rest of the lab's verbs
    def config_set(self, key: str, value: str) -> None:
        labconfig.config_set(self.cloud, key, value)
        self.converge()
        time.sleep(GARP_SETTLE)

    def status(self) -> dict[str, Any]:
        counts = labconfig.resource_counts(self.cloud, self.admin)
        return {"topology": self.topology.name, "nodes": self.node_names(), "counts": counts,
                "backend": "ovn", "ovn_version": "{}.{:02d}".format(*self.programs.version())}

    def export(self, database: str) -> bytes:
        """The real NB or SB, as `ovsdb-client backup` writes it."""
        from ovnlab.export import DbKind

        kind = DbKind.parse(database)
        remote, name = ((self.central.nb_remote, "OVN_Northbound") if kind is DbKind.NB
                        else (self.central.sb_remote, "OVN_Southbound"))
        client = str(Path(self.programs["ovsdb-tool"]).with_name("ovsdb-client"))
        return subprocess.run([client, "backup", remote, name], capture_output=True,
                              check=True).stdout

    def trace_text(self, src: str, dst: str, proto: str = "icmp", port: int = 0,
                   mode: str = "summary") -> str:
        from ovnlab.backends.ovn import realtrace

        return realtrace.render(self.real_trace(src, dst, proto, port), mode)

    def real_trace(self, src: str, dst: str, proto: str = "icmp", port: int = 0) -> Any:
        """One packet SRC (a server) -> DST, followed with each chassis's ofproto/trace
        (`realtrace.RealJourney`; not the emulated `Journey` the web view draws)."""
        from ovnlab.backends.ovn import realtrace
        from ovnlab.fabric.trace import PROTOS

        if proto not in PROTOS:
            raise BadRequest(f"unknown protocol {proto!r} (expected {', '.join(PROTOS)})")
        if proto != "icmp" and not 0 < port < 65536:
            raise BadRequest(f"--{proto} needs a port number (1-65535), got {port}")
        servers = self.compute.by_name()
        if src not in servers:
            raise BadRequest(f"on the real backend `ovnlab trace` starts from a server "
                             f"(servers: {', '.join(sorted(servers)) or 'none'}); {src!r} "
                             "is not one")
        host, srv = servers[src]
        names = {h.name: h.ip for h in self.topology.internet_hosts}
        names.update({h.reverse_name: h.ip for h in self.topology.internet_hosts
                      if h.reverse_name})
        names.update({h.name: h.ip for h in self.topology.external_hosts})
        names.update({s.name: s.ip for _h, s in servers.values()})
        dst_ip = realtrace.destination(dst, names)
        # a real packet first: ARP and OVN's MAC_Binding resolved on the wire
        self._run(src, ["ping", "-c", "1", "-W", "1", dst_ip], check=False)
        hop_ip, src_ip = self._route(src, dst_ip)
        neigh = self._run(src, ["ip", "neigh", "show", str(hop_ip)]).split()
        if "lladdr" not in neigh:
            raise BadRequest(f"{src} could not resolve {hop_ip}'s MAC address (ARP)")
        dst_mac = neigh[neigh.index("lladdr") + 1]
        follower = realtrace.Follower(
            self._run, [realtrace.Chassis(n.hostname, n.tunnel_ip) for n in self.topology.nodes],
            ", ".join(r.name for r in self.topology.external_routers) or "the external network")
        taps = {s.tap: s.name for _h, s in servers.values()}
        match = realtrace.request_match(proto, port, srv.mac, dst_mac, src_ip, dst_ip)
        start = realtrace.Start(host, realtrace.INTEGRATION, srv.tap, match)
        for _ in range(TRACE_ATTEMPTS):
            # the packet-in that the first packet caused (ARP for the next hop) lands as a
            # MAC_Binding, then as flows, a moment later
            self.converge()
            hops, disposition = follower.follow(start, "request", taps)
            if hops[-1].trace.exit is not realtrace.Exit.CONTROLLER:
                break
            time.sleep(TRACE_RETRY)
        last = hops[-1]
        if disposition.startswith("left"):
            bridge, nic = follower.exit_port(last.start.chassis, last.trace.ports)
            back, reply = follower.follow(
                realtrace.Start(last.start.chassis, bridge, nic, realtrace.reply_match(last.trace)),
                "reply", taps)
            hops += back
            disposition += f"; its reply: {reply}"
        return realtrace.RealJourney(src, dst, proto, port, tuple(hops), disposition)

    def _route(self, server: str, dst_ip: str) -> tuple[str, str]:
        """(next hop, source address) of the server's route to `dst_ip`, from what its
        own stack holds (its DHCP lease): `ip route get`."""
        proc = subprocess.run([self.programs["ip"], "netns", "exec", self.layout.ns(server),
                               self.programs["ip"], "-4", "route", "get", dst_ip],
                              capture_output=True, text=True, timeout=30)
        words = proc.stdout.split()
        if proc.returncode != 0 or "src" not in words:
            raise BadRequest(f"{server} has no route to {dst_ip} "
                             f"({proc.stderr.strip() or 'no source address'})")
        hop = words[words.index("via") + 1] if "via" in words else dst_ip
        return hop, words[words.index("src") + 1]

    def _run(self, node: str, argv: list[str], check: bool = True) -> str:
        """A tool in the node's namespace against its own daemons; its stdout."""
        proc = subprocess.run([self.programs["ip"], "netns", "exec", self.layout.ns(node), *argv],
                              env={**os.environ, **self.tool_env(node)}, capture_output=True,
                              text=True, timeout=30)
        if check and proc.returncode != 0:
            raise OvnlabError(f"{argv[0]} on {node}: {proc.stderr.strip()}")
        return proc.stdout

    # ------------------------------------------------------------ failures
    def node_action(self, action: str, node: str, arg: str = "") -> dict[str, Any]:
        """The control API's `node` verb on real daemons and links (nodes.py)."""
        name = self._node_name(node)
        # a host powered on again restarts its guests: they ask for their lease again
        # (the kernel dropped their routes with their NIC)
        restarting = [s for s in self._servers_on(name) if not self.nodes.links(s).get("eth0")] \
            if action == "start" else []
        self.nodes.act(action, name, arg)
        if action not in ("link-down", "link-up"):  # a link's news is BFD's, in its time
            self.converge()
        if restarting:
            self.compute.boot(restarting, self.programs.env())
        return self.nodes.state(name)

    def node_state(self, node: str) -> dict[str, Any]:
        return self.nodes.state(node)

    def live_capture(self, node: str, argv: Sequence[str]) -> Any:
        """The real tcpdump following live in the node's namespace."""
        from ovnlab.backends.ovn.capture import RealLiveCapture

        name = self._node_name(node)
        return RealLiveCapture([self.programs["ip"], "netns", "exec", self.layout.ns(name)],
                               list(argv), {**os.environ, **self.tool_env(name)})
