"""The fabric: every node, wire and segment of a lab, on one virtual clock.

`Fabric.build(topology, vswitches, controllers)` makes the physical world of a topology
(cabled by `wiring.py` into the parts `inventory.py` holds and finds). This module is what
changes that world afterwards: Nova plugging a VM's tap into br-int (`add_vm` /
`sync_vms`) and booting it, the ovn-metadata-agent's namespaces, an operator stopping and
starting a chassis, ovs-vswitchd reconfiguring BFD. Everything else is packets moving on
the clock.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ovnlab.errors import NotFound
from ovnlab.fabric import wiring
from ovnlab.fabric.clock import Clock
from ovnlab.fabric.dhcpclient import DhcpClient
from ovnlab.fabric.inventory import Inventory
from ovnlab.fabric.link import Interface, Wire
from ovnlab.fabric.metadata import MetadataNamespace, MetadataPort, MetadataSource
from ovnlab.fabric.nodes import (
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
from ovnlab.fabric.wiring import mac_from
from ovnlab.packet import ip, mac

VM_TCP_PORTS = (22,)  # a cloud image runs sshd
GENEVE_MTU = 1442  # Neutron's MTU for geneve tenant networks on a 1500 underlay

SubnetLookup = Callable[[str], Mapping[str, Any] | None]


class Fabric(Inventory):
    """The physical world of one lab: its inventory, and what changes it after the build."""

    def __init__(self, clock: Clock | None = None) -> None:
        super().__init__(clock)
        self.vm_ports: dict[str, str] = {}  # Neutron port id -> VM node name
        self.subnet_lookup: SubnetLookup | None = None
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
        wiring.cable(fabric, topology, vswitches, controllers)
        return fabric

    # the parts one at a time (see wiring.py)
    def add_chassis(self, spec: Any, vswitch: Any, controller: Any = None) -> Chassis:
        return wiring.add_chassis(self, spec, vswitch, controller)

    def add_external_router(self, name: str, physnet: str, address: str, mac_text: str,
                            cidr: str) -> ExternalRouter:
        return wiring.add_external_router(self, name, physnet, address, mac_text, cidr)

    def add_internet_host(self, name: str, address: str, reverse_name: str = "") -> InternetHost:
        return wiring.add_internet_host(self, name, address, reverse_name)

    def add_external_host(self, name: str, physnet: str, address: str, mac_text: str,
                          gateway: str, cidr: str) -> ExternalHost:
        return wiring.add_external_host(self, name, physnet, address, mac_text, gateway, cidr)

    def add_host(self, name: str, nics: Sequence[tuple[str, str, str | None]], *,
                 routes: Sequence[tuple[str, str]] = (), forwarding: bool = False,
                 tcp_ports: Sequence[int] = ()) -> IpNode:
        return wiring.add_host(self, name, nics, routes=routes, forwarding=forwarding,
                               tcp_ports=tcp_ports)

    def sync_bfd(self) -> bool:
        """Every ovs-vswitchd reconfigures its BFD sessions from OVSDB (after
        ovn-controllers changed `bfd:enable` on their tunnels); True if any changed."""
        changed = False
        for node in self.nodes.values():
            if isinstance(node, Chassis) and node.bfd is not None:
                changed |= bool(node.bfd.sync())
        return changed

    # ------------------------------------------------------------ failures
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
        vm = VM(name, self.clock, self.record, port=dict(port), chassis=chassis,
                server=dict(server or {}))
        self.add_node(vm)
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
        self._plug(host, tap, tap, (vm_mac & ~(0xFF << 40)) | (0xFE << 40), eth0, {
            "iface-id": port["id"], "attached-mac": port["mac_address"],
            "iface-status": "active", "vm-id": str(port.get("device_id", "")),
        }, mtu=mtu)
        self.vm_ports[port["id"]] = name
        if fixed is not None:
            self.hosts.setdefault(name, ip(fixed["ip_address"]))
        return vm

    def remove_vm(self, name: str) -> None:
        """Nova deleting the server: unplug the tap from br-int and drop the VM."""
        vm = self.nodes.get(name)
        if not isinstance(vm, VM):
            raise NotFound(f"no VM {name!r}")
        self._unplug(self.nodes[vm.chassis], vm.tap, vm.tap)
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
        ns = MetadataNamespace(host.name, port, self.clock, self.record,
                               lambda network, address: self.metadata_source(network, address))
        ns_iface = ns.add_interface(inner, port.mac, mtu=GENEVE_MTU)
        ns.configure()
        self._plug(host, outer, f"{host.name}/{outer}",
                   mac_from(f"{host.name}/{outer}", 0x020000), ns_iface,
                   {"iface-id": port.port_id}, mtu=GENEVE_MTU)
        return ns

    def _teardown_namespace(self, ns: MetadataNamespace) -> None:
        outer = ns.port.veth[0]
        self._unplug(self.nodes.get(ns.chassis), outer, f"{ns.chassis}/{outer}")

    # ------------------------------------------------------------ br-int ports
    def _plug(self, host: Chassis, name: str, wire: str, mac_addr: int, peer: Interface,
              external_ids: dict[str, str], *, mtu: int) -> None:
        """os-vif's OVS plug: the host's end of a tap or veth (`name`), wired to `peer`
        (the guest's or namespace's end), and a br-int port with the external_ids
        ovn-controller binds it by (an existing port is kept)."""
        iface = host.add_interface(name, mac_addr, mtu=mtu, master="ovs-system")
        self.wires[wire] = Wire(name, peer, iface, self.clock)
        br_int = host.vswitch.bridges["br-int"]
        if name not in br_int.ports:
            br_int.add_port(name, external_ids=external_ids)

    def _unplug(self, host: Node | None, name: str, wire: str) -> None:
        """The br-int port, the host's end and the wire of a tap or veth, gone."""
        if isinstance(host, Chassis):
            br_int = host.vswitch.bridges.get("br-int")
            if br_int is not None and name in br_int.ports:
                br_int.del_port(name)
            host.interfaces.pop(name, None)
        unplugged = self.wires.pop(wire, None)
        if unplugged is not None:
            unplugged.unplug()


def _v4_fixed_ip(port: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The VMs' stacks are IPv4 (DESIGN.md): an IPv6-only port is plugged unaddressed."""
    return next((f for f in port.get("fixed_ips") or () if ":" not in f["ip_address"]), None)

