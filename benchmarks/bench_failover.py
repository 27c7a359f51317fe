"""Failover benchmark: what BFD costs an idle lab, and what a measured failover costs.

- `bfd_idle`: a generated lab (bench_lab's clouds: routers with gateways on up to five
  chassis, VMs on every compute node) left to run 10 virtual seconds with no traffic but
  BFD: sessions, control messages per virtual second, and virtual seconds per CPU second.
- `failover_seed`: `ovnlab.failover.measure` on the seed (the network node stopped for
  8 s and started for 8 s while two VMs ping every 0.2 s): CPU and wall seconds.
- `figures`: ovnlab's column of docs/failover.md's table, ten measured failovers (the
  failure 0.0-0.9 s into BFD's cycle and 0-0.21 s into the ping's), as ranges.
Run: `python -m benchmarks.bench_failover [--quick]` (prints JSON).
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

from benchmarks.bench_lab import Scale, build_cloud
from ovnlab.failover import measure
from ovnlab.lab import Lab
from ovnlab.scenario import run_article

IDLE_SECONDS = 10.0
SIZES = (Scale(3, 4, tenant_networks=2, routers=1, fip_every=2, budget_s=120.0),
         Scale(10, 20, budget_s=300.0), Scale(30, 30, budget_s=600.0))
QUICK_SIZES = SIZES[:1]


def bfd_idle(scale: Scale) -> dict[str, Any]:
    lab = build_cloud(scale, profile_ops=0).lab
    runners = [lab.fabric.chassis(n).bfd for n in lab.fabric.chassis_names()]
    sessions = sum(len(r.sessions) for r in runners)
    sent0 = sum(r.sent for r in runners)
    events0 = lab.fabric.clock.events_run
    wall0, cpu0 = time.perf_counter(), time.process_time()
    lab.fabric.run(IDLE_SECONDS)
    cpu = time.process_time() - cpu0
    sent = sum(r.sent for r in runners) - sent0
    return {"chassis": scale.chassis, "vms": scale.vms, "sessions": sessions,
            "messages_per_virtual_s": round(sent / IDLE_SECONDS, 1),
            "events_per_virtual_s": round((lab.fabric.clock.events_run - events0)
                                          / IDLE_SECONDS, 1),
            "cpu_s": round(cpu, 3), "wall_s": round(time.perf_counter() - wall0, 3),
            "virtual_s_per_cpu_s": round(IDLE_SECONDS / cpu, 1) if cpu else None,
            "all_up": all(s.forwarding for r in runners for s in r.sessions.values())}


def failover_seed() -> dict[str, Any]:
    lab = Lab.build("seed")
    run_article(lab.openstack)
    lab.openstack.server_create("vm_2", network="n1", host="compute2")
    wall0, cpu0 = time.perf_counter(), time.process_time()
    report = measure(lab, "network", ["vm_1", "vm_2"])
    return {"cpu_s": round(time.process_time() - cpu0, 3),
            "wall_s": round(time.perf_counter() - wall0, 3),
            "virtual_s": 17.0, "bfd_down_s": report.stop.bfd_down,
            "snat_vm_lost": report.stop.vms[-1].lost}


def figures(runs: int = 10) -> dict[str, Any]:
    """vm_1 has the FIP (compute1), vm_3 no FIP on compute1 (the backup, as the real lab's
    no-FIP VM), vm_2 no FIP on compute2."""
    rows: dict[str, list[float]] = {}

    def add(key: str, value: float | None) -> None:
        if value is not None:
            rows.setdefault(key, []).append(value)

    for i in range(runs):
        lab = Lab.build("seed")
        run_article(lab.openstack)
        lab.openstack.server_create("vm_2", network="n1", host="compute2")
        lab.openstack.server_create("vm_3", network="n1", host="compute1")
        lab.fabric.run(i * 0.1)
        report = measure(lab, "network", ["vm_1", "vm_2", "vm_3"], lead=1.0 + i * 0.023)
        stop, start = report.stop, report.start
        add("bfd_down_s", stop.bfd_down)
        add("claimed_by_compute1_s", next((c.time for c in stop.claims
                                            if c.chassis == "compute1"), None))
        for vm in stop.vms:
            add(f"{vm.vm}_lost", vm.lost)
            add(f"{vm.vm}_outage_s", vm.outage)
        add("failback_released_s", next((c.time for c in start.claims if not c.chassis), None))
        add("failback_claimed_s", max((c.time for c in start.claims
                                       if c.chassis == "network"), default=None))
        for vm in start.vms:
            add(f"failback_{vm.vm}_lost", vm.lost)
    return {key: [min(values), max(values)] for key, values in rows.items()}


def run(quick: bool = False) -> dict[str, Any]:
    return {"bfd_idle": [bfd_idle(s) for s in (QUICK_SIZES if quick else SIZES)],
            "failover_seed": failover_seed(),
            "figures": figures(3 if quick else 10)}


if __name__ == "__main__":
    print(json.dumps(run(quick="--quick" in sys.argv[1:]), indent=2))
