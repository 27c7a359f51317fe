"""The running lab's APIs under load (issue 11): a daemon started by `ovnlab up` on a
lab holding the article's scenario (vm_1 with a FIP), driven over loopback HTTP only.

    python -m benchmarks.bench_api [--quick]

- burst: N connections opened at once, each one authenticated `GET /v2.0/networks`
  (connection resets, other errors, latency percentiles);
- throughput: requests per second with 1 and 8 concurrent keep-alive clients, each round a
  token check (`GET /v3/auth/tokens`) and `GET /v2.0/networks`;
- during_exec: API latency while `ovnlab exec vm_1 -- ping -c N -i 0.001 -q 8.8.8.8` runs,
  and how soon the lab answers once an abandoned exec's client has gone;
- memory: the daemon's RSS after each batch of pings, up to `packets` ICMP packets
  (echo requests + replies).

Every loop is bounded; the daemon is stopped at the end (`ovnlab down`).
"""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ovnlab.state import TOKEN_HEADER, StateDir

PING_DEST = "8.8.8.8"
REQUEST_TIMEOUT = 180.0  # seconds a request may take before it counts as an error


@dataclass(frozen=True, slots=True)
class Daemon:
    state: Path
    pid: int
    port: int
    token: str


# ---------------------------------------------------------------- the lab under test


def _ovnlab(state: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    import ovnlab

    env = {**os.environ, "PYTHONPATH": str(Path(ovnlab.__file__).resolve().parents[1])}
    return subprocess.run([sys.executable, "-m", "ovnlab.cli.main", "--state", str(state), *args],
                          capture_output=True, text=True, timeout=timeout, env=env, check=True)


@contextmanager
def running_lab() -> Iterator[Daemon]:
    """`ovnlab up` on a fresh state dir holding the article's cloud; `ovnlab down` after."""
    from ovnlab.lab import Lab
    from ovnlab.scenario import run_article

    with tempfile.TemporaryDirectory(prefix="ovnlab-bench-api-") as tmp:
        state = Path(tmp) / "lab"
        _ovnlab(state, "up")
        _ovnlab(state, "down")
        lab = Lab.open(state)  # the cloud is persisted: the daemon resyncs from it
        run_article(lab.openstack)
        lab.close()
        _ovnlab(state, "up")
        try:
            runtime = json.loads((state / "lab.json").read_text())
            yield Daemon(state, int(runtime["pid"]), int(runtime["port"]),
                         _token(int(runtime["port"])))
        finally:
            _ovnlab(state, "down")


def _token(port: int) -> str:
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": "admin", "domain": {"name": "Default"}, "password": "secret"}}},
        "scope": {"project": {"name": "admin", "domain": {"name": "Default"}}}}}
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("POST", "/identity/v3/auth/tokens", json.dumps(body),
                 {"Content-Type": "application/json"})
    resp = conn.getresponse()
    resp.read()
    conn.close()
    if resp.status != 201:
        raise RuntimeError(f"token request failed: {resp.status}")
    return str(resp.getheader("X-Subject-Token"))


def _percentiles(samples: list[float]) -> dict[str, float | None]:
    if not samples:
        return {"p50_ms": None, "p99_ms": None, "max_ms": None}
    ordered = sorted(samples)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 2)

    return {"p50_ms": at(0.50), "p99_ms": at(0.99), "max_ms": round(ordered[-1] * 1000, 2)}


# ---------------------------------------------------------------- (a) a burst


async def _one(port: int, token: str) -> tuple[str, float]:
    t0 = time.perf_counter()
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write((f"GET /networking/v2.0/networks HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                      f"X-Auth-Token: {token}\r\nConnection: close\r\n\r\n").encode())
        await writer.drain()
        data = await reader.read()  # to EOF: the server closes after the response
        writer.close()
    except (ConnectionResetError, ConnectionRefusedError, BrokenPipeError):
        return "reset", time.perf_counter() - t0
    except OSError:
        return "error", time.perf_counter() - t0
    if not data:
        return "reset", time.perf_counter() - t0  # closed without a response
    return ("ok" if data.startswith((b"HTTP/1.1 200", b"HTTP/1.0 200")) else "error",
            time.perf_counter() - t0)


async def _burst(port: int, token: str, n: int) -> list[tuple[str, float]]:
    tasks = [asyncio.wait_for(_one(port, token), REQUEST_TIMEOUT) for _ in range(n)]
    results = await asyncio.gather(*tasks, return_exceptions=True)
    return [r if isinstance(r, tuple) else ("timeout", REQUEST_TIMEOUT) for r in results]


def bench_burst(daemon: Daemon, n: int) -> dict[str, Any]:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, n + 256)), hard))
    t0 = time.perf_counter()
    results = asyncio.run(_burst(daemon.port, daemon.token, n))
    wall = time.perf_counter() - t0
    counts = {k: sum(1 for r, _ in results if r == k) for k in ("ok", "reset", "error", "timeout")}
    return {"requests": n, **counts, "wall_s": round(wall, 3),
            **_percentiles([t for r, t in results if r == "ok"])}


# ---------------------------------------------------------------- (b) throughput


def _client(port: int, token: str, rounds: int, latencies: list[float],
            errors: list[str]) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)
    headers = {"X-Auth-Token": token, "X-Subject-Token": token}
    for _ in range(rounds):
        for path in ("/identity/v3/auth/tokens", "/networking/v2.0/networks"):
            t0 = time.perf_counter()
            try:
                conn.request("GET", path, headers=headers)
                resp = conn.getresponse()
                resp.read()
                if resp.status != 200:
                    errors.append(f"{path}: {resp.status}")
            except (OSError, http.client.HTTPException) as exc:
                errors.append(f"{path}: {type(exc).__name__}")
                conn.close()
            latencies.append(time.perf_counter() - t0)
    conn.close()


def bench_throughput(daemon: Daemon, clients: int, rounds: int) -> dict[str, Any]:
    latencies: list[float] = []
    errors: list[str] = []
    threads = [threading.Thread(target=_client, args=(daemon.port, daemon.token, rounds,
                                                      latencies, errors))
               for _ in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    return {"clients": clients, "requests": len(latencies), "errors": len(errors),
            "requests_per_s": round(len(latencies) / wall, 1), "wall_s": round(wall, 3),
            **_percentiles(latencies)}


# ---------------------------------------------------------------- (c) during a long exec


def _exec(daemon: Daemon, argv: list[str], close_after: float | None = None) -> dict[str, Any]:
    """`ovnlab exec vm_1 -- ARGV` over the control API; with `close_after`, the client
    hangs up after that many seconds (an abandoned exec)."""
    conn = http.client.HTTPConnection("127.0.0.1", daemon.port,
                                      timeout=close_after or REQUEST_TIMEOUT)
    t0 = time.perf_counter()
    rc = None
    try:
        conn.request("POST", "/ovnlab/exec", json.dumps({"node": "vm_1", "argv": argv}),
                     {"Content-Type": "application/json",
                      TOKEN_HEADER: StateDir(daemon.state).token()})
        resp = conn.getresponse()
        while close_after is None or time.perf_counter() - t0 < close_after:
            line = resp.readline()
            if not line:
                break
            if line.strip():
                rc = json.loads(line).get("rc", rc)
    except TimeoutError:
        if close_after is None:
            raise
    finally:
        conn.close()
    return {"rc": rc, "wall_s": round(time.perf_counter() - t0, 3)}


def _get_networks(port: int, token: str) -> float:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)
    t0 = time.perf_counter()
    conn.request("GET", "/networking/v2.0/networks", headers={"X-Auth-Token": token})
    conn.getresponse().read()
    conn.close()
    return time.perf_counter() - t0


def _cpu_s(pid: int) -> float:
    """The daemon's CPU seconds so far (user + system): wall time on a shared machine
    swings with the other jobs, CPU time much less."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def bench_during_exec(daemon: Daemon, pings: int, abandoned_pings: int) -> dict[str, Any]:
    argv = ["ping", "-c", str(pings), "-i", "0.001", "-q", PING_DEST]
    done: dict[str, Any] = {}
    cpu0 = _cpu_s(daemon.pid)
    runner = threading.Thread(target=lambda: done.update(_exec(daemon, argv)))
    runner.start()
    time.sleep(0.5)  # the exec holds the lab
    latencies: list[float] = []
    while runner.is_alive() and len(latencies) < 2000:
        latencies.append(_get_networks(daemon.port, daemon.token))
        time.sleep(0.05)
    runner.join()
    cpu = _cpu_s(daemon.pid) - cpu0
    # an abandoned exec: its client hangs up after 1 s; how soon does the lab answer?
    gone = _exec(daemon, ["ping", "-c", str(abandoned_pings), "-i", "0.001", "-q",
                               PING_DEST], close_after=1.0)
    after_hangup = _get_networks(daemon.port, daemon.token)
    return {"exec": f"ping -c {pings} -i 0.001 -q {PING_DEST} (vm_1)", "exec_rc": done.get("rc"),
            "exec_wall_s": done.get("wall_s"), "daemon_cpu_s": round(cpu, 2),
            "api_requests": len(latencies),
            **_percentiles(latencies),
            "abandoned_exec": f"ping -c {abandoned_pings}, client gone after {gone['wall_s']} s",
            "api_after_hangup_ms": round(after_hangup * 1000, 2)}


# ---------------------------------------------------------------- (d) daemon memory


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    raise RuntimeError(f"no VmRSS for pid {pid}")


def bench_memory(daemon: Daemon, packets: int, batch: int) -> dict[str, Any]:
    """Pings in batches of `batch` round trips until `packets` ICMP packets have crossed."""
    rss: list[dict[str, float]] = [{"icmp_packets": 0, "rss_mib": _rss_mib(daemon.pid)}]
    sent = 0
    while sent < packets:
        cpu0 = _cpu_s(daemon.pid)
        got = _exec(daemon, ["ping", "-c", str(batch), "-i", "0.001", "-q", PING_DEST])
        if got["rc"] != 0:
            raise RuntimeError(f"ping batch failed: {got}")
        sent += 2 * batch
        rss.append({"icmp_packets": sent, "rss_mib": _rss_mib(daemon.pid),
                    "batch_wall_s": got["wall_s"],
                    "batch_daemon_cpu_s": round(_cpu_s(daemon.pid) - cpu0, 2)})
    return {"batch_round_trips": batch, "rss": rss,
            "growth_after_first_batch_mib": round(rss[-1]["rss_mib"] - rss[1]["rss_mib"], 1)}


# ---------------------------------------------------------------- all of it


def run(quick: bool = False) -> dict[str, Any]:
    with running_lab() as daemon:
        return {
            "burst": bench_burst(daemon, 200 if quick else 1000),
            "throughput": [bench_throughput(daemon, c, 10 if quick else 150) for c in (1, 8)],
            "during_exec": bench_during_exec(daemon, 500 if quick else 10_000,
                                             2000 if quick else 20_000),
            "memory": bench_memory(daemon, 2000 if quick else 100_000,
                                   500 if quick else 10_000),
        }


if __name__ == "__main__":
    print(json.dumps(run(quick="--quick" in sys.argv[1:]), indent=2))
