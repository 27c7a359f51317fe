"""Failover benchmark: what BFD costs an idle lab, and what a measured failover costs.

- `bfd_idle`: a generated lab (bench_lab's clouds: routers with gateways on up to five
  chassis, VMs on every compute node) left to run 10 virtual seconds with no traffic but
  BFD: sessions, control messages per virtual second, and virtual seconds per CPU second.
- `failover_seed`: `ovnlab.failover.measure` on the seed (the network node stopped for
  8 s and started for 8 s while two VMs ping every 0.2 s): CPU and wall seconds.
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


def run(quick: bool = False) -> dict[str, Any]:
    return {"bfd_idle": [bfd_idle(s) for s in (QUICK_SIZES if quick else SIZES)],
            "failover_seed": failover_seed()}


if __name__ == "__main__":
    print(json.dumps(run(quick="--quick" in sys.argv[1:]), indent=2))
