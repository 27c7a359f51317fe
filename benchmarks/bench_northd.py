"""northd: full NB→SB build and incremental FIP association on generated clouds.

One router, one tenant network whose VM ports each have a distributed FIP (1:1), an
external network, gateway chassis on up to 5 of the registered chassis. For each size:
full build time and logical flow count, logical flows per FIP, time to associate one more
FIP (NB transaction + incremental northd run) and to add one VM port, peak memory (RSS of
a fresh child process per size).

When the real OVN 22.03 programs are here (../shared/ovn-22.03, $OVN22_DIR), the same run
starts them on the same generated cloud (ovnlab's NB and SB, exported before ovnlab's
northd runs) and reports their figures beside ovnlab's, with the ratio real / ovnlab: full
build (ovn-northd started on the loaded NB until `ovn-nbctl --wait=sb sync` returns), its
logical flows counted per datapath as ovnlab stores them (22.03 stores a flow that several
datapaths share once, with a Logical_DP_Group: `lflow_rows`, see docs/differences.md), one
more VM port and one more FIP (the same rows ovnlab added, each one `ovn-nbctl --wait=sb`
command), peak memory (VmHWM of ovn-northd, and of it with the NB and SB ovsdb-servers,
against ovnlab's one process, which holds both databases). The real side runs up to 1000
FIPs (`--full`: 10k, ~100 s for its full build); without the programs, a note says why.
Run: `python -m benchmarks.bench_northd [--full]` (prints JSON; a table on stderr).
"""

from __future__ import annotations

import json
import multiprocessing
import resource
import statistics
import sys
import time
from typing import Any

from benchmarks import real_ovn22
from ovnlab.export import DbKind, export_db
from ovnlab.northd import Northd
from ovnlab.northd.samples import fip_cloud, fip_row, register_chassis
from ovnlab.ovsdb import Database
from ovnlab.sb import new_sb

SIZES: tuple[tuple[int, int], ...] = ((100, 10), (1000, 100), (10000, 1000))
REPEATS = 5
REAL_REPEATS = 3  # the real northd recomputes everything per change: 11-12 s each at 10k
REAL_MAX_FIPS = 1000  # `--full`: the real side at 10k FIPs too


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


def measure(n_fips: int, n_chassis: int, check_full: bool = True,
            real: bool = False) -> dict[str, Any]:
    t0 = time.perf_counter()
    nb = fip_cloud(n_fips, n_chassis)
    sb = new_sb()
    register_chassis(sb, n_chassis)
    nb_s = time.perf_counter() - t0
    exported = (export_db(nb, DbKind.NB), export_db(sb, DbKind.SB)) if real else None
    northd = Northd(nb, sb)
    t0, c0 = time.perf_counter(), time.process_time()
    northd.run()
    full_s, full_cpu = time.perf_counter() - t0, time.process_time() - c0
    lflows = len(sb.tables["Logical_Flow"])
    vm_times, fip_times, per_fip, added = [], [], [], []
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
        added.append(vm)
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
        register_chassis(fresh, n_chassis)
        Northd(nb, fresh).run()
        out["incremental_equals_full_lflow_count"] = (
            len(fresh.tables["Logical_Flow"]) == len(sb.tables["Logical_Flow"]))
    out["peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    if exported is not None:
        commands = [(_vm_command(nb, vm), _fip_command(nb, vm)) for vm in added[:REAL_REPEATS]]
        out["real_ovn_22_03"] = measure_real(n_fips, *exported, commands)
        out["ratio_real_over_ovnlab"] = _ratios(out, out["real_ovn_22_03"])
    return out


def _vm_command(nb: Database, vm: str) -> list[str]:
    """ovnlab's added VM port as one ovn-nbctl transaction (port, switch, port groups)."""
    port = nb.find("Logical_Switch_Port", name=vm)[0]
    args = ["--id=@p", "create", "logical_switch_port", f"name={vm}",
            *(f'{col}="{port[col][0]}"' for col in ("addresses", "port_security")),
            "--", "add", "logical_switch", "neutron-tenant", "ports", "@p"]
    for pg in nb.rows("Port_Group"):
        args += ["--", "add", "port_group", pg["name"], "ports", "@p"]
    return args


def _fip_command(nb: Database, vm: str) -> list[str]:
    """ovnlab's added FIP as the `ovn-nbctl lr-nat-add` Neutron's driver amounts to."""
    nat = nb.find("NAT", logical_port=vm)[0]
    return ["lr-nat-add", nb.rows("Logical_Router")[0]["name"], "dnat_and_snat",
            nat["external_ip"], nat["logical_ip"], vm, nat["external_mac"]]


def measure_real(n_fips: int, nb_file: bytes, sb_file: bytes,
                 commands: list[tuple[list[str], list[str]]]) -> dict[str, Any]:
    """The real 22.03 ovn-northd on the same NB and SB: full build, then each added VM
    port and FIP timed to `--wait=sb`."""
    central = real_ovn22.Central(real_ovn22.RUN_ROOT / f"northd-{n_fips}", nb_file, sb_file)
    try:
        full_s = central.start_northd()
        lflows, lflow_rows = central.lflow_counts()
        vm_times, fip_times = [], []
        for vm_cmd, fip_cmd in commands:
            vm_times.append(central.wait("sb", *vm_cmd))
            fip_times.append(central.wait("sb", *fip_cmd))
        rss = central.peak_rss_mib()
    finally:
        central.close()
    return {"full_build_s": round(full_s, 3), "lflows": lflows, "lflow_rows": lflow_rows,
            "add_one_fip_s": round(statistics.median(fip_times), 4),
            "add_one_fip_max_s": round(max(fip_times), 4),
            "add_one_vm_port_s": round(statistics.median(vm_times), 4),
            "repeats": len(commands),
            "peak_rss_mib": {"ovn_northd": rss["northd"],
                             "with_nb_sb_ovsdb_servers": round(sum(rss.values()), 1)}}


def _ratios(ours: dict[str, Any], real: dict[str, Any]) -> dict[str, float | None]:
    return {key: real_ovn22.ratio(ours[key], real[key])
            for key in ("full_build_s", "add_one_fip_s", "add_one_vm_port_s")} | {
        "peak_rss_mib": real_ovn22.ratio(ours["peak_rss_mib"],
                                         real["peak_rss_mib"]["with_nb_sb_ovsdb_servers"])}


def _child(args: tuple[int, int, bool, bool]) -> dict[str, Any]:
    return measure(*args)


def run(sizes: tuple[tuple[int, int], ...] = SIZES,
        real_max_fips: int = REAL_MAX_FIPS) -> dict[str, Any]:
    """One fresh process per size, so that peak RSS is that size's own; the real 22.03
    programs beside it up to `real_max_fips` FIPs, when they are here."""
    note = real_ovn22.unavailable_note()
    ctx = multiprocessing.get_context("spawn")
    results = []
    for n_fips, n_chassis in sizes:
        real = note is None and n_fips <= real_max_fips
        with ctx.Pool(1) as pool:
            results.append(pool.apply(_child, ((n_fips, n_chassis, n_fips <= 1000, real),)))
    out = {"benchmark": "northd", "target_add_one_fip_at_10k_s": 0.05, "sizes": results,
           "real_ovn_22_03": note or {"ran": True, "up_to_fips": real_max_fips,
                                      "programs": str(real_ovn22.ovn22_dir())}}
    print(_table(results), file=sys.stderr)
    return out


def _table(results: list[dict[str, Any]]) -> str:
    rows = ["fips  what                 ovnlab      real 22.03  real/ovnlab"]
    for r in results:
        real = r.get("real_ovn_22_03")
        for label, key, unit in (("full build", "full_build_s", "s"),
                                 ("+1 FIP, SB current", "add_one_fip_s", "s"),
                                 ("+1 VM port", "add_one_vm_port_s", "s"),
                                 ("peak RSS", "peak_rss_mib", "MiB")):
            theirs = None if real is None else real[key]
            if isinstance(theirs, dict):
                theirs = theirs["with_nb_sb_ovsdb_servers"]
            ratio = r.get("ratio_real_over_ovnlab", {}).get(key)
            rows.append(f"{r['fips']:<5} {label:<20} {r[key]:>8} {unit:<3} "
                        f"{'-' if theirs is None else theirs:>8} {unit:<3} "
                        f"{'-' if ratio is None else ratio:>8}")
    return "\n".join(rows)


if __name__ == "__main__":
    full = "--full" in sys.argv
    print(json.dumps(run(real_max_fips=10000 if full else REAL_MAX_FIPS), indent=2))
