"""ovn-controller benchmark: per-chassis compile time and flow counts for generated clouds
(one router, N VM ports each with a distributed FIP, VMs spread over C chassis), and the
time from one new FIP's logical flows to the VM chassis's OpenFlow table being current.

Only the measured chassis (the VM chassis `chassis-1`) runs a Controller; the other
chassis are SB rows with their ports bound to them (as their own controllers would do).
Run: `python -m benchmarks.bench_controller [--full]` (prints JSON).
"""

from __future__ import annotations

import json
import sys
import time
import tracemalloc
from typing import Any

from ovnlab.controller import Controller
from ovnlab.datapath import Vswitch
from ovnlab.northd import Northd
from ovnlab.northd.samples import fip_cloud, fip_row
from ovnlab.ovsdb import Database
from ovnlab.sb import new_sb
from ovnlab.topology import NodeSpec

SIZES = ((10, 100), (100, 1000), (1000, 10000))
FULL = tuple((c, f) for c in (10, 100, 1000) for f in (100, 1000, 10000))
MEASURED = "chassis-1"


def _chassis_rows(sb: Database, n: int) -> None:
    with sb.transaction() as txn:
        for i in range(n):
            name = f"chassis-{i}"
            if name == MEASURED:
                continue
            enc = txn.insert("Encap", type="geneve", ip=f"192.168.{i >> 8}.{i & 0xff}",
                             options={"csum": "true"}, chassis_name=name)
            txn.insert("Chassis", name=name, hostname=name, encaps=(enc.uuid,),
                       other_config={"ovn-bridge-mappings": "extnet0:br-ex"})


def _bind_others(sb: Database, n_chassis: int) -> list[str]:
    """Bind VM ports round-robin; returns the logical ports meant for MEASURED."""
    chassis = {r["name"]: r.uuid for r in sb.rows("Chassis")}
    mine: list[str] = []
    vms = sorted((r for r in sb.rows("Port_Binding") if r["type"] == ""),
                 key=lambda r: r["tunnel_key"])
    with sb.transaction() as txn:
        for i, pb in enumerate(vms):
            name = f"chassis-{i % n_chassis}"
            if name == MEASURED:
                mine.append(pb["logical_port"])
            elif name in chassis:
                txn.update("Port_Binding", pb.uuid, chassis=chassis[name], up=True)
    return mine


def one_size(n_chassis: int, n_fips: int) -> dict[str, Any]:
    nb = fip_cloud(n_fips, n_chassis)
    sb = new_sb()
    _chassis_rows(sb, n_chassis)
    t0 = time.perf_counter()
    northd = Northd(nb, sb)
    northd.run()
    northd_s = time.perf_counter() - t0
    mine = _bind_others(sb, n_chassis)
    n_lflows = len(sb.rows("Logical_Flow"))

    node = NodeSpec(hostname=MEASURED, role="compute", system_id=MEASURED,
                    tunnel_ip="192.168.0.1", ovn_bridge_mappings=(("extnet0", "br-ex"),))
    vs = Vswitch(MEASURED)
    br = vs.add_bridge("br-int", fail_mode="secure")
    for k, lport in enumerate(mine):
        br.add_port(f"tap{k}", external_ids={"iface-id": lport})
    t0 = time.perf_counter()
    ctl = Controller(sb, vs, node, install=False)
    compile_s = time.perf_counter() - t0
    n_flows = len(ctl.flows())
    t0 = time.perf_counter()
    ctl.install_enabled = True
    ctl.run()  # nothing changed: just the first install into the datapath
    install_s = time.perf_counter() - t0

    # One more FIP: drop a VM's FIP on this chassis, then measure associating it again.
    vm = mine[0]
    nat = next(r for r in nb.rows("NAT") if r["logical_port"] == vm)
    idx = int(nat["external_ip"].split(".")[-1]) - 10 + 256 * int(
        nat["external_ip"].split(".")[-2]) + 65536 * (int(nat["external_ip"].split(".")[1]) - 64)
    router = nb.rows("Logical_Router")[0]
    with nb.transaction() as txn:
        txn.update("Logical_Router", router.uuid,
                   nat=tuple(u for u in router["nat"] if u != nat.uuid))
        txn.delete("NAT", nat.uuid)
    northd.run()
    before = ctl.stats["lflows_compiled"]
    t0 = time.perf_counter()
    with nb.transaction() as txn:
        new = fip_row(txn, idx, vm)
        router = nb.get("Logical_Router", router.uuid)
        txn.update("Logical_Router", router.uuid, nat=(*router["nat"], new))
    northd.run()  # SB commit → the controller runs inside the same call (its SB listener)
    total_s = time.perf_counter() - t0
    fip = nb.get("NAT", new)["external_ip"]
    assert any(fip in f.match_text() for f in ctl.flows())
    return {
        "chassis": n_chassis, "fips": n_fips, "sb_lflows": n_lflows,
        "northd_full_s": round(northd_s, 3),
        "controller_compile_s": round(compile_s, 3),
        "openflow_flows": n_flows,
        "install_s": round(install_s, 3),
        "flows_per_fip": round(n_flows / n_fips, 1),
        "one_fip_total_s": round(total_s, 4),
        "one_fip_controller_s": round(ctl.stats["last_run_s"], 4),
        "one_fip_lflows_recompiled": int(ctl.stats["lflows_compiled"] - before),
    }


def run(sizes: tuple[tuple[int, int], ...] = SIZES, memory: bool = True) -> dict[str, Any]:
    results = [one_size(c, f) for c, f in sizes]
    out: dict[str, Any] = {"benchmark": "controller", "results": results}
    if memory:  # tracemalloc slows Python ~3x: measured on the middle size
        c, f = sizes[min(1, len(sizes) - 1)]
        tracemalloc.start()
        one_size(c, f)
        _cur, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        out["peak_memory_mib"] = {"chassis": c, "fips": f, "mib": round(peak / 2**20, 1)}
    return out


if __name__ == "__main__":
    print(json.dumps(run(FULL if "--full" in sys.argv else SIZES,
                         memory="--no-memory" not in sys.argv), indent=2))
