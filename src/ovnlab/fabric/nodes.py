"""The lab's nodes: hosts with an IP stack (VMs, routers, external and internet hosts) and
chassis (an Open vSwitch with br-int and the provider bridges, driven by ovn-controller).
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ovnlab.datapath import DatapathError, TunnelMetadata
from ovnlab.fabric.host import HostStack
from ovnlab.fabric.journey import Hop
from ovnlab.fabric.link import Interface
from ovnlab.fabric.ovs import (
    as_ip,
    encapsulate,
    metadata0_of,
)
from ovnlab.fabric.tnlneigh import TunnelNeighbours
from ovnlab.flows import parse_flow
from ovnlab.packet import GENEVE_PORT, Packet, ip_str

if TYPE_CHECKING:
    from ovnlab.fabric.clock import Clock, Timer

CONTROLLER_LATENCY = 100e-6  # a packet-in's round trip through ovn-controller
# Daemon start-up on the lab's clock (the real 22.03 lab, daemons restarted by hand):
VSWITCHD_BOOT = 0.13  # exec to bridges and BFD sessions configured (measured 0.13-0.18 s)
CONTROLLER_CONNECT = 0.2  # the start to its OVS, SB and OpenFlow connections (0.17-0.25 s)
SB_ROWS_PER_SECOND = 50_000  # the SB's initial monitor reply, read and indexed
FIRST_INSTALL = 0.2  # connected to its flows in force: recomputes, ofctrl's handshake (~0.2 s)
MAX_BRIDGE_DEPTH = 64  # patch-port hops within one chassis before a loop is declared

Record = Callable[[Hop], None]
RESERVED_PORTS = {"CONTROLLER": 0xFFFD, "LOCAL": 0xFFFE, "NONE": 0xFFFF}  # OpenFlow 1.0


class Daemon(enum.Enum):
    """The chassis daemons a failure can stop (`ovnlab node kill NODE DAEMON`)."""

    OVN_CONTROLLER = "ovn-controller"
    OVS_VSWITCHD = "ovs-vswitchd"


class Node:
    """Anything with interfaces."""

    kind = "node"

    def __init__(self, name: str, clock: Clock, record: Record) -> None:
        self.name = name
        self.clock = clock
        self.interfaces: dict[str, Interface] = {}
        self._record = record
        self.powered = True  # False while its chassis is stopped (`ovnlab node stop`)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"

    def add_interface(self, name: str, mac: int, *, mtu: int = 1500,
                      master: str | None = None, internal: bool = False) -> Interface:
        iface = Interface(name, mac, self, self.clock, mtu=mtu, index=len(self.interfaces) + 2,
                          master=master, internal=internal)
        iface.on_hop = self._iface_hop
        self.interfaces[name] = iface
        return iface

    def _iface_hop(self, iface: Interface, direction: str, packet: Packet) -> None:
        self.hop("send" if direction == "out" else "recv", iface.name, packet,
                 chassis=self.name if isinstance(self, Chassis) else None)

    def on_receive(self, iface: Interface, packet: Packet) -> None:  # pragma: no cover
        raise NotImplementedError

    def hop(self, kind: str, where: str, packet: Packet, **extra: Any) -> None:
        if self.clock.tag is not None:
            self._record(Hop(self.clock.now, self.name, kind, where, packet, **extra))


class IpNode(Node):
    """A node whose interfaces belong to its own IP stack."""

    kind = "host"

    def __init__(self, name: str, clock: Clock, record: Record, *,
                 forwarding: bool = False) -> None:
        super().__init__(name, clock, record)
        self.stack = HostStack(name, clock, forwarding=forwarding)
        self.stack.observer = self._observe

    def add_interface(self, name: str, mac: int, *, mtu: int = 1500,
                      master: str | None = None, internal: bool = False) -> Interface:
        iface = super().add_interface(name, mac, mtu=mtu, master=master, internal=internal)
        self.stack.add_interface(iface)
        return iface

    def _observe(self, action: str, dev: str, packet: Packet, note: str) -> None:
        if self.clock.tag is not None:
            self._record(Hop(self.clock.now, self.name, "host", dev, packet,
                             note=f"{action}{': ' + note if note else ''}"))

    def on_receive(self, iface: Interface, packet: Packet) -> None:
        self.stack.receive(iface, packet)


class VM(IpNode):
    """A Nova server's NIC: `eth0` wired to `tap<port id[:11]>` on its chassis's br-int."""

    kind = "vm"

    def __init__(self, name: str, clock: Clock, record: Record, *, port: dict[str, Any],
                 chassis: str, server: dict[str, Any] | None = None) -> None:
        super().__init__(name, clock, record)
        self.port = port
        self.chassis = chassis
        self.server = server or {}
        self.console: list[str] = []  # what it printed while booting (its DHCP client)
        self.frozen = False  # paused by Nova: its NIC passes nothing (Fabric.freeze_vm)

    @property
    def tap(self) -> str:
        return tap_name(self.port["id"])


def tap_name(port_id: str) -> str:
    return f"tap{port_id[:11]}"


class ExternalRouter(IpNode):
    kind = "router"

    def __init__(self, name: str, clock: Clock, record: Record) -> None:
        super().__init__(name, clock, record, forwarding=True)


class ExternalHost(IpNode):
    kind = "external-host"


class InternetHost(IpNode):
    kind = "internet-host"


class Chassis(Node):
    """A hypervisor or network node: its Open vSwitch, its ovn-controller, and a host IP
    stack on the underlay NIC `eth1` that carries Geneve to the other chassis."""

    kind = "chassis"

    def __init__(self, name: str, clock: Clock, record: Record, *, vswitch: Any,
                 controller: Any, tunnel_ip: str) -> None:
        super().__init__(name, clock, record)
        self.vswitch = vswitch
        self.controller = controller
        self.tunnel_ip = tunnel_ip
        self.stack = HostStack(name, clock)
        self.stack.observer = self._observe
        self.stack.bind_udp(GENEVE_PORT, self._geneve_input)
        self.packets_processed = 0
        self.drops: list[str] = []
        # remote tunnel IP -> (port, bridge) last found for it (checked on every use)
        self._tunnels: dict[int, tuple[Any, Any]] = {}
        self.running: set[Daemon] = set(Daemon)
        self._booting: dict[Daemon, Timer] = {}  # started, not yet up
        self.bfd: Any = None  # the BfdRunner of its ovs-vswitchd (fabric.bfdlink)
        self.tnl_neigh = TunnelNeighbours()
        vswitch.before_read = self.catch_up

    # ------------------------------------------------------------ daemons
    @property
    def vswitchd_up(self) -> bool:
        return Daemon.OVS_VSWITCHD in self.running

    @property
    def controller_up(self) -> bool:
        return Daemon.OVN_CONTROLLER in self.running and self.controller is not None

    @property
    def booting(self) -> set[Daemon]:
        return set(self._booting)

    def kill(self, daemon: Daemon) -> None:
        """kill -9: ovn-controller's flows stay installed; ovs-vswitchd's death stops
        every bridge (and BFD) of the node. A daemon still starting dies too."""
        timer = self._booting.pop(daemon, None)
        if timer is not None:
            timer.cancel()
        if daemon not in self.running:
            return
        self.catch_up()  # what it had received, it had installed
        self.running.discard(daemon)
        if daemon is Daemon.OVS_VSWITCHD and self.bfd is not None:
            self.bfd.stop()

    def start(self) -> None:
        """Start what is neither running nor starting, each on the lab's clock as the
        real daemons take: ovs-vswitchd is up VSWITCHD_BOOT later with its OVSDB config
        (its BFD sessions begin Down) and no OpenFlow flows; ovn-controller connects,
        downloads the SB (its size at SB_ROWS_PER_SECOND), computes and installs its
        flows (FIRST_INSTALL), and only then acts (claims, flows, heartbeat)."""
        for daemon in set(Daemon) - self.running - self.booting:
            if daemon is Daemon.OVN_CONTROLLER and self.controller is None:
                self.running.add(daemon)
                continue
            delay = VSWITCHD_BOOT if daemon is Daemon.OVS_VSWITCHD else self.controller_boot()
            self._booting[daemon] = self.clock.call_later(delay, self._up, daemon,
                                                          daemon=True)

    def catch_up(self) -> None:
        """ovn-controller's flows current with what it received, before anything reads
        or runs br-int's tables: the lab lets a controller leave the SB changes that move
        only its own flows until then (controller/deferral.py)."""
        if self.controller_up and hasattr(self.controller, "run_if_pending"):
            self.controller.run_if_pending()

    def controller_boot(self) -> float:
        """ovn-controller's start-up: its connections, the SB's first download, then its
        first full computation and installation."""
        rows = sum(len(table) for table in self.controller.sb.tables.values())
        return CONTROLLER_CONNECT + rows / SB_ROWS_PER_SECOND + FIRST_INSTALL

    def _up(self, daemon: Daemon) -> None:
        self._booting.pop(daemon, None)
        self.running.add(daemon)
        if daemon is Daemon.OVS_VSWITCHD:
            self._flows_lost()
            self.tnl_neigh.flush()
            if self.bfd is not None:
                self.bfd.start()
            if self.controller_up:  # ofctrl reconnects: the new switch has no flows
                self.controller.reinstall()
        elif self.vswitchd_up:
            self.controller.recompute()
            self.controller.reinstall()
        if self.controller_up:
            if self.bfd is not None:
                self.bfd.sync()
            self.run_periodic()

    def _flows_lost(self) -> None:
        for bridge in self.vswitch.bridges.values():
            if hasattr(bridge, "replace_flows"):
                standalone = getattr(bridge, "fail_mode", None) != "secure"
                bridge.replace_flows([_normal_flow()] if standalone else [])

    def wake_controller(self) -> None:
        """ovn-controller's main loop woken by an OVSDB change (BFD status): it claims or
        releases gateway ports, and pinctrl announces what became resident here."""
        if self.controller_up:
            self.controller.run_urgent()
            if self.bfd is not None:
                self.bfd.sync()
            self.run_periodic()

    def add_interface(self, name: str, mac: int, *, mtu: int = 1500,
                      master: str | None = None, internal: bool = False) -> Interface:
        iface = super().add_interface(name, mac, mtu=mtu, master=master, internal=internal)
        if master is None and not internal:
            self.stack.add_interface(iface)
        return iface

    def _observe(self, action: str, dev: str, packet: Packet, note: str) -> None:
        if self.clock.tag is not None:  # the note is only worth writing for a journey
            self.hop("host", dev, packet, chassis=self.name,
                     note=f"{action}{': ' + note if note else ''}")

    # ------------------------------------------------------------ bridges
    def bridge_of_port(self, port: str) -> Any:
        for bridge in self.vswitch.bridges.values():
            if port in bridge.ports:
                return bridge
        return None

    def on_receive(self, iface: Interface, packet: Packet) -> None:
        bridge = self.bridge_of_port(iface.name)
        if bridge is not None:
            if self.vswitchd_up:
                self.inject(bridge, packet, iface.name)
        elif iface.name in self.stack.interfaces:
            if self.vswitchd_up:
                self.tnl_neigh.snoop(packet)
            self.stack.receive(iface, packet)

    def inject(self, bridge: Any, packet: Packet, in_port: str | int, *, table: int | None = None,
               regs: Any = None, tunnel: Any = None, depth: int = 0) -> None:
        """Run `packet` through `bridge` and move what comes out."""
        if not self.vswitchd_up:
            self._drop(packet, "ovs-vswitchd is not running", bridge.name)
            return
        kwargs: dict[str, Any] = {}
        if table is not None:
            kwargs["table"] = table
        if regs is not None:
            kwargs["regs"] = regs
        if tunnel is not None:
            kwargs["tunnel"] = tunnel
        kwargs["trace"] = self.clock.tag is not None  # tracing costs: only when looked at
        try:
            result = bridge.process(packet, in_port, **kwargs)
        except DatapathError as exc:  # ovs-vswitchd logs a translation error, drops
            self._drop(packet, f"translation error: {exc}", bridge.name)
            return
        self.packets_processed += 1
        outputs = list(getattr(result, "outputs", ()) or ())
        packet_ins = list(getattr(result, "packet_ins", ()) or ())
        if self.clock.tag is not None:
            note = ""
            if packet_ins:
                note = f"{len(packet_ins)} packet-in(s) to ovn-controller"
            self.hop("bridge", bridge.name, packet, chassis=self.name, in_port=in_port,
                     outputs=tuple((o.port, o.packet) for o in outputs),
                     trace=getattr(result, "trace", None), note=note)
        for out in outputs:
            self.emit(bridge, out.port, out.packet, getattr(out, "tunnel", None), depth,
                      mru=getattr(out, "mru", 0))
        for event in packet_ins:
            self.clock.call_later(CONTROLLER_LATENCY, self._packet_in, bridge, event)

    def emit(self, bridge: Any, port_name: str, packet: Packet, tunnel: Any = None,
             depth: int = 0, *, mru: int = 0) -> None:
        """A bridge output: patch → peer bridge, geneve → underlay, else the wire. A
        fragment cut to `mru` (a reassembled datagram's) is dropped by a device whose MTU
        is smaller, as the kernel datapath drops what it cannot fragment to fit."""
        port = bridge.ports.get(port_name)
        kind = getattr(port, "type", "") if port is not None else ""
        if kind == "patch":
            peer_name = port.options.get("peer", "")
            peer = self.bridge_of_port(peer_name)
            if peer is None:
                self._drop(packet, f"{bridge.name}: patch port {port_name} has no peer")
            elif depth >= MAX_BRIDGE_DEPTH:
                self._drop(packet, f"{bridge.name}: patch loop over {MAX_BRIDGE_DEPTH} bridges")
            else:
                self.inject(peer, packet, peer_name, depth=depth + 1)
        elif kind == "geneve":
            self._encapsulate(port, packet, tunnel)
        else:
            iface = self.interfaces.get(port_name)
            if kind == "internal":  # a bridge's own port: the host sees it, nothing more
                if iface is not None:
                    iface.absorb(packet)
            elif iface is not None and mru > iface.mtu:
                iface.tx_dropped += 1
                self._drop(packet, f"{bridge.name}: fragments of {mru} bytes do not fit "
                                   f"{port_name}'s MTU {iface.mtu}")
            elif iface is not None:
                iface.send(packet)
            else:
                self._drop(packet, f"{bridge.name}: output to {port_name}, which has no link")

    def _drop(self, packet: Packet, why: str, where: str = "") -> None:
        self.drops.append(why)
        self.hop("drop", where, packet, chassis=self.name, note=why)

    # ------------------------------------------------------------ Geneve
    def _encapsulate(self, port: Any, inner: Packet, tunnel: Any) -> None:
        dst = as_ip(getattr(tunnel, "tun_dst", 0)) or as_ip(port.options.get("remote_ip", ""))
        if not dst:
            self._drop(inner, f"tunnel port {port.name}: no remote_ip")
            return
        src = as_ip(getattr(tunnel, "tun_src", 0)) or as_ip(port.options.get("local_ip", "")) \
            or as_ip(self.tunnel_ip)
        vni = int(getattr(tunnel, "tun_id", 0) or 0)
        md0 = int(getattr(tunnel, "tun_metadata0", 0) or 0)
        outer = encapsulate(inner, vni=vni, metadata0=md0, src=src, dst=dst)
        if self.clock.tag is not None:
            self.hop("encap", port.name, inner, chassis=self.name,
                     note=f"geneve vni {vni:#x} opt {md0:#x} {ip_str(src)} -> {ip_str(dst)}")
        self.tunnel_send(outer, port.name)

    def tunnel_send(self, outer: Packet, port_name: str) -> None:
        """Native tunnelling's last step: the outer packet leaves on the underlay once
        ovs-vswitchd knows the remote's MAC, else an ARP request goes instead."""
        inner = outer.geneve.inner if outer.geneve is not None else outer
        if not self.tnl_neigh.known(outer.ip_dst):
            self._tunnel_arp(outer.ip_src, outer.ip_dst)
            self._drop(inner, f"tunnel port {port_name}: no neighbour {ip_str(outer.ip_dst)} "
                              "yet (tnl_send_arp_request)")
            return
        err = self.stack.send(outer)
        if err is not None:
            self._drop(inner, f"underlay: {err}")

    def _tunnel_arp(self, src: int, dst: int) -> None:
        route = self.stack.lookup_route(dst)
        iface = self.interfaces.get(route.dev) if route is not None else None
        if iface is not None:
            iface.send(TunnelNeighbours.request(iface.mac, src, dst))

    def _geneve_input(self, outer: Packet) -> None:
        geneve = outer.geneve
        if geneve is None:
            return
        src = outer.ip_src
        port, bridge = self._tunnel_port_for(src)
        if port is None:
            self._drop(geneve.inner, f"geneve from {ip_str(src)}: no tunnel port with that remote_ip")
            return
        if self.bfd is not None and self.bfd.wants(port.name, geneve.vni, geneve.inner):
            self.bfd.receive(port.name, geneve.inner)  # ovs-vswitchd's, never OpenFlow's
            return
        md0 = metadata0_of(geneve)
        if self.clock.tag is not None:
            self.hop("decap", port.name, geneve.inner, chassis=self.name,
                     note=f"geneve vni {geneve.vni:#x} opt {md0:#x} from {ip_str(src)}")
        meta = TunnelMetadata(tun_id=geneve.vni, tun_src=src, tun_dst=outer.ip_dst,
                              tun_metadata0=md0)
        self.inject(bridge, geneve.inner, port.name, tunnel=meta)

    def _tunnel_port_for(self, remote: int) -> tuple[Any, Any]:
        """The geneve port whose remote_ip is `remote`, else a `remote_ip=flow` one.

        A chassis has a tunnel port per other chassis: they are indexed by remote IP in
        one pass over the ports, and an indexed port is used while it is still that
        bridge's geneve port with that remote_ip (ports come and go, `ovs-vsctl set`
        rewrites options in place); a remote the index lacks re-indexes."""
        hit = self._tunnels.get(remote)
        if hit is not None:
            port, bridge = hit
            if (self.vswitch.bridges.get(bridge.name) is bridge
                    and bridge.ports.get(port.name) is port and port.type == "geneve"
                    and as_ip(port.options.get("remote_ip", "")) == remote):
                return hit
        index: dict[int, tuple[Any, Any]] = {}
        wildcard: tuple[Any, Any] = (None, None)
        for bridge in self.vswitch.bridges.values():
            for port in bridge.ports.values():
                if getattr(port, "type", "") != "geneve":
                    continue
                rip = port.options.get("remote_ip", "")
                if rip == "flow":
                    wildcard = (port, bridge)
                elif (rip_int := as_ip(rip)) not in index:  # the first port wins
                    index[rip_int] = (port, bridge)
        self._tunnels = index
        return index.get(remote, wildcard)

    # ------------------------------------------------------------ ovn-controller
    def _packet_in(self, bridge: Any, event: Any) -> None:
        if not self.controller_up:
            return  # nobody reads the OpenFlow connection
        outs = self.controller.packet_in(event) if self.controller is not None else []
        self.hop("controller", bridge.name, getattr(event, "packet", Packet()), chassis=self.name,
                 note=f"packet-in table {getattr(event, 'table', '?')}, "
                      f"{len(outs or [])} packet-out(s)")
        self.packet_outs(outs or [])

    def run_periodic(self) -> None:
        if not self.controller_up or not hasattr(self.controller, "periodic"):
            return
        self.packet_outs(self.controller.periodic(self.clock.now) or [])

    def run_ready(self) -> None:
        """ovn-controller woke up with packet-outs of its own (released buffered packets)."""
        if self.controller_up:
            self.packet_outs(self.controller.take_ready())

    def packet_outs(self, outs: Any) -> None:
        if not self.vswitchd_up:
            return
        for po in outs:
            bridge = self.vswitch.bridges.get(getattr(po, "bridge", None) or "br-int")
            if bridge is None:
                continue
            out_port = getattr(po, "output", None) or getattr(po, "out_port", None)
            if out_port:
                self.hop("controller", bridge.name, po.packet, chassis=self.name,
                         note=f"packet-out to {out_port}")
                self.emit(bridge, out_port, po.packet, getattr(po, "tunnel", None))
            else:
                in_port = getattr(po, "in_port", None) or "CONTROLLER"
                if in_port not in bridge.ports and in_port in RESERVED_PORTS:
                    in_port = RESERVED_PORTS[in_port]  # OpenFlow's number for it
                self.inject(bridge, po.packet, in_port,
                            table=getattr(po, "table", None), regs=getattr(po, "regs", None),
                            tunnel=getattr(po, "tunnel", None))


def _normal_flow() -> Any:
    return parse_flow("table=0,priority=0,actions=NORMAL")
