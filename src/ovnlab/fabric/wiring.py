"""The physical lab a topology describes, cabled into an inventory.

`cable(inventory, topology, vswitches, controllers)` makes the provider segments, each
chassis with its Open vSwitch bridges and NICs (the mapped provider NICs `eth0`, `eth2`...,
`eth1` on the underlay with the tunnel IP, BFD on the tunnels), the external routers with
their uplinks into the emulated internet, the internet hosts and the external hosts. The
`add_*` functions add one such part each (tests and benchmarks cable by hand with them).
"""

from __future__ import annotations

import ipaddress
import zlib
from collections.abc import Mapping, Sequence
from typing import Any

from ovnlab.errors import NotFound
from ovnlab.fabric.bfdlink import BfdRunner
from ovnlab.fabric.inventory import Inventory
from ovnlab.fabric.nodes import (
    CONTROLLER_LATENCY,
    Chassis,
    ExternalHost,
    ExternalRouter,
    InternetHost,
    IpNode,
)
from ovnlab.packet import ip, ip_str, mac

UNDERLAY = "underlay"
INTERNET = "internet"
UNDERLAY_PREFIX = 24
CONTROLLER_PERIOD = 1.0  # how often ovn-controller's timers (GARPs) are given a chance
HOST_TCP_PORTS = (22,)
INTERNET_TCP_PORTS = (53, 80, 443)
TRANSIT_SPACE = "100.64.0.0"  # RFC 6598: the external routers' internet uplinks


def mac_from(seed: str, oui: int = 0x525400) -> int:
    """A stable locally administered MAC for NICs the topology does not specify."""
    return (oui << 24) | (zlib.crc32(seed.encode()) & 0xFFFFFF)


def cable(inv: Inventory, topology: Any, vswitches: Mapping[str, Any],
          controllers: Mapping[str, Any] | None = None) -> None:
    """Every part of `topology` (`ovnlab.topology.Topology`); `vswitches` and
    `controllers` are keyed by hostname."""
    for physnet in topology.physical_networks:
        inv.add_segment(physnet.name)
    inv.add_segment(UNDERLAY)
    for spec in topology.nodes:
        add_chassis(inv, spec, vswitches[spec.hostname], (controllers or {}).get(spec.hostname))
    for router in topology.external_routers:
        add_external_router(inv, router.name, router.physical_network, router.ip, router.mac,
                            _cidr_of(topology, router.physical_network))
    for host in topology.internet_hosts:
        add_internet_host(inv, host.name, host.ip, host.reverse_name)
    for host in topology.external_hosts:
        add_external_host(inv, host.name, host.physical_network, host.ip, host.mac,
                          host.gateway, _cidr_of(topology, host.physical_network))


def add_chassis(inv: Inventory, spec: Any, vswitch: Any, controller: Any = None) -> Chassis:
    """A chassis from a topology NodeSpec: br-int, one bridge + NIC per bridge mapping
    (`eth0`, then `eth2`...), `eth1` on the underlay with the tunnel IP."""
    name = spec.hostname
    chassis = inv.add_node(Chassis(name, inv.clock, inv.record, vswitch=vswitch,
                                   controller=controller, tunnel_ip=spec.tunnel_ip))
    if hasattr(vswitch, "set_clock"):
        vswitch.set_clock(inv.clock)  # conntrack, MAC and flow ageing on lab time
    _configure_ovn(vswitch, spec)
    _add_provider_nics(inv, chassis, spec)
    eth1 = chassis.add_interface("eth1", mac_from(f"{name}/eth1"))
    chassis.stack.add_address("eth1", f"{spec.tunnel_ip}/{UNDERLAY_PREFIX}")
    inv.add_segment(UNDERLAY).attach(eth1)
    inv.hosts.setdefault(name, ip(spec.tunnel_ip))
    _attach_bfd(inv, chassis, eth1.mac)
    if controller is not None and hasattr(controller, "periodic"):
        inv.timers.append(inv.clock.every(CONTROLLER_PERIOD, chassis.run_periodic))
    if controller is not None and hasattr(controller, "take_ready"):
        controller.on_ready = lambda: inv.clock.call_later(CONTROLLER_LATENCY,
                                                           chassis.run_ready)
        controller.clock = inv.clock  # pinctrl times out held packets
    return chassis


def _configure_ovn(vswitch: Any, spec: Any) -> None:
    """The Open_vSwitch external_ids ovn-controller reads (as a deployment tool sets
    them; values already there are kept) and br-int."""
    ext = vswitch.external_ids
    for key, value in (("system-id", spec.system_id), ("hostname", spec.hostname),
                       ("ovn-encap-type", "geneve"), ("ovn-encap-ip", spec.tunnel_ip),
                       ("ovn-bridge-mappings",
                        ",".join(f"{p}:{b}" for p, b in spec.ovn_bridge_mappings))):
        ext.setdefault(key, value)
    if spec.ovn_cms_options:
        ext.setdefault("ovn-cms-options", ",".join(spec.ovn_cms_options))
    if "br-int" not in vswitch.bridges:
        vswitch.add_bridge("br-int", fail_mode="secure")


def _add_provider_nics(inv: Inventory, chassis: Chassis, spec: Any) -> None:
    """Per bridge mapping, the bridge with its NIC on the physnet's segment; then every
    bridge's LOCAL port as the host sees it (`tcpdump -i br-ex`)."""
    vswitch, name = chassis.vswitch, chassis.name
    nic_names = iter(["eth0"] + [f"eth{i}" for i in range(2, 64)])
    for physnet, bridge_name in spec.ovn_bridge_mappings:
        nic = next(nic_names)
        bridge = vswitch.bridges.get(bridge_name) or vswitch.add_bridge(bridge_name)
        if nic not in bridge.ports:
            bridge.add_port(nic, type="system")
        iface = chassis.add_interface(nic, mac_from(f"{name}/{nic}"), master="ovs-system")
        inv.add_segment(physnet).attach(iface)
    for bridge_name, bridge in vswitch.bridges.items():
        if bridge_name in bridge.ports and bridge_name not in chassis.interfaces:
            chassis.add_interface(bridge_name, mac_from(f"{name}/{bridge_name}"),
                                  internal=True)


def _attach_bfd(inv: Inventory, chassis: Chassis, mac_addr: int) -> None:
    chassis.bfd = BfdRunner(chassis.name, inv.clock, chassis.vswitch, chassis.tunnel_ip,
                            mac_addr, chassis.tunnel_send, chassis.wake_controller,
                            inv.bfd_of)
    chassis.vswitch.runs_bfd = True  # bfd_status now comes from real sessions
    chassis.vswitch.bfd_show = chassis.bfd.show


def add_external_router(inv: Inventory, name: str, physnet: str, address: str,
                        mac_text: str, cidr: str) -> ExternalRouter:
    """A router on `physnet` that forwards to the emulated internet (its `eth1`)."""
    router = inv.add_node(ExternalRouter(name, inv.clock, inv.record))
    eth0 = router.add_interface("eth0", mac(mac_text))
    router.stack.add_address("eth0", f"{address}/{_prefixlen(cidr)}")
    inv.add_segment(physnet).attach(eth0)
    uplink = ip(TRANSIT_SPACE) + len(inv.uplinks) + 1
    eth1 = router.add_interface("eth1", mac_from(f"{name}/eth1", 0x020000))
    router.stack.add_address("eth1", f"{ip_str(uplink)}/32")
    inv.add_segment(INTERNET).attach(eth1)
    inv.uplinks.append((router, uplink))
    for node in inv.nodes.values():
        if isinstance(node, InternetHost):
            router.stack.add_route(f"{ip_str(node.stack.primary_ip() or 0)}/32", dev="eth1")
            node.stack.add_route(f"{ip_str(uplink)}/32", dev="eth0")
            if node.stack.lookup_route(0) is None:
                node.stack.add_route("default", via=ip_str(uplink))
    router.stack.listen_tcp(*HOST_TCP_PORTS)
    inv.hosts.setdefault(name, ip(address))
    return router


def add_internet_host(inv: Inventory, name: str, address: str,
                      reverse_name: str = "") -> InternetHost:
    """A host on the internet, reached through the external routers."""
    host = inv.add_node(InternetHost(name, inv.clock, inv.record))
    eth0 = host.add_interface("eth0", mac_from(f"{name}/eth0", 0x020000))
    host.stack.add_address("eth0", f"{address}/32")
    inv.add_segment(INTERNET).attach(eth0)
    for i, (router, uplink) in enumerate(inv.uplinks):
        host.stack.add_route(f"{ip_str(uplink)}/32", dev="eth0")
        if i == 0:
            host.stack.add_route("default", via=ip_str(uplink))
        router.stack.add_route(f"{address}/32", dev="eth1")
    host.stack.listen_tcp(*INTERNET_TCP_PORTS)
    inv.hosts.setdefault(name, ip(address))
    if reverse_name:
        inv.hosts.setdefault(reverse_name, ip(address))
        inv.ptr[ip(address)] = reverse_name
    return host


def add_external_host(inv: Inventory, name: str, physnet: str, address: str, mac_text: str,
                      gateway: str, cidr: str) -> ExternalHost:
    """A host on a provider network, with its default route via `gateway`."""
    host = inv.add_node(ExternalHost(name, inv.clock, inv.record))
    eth0 = host.add_interface("eth0", mac(mac_text))
    host.stack.add_address("eth0", f"{address}/{_prefixlen(cidr)}")
    if gateway:
        host.stack.add_route("default", via=gateway)
    inv.add_segment(physnet).attach(eth0)
    host.stack.listen_tcp(*HOST_TCP_PORTS)
    inv.hosts.setdefault(name, ip(address))
    return host


def add_host(inv: Inventory, name: str, nics: Sequence[tuple[str, str, str | None]], *,
             routes: Sequence[tuple[str, str]] = (), forwarding: bool = False,
             tcp_ports: Sequence[int] = ()) -> IpNode:
    """A plain Linux host or router: `nics` = (segment, CIDR, MAC or None) become
    eth0, eth1...; `routes` = (destination, gateway) pairs."""
    node: IpNode = inv.add_node(ExternalRouter(name, inv.clock, inv.record) if forwarding
                                else ExternalHost(name, inv.clock, inv.record))
    for i, (segment, cidr, mac_text) in enumerate(nics):
        dev = f"eth{i}"
        iface = node.add_interface(dev, mac(mac_text) if mac_text else
                                   mac_from(f"{name}/{dev}", 0x020000))
        node.stack.add_address(dev, cidr)
        inv.add_segment(segment).attach(iface)
    for dst, via in routes:
        node.stack.add_route(dst, via=via)
    node.stack.listen_tcp(*tcp_ports)
    if nics:
        inv.hosts.setdefault(name, ip(nics[0][1].partition("/")[0]))
    return node


def _cidr_of(topology: Any, physnet: str) -> str:
    for p in topology.physical_networks:
        if p.name == physnet:
            return str(p.cidr)
    raise NotFound(f"unknown physical network {physnet!r}")


def _prefixlen(cidr: str) -> int:
    return ipaddress.ip_network(cidr, strict=False).prefixlen
