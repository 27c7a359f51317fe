"""The lab process behind `ovnlab up`: one Lab, the OpenStack REST API and a small
control API (`/ovnlab/...`) that `ovnlab exec|status|config|trace` talk to, on loopback.

Everything runs under one lock: the lab is single-threaded, like one event loop.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from ovnlab.errors import OvnlabError
from ovnlab.state import Runtime, StateDir

log = logging.getLogger("ovnlab.daemon")

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
WSGIApp = Callable[[Environ, StartResponse], Iterable[bytes]]


def control_app(lab: Any, lock: threading.Lock, stop: Callable[[], None]) -> WSGIApp:
    """`/ovnlab/<verb>`: JSON in, JSON out."""

    def app(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        verb = environ.get("PATH_INFO", "").removeprefix("/ovnlab/").strip("/")
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = json.loads(environ["wsgi.input"].read(length) or b"{}") if length else {}
            with lock:
                status, reply = _dispatch(lab, verb, body, stop)
        except OvnlabError as exc:
            status, reply = exc.status, {"error": exc.message, "type": exc.type}
        except (ValueError, KeyError, TypeError) as exc:
            status, reply = 400, {"error": f"bad control request: {exc}"}
        data = json.dumps(reply).encode()
        start_response(f"{status} {'OK' if status < 400 else 'Error'}",
                       [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
        return [data]

    return app


def _dispatch(lab: Any, verb: str, body: dict[str, Any],
              stop: Callable[[], None]) -> tuple[int, dict[str, Any]]:
    if verb == "status":
        return 200, lab.status()
    if verb == "exec":
        result = lab.exec(body["node"], list(body["argv"]))
        return 200, {"rc": result.rc, "stdout": result.stdout, "stderr": result.stderr}
    if verb == "config":
        lab.config_set(str(body["key"]), str(body["value"]))
        return 200, {"key": body["key"], "value": body["value"]}
    if verb == "trace":
        return 200, {"stdout": lab.trace_text(**body)}
    if verb == "shutdown":
        stop()
        return 200, {"stopping": True}
    return 404, {"error": f"unknown control verb {verb!r}"}


def route(api: WSGIApp, control: WSGIApp) -> WSGIApp:
    def app(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO", "").startswith("/ovnlab/"):
            return control(environ, start_response)
        return api(environ, start_response)

    return app


def serve(state: StateDir, host: str = "127.0.0.1", port: int = 0) -> None:
    """Build the lab from its state dir and serve until SIGTERM or `/ovnlab/shutdown`."""
    from ovnlab.api import clouds_yaml, make_app
    from ovnlab.api import serve as serve_api
    from ovnlab.lab import Lab

    lock = threading.Lock()
    server: Any = None

    def stop() -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    lab = Lab.open(state.path)
    server = serve_api(lambda e, s: [], host=host, port=port)
    base_url = f"http://{host}:{server.port}"  # bound first: the URL goes into the catalog
    server.set_app(route(make_app(lab.locked_cloud(lock), base_url=base_url),
                         control_app(lab, lock, stop)))
    state.clouds_file.write_text(clouds_yaml(base_url, lab.topology.projects))
    signal.signal(signal.SIGTERM, lambda *_: stop())
    state.write_runtime(Runtime(os.getpid(), host, server.port))
    log.info("lab %s serving on %s", lab.topology.name, base_url)
    try:
        server.serve_forever()
    finally:
        state.clear_runtime()
        lab.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ovnlab-daemon")
    parser.add_argument("--state", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    state = StateDir(Path(args.state))
    logging.basicConfig(filename=state.log_file, level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    serve(state, args.host, args.port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
