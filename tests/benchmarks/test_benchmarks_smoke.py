"""`python -m benchmarks.run --quick --only lab`: the aggregator runs and its JSON has the
shape the README documents (timings are not asserted: the machine is shared)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _numbers(*values: object) -> bool:
    return all(isinstance(v, int | float) and not isinstance(v, bool) and v >= 0 for v in values)


def test_quick_lab_benchmark_json_shape(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    proc = subprocess.run([sys.executable, "-m", "benchmarks.run", "--quick", "--only", "lab",
                           "--output", str(out)], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    doc = json.loads(proc.stdout)
    assert json.loads(out.read_text()) == doc
    assert doc["quick"] is True and list(doc["benchmarks"]) == ["lab"]
    assert {"commit", "src_modified"} <= set(doc["source"])
    entry = doc["benchmarks"]["lab"]
    assert entry["ok"] is True and _numbers(entry["wall_seconds"], entry["cpu_seconds"])
    lab = entry["result"]

    seed = lab["seed_path"]
    assert seed["replies"] == seed["pings"] > 0
    assert _numbers(seed["frames_per_cpu_second"], seed["round_trips_per_cpu_second"],
                    seed["frames_per_wall_second"])
    assert seed["eth0_icmp_seen_on"] == ["compute1"] and seed["left_as_fip_from_vm_chassis"]

    build = lab["scale"]["build"]
    assert build["complete"] and build["vms_built"] == build["scale"]["vms"]
    assert _numbers(build["lab_start_s"], build["networks_routers_s"], build["vm_boots_s"])
    assert build["checkpoints"][-1]["vms"] == build["vms_built"]
    assert {"phases", "by_tottime", "by_cumulative"} <= set(build["profile"])
    assert all({"function", "ncalls", "tottime_s", "cumtime_s"} <= set(r)
               for r in build["profile"]["by_tottime"])
    for rnd in ("cold", "warm"):
        ping = lab["scale"]["ping_all"][rnd]
        assert ping["vms"] == build["vms_built"]
        assert ping["replied"] + ping["failed"] == ping["vms"]
    assert lab["scale"]["ping_all"]["warm"]["failed"] == 0
    assert _numbers(lab["scale"]["peak_rss_mib"])

    assert lab["fip_convergence"]
    for size in lab["fip_convergence"]:
        assert size["associate_to_flows_current_s"] and all(size["flows_current_after_call"])


def test_unknown_benchmark_name_is_a_usage_error() -> None:
    proc = subprocess.run([sys.executable, "-m", "benchmarks.run", "--only", "nosuch"],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "invalid choice" in proc.stderr


def test_quick_api_benchmark_json_shape(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    proc = subprocess.run([sys.executable, "-m", "benchmarks.run", "--quick", "--only", "api",
                           "--output", str(out)], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    entry = json.loads(proc.stdout)["benchmarks"]["api"]
    assert entry["ok"] is True
    api = entry["result"]
    burst = api["burst"]
    assert burst["ok"] + burst["reset"] + burst["error"] + burst["timeout"] == burst["requests"] > 0
    assert _numbers(burst["wall_s"], burst["p99_ms"])
    assert [t["clients"] for t in api["throughput"]] == [1, 8]
    assert all(t["requests"] > 0 and _numbers(t["requests_per_s"]) for t in api["throughput"])
    during = api["during_exec"]
    assert during["exec_rc"] == 0 and _numbers(during["api_after_hangup_ms"])
    rss = api["memory"]["rss"]
    assert rss[0]["icmp_packets"] == 0 and rss[-1]["icmp_packets"] >= 2000
    assert all(_numbers(r["rss_mib"]) and r["rss_mib"] > 0 for r in rss)


def _quick_real_side(tmp_path: Path, env: dict[str, str]) -> dict[str, object]:
    proc = subprocess.run([sys.executable, "-m", "benchmarks.run", "--quick", "--only", "northd",
                           "controller"], cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "OVNLAB_REAL_RUN": str(tmp_path / "real"), **env})
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    benchmarks = json.loads(proc.stdout)["benchmarks"]
    assert all(b["ok"] for b in benchmarks.values())
    return {name: b["result"] for name, b in benchmarks.items()}


def test_quick_northd_and_controller_run_the_real_ovn22_beside(tmp_path: Path) -> None:
    """With ../shared/ovn-22.03 here, the same run measures the real programs on the same
    cloud and reports both figures and their ratio; their daemons are gone afterwards."""
    results = _quick_real_side(tmp_path, {})
    northd, controller = results["northd"], results["controller"]
    assert isinstance(northd, dict) and isinstance(controller, dict)
    if not northd["real_ovn_22_03"]["ran"]:
        why = northd["real_ovn_22_03"]["note"]
        if os.environ.get("OVNLAB_REQUIRE_REAL") == "1":
            pytest.fail(f"OVNLAB_REQUIRE_REAL=1 but {why}")
        pytest.skip(why)
    assert controller["real_ovn_22_03"]["ran"]
    [size] = northd["sizes"]
    real = size["real_ovn_22_03"]
    assert _numbers(real["full_build_s"], real["add_one_fip_s"], real["add_one_vm_port_s"],
                    real["peak_rss_mib"]["ovn_northd"])
    assert real["full_build_s"] > 0 and real["repeats"] > 0
    # the same cloud: the same logical flows per datapath (22.03 stores those that several
    # datapaths share once, with a Logical_DP_Group: fewer rows)
    assert real["lflows"] == size["lflows"]
    assert real["lflow_rows"] < real["lflows"]
    assert size["ratio_real_over_ovnlab"]["full_build_s"] == round(
        real["full_build_s"] / size["full_build_s"], 2)
    [one] = controller["results"]
    real = one["real_ovn_22_03"]
    assert _numbers(real["one_fip_sb_current_s"], real["one_fip_hv_current_s"],
                    real["peak_rss_mib"]["ovn_controller"], real["peak_rss_mib"]["all_daemons"])
    assert real["openflow_flows"] > 0 and real["peak_rss_mib"]["ovn_controller"] > 0
    assert one["ratio_real_over_ovnlab"]["one_fip_total_s"] == round(
        real["one_fip_hv_current_s"] / one["one_fip_total_s"], 2)
    assert list((tmp_path / "real").rglob("controller.log"))  # a real chassis ran there
    assert not _processes_under(tmp_path / "real")


def _processes_under(run_dir: Path) -> list[str]:
    """Command lines of running processes that name `run_dir` (its daemons' sockets)."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            text = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue  # the process ended meanwhile
        if str(run_dir) in text:
            found.append(text)
    return found


def test_quick_northd_and_controller_without_the_real_programs_note_why(tmp_path: Path) -> None:
    results = _quick_real_side(tmp_path, {"OVN22_DIR": str(tmp_path / "no-ovn")})
    for name, sizes_key in (("northd", "sizes"), ("controller", "results")):
        result = results[name]
        assert isinstance(result, dict)
        note = result["real_ovn_22_03"]
        assert note["ran"] is False and "no-ovn" in note["note"]
        assert result[sizes_key] and all("real_ovn_22_03" not in size and
                                         _numbers(size["peak_rss_mib"])
                                         for size in result[sizes_key])
