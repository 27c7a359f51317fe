"""ovn-controller benchmark: per-chassis compile time and flow counts for generated clouds
(one router, N VM ports each with a distributed FIP, VMs spread over C chassis), and the
time from one new FIP's logical flows to the VM chassis's OpenFlow table being current.

Only the measured chassis (the VM chassis `chassis-1`) runs a Controller; the other
chassis are SB rows with their ports bound to them (as their own controllers would do).
Each size runs in a fresh child process, whose peak RSS (NB, SB, northd, the controller
and its datapath, all in one process) is reported.

When the real OVN 22.03 programs are here (../shared/ovn-22.03, $OVN22_DIR), the same run
starts them on the same cloud (ovnlab's NB and SB, exported before ovnlab's northd runs):
ovn-northd, and one real chassis `chassis-1` (ovsdb-server, ovs-vswitchd on a dummy
datapath, ovn-controller) with a VIF on br-int for each of its VM ports, the other VM ports
bound in the SB to the chassis ovnlab bound them to. The FIP of one of its VMs is removed
and associated again (`ovn-nbctl lr-nat-add`), timed until `--wait=sb` and until
`--wait=hv` (the chassis's OpenFlow current) returns; peak memory is the VmHWM of
ovn-controller and of every real daemon together. The real side runs up to 1000 FIPs
(`--full`: every size); without the programs, a note says why.
Run: `python -m benchmarks.bench_controller [--full]` (prints JSON; a table on stderr).
"""

from __future__ import annotations

import json
import multiprocessing
import resource
import statistics
import sys
import time
import tracemalloc
from typing import Any

from benchmarks import real_ovn22
from ovnlab.controller import Controller
from ovnlab.datapath import Vswitch
from ovnlab.export import DbKind, export_db
from ovnlab.flows import format_match
from ovnlab.northd import Northd
from ovnlab.northd.samples import fip_cloud, fip_row
from ovnlab.ovsdb import Database
from ovnlab.sb import new_sb
from ovnlab.topology import NodeSpec

SIZES = ((10, 100), (100, 1000), (1000, 10000))
FULL = tuple((c, f) for c in (10, 100, 1000) for f in (100, 1000, 10000))
MEASURED = "chassis-1"
MEASURED_IP = "192.168.0.1"
REAL_REPEATS = 3
REAL_MAX_FIPS = 1000  # `--full`: the real side at every size


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


def one_size(n_chassis: int, n_fips: int, real: bool = False) -> dict[str, Any]:
    nb = fip_cloud(n_fips, n_chassis)
    sb = new_sb()
    _chassis_rows(sb, n_chassis)
    exported = (export_db(nb, DbKind.NB), export_db(sb, DbKind.SB)) if real else None
    t0 = time.perf_counter()
    northd = Northd(nb, sb)
    northd.run()
    northd_s = time.perf_counter() - t0
    mine = _bind_others(sb, n_chassis)
    n_lflows = len(sb.rows("Logical_Flow"))

    node = NodeSpec(hostname=MEASURED, role="compute", system_id=MEASURED,
                    tunnel_ip=MEASURED_IP, ovn_bridge_mappings=(("extnet0", "br-ex"),))
    vs = Vswitch(MEASURED)
    vs.external_ids.update(node.ovs_external_ids())
    br = vs.add_bridge("br-int", fail_mode="secure")
    for k, lport in enumerate(mine):
        br.add_port(f"tap{k}", external_ids={"iface-id": lport})
    t0 = time.perf_counter()
    ctl = Controller(sb, vs, install=False)
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
    northd.run()  # the ports' `up`, written back to the NB by the run before
    ctl.run()
    before = ctl.stats["lflows_compiled"]
    t0 = time.perf_counter()
    with nb.transaction() as txn:
        new = fip_row(txn, idx, vm)
        router = nb.get("Logical_Router", router.uuid)
        txn.update("Logical_Router", router.uuid, nat=(*router["nat"], new))
    northd.run()
    sb_s = time.perf_counter() - t0
    ctl.run()  # its engine over the SB changes northd's commit queued
    total_s = time.perf_counter() - t0
    fip = nb.get("NAT", new)["external_ip"]
    assert any(fip in format_match(f.match, f.priority) for f in ctl.flows())
    out: dict[str, Any] = {
        "chassis": n_chassis, "fips": n_fips, "sb_lflows": n_lflows,
        "northd_full_s": round(northd_s, 3),
        "controller_compile_s": round(compile_s, 3),
        "openflow_flows": n_flows,
        "install_s": round(install_s, 3),
        "flows_per_fip": round(n_flows / n_fips, 1),
        "one_fip_total_s": round(total_s, 4),
        "one_fip_sb_current_s": round(sb_s, 4),
        "one_fip_controller_s": round(ctl.stats["last_run_s"], 4),
        "one_fip_lflows_recompiled": int(ctl.stats["lflows_compiled"] - before),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    if exported is not None:
        # the exported SB keeps ovnlab's row UUIDs: the Chassis rows are referenced by them
        bound = {pb["logical_port"]: pb["chassis"] for pb in sb.rows("Port_Binding")
                 if pb["type"] == "" and pb["chassis"]}
        theirs = measure_real(n_chassis, n_fips, *exported, bound, mine, _fip_command(nb, vm))
        out["real_ovn_22_03"] = theirs
        out["ratio_real_over_ovnlab"] = {
            "northd_full_s": real_ovn22.ratio(out["northd_full_s"], theirs["northd_full_s"]),
            "one_fip_sb_current_s": real_ovn22.ratio(out["one_fip_sb_current_s"],
                                                     theirs["one_fip_sb_current_s"]),
            "one_fip_total_s": real_ovn22.ratio(out["one_fip_total_s"],
                                                theirs["one_fip_hv_current_s"]),
            "peak_rss_mib": real_ovn22.ratio(out["peak_rss_mib"],
                                             theirs["peak_rss_mib"]["all_daemons"])}
    return out


def _fip_command(nb: Database, vm: str) -> list[str]:
    nat = nb.find("NAT", logical_port=vm)[0]
    return ["lr-nat-add", nb.rows("Logical_Router")[0]["name"], "dnat_and_snat",
            nat["external_ip"], nat["logical_ip"], vm, nat["external_mac"]]


def measure_real(n_chassis: int, n_fips: int, nb_file: bytes, sb_file: bytes,
                 bound: dict[str, str], mine: list[str], fip_add: list[str]) -> dict[str, Any]:
    """The real 22.03 ovn-northd and one real chassis on the same cloud: the FIP
    `fip_add` makes removed, then associated again, timed to --wait=sb and --wait=hv."""
    root = real_ovn22.RUN_ROOT / f"controller-{n_chassis}-{n_fips}"
    central = real_ovn22.Central(root / "central", nb_file, sb_file)
    chassis = None
    try:
        northd_s = central.start_northd()
        binds: list[str] = []
        for lport, chassis_uuid in sorted(bound.items()):
            binds += ["--", "set", "port_binding", lport, f"chassis={chassis_uuid}", "up=true"]
        if binds:
            central.sbctl(*binds[1:])
        chassis = real_ovn22.Chassis(central, root / MEASURED, MEASURED, MEASURED_IP,
                                     {"extnet0": "br-ex"})
        chassis.plug(mine)
        first_hv_s = central.wait("hv")
        flows = chassis.flow_count()
        fip_del = ["lr-nat-del", fip_add[1], "dnat_and_snat", fip_add[3]]
        sb_times: list[float] = []
        hv_times: list[float] = []
        for times, level in ((sb_times, "sb"), *((hv_times, "hv"),) * REAL_REPEATS):
            central.wait("hv", *fip_del)
            times.append(central.wait(level, *fip_add))
        central.wait("hv")
        if fip_add[3] not in real_ovn22.run("ovs-ofctl", "dump-flows", "br-int",
                                            env=chassis.env):
            raise RuntimeError(f"real ovn-controller has no flow for FIP {fip_add[3]}")
        rss = {**central.peak_rss_mib(), "controller": chassis.peak_rss_mib(),
               "vswitchd": chassis.daemons.peak_rss_mib("vswitchd"),
               "chassis_ovsdb": chassis.daemons.peak_rss_mib("ovsdb")}
    finally:
        if chassis is not None:
            chassis.close()
        central.close()
    return {"northd_full_s": round(northd_s, 3), "openflow_flows": flows,
            "first_hv_current_s": round(first_hv_s, 3),
            "one_fip_sb_current_s": round(sb_times[0], 4),
            "one_fip_hv_current_s": round(statistics.median(hv_times), 4),
            "one_fip_hv_current_max_s": round(max(hv_times), 4), "repeats": len(hv_times),
            "peak_rss_mib": {"ovn_controller": rss["controller"],
                             "ovn_northd": rss["northd"],
                             "all_daemons": round(sum(rss.values()), 1)}}


def _child(args: tuple[int, int, bool]) -> dict[str, Any]:
    return one_size(*args)


def run(sizes: tuple[tuple[int, int], ...] = SIZES, memory: bool = True,
        real_max_fips: int = REAL_MAX_FIPS) -> dict[str, Any]:
    """One fresh process per size (its own peak RSS); the real 22.03 programs beside it
    up to `real_max_fips` FIPs, when they are here."""
    note = real_ovn22.unavailable_note()
    ctx = multiprocessing.get_context("spawn")
    results = []
    for c, f in sizes:
        with ctx.Pool(1) as pool:
            results.append(pool.apply(_child, ((c, f, note is None and f <= real_max_fips),)))
    out: dict[str, Any] = {"benchmark": "controller", "results": results,
                           "real_ovn_22_03": note or {
                               "ran": True, "up_to_fips": real_max_fips,
                               "programs": str(real_ovn22.ovn22_dir())}}
    print(_table(results), file=sys.stderr)
    if memory:  # tracemalloc slows Python ~3x: measured on the middle size
        c, f = sizes[min(1, len(sizes) - 1)]
        tracemalloc.start()
        one_size(c, f)
        _cur, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        out["peak_memory_mib"] = {"chassis": c, "fips": f, "mib": round(peak / 2**20, 1)}
    return out


def _table(results: list[dict[str, Any]]) -> str:
    rows = ["chassis/fips  what                   ovnlab      real 22.03  real/ovnlab"]
    for r in results:
        real = r.get("real_ovn_22_03") or {}
        ratios = r.get("ratio_real_over_ovnlab", {})
        for label, ours, theirs, ratio, unit in (
                ("northd full build", r["northd_full_s"], real.get("northd_full_s"),
                 ratios.get("northd_full_s"), "s"),
                ("+1 FIP, SB current", r["one_fip_sb_current_s"],
                 real.get("one_fip_sb_current_s"), ratios.get("one_fip_sb_current_s"), "s"),
                ("+1 FIP, hv current", r["one_fip_total_s"], real.get("one_fip_hv_current_s"),
                 ratios.get("one_fip_total_s"), "s"),
                ("peak RSS (all)", r["peak_rss_mib"],
                 real.get("peak_rss_mib", {}).get("all_daemons"), ratios.get("peak_rss_mib"),
                 "MiB")):
            rows.append(f"{r['chassis']:>5}/{r['fips']:<6} {label:<20} "
                        f"{'-' if ours is None else ours:>8} {unit:<3} "
                        f"{'-' if theirs is None else theirs:>8} {unit:<3} "
                        f"{'-' if ratio is None else ratio:>8}")
    return "\n".join(rows)


if __name__ == "__main__":
    full = "--full" in sys.argv
    print(json.dumps(run(FULL if full else SIZES, memory="--no-memory" not in sys.argv,
                         real_max_fips=10**9 if full else REAL_MAX_FIPS), indent=2))
