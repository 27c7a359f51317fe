"""The seed lab on both backends, through the same Python API: start-up (until the lab
serves: on the real backend every namespace and daemon up, the chassis registered), the
article's eleven steps (each converged: on the real backend until every chassis has the
flows, the VM's port is up and BFD has elected the gateway), one ping through the FIP,
and shutdown (every daemon stopped, every namespace deleted). Wall seconds: the real
backend's time is mostly waiting for real daemons. The real backend needs root and the
OVN 22.03 programs (`real_ovn22.missing()`); without them it is reported as skipped.

Run: `python -m benchmarks.bench_backends` (prints JSON).
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

from benchmarks import real_ovn22
from ovnlab.lab import lab_on
from ovnlab.scenario import ARTICLE
from ovnlab.topology import Backend


def _measure(backend: Backend, ovn_bin: str) -> dict[str, Any]:
    t0 = time.perf_counter()
    with lab_on(backend, ovn_bin=ovn_bin) as lab:
        t1 = time.perf_counter()
        steps = []
        for step in ARTICLE:
            s0 = time.perf_counter()
            step.run(lab.openstack)
            steps.append(round(time.perf_counter() - s0, 3))
        t2 = time.perf_counter()
        ping = lab.exec("vm_1", ["ping", "-c", "1", "8.8.8.8"])
        t3 = time.perf_counter()
        closing = time.perf_counter()
    t4 = time.perf_counter()
    return {"startup_s": round(t1 - t0, 2), "article_s": round(t2 - t1, 2),
            "article_steps_s": steps, "ping_rc": ping.rc, "ping_s": round(t3 - t2, 2),
            "shutdown_s": round(t4 - closing, 2)}


def run(quick: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {"emulated": _measure(Backend.EMULATED, "")}
    why = real_ovn22.missing() or (None if os.geteuid() == 0 else "not root")
    if why is not None:
        out["ovn"] = {"skipped": why}
    else:
        out["ovn"] = _measure(Backend.OVN, str(real_ovn22.ovn22_dir() / "bin"))
    return out


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
