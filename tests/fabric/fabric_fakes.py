"""A tiny stand-in for `ovnlab.datapath` (the per-node Open vSwitch contract), so the
fabric's glue (patch ports, tunnels, VIFs, packet-ins) is testable on its own."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ovnlab.datapath import TunnelMetadata
from ovnlab.fabric import Fabric
from ovnlab.packet import ARP_REPLY, ARP_REQUEST, ETH_ARP, Packet, ip, mac

VM1_MAC, VM2_MAC = "fa:16:3e:11:11:10", "fa:16:3e:11:11:20"
FIP_MAC, GW_MAC, EXTGW_MAC = "fa:16:3e:9f:84:ff", "fa:16:3e:00:01:01", "02:00:0a:00:02:02"


@dataclass
class FakePort:
    name: str
    type: str = ""
    options: dict[str, str] = field(default_factory=dict)
    external_ids: dict[str, str] = field(default_factory=dict)
    ofport: int = 0


@dataclass
class FakeOutput:
    port: str
    packet: Packet
    tunnel: Any = None


@dataclass
class FakeFlow:
    cookie: int


@dataclass
class FakeStep:
    """A datapath trace step: the table and flow that matched."""

    text: str
    flow: FakeFlow | None
    table: int | None = None

    def __str__(self) -> str:
        return self.text


@dataclass
class FakeResult:
    outputs: list[FakeOutput] = field(default_factory=list)
    packet_ins: list[Any] = field(default_factory=list)
    trace: list[Any] = field(default_factory=list)


Rule = Callable[["FakeBridge", Packet, str, dict[str, Any]], FakeResult | None]


class FakeBridge:
    def __init__(self, name: str) -> None:
        self.name = name
        self.ports: dict[str, FakePort] = {}
        self.rules: list[Rule] = []
        self.calls: list[tuple[Packet, str, dict[str, Any]]] = []

    def add_port(self, name: str, type: str = "", options: dict[str, str] | None = None,
                 external_ids: dict[str, str] | None = None, ofport: int | None = None) -> FakePort:
        port = FakePort(name, type, dict(options or {}), dict(external_ids or {}),
                        ofport or len(self.ports) + 1)
        self.ports[name] = port
        return port

    def del_port(self, name: str) -> None:
        del self.ports[name]

    def process(self, packet: Packet, in_port: str, *, trace: bool = True,
                **kwargs: Any) -> FakeResult:
        self.calls.append((packet, in_port, kwargs))
        for rule in self.rules:
            result = rule(self, packet, in_port, kwargs)
            if result is not None:
                return result
        return FakeResult(trace=["no rule: drop"])


def hub(bridge: FakeBridge, packet: Packet, in_port: str, kwargs: dict[str, Any]) -> FakeResult:
    """Flood to every other port (enough of NORMAL for a two-port br-ex)."""
    return FakeResult([FakeOutput(p, packet) for p in bridge.ports if p != in_port],
                      trace=["NORMAL"])


class FakeVswitch:
    def __init__(self, hostname: str) -> None:
        self.hostname = hostname
        self.bridges: dict[str, FakeBridge] = {}
        self.external_ids: dict[str, str] = {}

    def add_bridge(self, name: str, fail_mode: str | None = None) -> FakeBridge:
        self.bridges[name] = FakeBridge(name)
        return self.bridges[name]


@dataclass
class FakePacketOut:
    packet: Packet
    in_port: str | None = None
    table: int | None = None
    regs: Any = None
    output: str | None = None


class FakeController:
    def __init__(self) -> None:
        self.events: list[Any] = []
        self.periodic_calls: list[float] = []
        self.on_packet_in: Callable[[Any], list[FakePacketOut]] = lambda e: []
        self.on_periodic: Callable[[float], list[FakePacketOut]] = lambda now: []

    def packet_in(self, event: Any) -> list[FakePacketOut]:
        self.events.append(event)
        return self.on_packet_in(event)

    def periodic(self, now: float) -> list[FakePacketOut]:
        self.periodic_calls.append(now)
        return self.on_periodic(now)


def patch(vswitch: FakeVswitch, a: str, b: str) -> tuple[str, str]:
    """Join bridges a and b with a patch-port pair, as ovn-controller does for localnets."""
    pa, pb = f"patch-{a}-to-{b}", f"patch-{b}-to-{a}"
    vswitch.bridges[a].add_port(pa, type="patch", options={"peer": pb})
    vswitch.bridges[b].add_port(pb, type="patch", options={"peer": pa})
    return pa, pb


def vm_port(port_id: str, mac: str, ip: str, subnet: str = "sub-n1") -> dict[str, Any]:
    return {"id": port_id, "mac_address": mac, "device_id": "server-" + port_id[:4],
            "fixed_ips": [{"subnet_id": subnet, "ip_address": ip}]}


def fip_lab(f: Fabric, vswitches: dict[str, FakeVswitch], host: str = "compute1") -> None:
    """A fake br-int doing what OVN's distributed FIP does on `host`: answer ARP for the
    gateway and the FIP, SNAT/DNAT 172.16.100.10 <-> 10.0.2.216, out through br-ex."""
    vm = f.add_vm("vm_1", vm_port("11111111-aaaa", VM1_MAC, "172.16.100.10"), host)
    vs = vswitches[host]
    to_ex, _ = patch(vs, "br-int", "br-ex")
    vs.bridges["br-ex"].rules.append(hub)

    def arp_reply(pkt: Packet, ip_text: str, mac_text: str, port: str) -> FakeResult:
        return FakeResult([FakeOutput(port, Packet(
            eth_src=mac(mac_text), eth_dst=pkt.eth_src, eth_type=ETH_ARP, arp_op=ARP_REPLY,
            arp_sha=mac(mac_text), arp_spa=ip(ip_text), arp_tha=pkt.arp_sha,
            arp_tpa=pkt.arp_spa))], trace=["table=10 arp responder"])

    def rule(b: FakeBridge, pkt: Packet, in_port: str, kw: dict[str, Any]) -> FakeResult | None:
        if pkt.eth_type == ETH_ARP and pkt.arp_op == ARP_REQUEST:
            if in_port == vm.tap and pkt.arp_tpa == ip("172.16.100.1"):
                return arp_reply(pkt, "172.16.100.1", GW_MAC, vm.tap)
            if in_port == to_ex and pkt.arp_tpa == ip("10.0.2.216"):
                return arp_reply(pkt, "10.0.2.216", FIP_MAC, to_ex)
            return FakeResult()
        if pkt.eth_type == ETH_ARP:
            return FakeResult()
        if in_port == vm.tap:
            return FakeResult([FakeOutput(to_ex, pkt.with_(
                ip_src=ip("10.0.2.216"), eth_src=mac(FIP_MAC), eth_dst=mac(EXTGW_MAC),
                ip_ttl=pkt.ip_ttl - 1))], trace=[FakeStep("table=43 ct(commit,nat(src=10.0.2.216))", FakeFlow(0x43))])
        if in_port == to_ex and pkt.ip_dst == ip("10.0.2.216"):
            return FakeResult([FakeOutput(vm.tap, pkt.with_(
                ip_dst=ip("172.16.100.10"), eth_src=mac(GW_MAC), eth_dst=mac(VM1_MAC),
                ip_ttl=pkt.ip_ttl - 1))], trace=[FakeStep("table=14 ct(commit,nat(dst=172.16.100.10))", FakeFlow(0x14))])
        return None

    vs.bridges["br-int"].rules.append(rule)


def teach_extnet(f: Fabric) -> None:
    """The fake br-int skips OVN's next-hop ARP, which is what teaches the provider segment
    where extgw is: let extgw talk once so unknown-unicast flooding does not blur tests."""
    f.node("extgw").stack.send(  # type: ignore[attr-defined]
        Packet(ip_dst=ip("10.0.2.100"), ip_proto=1, icmp_type=8, icmp_id=99, icmp_seq=1))
    f.run_until_idle()


def tunnel_lab(f: Fabric, vswitches: dict[str, FakeVswitch]) -> tuple[str, str]:
    """vm_1 on compute1 and vm_2 on compute2, br-int = 'everything to the other side'."""
    t1 = f.add_vm("vm_1", vm_port("11111111-aaaa", VM1_MAC, "172.16.100.10"), "compute1").tap
    t2 = f.add_vm("vm_2", vm_port("22222222-bbbb", VM2_MAC, "172.16.100.20"), "compute2").tap
    for host, tap, remote in (("compute1", t1, "192.168.50.12"), ("compute2", t2, "192.168.50.11")):
        br = vswitches[host].bridges["br-int"]
        tun = f"ovn-{remote}"
        br.add_port(tun, type="geneve", options={"remote_ip": remote, "key": "flow"})

        def rule(b: FakeBridge, pkt: Packet, in_port: str, kw: dict[str, Any],
                 tap: str = tap, tun: str = tun) -> FakeResult:
            if in_port == tap:
                return FakeResult([FakeOutput(tun, pkt, TunnelMetadata(tun_id=1,
                                                                       tun_metadata0=0x10003))])
            return FakeResult([FakeOutput(tap, pkt)])

        br.rules.append(rule)
    return t1, t2
