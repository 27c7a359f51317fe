"""northd: full NB→SB build and incremental FIP association on generated clouds.

One router, one tenant network whose VM ports each have a distributed FIP (1:1), an
external network, gateway chassis on up to 5 of the registered chassis. For each size:
full build time and logical flow count, logical flows per FIP, time to associate one more
FIP (NB transaction + incremental northd run) and to add one VM port, peak memory (RSS of
a fresh child process per size). Compared with real ovn-northd 23.03 measured on this kind
of machine (it recomputes everything on every change).
Run: `python -m benchmarks.bench_northd` (prints JSON).
"""

from __future__ import annotations

import json
import multiprocessing
import resource
import statistics
import time
from typing import Any

from ovnlab.northd import Northd
from ovnlab.northd.samples import fip_cloud, fip_row
from ovnlab.ovsdb import Database
from ovnlab.sb import new_sb

SIZES: tuple[tuple[int, int], ...] = ((100, 10), (1000, 100), (10000, 1000))
REPEATS = 5
# Real ovn-northd 23.03 (issue 4): FIPs -> (seconds to add one FIP, full build seconds,
# logical flows); 5k has no full-build/lflow figure for the 2.5K/26K/211K/621K series.
REAL_NORTHD = {
    100: {"add_one_fip_s": 0.045, "full_build_s": 0.2, "lflows": 2500},
    1000: {"add_one_fip_s": 0.43, "full_build_s": 3.0, "lflows": 26000},
    5000: {"add_one_fip_s": 4.6, "full_build_s": 33.6, "lflows": 211000},
    10000: {"add_one_fip_s": 15.9, "full_build_s": 106.0, "lflows": 621000},
}


def _register_chassis(sb: Database, n: int) -> None:
    with sb.transaction() as txn:
        for i in range(n):
            enc = txn.insert("Encap", type="geneve", ip=f"192.168.{i // 250}.{i % 250 + 1}",
                             chassis_name=f"chassis-{i}", options={"csum": "true"})
            txn.insert("Chassis", name=f"chassis-{i}", hostname=f"node-{i}", encaps=(enc.uuid,),
                       other_config={"ovn-bridge-mappings": "extnet0:br-ex"})


def _add_vm(nb: Database, i: int) -> str:
    name = f"bench-vm-{i}"
    mac = f"fa:16:3e:ee:{i // 256 % 256:02x}:{i % 256:02x}"
    ip = f"10.250.{i // 256 % 256}.{i % 256}"
    with nb.transaction() as txn:
        p = txn.insert("Logical_Switch_Port", name=name, addresses=(f"{mac} {ip}",),
                       port_security=(f"{mac} {ip}",))
        ls = nb.get("Logical_Switch", "neutron-tenant")
        txn.update("Logical_Switch", ls.uuid, ports=(*ls["ports"], p.uuid))
        for pg in nb.rows("Port_Group"):
            txn.update("Port_Group", pg.uuid, ports=(*pg["ports"], p.uuid))
    return name


def _add_fip(nb: Database, i: int, vm: str) -> None:
    with nb.transaction() as txn:
        lr = nb.rows("Logical_Router")[0]
        txn.update("Logical_Router", lr.uuid, nat=(*lr["nat"], fip_row(txn, 500000 + i, vm)))


def measure(n_fips: int, n_chassis: int, check_full: bool = True) -> dict[str, Any]:
    t0 = time.perf_counter()
    nb = fip_cloud(n_fips, n_chassis)
    sb = new_sb()
    _register_chassis(sb, n_chassis)
    nb_s = time.perf_counter() - t0
    northd = Northd(nb, sb)
    t0, c0 = time.perf_counter(), time.process_time()
    northd.run()
    full_s, full_cpu = time.perf_counter() - t0, time.process_time() - c0
    lflows = len(sb.tables["Logical_Flow"])
    vm_times, fip_times, per_fip = [], [], []
    for k in range(REPEATS):
        t0 = time.perf_counter()
        vm = _add_vm(nb, k)
        northd.run()
        vm_times.append(time.perf_counter() - t0)
        before = len(sb.tables["Logical_Flow"])
        t0 = time.perf_counter()
        _add_fip(nb, k, vm)
        northd.run()
        fip_times.append(time.perf_counter() - t0)
        per_fip.append(len(sb.tables["Logical_Flow"]) - before)
    out: dict[str, Any] = {
        "fips": n_fips, "chassis": n_chassis,
        "nb_build_s": round(nb_s, 3),
        "full_build_s": round(full_s, 3), "full_build_cpu_s": round(full_cpu, 3),
        "lflows": lflows,
        "port_bindings": len(sb.tables["Port_Binding"]),
        "lflows_per_fip": statistics.median(per_fip),
        "add_one_fip_s": round(statistics.median(fip_times), 4),
        "add_one_fip_max_s": round(max(fip_times), 4),
        "add_one_vm_port_s": round(statistics.median(vm_times), 4),
    }
    if check_full:
        fresh = new_sb()
        _register_chassis(fresh, n_chassis)
        Northd(nb, fresh).run()
        out["incremental_equals_full_lflow_count"] = (
            len(fresh.tables["Logical_Flow"]) == len(sb.tables["Logical_Flow"]))
    out["peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    real = REAL_NORTHD.get(n_fips)
    if real is not None:
        out["real_ovn_northd_23_03"] = real
        out["speedup_add_one_fip"] = round(real["add_one_fip_s"] / out["add_one_fip_s"], 1)
        out["speedup_full_build"] = round(real["full_build_s"] / full_s, 2)
    return out


def _child(args: tuple[int, int, bool]) -> dict[str, Any]:
    return measure(*args)


def run(sizes: tuple[tuple[int, int], ...] = SIZES) -> dict[str, Any]:
    """One fresh process per size, so that peak RSS is that size's own."""
    ctx = multiprocessing.get_context("spawn")
    results = []
    for n_fips, n_chassis in sizes:
        with ctx.Pool(1) as pool:
            results.append(pool.apply(_child, ((n_fips, n_chassis, n_fips <= 1000),)))
    return {"benchmark": "northd", "target_add_one_fip_at_10k_s": 0.05, "sizes": results}


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
