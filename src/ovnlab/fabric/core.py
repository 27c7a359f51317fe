"""The fabric: every node, wire and segment of a lab, on one virtual clock.

`Fabric.build(topology, vswitches, controllers)` makes the physical world of a topology:
the provider segments (each chassis's NIC on its mapped bridge, the external routers' and
hosts' NICs), the underlay segment (each chassis's `eth1` with its tunnel IP), and the
emulated internet behind the external routers. Nova's part (`add_vm` / `sync_vms`) plugs a
VM's tap into br-int. Everything after that is packets moving on the clock.
"""

from __future__ import annotations

import ipaddress
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from ovnlab.errors import NotFound
from ovnlab.fabric.bfdlink import BfdRunner
from ovnlab.fabric.capture import CaptureBuffer
from ovnlab.fabric.clock import Clock, Periodic
from ovnlab.fabric.dhcpclient import DhcpClient
from ovnlab.fabric.journey import Hop, Journey
from ovnlab.fabric.link import Interface, Segment, Wire
from ovnlab.fabric.metadata import MetadataNamespace, MetadataPort, MetadataSource
from ovnlab.fabric.nodes import (
    CONTROLLER_LATENCY,
    VM,
    Chassis,
    Daemon,
    ExternalHost,
    ExternalRouter,
    InternetHost,
    IpNode,
    Node,
    tap_name,
)
from ovnlab.packet import ip, ip_str, mac

UNDERLAY = "underlay"
INTERNET = "internet"
UNDERLAY_PREFIX = 24
CONTROLLER_PERIOD = 1.0  # how often ovn-controller's timers (GARPs) are given a chance
VM_TCP_PORTS = (22,)  # a cloud image runs sshd
HOST_TCP_PORTS = (22,)
INTERNET_TCP_PORTS = (53, 80, 443)
GENEVE_MTU = 1442  # Neutron's MTU for geneve tenant networks on a 1500 underlay

SubnetLookup = Callable[[str], Mapping[str, Any] | None]


def _mac_from(seed: str, oui: int = 0x525400) -> int:
    """A stable locally administered MAC for NICs the topology does not specify."""
    return (oui << 24) | (zlib.crc32(seed.encode()) & 0xFFFFFF)


class Fabric:
    def __init__(self, clock: Clock | None = None) -> None:
        self.clock = clock or Clock()
        self.nodes: dict[str, Node] = {}
        self.segments: dict[str, Segment] = {}
        self.wires: dict[str, Wire] = {}
        self.hosts: dict[str, int] = {}  # /etc/hosts + DNS: name -> IPv4
        self.ptr: dict[int, str] = {}  # reverse DNS (PTR records of the emulated internet)
        self.vm_ports: dict[str, str] = {}  # Neutron port id -> VM node name
        self.subnet_lookup: SubnetLookup | None = None
        self.timers: list[Periodic] = []
        self._journey: Journey | None = None
        self._router_uplinks: list[tuple[ExternalRouter, int]] = []
        self._booting: list[str] = []  # VMs plugged, not yet booted (DHCP pending)
        # the ovn-metadata-agents' namespaces, by (chassis, network id)
        self.metadata_namespaces: dict[tuple[str, str], MetadataNamespace] = {}
        self.metadata_source: MetadataSource = lambda network, address: None

    # ------------------------------------------------------------ building
    @classmethod
    def build(cls, topology: Any, vswitches: Mapping[str, Any],
              controllers: Mapping[str, Any] | None = None, *,
              subnets: SubnetLookup | None = None, clock: Clock | None = None) -> Fabric:
        """The physical lab of `topology` (`ovnlab.topology.Topology`); `vswitches` and
        `controllers` are keyed by hostname. `subnets(subnet_id)` returns a Neutron subnet
        dict (cidr, gateway_ip), used to configure VMs as DHCP would."""
        fabric = cls(clock)
        fabric.subnet_lookup = subnets
        for physnet in topology.physical_networks:
            fabric.add_segment(physnet.name)
        fabric.add_segment(UNDERLAY)
        for spec in topology.nodes:
            fabric.add_chassis(spec, vswitches[spec.hostname],
                               (controllers or {}).get(spec.hostname))
        for router in topology.external_routers:
            fabric.add_external_router(router.name, router.physical_network, router.ip,
                                       router.mac, _cidr_of(topology, router.physical_network))
        for host in topology.internet_hosts:
            fabric.add_internet_host(host.name, host.ip, host.reverse_name)
        for host in topology.external_hosts:
            fabric.add_external_host(host.name, host.physical_network, host.ip, host.mac,
                                     host.gateway, _cidr_of(topology, host.physical_network))
        return fabric

    def add_segment(self, name: str) -> Segment:
        if name not in self.segments:
            self.segments[name] = Segment(name, self.clock)
        return self.segments[name]

    def _add_node(self, node: Node) -> Node:
        if node.name in self.nodes:
            raise ValueError(f"duplicate node name {node.name!r}")
        self.nodes[node.name] = node
        return node

    def add_chassis(self, spec: Any, vswitch: Any, controller: Any = None) -> Chassis:
        """A chassis from a topology NodeSpec: br-int, one bridge + NIC per bridge mapping
        (`eth0`, then `eth2`...), `eth1` on the underlay with the tunnel IP."""
        name = spec.hostname
        chassis = Chassis(name, self.clock, self._record, vswitch=vswitch, controller=controller,
                          tunnel_ip=spec.tunnel_ip)
        self._add_node(chassis)
        if hasattr(vswitch, "set_clock"):
            vswitch.set_clock(self.clock)  # conntrack, MAC and flow ageing on lab time
        ext = vswitch.external_ids
        for key, value in (("system-id", spec.system_id), ("hostname", name),
                           ("ovn-encap-type", "geneve"), ("ovn-encap-ip", spec.tunnel_ip),
                           ("ovn-bridge-mappings",
                            ",".join(f"{p}:{b}" for p, b in spec.ovn_bridge_mappings))):
            ext.setdefault(key, value)
        if spec.ovn_cms_options:
            ext.setdefault("ovn-cms-options", ",".join(spec.ovn_cms_options))
        if "br-int" not in vswitch.bridges:
            vswitch.add_bridge("br-int", fail_mode="secure")
        nic_names = iter(["eth0"] + [f"eth{i}" for i in range(2, 64)])
        for physnet, bridge_name in spec.ovn_bridge_mappings:
            nic = next(nic_names)
            bridge = vswitch.bridges.get(bridge_name) or vswitch.add_bridge(bridge_name)
            if nic not in bridge.ports:
                bridge.add_port(nic, type="system")
            iface = chassis.add_interface(nic, _mac_from(f"{name}/{nic}"), master="ovs-system")
            self.add_segment(physnet).attach(iface)
        for bridge_name, bridge in vswitch.bridges.items():
            # the bridge's LOCAL port as the host sees it (`tcpdump -i br-ex`)
            if bridge_name in bridge.ports and bridge_name not in chassis.interfaces:
                chassis.add_interface(bridge_name, _mac_from(f"{name}/{bridge_name}"),
                                      internal=True)
        eth1 = chassis.add_interface("eth1", _mac_from(f"{name}/eth1"))
        chassis.stack.add_address("eth1", f"{spec.tunnel_ip}/{UNDERLAY_PREFIX}")
        self.add_segment(UNDERLAY).attach(eth1)
        self.hosts.setdefault(name, ip(spec.tunnel_ip))
        self._attach_bfd(chassis, eth1.mac)
        if controller is not None and hasattr(controller, "periodic"):
            self.timers.append(self.clock.every(CONTROLLER_PERIOD, chassis.run_periodic))
        if controller is not None and hasattr(controller, "take_ready"):
            controller.on_ready = lambda: self.clock.call_later(CONTROLLER_LATENCY,
                                                                chassis.run_ready)
            controller.clock = self.clock  # pinctrl times out held packets
        return chassis

    def _attach_bfd(self, chassis: Chassis, mac_addr: int) -> None:
        chassis.bfd = BfdRunner(chassis.name, self.clock, chassis.vswitch, chassis.tunnel_ip,
                                mac_addr, chassis.tunnel_send, chassis.wake_controller,
                                self._bfd_of)
        chassis.vswitch.runs_bfd = True  # bfd_status now comes from real sessions
        chassis.vswitch.bfd_show = chassis.bfd.show

    def _bfd_of(self, tunnel_ip: int) -> BfdRunner | None:
        for node in self.nodes.values():
            if isinstance(node, Chassis) and node.bfd is not None \
                    and node.bfd.tunnel_ip == tunnel_ip:
                return node.bfd
        return None

    def sync_bfd(self) -> bool:
        """Every ovs-vswitchd reconfigures its BFD sessions from OVSDB (after
        ovn-controllers changed `bfd:enable` on their tunnels); True if any changed."""
        changed = False
        for node in self.nodes.values():
            if isinstance(node, Chassis) and node.bfd is not None:
                changed |= bool(node.bfd.sync())
        return changed

    # ------------------------------------------------------------ failures
    def chassis(self, name: str) -> Chassis:
        node = self.node(name)
        if not isinstance(node, Chassis):
            raise NotFound(f"{name!r} is not a chassis (nodes: {', '.join(self.chassis_names())})")
        return node

    def chassis_names(self) -> list[str]:
        return [n for n, node in self.nodes.items() if isinstance(node, Chassis)]

    def stop_node(self, name: str) -> None:
        """Power off a chassis: its daemons, its links and the VMs it hosts."""
        chassis = self.chassis(name)
        for daemon in Daemon:
            chassis.kill(daemon)
        for node in self._on_chassis(chassis):
            node.powered = False
            for iface in node.interfaces.values():
                iface.up = False

    def start_node(self, name: str) -> None:
        """Power on (or restart killed daemons): links up, then the daemons."""
        chassis = self.chassis(name)
        for node in self._on_chassis(chassis):
            node.powered = True
            for iface in node.interfaces.values():
                iface.up = True
        chassis.start()

    def wait_started(self, name: str) -> None:
        """Run the clock until the chassis's daemons are up (what `systemctl start`
        waits for); BFD's handshake and the gateway's claim come after."""
        chassis = self.chassis(name)
        while chassis.booting and self.clock.step():
            pass

    def _on_chassis(self, chassis: Chassis) -> list[Node]:
        return [chassis] + [n for n in self.nodes.values()
                            if isinstance(n, VM) and n.chassis == chassis.name]

    def add_external_router(self, name: str, physnet: str, address: str, mac_text: str,
                            cidr: str) -> ExternalRouter:
        """A router on `physnet` that forwards to the emulated internet (its `eth1`)."""
        router = ExternalRouter(name, self.clock, self._record)
        self._add_node(router)
        eth0 = router.add_interface("eth0", mac(mac_text))
        router.stack.add_address("eth0", f"{address}/{_prefixlen(cidr)}")
        self.add_segment(physnet).attach(eth0)
        uplink = ip("100.64.0.0") + len(self._router_uplinks) + 1  # RFC 6598 transit space
        eth1 = router.add_interface("eth1", _mac_from(f"{name}/eth1", 0x020000))
        router.stack.add_address("eth1", f"{ip_str(uplink)}/32")
        self.add_segment(INTERNET).attach(eth1)
        self._router_uplinks.append((router, uplink))
        for node in self.nodes.values():
            if isinstance(node, InternetHost):
                router.stack.add_route(f"{ip_str(node.stack.primary_ip() or 0)}/32", dev="eth1")
                node.stack.add_route(f"{ip_str(uplink)}/32", dev="eth0")
                if node.stack.lookup_route(0) is None:
                    node.stack.add_route("default", via=ip_str(uplink))
        router.stack.listen_tcp(*HOST_TCP_PORTS)
        self.hosts.setdefault(name, ip(address))
        return router

    def add_internet_host(self, name: str, address: str, reverse_name: str = "") -> InternetHost:
        """A host on the internet, reached through the external routers."""
        host = InternetHost(name, self.clock, self._record)
        self._add_node(host)
        eth0 = host.add_interface("eth0", _mac_from(f"{name}/eth0", 0x020000))
        host.stack.add_address("eth0", f"{address}/32")
        self.add_segment(INTERNET).attach(eth0)
        for i, (router, uplink) in enumerate(self._router_uplinks):
            host.stack.add_route(f"{ip_str(uplink)}/32", dev="eth0")
            if i == 0:
                host.stack.add_route("default", via=ip_str(uplink))
            router.stack.add_route(f"{address}/32", dev="eth1")
        host.stack.listen_tcp(*INTERNET_TCP_PORTS)
        self.hosts.setdefault(name, ip(address))
        if reverse_name:
            self.hosts.setdefault(reverse_name, ip(address))
            self.ptr[ip(address)] = reverse_name
        return host

    def add_external_host(self, name: str, physnet: str, address: str, mac_text: str,
                          gateway: str, cidr: str) -> ExternalHost:
        host = ExternalHost(name, self.clock, self._record)
        self._add_node(host)
        eth0 = host.add_interface("eth0", mac(mac_text))
        host.stack.add_address("eth0", f"{address}/{_prefixlen(cidr)}")
        if gateway:
            host.stack.add_route("default", via=gateway)
        self.add_segment(physnet).attach(eth0)
        host.stack.listen_tcp(*HOST_TCP_PORTS)
        self.hosts.setdefault(name, ip(address))
        return host

    def add_host(self, name: str, nics: Sequence[tuple[str, str, str | None]], *,
                 routes: Sequence[tuple[str, str]] = (), forwarding: bool = False,
                 tcp_ports: Sequence[int] = ()) -> IpNode:
        """A plain Linux host or router: `nics` = (segment, CIDR, MAC or None) become
        eth0, eth1...; `routes` = (destination, gateway) pairs."""
        node: IpNode = ExternalRouter(name, self.clock, self._record) if forwarding else \
            ExternalHost(name, self.clock, self._record)
        self._add_node(node)
        for i, (segment, cidr, mac_text) in enumerate(nics):
            dev = f"eth{i}"
            iface = node.add_interface(dev, mac(mac_text) if mac_text else
                                       _mac_from(f"{name}/{dev}", 0x020000))
            node.stack.add_address(dev, cidr)
            self.add_segment(segment).attach(iface)
        for dst, via in routes:
            node.stack.add_route(dst, via=via)
        node.stack.listen_tcp(*tcp_ports)
        if nics:
            self.hosts.setdefault(name, ip(nics[0][1].partition("/")[0]))
        return node

    # ------------------------------------------------------------ Nova's VIF plugging
    def add_vm(self, name: str, port: Mapping[str, Any], chassis: str,
               subnet: Mapping[str, Any] | None = None, *,
               server: Mapping[str, Any] | None = None, mtu: int = GENEVE_MTU,
               dhcp: bool = False) -> VM:
        """Plug a VM on `chassis` with the Neutron `port` (MAC, first fixed IP): plug
        `tap<port id[:11]>` into br-int with `iface-id`/`attached-mac`. With `dhcp` its eth0
        is left unaddressed and the VM gets its address as cirros does, by DHCP when it
        boots (`boot_vms`); without, eth0 is configured statically (as a config drive
        would) from `subnet` (cidr, gateway_ip; found via `subnets` when omitted). eth0
        has the network's MTU from the start (Nova gives virtio the tap's `host_mtu`)."""
        host = self.nodes.get(chassis)
        if not isinstance(host, Chassis):
            raise NotFound(f"no chassis {chassis!r} to plug {name!r} into")
        if not port.get("fixed_ips"):
            raise ValueError(f"port {port['id']} has no fixed IP")
        fixed = _v4_fixed_ip(port)
        if fixed is not None and subnet is None and self.subnet_lookup is not None \
                and not dhcp:
            subnet = self.subnet_lookup(fixed["subnet_id"])
        if fixed is not None and subnet is None and not dhcp:
            raise NotFound(f"subnet {fixed['subnet_id']} of port {port['id']} is unknown "
                           "(pass subnet= or Fabric.build(..., subnets=))")
        vm = VM(name, self.clock, self._record, port=dict(port), chassis=chassis,
                server=dict(server or {}))
        self._add_node(vm)
        vm_mac = mac(port["mac_address"])
        eth0 = vm.add_interface("eth0", vm_mac, mtu=mtu)
        if fixed is not None and subnet is not None:
            prefixlen = ipaddress.ip_network(subnet["cidr"]).prefixlen
            vm.stack.add_address("eth0", f"{fixed['ip_address']}/{prefixlen}")
            if subnet.get("gateway_ip"):
                vm.stack.add_route("default", via=subnet["gateway_ip"])
        if dhcp:
            self._booting.append(name)
        vm.stack.listen_tcp(*VM_TCP_PORTS)
        tap = tap_name(port["id"])
        # the host side of the tap: OVS's view (fe:16:3e:... like libvirt's tap MAC)
        tap_iface = host.add_interface(tap, (vm_mac & ~(0xFF << 40)) | (0xFE << 40), mtu=mtu,
                                       master="ovs-system")
        self.wires[tap] = Wire(tap, eth0, tap_iface, self.clock)
        br_int = host.vswitch.bridges["br-int"]
        if tap not in br_int.ports:
            br_int.add_port(tap, external_ids={
                "iface-id": port["id"], "attached-mac": port["mac_address"],
                "iface-status": "active", "vm-id": str(port.get("device_id", "")),
            })
        self.vm_ports[port["id"]] = name
        if fixed is not None:
            self.hosts.setdefault(name, ip(fixed["ip_address"]))
        return vm

    def remove_vm(self, name: str) -> None:
        """Nova deleting the server: unplug the tap from br-int and drop the VM."""
        vm = self.nodes.get(name)
        if not isinstance(vm, VM):
            raise NotFound(f"no VM {name!r}")
        host = self.nodes[vm.chassis]
        assert isinstance(host, Chassis)
        tap = vm.tap
        br_int = host.vswitch.bridges.get("br-int")
        if br_int is not None and tap in br_int.ports:
            br_int.del_port(tap)
        wire = self.wires.pop(tap, None)
        if wire is not None:
            wire.unplug()
        host.interfaces.pop(tap, None)
        del self.nodes[name]
        self.vm_ports.pop(vm.port["id"], None)
        fixed = _v4_fixed_ip(vm.port)
        if fixed is not None and self.hosts.get(name) == ip(fixed["ip_address"]):
            del self.hosts[name]

    def sync_vms(self, wanted: Mapping[str, tuple[Mapping[str, Any], Mapping[str, Any],
                                                  str | None]]) -> bool:
        """Make the plugged VIFs match `{port id: (server, port, host)}`; True if changed."""
        changed = False
        for port_id in [p for p in self.vm_ports if p not in wanted]:
            self.remove_vm(self.vm_ports[port_id])
            changed = True
        for port_id, (server, port, host) in wanted.items():
            if port_id in self.vm_ports or not host or not port.get("fixed_ips"):
                continue
            name = str(server.get("name") or port_id)
            if name in self.nodes:
                name = f"{name}-{port_id[:8]}"
            self.add_vm(name, port, host, server=server, dhcp=True)
            changed = True
        return changed

    def boot_vms(self) -> bool:
        """Boot the VMs plugged since the last call, once their ports' flows are in
        place (Nova starts a guest after its vif-plugged event): each runs udhcpc on eth0
        (cirros's `ifup eth0`, busybox's defaults), all at once on the clock, which runs
        until they are done. Their output is the VM's console log. True if any booted."""
        booting = [self.nodes[n] for n in self._booting if isinstance(self.nodes.get(n), VM)]
        self._booting.clear()
        for vm in booting:
            assert isinstance(vm, VM)
            client = DhcpClient(vm.stack, "eth0")
            vm.console = client.lines
            client.start()
        if booting:
            self.clock.run_until_idle()
        return bool(booting)

    def freeze_vm(self, port_id: str, frozen: bool) -> None:
        """A paused guest (Nova's pause): its NIC passes nothing, in or out, while its tap
        stays in br-int; unfreezing lets it run on."""
        vm = self.nodes.get(self.vm_ports.get(port_id, ""))
        if not isinstance(vm, VM) or vm.frozen == frozen:
            return  # only a change: `link set` on a running guest's NIC stays as set
        vm.frozen = frozen
        for iface in vm.interfaces.values():
            iface.up = not frozen

    # ------------------------------------------------------------ metadata agents
    def sync_metadata(self, wanted: Mapping[tuple[str, str], MetadataPort]) -> bool:
        """The ovn-metadata-agent on each chassis: a namespace per (chassis, network) in
        `wanted`, its veth in br-int; gone ones torn down. True if any changed."""
        changed = False
        for key in [k for k, ns in self.metadata_namespaces.items()
                    if wanted.get(k) != ns.port]:
            self._teardown_namespace(self.metadata_namespaces.pop(key))
            changed = True
        for (chassis, network), port in wanted.items():
            if (chassis, network) in self.metadata_namespaces:
                continue
            host = self.nodes.get(chassis)
            if not isinstance(host, Chassis):
                continue
            self.metadata_namespaces[(chassis, network)] = self._provision_namespace(host, port)
            changed = True
        return changed

    def _provision_namespace(self, host: Chassis, port: MetadataPort) -> MetadataNamespace:
        outer, inner = port.veth
        ns = MetadataNamespace(host.name, port, self.clock, self._record,
                               lambda network, address: self.metadata_source(network, address))
        ns_iface = ns.add_interface(inner, port.mac, mtu=GENEVE_MTU)
        ns.configure()
        br_iface = host.add_interface(outer, _mac_from(f"{host.name}/{outer}", 0x020000),
                                      mtu=GENEVE_MTU, master="ovs-system")
        self.wires[f"{host.name}/{outer}"] = Wire(outer, br_iface, ns_iface, self.clock)
        br_int = host.vswitch.bridges["br-int"]
        if outer not in br_int.ports:
            br_int.add_port(outer, external_ids={"iface-id": port.port_id})
        return ns

    def _teardown_namespace(self, ns: MetadataNamespace) -> None:
        host = self.nodes.get(ns.chassis)
        outer = ns.port.veth[0]
        if isinstance(host, Chassis):
            br_int = host.vswitch.bridges.get("br-int")
            if br_int is not None and outer in br_int.ports:
                br_int.del_port(outer)
            host.interfaces.pop(outer, None)
        wire = self.wires.pop(f"{ns.chassis}/{outer}", None)
        if wire is not None:
            wire.unplug()

    # ------------------------------------------------------------ lookups
    def node(self, name: str) -> Node:
        node = self.nodes.get(name)
        if node is None:
            raise NotFound(f"no node {name!r} in this lab")
        return node

    def has_node(self, name: str) -> bool:
        return name in self.nodes

    def host_names(self) -> list[str]:
        """Every node that is not a chassis (VMs, routers, external and internet hosts)."""
        return [n for n, node in self.nodes.items() if not isinstance(node, Chassis)]

    def ip_node(self, name: str) -> IpNode | Chassis:
        node = self.node(name)
        if not isinstance(node, IpNode | Chassis):
            raise NotFound(f"{name!r} has no IP stack")
        return node

    def has_interface(self, node: str, iface: str) -> bool:
        return node in self.nodes and iface in self.nodes[node].interfaces

    def interface(self, node: str, iface: str) -> Interface:
        if not self.has_interface(node, iface):
            raise NotFound(f"{node}: no interface {iface!r}")
        return self.nodes[node].interfaces[iface]

    def captures(self, node: str) -> dict[str, CaptureBuffer]:
        """What each interface of `node` recorded, by interface name (the live rings)."""
        return {name: iface.captures for name, iface in self.node(node).interfaces.items()}

    def resolve(self, name: str) -> int | None:
        """A name as the lab's resolver sees it (IPv4 literal, node name, DNS name)."""
        try:
            return int(ipaddress.IPv4Address(name))
        except ValueError:
            return self.hosts.get(name)

    def resolve_name(self, address: int | str) -> str | None:
        """Reverse DNS (PTR) for `address`, as tcpdump and ping print it; None if none."""
        value = address if isinstance(address, int) else ip(address)
        return self.ptr.get(value)

    # ------------------------------------------------------------ time
    @property
    def now(self) -> float:
        return self.clock.now

    def run(self, seconds: float) -> None:
        self.clock.run_until(self.clock.now + seconds)

    def run_until_idle(self, max_time: float = 60.0) -> bool:
        return self.clock.run_until_idle(self.clock.now + max_time)

    # ------------------------------------------------------------ journeys
    def start_journey(self, journey: Journey) -> object:
        """Record every hop caused by events run under the returned tag into `journey`."""
        self._journey = journey
        return journey

    def stop_journey(self) -> None:
        self._journey = None

    def _record(self, hop: Hop) -> None:
        journey = self._journey
        if journey is not None and self.clock.tag is journey:
            journey.hops.append(hop)

    def all_interfaces(self) -> Iterable[Interface]:
        for node in self.nodes.values():
            yield from node.interfaces.values()


def _v4_fixed_ip(port: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The VMs' stacks are IPv4 (DESIGN.md): an IPv6-only port is plugged unaddressed."""
    return next((f for f in port.get("fixed_ips") or () if ":" not in f["ip_address"]), None)


def _cidr_of(topology: Any, physnet: str) -> str:
    for p in topology.physical_networks:
        if p.name == physnet:
            return str(p.cidr)
    raise NotFound(f"unknown physical network {physnet!r}")


def _prefixlen(cidr: str) -> int:
    return ipaddress.ip_network(cidr, strict=False).prefixlen
