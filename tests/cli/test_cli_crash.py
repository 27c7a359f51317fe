"""A lab killed (SIGKILL) in the middle of a stream of API operations comes back whole."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import ovnlab

pytestmark = pytest.mark.slow


def _request(url: str, method: str = "GET", body: Any = None,
             token: str | None = None) -> tuple[int, Any, dict[str, str]]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"Content-Type": "application/json",
                                          **({"X-Auth-Token": token} if token else {})})
    with urllib.request.urlopen(req, timeout=30) as resp:
        raw = resp.read()
        return resp.status, json.loads(raw) if raw else None, dict(resp.headers)


def _token(base: str) -> str:
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": "admin", "password": "secret", "domain": {"name": "Default"}}}},
        "scope": {"project": {"name": "admin", "domain": {"name": "Default"}}}}}
    _, _, headers = _request(f"{base}/identity/v3/auth/tokens", "POST", body)
    return headers["X-Subject-Token"]


def _runtime(state: Path) -> dict[str, Any]:
    return json.loads((state / "lab.json").read_text())


def test_kill_during_operations_then_restart(state_dir: Path) -> None:
    assert ovnlab(state_dir, "up").returncode == 0
    rt = _runtime(state_dir)
    base = f"http://{rt['host']}:{rt['port']}"
    token = _token(base)
    acknowledged: list[str] = []
    stop = threading.Event()

    def create_forever() -> None:
        i = 0
        while not stop.is_set():
            try:
                _, net, _ = _request(f"{base}/networking/v2.0/networks", "POST",
                                     {"network": {"name": f"n{i}"}}, token)
                _request(f"{base}/networking/v2.0/subnets", "POST", {"subnet": {
                    "name": f"s{i}", "network_id": net["network"]["id"], "ip_version": 4,
                    "cidr": f"10.{i // 250}.{i % 250}.0/24"}}, token)
                _request(f"{base}/networking/v2.0/ports", "POST",
                         {"port": {"network_id": net["network"]["id"]}}, token)
                acknowledged.append(net["network"]["id"])
            except (urllib.error.URLError, ConnectionError, OSError):
                return
            i += 1

    worker = threading.Thread(target=create_forever)
    worker.start()
    deadline = time.monotonic() + 60
    while len(acknowledged) < 5 and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(rt["pid"], signal.SIGKILL)  # mid-stream: some operation is in flight
    stop.set()
    worker.join(30)
    assert len(acknowledged) >= 5

    restarted = ovnlab(state_dir, "up")
    assert restarted.returncode == 0, restarted.stderr
    rt = _runtime(state_dir)
    base = f"http://{rt['host']}:{rt['port']}"
    token = _token(base)
    nets = _request(f"{base}/networking/v2.0/networks", token=token)[1]["networks"]
    subnets = _request(f"{base}/networking/v2.0/subnets", token=token)[1]["subnets"]
    ports = _request(f"{base}/networking/v2.0/ports", token=token)[1]["ports"]
    ids = {n["id"] for n in nets}
    # every acknowledged operation survived; nothing half-done is visible
    assert set(acknowledged) <= ids
    assert all(s["network_id"] in ids for s in subnets)
    assert all(set(n["subnets"]) == {s["id"] for s in subnets if s["network_id"] == n["id"]}
               for n in nets)
    subnet_ids = {s["id"] for s in subnets}
    addresses = [ip["ip_address"] for p in ports for ip in p["fixed_ips"]]
    assert len(addresses) == len(set(addresses))
    assert all(ip["subnet_id"] in subnet_ids for p in ports for ip in p["fixed_ips"])
    # and the NB was resynced from it: one logical switch per network
    switches = ovnlab(state_dir, "exec", "network", "--", "ovn-nbctl", "ls-list").stdout
    assert len(switches.splitlines()) == len(nets)
    # the lab still works after the crash: a new operation succeeds
    status, _, _ = _request(f"{base}/networking/v2.0/networks", "POST",
                            {"network": {"name": "after-crash"}}, token)
    assert status == 201
