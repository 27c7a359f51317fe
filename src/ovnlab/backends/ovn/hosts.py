"""The wires and the machines around the chassis, as Linux namespaces with Linux routing:
one namespace `fabric` holding a Linux bridge per L2 segment (each physical network, the
Geneve underlay, the internet), the external router (eth0 on its physical network, eth1
towards the internet, forwarding), each internet host, each external host, and each Nova
server (eth0 with its port's MAC, the peer `tap<port id>` on its chassis's br-int,
addressed by DHCP when it boots).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from ovnlab.backends.ovn.layout import Layout
from ovnlab.backends.ovn.netns import Netns
from ovnlab.topology import Topology

UNDERLAY = "underlay"
INTERNET = "internet"
INTERNET_GW = "169.254.0.1"  # the external router's address towards the internet hosts


def physnet_bridge(topology: Topology, physnet: str) -> str:
    names = [p.name for p in topology.physical_networks]
    return f"phys{names.index(physnet)}"


def hosts_file(topology: Topology) -> str:
    """/etc/hosts of every namespace: the internet hosts' names (`ping dns.google`), so
    tcpdump and ping print them as on the emulated backend."""
    lines = ["127.0.0.1 localhost"]
    for h in topology.internet_hosts:
        lines.append(" ".join([h.ip, *([h.reverse_name] if h.reverse_name else []), h.name]))
    return "\n".join(lines) + "\n"


def chassis_nics(topology: Topology, hostname: str) -> dict[str, str]:
    """physnet -> the chassis's NIC on it: eth0 for the first, eth2, eth3... then (eth1 is
    the underlay)."""
    spec = topology.node(hostname)
    names = ["eth0", *(f"eth{i}" for i in range(2, 2 + len(spec.ovn_bridge_mappings)))]
    return {physnet: names[i] for i, (physnet, _bridge) in enumerate(spec.ovn_bridge_mappings)}


@dataclass(frozen=True, slots=True)
class Fabric:
    topology: Topology
    layout: Layout
    netns: Netns

    def build(self) -> None:
        """The fabric namespace and its segments, then the chassis namespaces wired to it
        (their daemons start later), the external routers and hosts."""
        topo, fab, nn = self.topology, self.layout.fabric_ns, self.netns
        hosts = hosts_file(topo)
        nn.add(fab)
        for segment in (UNDERLAY, INTERNET, *(physnet_bridge(topo, p.name)
                                              for p in topo.physical_networks)):
            nn.bridge(fab, segment)
        for i, spec in enumerate(topo.nodes):
            ns = self.layout.ns(spec.hostname)
            nn.add(ns, hosts)
            self._wire(ns, "eth1", f"c{i}-u", UNDERLAY)
            for physnet, nic in chassis_nics(topo, spec.hostname).items():
                self._wire(ns, nic, f"c{i}-{nic}", physnet_bridge(topo, physnet))
        for i, r in enumerate(topo.external_routers):
            self._router(i, r.name, r.physical_network, r.ip, r.mac)
        for i, h in enumerate(topo.internet_hosts):
            ns = self.layout.ns(h.name)
            nn.add(ns, hosts)
            self._wire(ns, "eth0", f"i{i}-eth0", INTERNET)
            nn.exec(ns, ["ip", "addr", "add", f"{h.ip}/32", "dev", "eth0"])
            nn.exec(ns, ["ip", "route", "add", INTERNET_GW, "dev", "eth0"])
            nn.exec(ns, ["ip", "route", "add", "default", "via", INTERNET_GW])
        for i, e in enumerate(topo.external_hosts):
            ns = self.layout.ns(e.name)
            nn.add(ns, hosts)
            self._wire(ns, "eth0", f"h{i}-eth0", physnet_bridge(topo, e.physical_network), e.mac)
            nn.exec(ns, ["ip", "addr", "add", f"{e.ip}/{self._prefix(e.physical_network)}",
                         "dev", "eth0"])
            nn.exec(ns, ["ip", "route", "add", "default", "via", e.gateway])

    def _router(self, i: int, name: str, physnet: str, ip: str, mac: str) -> None:
        topo, nn = self.topology, self.netns
        ns = self.layout.ns(name)
        nn.add(ns, hosts_file(topo))
        self._wire(ns, "eth0", f"r{i}-eth0", physnet_bridge(topo, physnet), mac)
        self._wire(ns, "eth1", f"r{i}-eth1", INTERNET)
        nn.exec(ns, ["ip", "addr", "add", f"{ip}/{self._prefix(physnet)}", "dev", "eth0"])
        nn.exec(ns, ["ip", "addr", "add", f"{INTERNET_GW}/32", "dev", "eth1"])
        for h in topo.internet_hosts:
            nn.exec(ns, ["ip", "route", "add", f"{h.ip}/32", "dev", "eth1"])
        nn.exec(ns, ["sysctl", "-qw", "net.ipv4.ip_forward=1"])

    def _prefix(self, physnet: str) -> int:
        cidr = next(p.cidr for p in self.topology.physical_networks if p.name == physnet)
        return ipaddress.ip_network(cidr).prefixlen

    def _wire(self, ns: str, nic: str, peer: str, segment: str, mac: str = "") -> None:
        self.netns.veth(ns, nic, self.layout.fabric_ns, peer, mac)
        self.netns.enslave(self.layout.fabric_ns, peer, segment)


@dataclass(frozen=True, slots=True)
class Server:
    """A Nova server's port as its namespace sees it."""

    name: str  # the namespace's lab name (the server's name)
    port_id: str
    mac: str
    ip: str  # the port's fixed address (the server's name in traces); DHCP gives it
    mtu: int  # the network's: Nova gives the guest's NIC the tap's MTU (host_mtu)

    @property
    def tap(self) -> str:
        return ("tap" + self.port_id)[:14]  # Nova's name for the VIF's device


def plug_server(netns: Netns, layout: Layout, chassis_ns: str, server: Server, hosts: str) -> None:
    """The server's NIC, unaddressed: the guest asks for its address by DHCP when it
    boots (guest.py)."""
    ns = layout.ns(server.name)
    if not netns.exists(ns):
        netns.add(ns, hosts)
    netns.veth(ns, "eth0", chassis_ns, server.tap, server.mac)
    netns.exec(ns, ["ip", "link", "set", "eth0", "mtu", str(server.mtu)])
