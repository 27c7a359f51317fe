"""Web view benchmark: what one open page costs the lab, through the web app's own HTTP
server on loopback (a session opened with the token, as the page does): the version poll
it makes every second, the topology it fetches when the version moves, and a traced
vm_1 -> 8.8.8.8 drawn over it; on the seed lab after the article's commands, then with N
more servers booted.

Run: `python -m benchmarks.bench_web [--full]` (prints JSON).
"""

from __future__ import annotations

import json
import sys
import time
import urllib.request
from typing import Any

from ovnlab.api import serve
from ovnlab.daemon import route
from ovnlab.lab import Lab
from ovnlab.scenario import run_article
from ovnlab.turns import Turns
from ovnlab.web import Sessions, web_app

TOKEN = "bench-web"
SIZES = (0, 20)
FULL = (0, 20, 100)
REPEAT = 5


class _Page:
    def __init__(self, base: str) -> None:
        self.base = base
        self.cookie = ""

    def call(self, verb: str, body: dict[str, Any] | None = None) -> bytes:
        headers = {"X-Ovnlab-Web": "1", "Content-Type": "application/json"}
        if self.cookie:
            headers["Cookie"] = self.cookie
        req = urllib.request.Request(f"{self.base}/web/api/{verb}", headers=headers,
                                     data=None if body is None else json.dumps(body).encode())
        with urllib.request.urlopen(req, timeout=120) as resp:
            if resp.headers.get("Set-Cookie"):
                self.cookie = resp.headers["Set-Cookie"].split(";")[0]
            return bytes(resp.read())


def _best(fn: Any, repeat: int = REPEAT) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return min(times), result


def _not_found(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("404 Not Found", [("Content-Length", "0")])
    return []


def one_size(extra_servers: int) -> dict[str, Any]:
    lab = Lab.build("seed")
    run_article(lab.openstack)
    for i in range(extra_servers):
        lab.openstack.server_create(f"vm_b{i}", network="n1")
    lock = Turns()
    server = serve(route(_not_found, _not_found,
                         web_app(lab, lock, Sessions(TOKEN, token_allowed=True))),
                   background=True)
    try:
        page = _Page(f"http://127.0.0.1:{server.port}")
        page.call("login", {"token": TOKEN})
        version_s, _ = _best(lambda: page.call("version"), repeat=20)
        topology_s, topo = _best(lambda: page.call("topology"))
        trace_s, journey = _best(lambda: page.call("trace", {"src": "vm_1", "dst": "8.8.8.8"}))
        return {
            "servers": extra_servers + 1,
            "elements": len(json.loads(topo)["elements"]),
            "version_poll_ms": round(version_s * 1000, 3),
            "topology_ms": round(topology_s * 1000, 2),
            "topology_bytes": len(topo),
            "trace_ms": round(trace_s * 1000, 2),
            "trace_bytes": len(journey),
        }
    finally:
        server.close()
        lab.close()


def run(quick: bool = False, full: bool = False) -> dict[str, Any]:
    sizes = (0,) if quick else FULL if full else SIZES
    return {"sizes": [one_size(n) for n in sizes]}


if __name__ == "__main__":
    print(json.dumps(run(full="--full" in sys.argv), indent=2))
