"""Fabric throughput: emulated packets per second of wall time on plain paths.

- `hosts`: exthost -> extgw -> google-dns and back (host stacks, ARP, routing, segments).
- `geneve`: VM -> tap -> br-int -> Geneve over the underlay -> br-int -> tap -> VM between
  two chassis, with a pass-through bridge standing in for OpenFlow (fabric cost only:
  wires, encapsulation, underlay ARP/routing, decapsulation, captures).
A "packet" is one frame delivered to an interface. Rates use CPU seconds of this process
(stable on a shared machine); wall seconds are reported too.
Run: `python -m benchmarks.bench_fabric`.
"""

from __future__ import annotations

import json
import time
import tracemalloc
from dataclasses import dataclass, field
from typing import Any

from ovnlab import topology
from ovnlab.datapath import TunnelMetadata
from ovnlab.fabric import Fabric
from ovnlab.packet import PROTO_ICMP, Packet, ip

PINGS = 2000


def _frames(f: Fabric) -> int:
    return sum(i.received for i in f.all_interfaces())


def _pings(f: Fabric, src: str, dst: str, n: int) -> dict[str, Any]:
    stack = f.node(src).stack  # type: ignore[attr-defined]
    replies: list[int] = []
    stack.icmp_sockets[4242] = lambda p, o: replies.append(p.icmp_seq)
    for seq in range(n):
        f.clock.call_at(f.now + seq * 0.001, stack.send,
                        Packet(ip_dst=ip(dst), ip_proto=PROTO_ICMP, icmp_type=8, icmp_id=4242,
                               icmp_seq=seq & 0xFFFF, payload=bytes(56)))
    before = _frames(f)
    t0, c0 = time.perf_counter(), time.process_time()
    f.run_until_idle(n * 0.001 + 10)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    frames = _frames(f) - before
    assert len(replies) == n, f"{len(replies)} of {n} replies"
    return {"pings": n, "frames": frames, "cpu_seconds": round(cpu, 4),
            "wall_seconds": round(wall, 4), "packets_per_second": round(frames / cpu),
            "round_trips_per_second": round(n / cpu)}


def bench_hosts(n: int = PINGS) -> dict[str, Any]:
    f = Fabric()
    f.add_segment("extnet0")
    f.add_external_router("extgw", "extnet0", "10.0.2.2", "02:00:0a:00:02:02", "10.0.2.0/24")
    f.add_internet_host("google-dns", "8.8.8.8", "dns.google")
    f.add_external_host("exthost", "extnet0", "10.0.2.100", "02:00:0a:00:02:64", "10.0.2.2",
                        "10.0.2.0/24")
    return _pings(f, "exthost", "8.8.8.8", n)


@dataclass
class _Port:
    name: str
    type: str = ""
    options: dict[str, str] = field(default_factory=dict)
    external_ids: dict[str, str] = field(default_factory=dict)


@dataclass
class _Out:
    port: str
    packet: Packet
    tunnel: Any = None


@dataclass
class _Result:
    outputs: list[_Out]
    packet_ins: tuple[()] = ()
    trace: None = None


class _PassThrough:
    """tap <-> the one tunnel port: the cheapest possible br-int."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.ports: dict[str, _Port] = {}
        self.tap = self.tunnel = ""

    def add_port(self, name: str, type: str = "", options: dict[str, str] | None = None,
                 external_ids: dict[str, str] | None = None, ofport: int | None = None) -> _Port:
        self.ports[name] = _Port(name, type, dict(options or {}), dict(external_ids or {}))
        if type == "geneve":
            self.tunnel = name
        elif name.startswith("tap"):
            self.tap = name
        return self.ports[name]

    def del_port(self, name: str) -> None:
        del self.ports[name]

    def process(self, packet: Packet, in_port: str, **kwargs: Any) -> _Result:
        if in_port == self.tap:
            return _Result([_Out(self.tunnel, packet, TunnelMetadata(tun_id=1,
                                                                     tun_metadata0=0x10002))])
        return _Result([_Out(self.tap, packet)])


class _Vswitch:
    def __init__(self) -> None:
        self.bridges: dict[str, Any] = {}
        self.external_ids: dict[str, str] = {}

    def add_bridge(self, name: str, fail_mode: str | None = None) -> Any:
        self.bridges[name] = _PassThrough(name)
        return self.bridges[name]


def bench_geneve(n: int = PINGS) -> dict[str, Any]:
    topo = topology.load("seed")
    vswitches = {node.hostname: _Vswitch() for node in topo.nodes}
    subnet = {"cidr": "172.16.100.0/24", "gateway_ip": "172.16.100.1"}
    f = Fabric.build(topo, vswitches, {})
    for name, host, addr, peer in (("vm_1", "compute1", "172.16.100.10", "192.168.50.12"),
                                   ("vm_2", "compute2", "172.16.100.20", "192.168.50.11")):
        port = {"id": f"{name}-port-0000", "mac_address": f"fa:16:3e:00:00:{addr[-2:]}",
                "fixed_ips": [{"subnet_id": "s", "ip_address": addr}]}
        f.add_vm(name, port, host, subnet)
        vswitches[host].bridges["br-int"].add_port(
            f"ovn-{peer}", type="geneve", options={"remote_ip": peer, "key": "flow"})
    return _pings(f, "vm_1", "172.16.100.20", n)


def bench_scale(chassis: int = 100, vms_per_chassis: int = 10) -> dict[str, Any]:
    """`chassis` chassis on the real datapath, `vms_per_chassis` VMs each; chassis 2j and
    2j+1 are paired by a Geneve tunnel (VNI = VM slot), and every VM pings its partner
    once: ARP + echo + reply over the underlay, OpenFlow on both ends."""
    from ovnlab.datapath import Vswitch

    t0 = time.perf_counter()
    nodes = [{"hostname": f"c{i}", "role": "compute",
              "system_id": f"00000000-0000-4000-8000-{i:012d}",
              "tunnel_ip": f"192.168.50.{i + 1}"} for i in range(chassis)]
    topo = topology.from_dict({"name": "scale", "nodes": nodes})
    vswitches = {n.hostname: Vswitch(n.hostname) for n in topo.nodes}
    for vs in vswitches.values():
        vs.add_bridge("br-int", fail_mode="secure")
    f = Fabric.build(topo, vswitches, {})
    subnet = {"cidr": "172.16.0.0/16", "gateway_ip": "172.16.0.1"}
    for i in range(chassis):
        peer = i ^ 1
        br = vswitches[f"c{i}"].bridges["br-int"]
        br.add_port("ovn-peer", type="geneve",
                    options={"remote_ip": f"192.168.50.{peer + 1}", "key": "flow"})
        for k in range(vms_per_chassis):
            pid = f"{i:05d}{k:03d}-port"
            port = {"id": pid, "mac_address": f"fa:16:3e:{i >> 8:02x}:{i & 0xFF:02x}:{k:02x}",
                    "fixed_ips": [{"subnet_id": "s", "ip_address": f"172.16.{i}.{k + 10}"}]}
            tap = f.add_vm(f"vm-{i}-{k}", port, f"c{i}", subnet).tap
            br.add_flow(f"in_port={tap},actions=set_field:{k + 1}->tun_id,output:ovn-peer")
            br.add_flow(f"in_port=ovn-peer,tun_id={k + 1},actions=output:{tap}")
    build = time.perf_counter() - t0
    replies: list[int] = []
    for i in range(chassis):
        for k in range(vms_per_chassis):
            stack = f.node(f"vm-{i}-{k}").stack  # type: ignore[attr-defined]
            stack.icmp_sockets[7] = lambda p, o: replies.append(1)
            f.clock.call_at((i * vms_per_chassis + k) * 1e-4, stack.send,
                            Packet(ip_dst=ip(f"172.16.{i ^ 1}.{k + 10}"), ip_proto=PROTO_ICMP,
                                   icmp_type=8, icmp_id=7, icmp_seq=1, payload=bytes(56)))
    t1, c1 = time.perf_counter(), time.process_time()
    f.run_until_idle(60.0)
    wall, cpu = time.perf_counter() - t1, time.process_time() - c1
    n = chassis * vms_per_chassis
    assert len(replies) == n, f"{len(replies)} of {n} replies"
    frames = _frames(f)
    return {"chassis": chassis, "vms": n, "build_seconds": round(build, 3),
            "ping_all_cpu_seconds": round(cpu, 3), "ping_all_wall_seconds": round(wall, 3),
            "frames": frames, "packets_per_second": round(frames / cpu)}


def run() -> dict[str, Any]:
    result: dict[str, Any] = {"hosts": bench_hosts(), "geneve": bench_geneve(),
                              "scale": bench_scale()}
    tracemalloc.start()  # a separate pass: tracing allocations slows everything down
    bench_scale()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    result["scale"]["peak_memory_mb"] = round(peak / 2**20, 1)
    return result


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
