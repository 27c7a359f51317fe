"""Whole-lab benchmark: every layer at once (cloud → ml2ovn → NB → northd → SB → one
controller per chassis → datapath → fabric), driven through the lab's own API.

- `seed_path`: emulated packets per second on the seed's north-south path: vm_1 (with
  its FIP, distributed) ↔ 8.8.8.8, after a warm-up. A "frame" is one frame delivered to
  an interface (the definition of bench_fabric). Rates per CPU second of this process
  (the machine is shared) and per wall second.
- `scale`: a generated lab (default 100 chassis, 1000 VMs on a few tenant networks
  behind a few routers, a FIP on every 10th VM): time to build the cloud through the API
  (within a time budget: when the budget runs out the build stops and the benchmark says
  how far it got — nothing is extrapolated), a cProfile of the last VM boots, then every
  built VM pings 8.8.8.8 once (virtual time; failures are reported, a second round shows
  the warm state), peak RSS of the child process that ran it.
- `fip_convergence`: the time from `server_add_floating_ip` to the VM chassis's br-int
  holding the FIP's DNAT/SNAT flows (the API call converges the lab before returning;
  the flows are checked afterwards), at a few lab sizes.
Run: `python -m benchmarks.bench_lab [--quick]` (prints JSON).
"""

from __future__ import annotations

import cProfile
import json
import multiprocessing
import pstats
import resource
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from benchmarks.bench_cloud import build_networks
from ovnlab import topology
from ovnlab.lab import Lab
from ovnlab.packet import (
    ETH_ARP,
    ICMP_ECHO_REPLY,
    ICMP_ECHO_REQUEST,
    PROTO_ICMP,
    Packet,
    ip,
    ip_str,
)
from ovnlab.scenario import run_article

PING_DEST = "8.8.8.8"
SEED_PINGS, QUICK_SEED_PINGS = 1000, 50
PROFILE_TOP = 12


@dataclass(frozen=True, slots=True)
class Scale:
    """A generated cloud: `chassis` nodes (the first is the network node, all with the
    provider mapping), `vms` spread round-robin over the compute nodes and the tenant
    networks, networks spread over routers (each with an external gateway), a FIP on
    every `fip_every`-th VM. `budget_s` bounds the VM boots (wall seconds)."""

    chassis: int
    vms: int
    tenant_networks: int = 4
    routers: int = 2
    fip_every: int = 10
    budget_s: float = 600.0


FULL_SCALE = Scale(100, 1000, budget_s=2400.0)  # ~17 min of boots on this machine
QUICK_SCALE = Scale(3, 4, tenant_networks=2, routers=1, fip_every=2, budget_s=60.0)
FIP_SIZES = (Scale(10, 20, budget_s=300.0), Scale(30, 30, budget_s=300.0))
QUICK_FIP_SIZES = (Scale(3, 2, tenant_networks=1, routers=1, fip_every=1000, budget_s=60.0),)
FIP_REPEATS, QUICK_FIP_REPEATS = 3, 1
# VM counts at which the build records its progress (and the cost of that one boot)
CHECKPOINTS = frozenset((1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000))


# ---------------------------------------------------------------- helpers


def _frames(lab: Lab) -> int:
    return sum(i.received for i in lab.fabric.all_interfaces())


def _clock() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def _since(start: tuple[float, float]) -> tuple[float, float]:
    return time.perf_counter() - start[0], time.process_time() - start[1]


def _echo_all(lab: Lab, senders: list[str], dest: str, first_id: int,
              gap: float = 0.001) -> dict[str, bool]:
    """Each sender sends one echo request (its own ICMP id) `gap` apart in virtual time;
    the clock runs until idle. Returns sender → got the reply from `dest`."""
    got: dict[str, bool] = {}
    target = ip(dest)
    for n, name in enumerate(senders):
        stack = lab.fabric.node(name).stack  # type: ignore[attr-defined]
        icmp_id = (first_id + n) & 0xFFFF
        got[name] = False

        def on_reply(p: Packet, _o: Any, name: str = name) -> None:
            if p.icmp_type == ICMP_ECHO_REPLY and p.ip_src == target:
                got[name] = True

        stack.icmp_sockets[icmp_id] = on_reply
        lab.fabric.clock.call_at(lab.fabric.now + n * gap, stack.send,
                                 Packet(ip_dst=target, ip_proto=PROTO_ICMP,
                                        icmp_type=ICMP_ECHO_REQUEST, icmp_id=icmp_id,
                                        icmp_seq=1, payload=bytes(56)))
    lab.fabric.run_until_idle(len(senders) * gap + 30.0)
    for n, name in enumerate(senders):
        lab.fabric.node(name).stack.icmp_sockets.pop((first_id + n) & 0xFFFF, None)  # type: ignore[attr-defined]
    return got


def _profile_rows(prof: cProfile.Profile, key: str) -> list[dict[str, Any]]:
    """The top functions of a profile by `key` ("tottime" or "cumulative")."""
    stats = pstats.Stats(prof)
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    index = 2 if key == "tottime" else 3
    top = sorted(raw.items(), key=lambda kv: kv[1][index], reverse=True)
    rows = []
    for (path, line, func), (_cc, ncalls, tt, ct, _callers) in top:
        if key == "cumulative" and ("/ovnlab/" not in path or func.startswith("<")):
            continue  # the cumulative view: ovnlab's own call tree, not wrappers
        short = path.split("/src/")[-1] if "/src/" in path else path
        rows.append({"function": f"{short}:{line}({func})", "ncalls": ncalls,
                     "tottime_s": round(tt, 3), "cumtime_s": round(ct, 3)})
        if len(rows) == PROFILE_TOP:
            break
    return rows


# where a VM boot's time goes (cumulative seconds; nested: the controllers run inside the
# SB commits northd makes, so northd's run includes them)
PHASES = (
    ("lab.py", "converge"), ("lab.py", "_plug_vifs"), ("cloud/nova.py", "get_servers"),
    ("cloud/ports.py", "get_ports"), ("northd/engine.py", "run"),
    ("controller/controller.py", "run"), ("controller/controller.py", "_process"),
    ("controller/controller.py", "_compile_row"), ("controller/controller.py", "_install"),
    ("controller/pinctrl.py", "put_mac_binding"), ("json/decoder.py", "raw_decode"),
)


def _profile_phases(prof: cProfile.Profile) -> dict[str, dict[str, Any]]:
    raw: dict[Any, Any] = pstats.Stats(prof).stats  # type: ignore[attr-defined]
    out: dict[str, dict[str, Any]] = {}
    for (path, line, func), (_cc, ncalls, _tt, ct, _callers) in raw.items():
        for suffix, name in PHASES:
            if func == name and path.endswith(suffix):
                out[f"{suffix}:{line}({func})"] = {"ncalls": ncalls, "cumtime_s": round(ct, 3)}
    return out


def _peak_rss_mib() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


# ---------------------------------------------------------------- (a) the seed's path


def bench_seed_path(pings: int = SEED_PINGS) -> dict[str, Any]:
    """vm_1 ↔ 8.8.8.8 through vm_1's distributed FIP, `pings` round trips 1 ms apart."""
    lab = Lab.build("seed")
    run_article(lab.openstack)
    vm = next(s for s in lab.cloud.nova.get_servers(lab.admin) if s["name"] == "vm_1")
    host = vm["OS-EXT-SRV-ATTR:host"]
    warm = lab.exec("vm_1", ["ping", "-c", "3", "-i", "0.2", PING_DEST])  # ARP, MAC_Binding
    fip = lab.cloud.l3.get_floatingips(lab.admin)[0]["floating_ip_address"]
    eth0 = {n.hostname: len(lab.fabric.captures(n.hostname)["eth0"]) for n in lab.topology.nodes}
    before = _frames(lab)
    start = _clock()
    stack = lab.fabric.node("vm_1").stack  # type: ignore[attr-defined]
    replies: list[int] = []
    target = ip(PING_DEST)
    stack.icmp_sockets[4242] = lambda p, _o: replies.append(p.icmp_seq) if p.ip_src == target else None
    for seq in range(pings):
        lab.fabric.clock.call_at(lab.fabric.now + seq * 0.001, stack.send,
                                 Packet(ip_dst=target, ip_proto=PROTO_ICMP,
                                        icmp_type=ICMP_ECHO_REQUEST, icmp_id=4242,
                                        icmp_seq=seq & 0xFFFF, payload=bytes(56)))
    lab.fabric.run_until_idle(pings * 0.001 + 10.0)
    wall, cpu = _since(start)
    frames = _frames(lab) - before
    # where the echoes went: the FIP on the VM's chassis, nothing on the others
    seen = {node: [c.packet for c in lab.fabric.captures(node)["eth0"][mark:]
                   if c.packet.ip_proto == PROTO_ICMP and c.packet.eth_type == 0x0800]
            for node, mark in eth0.items()}
    via = sorted(node for node, pkts in seen.items() if pkts)
    return {
        "path": f"vm_1 ({host}) <-> {PING_DEST} via FIP {fip}",
        "warm_up_ping_rc": warm.rc,
        "pings": pings, "replies": len(replies), "frames": frames,
        "frames_per_round_trip": round(frames / max(1, len(replies)), 1),
        "cpu_seconds": round(cpu, 4), "wall_seconds": round(wall, 4),
        "frames_per_cpu_second": round(frames / cpu),
        "round_trips_per_cpu_second": round(len(replies) / cpu, 1),
        "frames_per_wall_second": round(frames / wall),
        "round_trips_per_wall_second": round(len(replies) / wall, 1),
        "eth0_icmp_seen_on": via,
        "left_as_fip_from_vm_chassis": bool(seen[host]) and all(
            ip_str(p.ip_src) == fip for p in seen[host] if p.icmp_type == ICMP_ECHO_REQUEST),
    }


# ---------------------------------------------------------------- (b) a generated cloud


def scale_topology(chassis: int) -> topology.Topology:
    """`chassis` nodes on one /24 underlay: `network` (the network node) and computes
    `compute1`..; all map `extnet0` to br-ex, none is gateway-flagged, DVR on."""
    if not 2 <= chassis <= 250:
        raise ValueError(f"chassis: expected 2..250 (one /24 underlay), got {chassis}")
    names = ["network" if i == 0 else f"compute{i}" for i in range(chassis)]
    # stable random-looking system-ids, like real ones: their first 6 characters name
    # the tunnel ports (`ovn-<id[:6]>-0`), so they must differ
    ids = [str(uuid.uuid5(uuid.NAMESPACE_DNS, f"{name}.bench.ovnlab")) for name in names]
    assert len({i[:6] for i in ids}) == len(ids), "system-id prefixes collide"
    nodes = [{"hostname": name, "role": "network" if i == 0 else "compute",
              "system_id": ids[i], "tunnel_ip": f"192.168.50.{i + 1}",
              "ovn_bridge_mappings": {"extnet0": "br-ex"}} for i, name in enumerate(names)]
    return topology.from_dict({
        "name": f"scale-{chassis}",
        "neutron": {"ovn": {"enable_distributed_floating_ip": True}},
        "nodes": nodes,
        "physical_networks": [{"name": "extnet0", "cidr": "10.0.0.0/16"}],
        "external_routers": [{"name": "extgw", "physical_network": "extnet0",
                              "ip": "10.0.0.1", "mac": "02:00:0a:00:00:01"}],
        "internet_hosts": [{"name": "google-dns", "ip": PING_DEST, "reverse_name": "dns.google"}],
    })


@dataclass
class Built:
    lab: Lab
    report: dict[str, Any]
    vms: list[str]  # built, in boot order
    hosts: dict[str, str]  # VM → chassis
    fips: dict[str, str]  # VM → FIP


def _associate(lab: Lab, vm: str,
               then: Callable[[str], object] = lambda _fip: None,
               ) -> tuple[str, float, tuple[float, float]]:
    """A new FIP on `vm`: (address, create seconds, (wall, CPU) seconds of the
    association and of `then(fip)`, timed with it)."""
    os = lab.openstack
    t0 = time.perf_counter()
    fip = os.floating_ip_create("ext")["floating_ip_address"]
    start = _clock()
    os.server_add_floating_ip(vm, fip)
    then(fip)
    return fip, start[0] - t0, _since(start)


def build_cloud(scale: Scale, profile_ops: int = 3) -> Built:
    """The cloud of `scale` through `lab.openstack`, VM boots bounded by the budget."""
    t_lab = _clock()
    lab = Lab(scale_topology(scale.chassis))
    lab_wall, lab_cpu = _since(t_lab)
    os = lab.openstack
    t_net = _clock()
    build_networks(os, scale.routers, scale.tenant_networks)
    net_wall, net_cpu = _since(t_net)

    computes = [n.hostname for n in lab.topology.compute_nodes]
    vms: list[str] = []
    hosts: dict[str, str] = {}
    fips: dict[str, str] = {}
    fip_log: list[dict[str, Any]] = []
    checkpoints: list[dict[str, Any]] = []
    prof: cProfile.Profile | None = None
    stop_at = scale.vms
    profiled_from = 0
    t_vms = _clock()
    for v in range(scale.vms):
        if v >= stop_at:
            break
        wall, _cpu = _since(t_vms)
        if prof is None and (v >= scale.vms - profile_ops or wall > scale.budget_s):
            prof = cProfile.Profile()  # the last boots, at the size reached
            stop_at = min(scale.vms, v + profile_ops)
            profiled_from = v
            prof.enable()
        name, host = f"vm-{v}", computes[v % len(computes)]
        t_boot, c_boot = _clock()
        os.server_create(name, network=f"tenant-{v % scale.tenant_networks}", host=host)
        vms.append(name)
        hosts[name] = host
        if v % scale.fip_every == 0:
            fip, create_s, (assoc_s, assoc_cpu) = _associate(lab, name)
            fips[name] = fip
            fip_log.append({"vms": len(vms), "create_s": round(create_s, 3),
                            "associate_s": round(assoc_s, 3),
                            "associate_cpu_s": round(assoc_cpu, 3)})
        if len(vms) in CHECKPOINTS or len(vms) == stop_at:
            wall, cpu = _since(t_vms)
            checkpoints.append({"vms": len(vms), "wall_s": round(wall, 2),
                                "cpu_s": round(cpu, 2),
                                "this_boot_wall_s": round(time.perf_counter() - t_boot, 3),
                                "this_boot_cpu_s": round(time.process_time() - c_boot, 3),
                                "profiled": prof is not None})
    if prof is not None:
        prof.disable()
    vms_wall, vms_cpu = _since(t_vms)
    report: dict[str, Any] = {
        "scale": asdict(scale),
        "vms_built": len(vms), "fips": len(fips),
        "complete": len(vms) == scale.vms,
        "lab_start_s": round(lab_wall, 2), "lab_start_cpu_s": round(lab_cpu, 2),
        "networks_routers_s": round(net_wall, 2), "networks_routers_cpu_s": round(net_cpu, 2),
        "vm_boots_s": round(vms_wall, 2), "vm_boots_cpu_s": round(vms_cpu, 2),
        "checkpoints": checkpoints,
        "fip_associations": fip_log,
        "sb_logical_flows": len(lab.sb.tables["Logical_Flow"]),
        "br_int_flows_per_chassis": _flow_counts(lab),
    }
    if prof is not None:
        report["profile"] = {
            "what": f"VM boots {profiled_from + 1}..{len(vms)} (server_create + converge, "
                    "incl. FIP association when due), under cProfile",
            "phases": _profile_phases(prof),
            "by_tottime": _profile_rows(prof, "tottime"),
            "by_cumulative": _profile_rows(prof, "cumulative"),
        }
    return Built(lab, report, vms, hosts, fips)


def _flow_counts(lab: Lab) -> dict[str, int]:
    counts = sorted(vs.bridges["br-int"].n_flows for vs in lab.vswitches.values())
    return {"min": counts[0], "median": int(statistics.median(counts)), "max": counts[-1]}


def ping_all(built: Built) -> dict[str, Any]:
    """Every built VM sends one echo to 8.8.8.8, 1 ms apart; twice (cold, then warm)."""
    out: dict[str, Any] = {}
    lab = built.lab
    for n, label in enumerate(("cold", "warm")):
        before, marks, t_virtual = _frames(lab), _capture_marks(lab), lab.fabric.now
        start = _clock()
        got = _echo_all(lab, built.vms, PING_DEST, 1000 + n * 20000)
        wall, cpu = _since(start)
        failed = [vm for vm, ok in got.items() if not ok]
        frames = _frames(lab) - before
        out[label] = {
            "vms": len(got), "replied": len(got) - len(failed), "failed": len(failed),
            "failed_vms": failed[:20],
            "failed_with_fip": sum(1 for vm in failed if vm in built.fips),
            "wall_s": round(wall, 3), "cpu_s": round(cpu, 3), "frames": frames,
            "frames_per_cpu_second": round(frames / cpu) if cpu else None,
            "virtual_seconds": round(lab.fabric.now - t_virtual, 3),
            "frames_by_kind": _kinds_since(lab, marks),
        }
    return out


def _capture_marks(lab: Lab) -> dict[tuple[str, str], int]:
    return {(node, iface): len(frames) for node in lab.fabric.nodes
            for iface, frames in lab.fabric.captures(node).items()}


def _kinds_since(lab: Lab, marks: dict[tuple[str, str], int]) -> dict[str, int]:
    """Frames received since `marks`, by kind (what filled the run: ARP, GARPs, echoes)."""
    kinds: dict[str, int] = {}
    for node in lab.fabric.nodes:
        for iface, frames in lab.fabric.captures(node).items():
            for c in frames[marks.get((node, iface), 0):]:
                if c.direction != "in":
                    continue
                p = c.packet.geneve.inner if c.packet.geneve is not None else c.packet
                kind = ("arp" if p.eth_type == ETH_ARP else
                        "icmp" if p.ip_proto == PROTO_ICMP else "other")
                if c.packet.geneve is not None:
                    kind = f"geneve/{kind}"
                kinds[kind] = kinds.get(kind, 0) + 1
    return dict(sorted(kinds.items()))


# ---------------------------------------------------------------- (c) one FIP → flows


def fip_flows_current(lab: Lab, host: str, vm_ip: str, fip: str) -> bool:
    """The VM chassis's br-int holds the FIP's DNAT (table 14) and SNAT (table 43)."""
    lines = lab.vswitches[host].bridges["br-int"].dump_flows(stats=False)
    dnat = any("table=14," in x and f"nw_dst={fip} " in x and f"nat(dst={vm_ip})" in x
               for x in lines)
    snat = any("table=43," in x and f"nat(src={fip})" in x for x in lines)
    return dnat and snat


def measure_fip(built: Built, repeats: int) -> dict[str, Any]:
    lab = built.lab
    candidates = [vm for vm in reversed(built.vms) if vm not in built.fips][:repeats]
    times, cpus, checks = [], [], []
    for vm in candidates:
        server = lab.openstack.find("server", vm)
        port = lab.cloud.get_ports(lab.admin, filters={"device_id": [server["id"]]})[0]
        vm_ip = port["fixed_ips"][0]["ip_address"]

        def check(fip: str, vm: str = vm, vm_ip: str = vm_ip) -> None:
            # reading br-int first brings in what its controller left (deferral.py)
            checks.append(fip_flows_current(lab, built.hosts[vm], vm_ip, fip))

        fip, _create, (assoc, cpu) = _associate(lab, vm, check)
        cpus.append(cpu)
        built.fips[vm] = fip
        times.append(assoc)
    return {
        "chassis": built.report["scale"]["chassis"], "vms": len(built.vms),
        "fips_before": len(built.fips) - len(times),
        "associate_to_flows_current_s": [round(t, 3) for t in times],
        "median_s": round(statistics.median(times), 3) if times else None,
        "cpu_s": [round(c, 3) for c in cpus],
        "flows_current_after_call": checks,
    }


# ---------------------------------------------------------------- driver


def _scale_child(args: tuple[Scale, int, bool]) -> dict[str, Any]:
    """One fresh process per lab, so that its peak RSS is its own."""
    scale, repeats, with_ping = args
    built = build_cloud(scale)
    out: dict[str, Any] = {"build": built.report}
    if with_ping:
        out["ping_all"] = ping_all(built)
    out["fip_convergence"] = measure_fip(built, repeats)
    out["peak_rss_mib"] = _peak_rss_mib()
    return out


def _in_child(fn: Callable[[Any], dict[str, Any]], arg: Any) -> dict[str, Any]:
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(1) as pool:
        return dict(pool.apply(fn, (arg,)))


def run(quick: bool = False) -> dict[str, Any]:
    scale = QUICK_SCALE if quick else FULL_SCALE
    fip_sizes = QUICK_FIP_SIZES if quick else FIP_SIZES
    repeats = QUICK_FIP_REPEATS if quick else FIP_REPEATS
    seed = bench_seed_path(QUICK_SEED_PINGS if quick else SEED_PINGS)
    big = _in_child(_scale_child, (scale, repeats, True))
    fip = [_in_child(_scale_child, (s, repeats, False))["fip_convergence"] for s in fip_sizes]
    fip.append(big["fip_convergence"])
    return {"benchmark": "lab", "quick": quick, "seed_path": seed,
            "scale": {k: v for k, v in big.items() if k != "fip_convergence"},
            "fip_convergence": fip}


if __name__ == "__main__":
    print(json.dumps(run(quick="--quick" in sys.argv[1:]), indent=2))
