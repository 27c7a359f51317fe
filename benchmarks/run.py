"""Every benchmark in one JSON document (`make bench`).

    python -m benchmarks.run [--quick] [--only NAME ...] [--output FILE]

Each module `benchmarks.bench_<name>` has `run(...) -> dict`. `--quick` asks each for its
smallest sizes (a smoke run, seconds instead of minutes): a module whose `run` takes
`quick` gets `quick=True`; the others get the small arguments listed in QUICK_ARGS, or
run as they are. A module that raises is reported under its name with the error (the
other modules still run) and the exit status is 1.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import json
import platform
import subprocess
import sys
import time
import traceback
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BENCHMARKS = ("datapath", "northd", "controller", "fabric", "cloud", "lab", "ovn_trace", "api", "web",
              "failover", "backends")
# quick-mode arguments for modules whose run() has no `quick` parameter
QUICK_ARGS: dict[str, dict[str, Any]] = {
    "northd": {"sizes": ((100, 10),)},
    "controller": {"sizes": ((10, 100),), "memory": False},
    "ovn_trace": {"sizes": (100,)},
}


def run_one(name: str, quick: bool) -> dict[str, Any]:
    """`benchmarks.bench_<name>.run()` with timing around it; errors become data."""
    module = importlib.import_module(f"benchmarks.bench_{name}")
    params = inspect.signature(module.run).parameters
    kwargs: dict[str, Any] = {}
    if quick:
        if "quick" in params:
            kwargs = {"quick": True}
        else:
            kwargs = {k: v for k, v in QUICK_ARGS.get(name, {}).items() if k in params}
    t0, c0 = time.perf_counter(), time.process_time()
    try:
        result: dict[str, Any] = {"ok": True, "result": module.run(**kwargs)}
    except Exception as exc:  # noqa: BLE001 - one failing benchmark must not hide the others
        result = {"ok": False, "error": f"{type(exc).__name__}: {exc}",
                  "traceback": traceback.format_exc()}
    result["wall_seconds"] = round(time.perf_counter() - t0, 3)
    result["cpu_seconds"] = round(time.process_time() - c0, 3)  # this process only
    result["arguments"] = {k: repr(v) for k, v in kwargs.items()}
    return result


def source_version() -> dict[str, Any]:
    """The commit measured, and whether src/ differed from it (a shared work tree)."""
    root = Path(__file__).resolve().parent.parent

    def git(*args: str) -> str | None:
        try:
            proc = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True,
                                  timeout=10)
        except (OSError, subprocess.SubprocessError):
            return None
        return proc.stdout.strip() if proc.returncode == 0 else None

    status = git("status", "--porcelain", "--", "src")
    return {"commit": git("rev-parse", "HEAD"),
            "src_modified": None if status is None else bool(status)}


def run_all(names: Sequence[str] = BENCHMARKS, quick: bool = False) -> dict[str, Any]:
    return {
        "ovnlab_benchmarks": 1,
        "quick": quick,
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "source": source_version(),
        "machine": {"python": platform.python_version(), "platform": platform.platform(),
                    "processor": platform.machine()},
        "benchmarks": {name: run_one(name, quick) for name in names},
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run",
                                     description="Run ovnlab's benchmarks; print one JSON document.")
    parser.add_argument("--quick", action="store_true",
                        help="smallest sizes only (a smoke run)")
    parser.add_argument("--only", nargs="+", metavar="NAME", choices=BENCHMARKS,
                        help=f"run only these ({', '.join(BENCHMARKS)})")
    parser.add_argument("--output", metavar="FILE", type=Path,
                        help="also write the JSON document to FILE")
    args = parser.parse_args(argv)
    doc = run_all(args.only or BENCHMARKS, args.quick)
    text = json.dumps(doc, indent=2)
    print(text)
    if args.output is not None:
        args.output.write_text(text + "\n")
    return 0 if all(b["ok"] for b in doc["benchmarks"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
