"""benchmarks/bench_fabric.py's paths run (a handful of pings each; no timing asserted):
an import or API drift in the fabric breaks this, not the next benchmark run."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SMALL = """
import json
from benchmarks import bench_fabric as b
print(json.dumps([b.bench_hosts(20), b.bench_geneve(20), b.bench_scale(4, 2)]))
"""


def test_every_fabric_benchmark_path_answers_its_pings() -> None:
    proc = subprocess.run([sys.executable, "-c", SMALL], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    hosts, geneve, scale = json.loads(proc.stdout)
    for path in (hosts, geneve):  # each bench asserts that every ping was answered
        assert path["pings"] == 20 and path["frames"] >= 4 * 20  # 2 links each way at least
    assert scale["vms"] == 8 and scale["frames"] > 0
