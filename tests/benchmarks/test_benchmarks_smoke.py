"""`python -m benchmarks.run --quick --only lab`: the aggregator runs and its JSON has the
shape the README documents (timings are not asserted: the machine is shared)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

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
