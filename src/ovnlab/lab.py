"""The top object (Mininet's `Mininet` for OpenStack + OVN): builds a lab from a topology
and wires every layer together.

    cloud (Neutron/Nova) ─► ml2ovn driver ─► NB ─► northd ─► SB ─► controller per chassis
        ─► br-int flows ─► datapath ◄─► fabric (wires, VMs, hosts, captures)

After every cloud operation the lab *converges*: Nova plugs new VIFs, then every daemon
that has work runs, round after round, until none has (`incproc.converge`): northd, each
chassis's ovn-controller, ovs-vswitchd's BFD, the ML2/OVN driver's port events, the
ovn-metadata-agents. Once none has, the guests plugged since boot (their DHCP runs on the
wired flows) and the daemons run again on what that wrote. A daemon never calls another: its database writes only queue changes for the others' next run
(port claims flow back up to Neutron as port-up events, which may rewrite NAT rows, which
changes logical flows...).
"""

from __future__ import annotations

import importlib
import shlex
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from ovnlab import labconfig
from ovnlab import topology as topo_mod
from ovnlab.client import OpenStack
from ovnlab.cloud import Cloud
from ovnlab.cloud.metadata import InstanceMetadata
from ovnlab.cloud.metadata import lookup as metadata_lookup
from ovnlab.cloud.services import Services
from ovnlab.controller import Controller, SharedCompiles
from ovnlab.converging import ConvergingCloud
from ovnlab.datapath import Vswitch
from ovnlab.errors import BadRequest, NotFound, StateError, ToolError
from ovnlab.fabric import Chassis, Daemon, Fabric
from ovnlab.fabric.failures import Failures
from ovnlab.fabric.journey import Journey
from ovnlab.gc_pause import gc_paused
from ovnlab.incproc import Runnable, converge
from ovnlab.live import LiveCapture
from ovnlab.mainloops import BfdSync, ChassisLoop, MetadataAgents
from ovnlab.ml2ovn import OVNMechanismDriver
from ovnlab.ml2ovn.agents import alive as agent_alive
from ovnlab.nb.schema import NB_SCHEMA
from ovnlab.northd import Northd
from ovnlab.novacompute import NovaCompute
from ovnlab.ovsdb import Database
from ovnlab.sb.schema import SB_SCHEMA
from ovnlab.state import StateDir
from ovnlab.tools import ToolResult, fail
from ovnlab.tools.files import LocalFiles, ToolFiles
from ovnlab.turns import no_slices

MAX_CONVERGE_ROUNDS = 20
FAILURES_SETTLE = 3.5  # s: BFD's detection time (3 s) and the claims after it
# tool name -> module under ovnlab.tools, by what the tool inspects
CENTRAL_TOOLS = {"ovn-nbctl": "ovn_nbctl", "ovn-sbctl": "ovn_sbctl", "ovn-trace": "ovn_trace"}
CHASSIS_TOOLS = {"ovs-ofctl": "ovs_ofctl", "ovs-vsctl": "ovs_vsctl", "ovs-appctl": "ovs_appctl"}
HOST_TOOLS = {"ping": "ping", "ip": "ip", "nc": "nc", "traceroute": "traceroute",
              "udhcpc": "udhcpc", "curl": "curl"}
SLICED_TOOLS = {"ping", "nc", "traceroute", "udhcpc", "curl"}  # long runs of the clock: they take a checkpoint (ovnlab.turns)


class Lab:
    """`Lab.build("seed")` in memory, or `Lab.open(state_dir)` persisted."""

    def __init__(self, topology: topo_mod.Topology, store_path: Path | None = None) -> None:
        self.topology = topology
        self.nb = Database("OVN_Northbound", NB_SCHEMA)
        self.sb = Database("OVN_Southbound", SB_SCHEMA)
        self.vswitches = {n.hostname: Vswitch(n.hostname) for n in topology.nodes}
        for n in topology.nodes:  # what a deployment tool sets with ovs-vsctl
            self.vswitches[n.hostname].external_ids.update(n.ovs_external_ids())
        self.compiles = SharedCompiles(self.sb)  # every chassis's compiled logical flows
        self.controllers = {
            n.hostname: Controller(self.sb, self.vswitches[n.hostname],
                                   compiles=self.compiles)
            for n in topology.nodes
        }
        self.driver = OVNMechanismDriver(self.nb, self.sb, topology.neutron.ovn)
        self.cloud = Cloud(store_path, topology, self.driver)
        self.driver.on_port_status = self._port_status
        self.driver.defer_port_events = True  # handled after commits, as Neutron's own thread does
        self.northd = Northd(self.nb, self.sb)
        self.admin = self.cloud.admin_context()
        self.fabric = Fabric.build(topology, self.vswitches, self.controllers,
                                   subnets=lambda sid: self.cloud.get_subnet(self.admin, sid))
        self.driver.clock = self.fabric.clock  # agent liveness on the lab's time
        self.fabric.metadata_source = self._metadata_for
        self._announced = -1
        self._nova = NovaCompute(self.cloud, self.admin, self.fabric)
        self._bfd = BfdSync(self.fabric)
        self._loops = [ChassisLoop(self._chassis(h), c, self._bfd.wake)
                       for h, c in self.controllers.items()]
        self._bfd.loops = self._loops
        self._metadata = MetadataAgents(self.fabric, self.sb, self._loops,
                                         self.topology.neutron.ovn.ovn_metadata_enabled)
        self._state: StateDir | None = None  # where failures are kept (a lab opened from disk)
        self.driver.sync(self.cloud.resources())  # neutron-server's NB resync at start
        self.converge()

    # ------------------------------------------------------------ construction
    @classmethod
    def build(cls, topology: str | topo_mod.Topology = "seed",
              overrides: Sequence[str] = ()) -> Lab:
        topo = topology if isinstance(topology, topo_mod.Topology) else topo_mod.load(
            topology, list(overrides))
        return cls(topo)

    @classmethod
    def open(cls, path: Path | str) -> Lab:
        state = StateDir(Path(path))
        lab = cls(state.topology(), state.db_file)
        lab._state = state
        lab._restore_failures()
        return lab

    def _restore_failures(self) -> None:
        """The nodes stopped, daemons killed and links downed before `ovnlab down` are down
        again; virtual time then runs until BFD has noticed (the gateways as they were)."""
        assert self._state is not None
        try:
            failures = Failures.from_dict(self._state.read_failures())
        except ValueError as exc:
            raise StateError(f"{self._state.failures_file}: {exc}; delete it to start with "
                             "every node up") from None
        if failures:
            failures.apply(self.fabric)
            self.converge()
            self.fabric.run(FAILURES_SETTLE)
            self.converge()

    def _keep_failures(self) -> None:
        if self._state is not None:
            failures = Failures.of(self.fabric)
            self._state.write_failures(failures.to_dict() if failures else {})

    def close(self) -> None:
        self.cloud.close()

    @property
    def openstack(self) -> OpenStack:
        """The article's openstack verbs, as the admin, converging after each."""
        return OpenStack(ConvergingCloud(self.cloud, self.converge, self._nb_seqno), self.admin)

    def locked_cloud(self, lock: AbstractContextManager[Any]) -> Services:
        """The cloud for the REST API: serialised with the control API, converging (the
        proxy forwards every attribute of the cloud, so it serves the cloud's families)."""
        return cast(Services, ConvergingCloud(self.cloud, self.converge, self._nb_seqno, lock))

    def _nb_seqno(self) -> int:
        return self.nb.seqno

    # ------------------------------------------------------------ the control loop
    def _port_status(self, port_id: str, up: bool) -> None:
        self.cloud.update_port_status(port_id, "ACTIVE" if up else "DOWN")

    def converge(self) -> None:
        with gc_paused(freeze=True):
            self._converge()

    def _converge(self) -> None:
        # Only cloud operations add or remove servers and ports; what converging writes
        # back (port status) never does, so VIFs are plugged once, before the daemons run.
        self._nova.sync()
        self._bfd.wake()
        for loop in self._loops:  # the fabric may have changed under every chassis
            loop.wake()
        daemons: list[Runnable] = [self.northd, *self._loops, self._bfd, self.driver,
                                   self._metadata]
        for _ in range(MAX_CONVERGE_ROUNDS):
            converge(daemons, MAX_CONVERGE_ROUNDS)
            self._announce()
            if not self.fabric.boot_vms():  # guests start once their ports are wired
                return
        raise RuntimeError("the lab did not converge")  # a bug, never user input

    def _announce(self) -> None:
        """pinctrl wakes on SB changes: NAT addresses that became resident here are
        announced (GARPs) at once, not at the next periodic tick."""
        if self.sb.seqno != self._announced:
            self._announced = self.sb.seqno
            for hostname in self.controllers:
                self._chassis(hostname).run_periodic()

    def _chassis(self, hostname: str) -> Chassis:
        chassis = self.fabric.node(hostname)
        assert isinstance(chassis, Chassis)
        return chassis

    def _metadata_for(self, network_id: str, address: str) -> InstanceMetadata | None:
        """Nova's metadata for the instance the agent found (cloud/metadata.py)."""
        return metadata_lookup(self.cloud, self.admin, network_id, address)

    # ------------------------------------------------------------ operator tools
    def exec(self, node: str, argv: Sequence[str] | str, files: ToolFiles | None = None, *,
             checkpoint: Callable[[], None] = no_slices) -> ToolResult:
        """Run a node's tool; `files` is where its files (tcpdump -w/-r) live (default: the
        current directory).

        The caller holds the lab (the daemon: its `Turns`). A long tool calls `checkpoint`
        between the clock's events: the daemon's `Slicer` passes the lab to queued requests
        there and stops the tool (rc 130) once its client has gone."""
        args = shlex.split(argv) if isinstance(argv, str) else list(argv)
        if not args:
            return fail("ovnlab exec: missing command", 2)
        try:
            name = self._node_name(node)
            target = self.fabric.node(name)
            if not target.powered:  # as ssh to a host that is off
                return fail(f"ovnlab exec: {name} is powered off "
                            f"(`ovnlab node start {self._powering(name)}`)", 255)
            if isinstance(target, Chassis):
                target.catch_up()  # its tools see the flows of all it has received
            return self._dispatch(name, args, files or LocalFiles(), checkpoint)
        except ToolError as exc:
            return fail(exc.message, exc.exit_code)
        finally:
            self.converge()

    def live_capture(self, node: str, argv: Sequence[str]) -> LiveCapture:
        """`tcpdump` following live (the daemon streams its lines and its -w bytes)."""
        return LiveCapture(self.fabric, self._node_name(node), list(argv))

    def _node_name(self, name: str) -> str:
        try:
            return self.topology.node(name).hostname  # a chassis, by hostname or system-id
        except KeyError:
            pass
        if self.fabric.has_node(name):
            return name
        raise NotFound(f"no node {name!r} in this lab (nodes: {', '.join(self.node_names())})")

    def node_names(self) -> list[str]:
        return [n.hostname for n in self.topology.nodes] + self.fabric.host_names()

    def _dispatch(self, node: str, args: list[str], files: ToolFiles,
                  checkpoint: Callable[[], None] = no_slices) -> ToolResult:
        tool, rest = args[0], args[1:]
        chassis = self.vswitches.get(node)
        if tool in CENTRAL_TOOLS:
            module = importlib.import_module(f"ovnlab.tools.{CENTRAL_TOOLS[tool]}")
            return module.run(self.nb, rest) if tool == "ovn-nbctl" else module.run(
                self.sb, rest, nb=self.nb)
        if tool in CHASSIS_TOOLS and chassis is not None:
            module = importlib.import_module(f"ovnlab.tools.{CHASSIS_TOOLS[tool]}")
            return module.run(chassis, rest)
        if tool == "ovn-appctl" and node in self.controllers:
            module = importlib.import_module("ovnlab.tools.ovn_appctl")
            return module.run(self.controllers[node], rest)
        if tool == "tcpdump":
            tcpdump = importlib.import_module("ovnlab.tools.tcpdump")
            return tcpdump.run(self.fabric.captures(node), rest, self.fabric.resolve_name,
                               lambda iface: self.fabric.has_interface(node, iface),
                               forward=self.fabric.resolve, read_bytes=files.read,
                               write_bytes=files.write)
        if tool in HOST_TOOLS:
            module = importlib.import_module(f"ovnlab.tools.{HOST_TOOLS[tool]}")
            if tool == "curl":  # -o FILE is written on the caller's side, as tcpdump -w
                return module.run(self.fabric, node, rest, checkpoint, write_file=files.write)
            if tool in SLICED_TOOLS:
                return module.run(self.fabric, node, rest, checkpoint)
            return module.run(self.fabric, node, rest)
        return fail(f"{tool}: command not found on {node}", 127)

    # ------------------------------------------------------------ config, status, trace
    def config_set(self, key: str, value: str) -> None:
        labconfig.config_set(self.cloud, key, value)
        self.converge()

    def status(self) -> dict[str, Any]:
        counts = labconfig.resource_counts(self.cloud, self.admin)
        return {"topology": self.topology.name, "nodes": self.node_names(), "counts": counts}

    def trace_text(self, src: str, dst: str, proto: str = "icmp", port: int = 0,
                   mode: str = "summary") -> str:
        from ovnlab.fabric import trace

        return trace.render(self.trace(src, dst, proto, port), mode)

    def trace(self, src: str, dst: str, proto: str = "icmp", port: int = 0) -> Journey:
        """One packet SRC -> DST and everything it caused (the model `trace_text` renders
        and the web view draws)."""
        from ovnlab.fabric import trace

        journey = trace.trace(self.fabric, src, dst, proto, port, self.describe_cookie)
        self.converge()
        return journey

    def export(self, database: str) -> bytes:
        """`nb` or `sb` as a standalone OVSDB database file under the real 22.03 schema."""
        from ovnlab.export import DbKind, export_db

        kind = DbKind.parse(database)
        return export_db(self.nb if kind is DbKind.NB else self.sb, kind)

    def describe_cookie(self, cookie: int) -> str:
        """cookie → logical flow → NB row, as ovn-detrace annotates ofproto/trace."""
        for lflow in self.sb.rows("Logical_Flow"):
            if int(lflow.uuid[:8], 16) == cookie:
                ext = lflow["external_ids"]
                return (f"{ext.get('stage-name', '?')} priority {lflow['priority']}: "
                        f"match=({lflow['match']}) action=({lflow['actions']})"
                        + (f" [NB {ext['stage-hint']}]" if "stage-hint" in ext else ""))
        return ""

    # ------------------------------------------------------------ failures
    def node_stop(self, node: str) -> None:
        """Power a chassis off: ovs-vswitchd, ovn-controller, its links and its VMs."""
        self.fabric.stop_node(self._chassis_arg(node))
        self.converge()
        self._keep_failures()

    def node_start(self, node: str) -> None:
        """Power a chassis on, or restart the daemons killed on it; returns once they
        run (their start-up takes virtual time: `ovnlab.fabric.nodes`)."""
        name = self._chassis_arg(node)
        self.fabric.start_node(name)
        self.fabric.wait_started(name)
        self.converge()
        self._keep_failures()

    def node_kill(self, node: str, daemon: str) -> None:
        """`kill -9` one daemon of a chassis (`node_start` restarts it)."""
        name = self._chassis_arg(node)
        try:
            which = Daemon(daemon)
        except ValueError:
            raise BadRequest(f"unknown daemon {daemon!r} (daemons: "
                             f"{', '.join(d.value for d in Daemon)})") from None
        self._chassis(name).kill(which)
        self.converge()
        self._keep_failures()

    def link_set(self, node: str, iface: str, up: bool) -> None:
        """`ip link set dev IFACE up|down` on any node."""
        self.fabric.interface(self._node_name(node), iface).up = up
        self.converge()
        self._keep_failures()

    def node_state(self, node: str) -> dict[str, Any]:
        """What runs on a chassis and which of its links are up."""
        chassis = self._chassis(self._chassis_arg(node))
        return {"node": chassis.name,
                "daemons": {d.value: d in chassis.running for d in Daemon},
                "links": {n: i.up for n, i in chassis.interfaces.items()}}

    def wait(self, seconds: float) -> None:
        """Let `seconds` of virtual time pass (BFD, timers, queued packets)."""
        if not 0 <= seconds <= 3600:
            raise BadRequest(f"wait: seconds must be within 0..3600, got {seconds}")
        self.fabric.run(seconds)
        self.converge()

    def node_action(self, action: str, node: str, arg: str = "") -> dict[str, Any]:
        """The control API's `node` verb: stop, start, kill DAEMON, show, link-down/link-up
        IFACE; the chassis's state afterwards (the node's links for a host)."""
        if action == "stop":
            self.node_stop(node)
        elif action == "start":
            self.node_start(node)
        elif action == "kill":
            self.node_kill(node, arg)
        elif action == "show":
            pass
        elif action in ("link-down", "link-up"):
            self.link_set(node, arg, action == "link-up")
            name = self._node_name(node)
            if name not in self.controllers:
                return {"node": name, "links": {
                    n: i.up for n, i in self.fabric.node(name).interfaces.items()}}
        else:
            raise BadRequest(f"unknown node action {action!r} "
                             "(stop, start, kill, show, link-down, link-up)")
        return self.node_state(node)

    def ping_all_chassis(self) -> int:
        """Neutron's ping_all_chassis: bump NB_Global.nb_cfg; every chassis whose
        ovn-controller runs reports it back (Chassis_Private.nb_cfg, nb_cfg_timestamp)."""
        nbg = next(iter(self.nb.rows("NB_Global")))
        with self.nb.transaction() as txn:
            txn.update("NB_Global", nbg.uuid, nb_cfg=nbg["nb_cfg"] + 1)
        self.converge()
        return int(nbg["nb_cfg"]) + 1

    def chassis_heartbeats(self) -> dict[str, Heartbeat]:
        """Each chassis's last nb_cfg report (the agents' liveness source), by hostname."""
        nb_cfg = int(next(iter(self.nb.rows("NB_Global")))["nb_cfg"])
        out: dict[str, Heartbeat] = {}
        for spec in self.topology.nodes:
            row = self.sb.lookup("Chassis_Private", spec.system_id)
            if row is not None:
                out[spec.hostname] = Heartbeat(spec.system_id, nb_cfg, int(row["nb_cfg"]),
                                               row["nb_cfg_timestamp"] / 1000, self.fabric.now)
        return out

    def _powering(self, name: str) -> str:
        """The chassis whose power a node follows (a VM's host, or the chassis itself)."""
        node = self.fabric.node(name)
        return str(getattr(node, "chassis", name))

    def _chassis_arg(self, node: str) -> str:
        name = self._node_name(node)
        if name not in self.controllers:
            raise BadRequest(f"{name!r} is not a chassis (chassis: "
                             f"{', '.join(self.controllers)})")
        return name

    # ------------------------------------------------------------ nodes
    def __getitem__(self, name: str) -> Any:
        return self.fabric.node(self._node_name(name))

    def __contains__(self, name: str) -> bool:
        try:
            self._node_name(name)
        except NotFound:
            return False
        return True


@contextmanager
def lab_on(backend: topo_mod.Backend = topo_mod.Backend.EMULATED, topology: str = "seed",
           overrides: Sequence[str] = (), ovn_bin: str = "") -> Iterator[Any]:
    """A lab for one session (the demo, tests): `Lab.build` in-process, or on the real
    programs in a temporary state directory, stopped and removed afterwards."""
    if backend is topo_mod.Backend.EMULATED:
        lab = Lab.build(topology, overrides)
        try:
            yield lab
        finally:
            lab.close()
        return
    import shutil
    import tempfile
    from dataclasses import replace

    from ovnlab.backends.ovn.lab import OvnLab

    topo = replace(topo_mod.load(topology, list(overrides)), backend=backend, ovn_bin=ovn_bin)
    state = Path(tempfile.mkdtemp(prefix="ovnlab-lab-"))
    try:
        real = OvnLab(topo, state)
        try:
            yield real
        finally:
            real.close()
    finally:
        shutil.rmtree(state, ignore_errors=True)


def open_lab(path: Path | str) -> Any:
    """The lab in a state directory, on its topology's backend: `Lab` (emulated) or the
    real programs' `OvnLab` (`ovnlab.backends.ovn`), which serve the same verbs."""
    topology = StateDir(Path(path)).topology()
    if topology.backend is topo_mod.Backend.OVN:
        from ovnlab.backends.ovn.lab import OvnLab

        return OvnLab.open(path)
    return Lab.open(path)


@dataclass(frozen=True, slots=True)
class Heartbeat:
    """A chassis's nb_cfg heartbeat: what Neutron's agent liveness compares (times are
    the lab's virtual seconds)."""

    chassis: str  # system-id
    nb_cfg: int  # NB_Global's
    reported: int  # Chassis_Private.nb_cfg
    reported_at: float  # Chassis_Private.nb_cfg_timestamp / 1000
    now: float

    def alive(self, agent_down_time: float) -> bool:
        """neutron's NeutronAgent.alive: at most one nb_cfg behind, or heard from within
        agent_down_time."""
        return agent_alive(self.nb_cfg, self.reported, self.reported_at, self.now,
                           agent_down_time)
