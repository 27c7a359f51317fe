"""The lab process behind `ovnlab up`: one Lab, the OpenStack REST API and a small
control API (`/ovnlab/...`) that `ovnlab exec|status|config|trace` talk to, on loopback.

Everything runs under one lock: the lab is single-threaded, like one event loop.
"""

from __future__ import annotations

import argparse
import base64
import itertools
import json
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from ovnlab.errors import OvnlabError, ToolError
from ovnlab.live import wants_live
from ovnlab.state import Runtime, StateDir

log = logging.getLogger("ovnlab.daemon")
LIVE_POLL = 0.5  # seconds between a live tcpdump's checks for new frames (and a closed client)

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
WSGIApp = Callable[[Environ, StartResponse], Iterable[bytes]]


def control_app(lab: Any, lock: threading.Lock) -> WSGIApp:
    """`/ovnlab/<verb>`: JSON in; JSON out, except `exec`, which streams NDJSON events
    (`{"stdout": ...}`, `{"stderr": ...}`, finally `{"rc": N}`) so tcpdump can follow live."""

    def app(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        verb = environ.get("PATH_INFO", "").removeprefix("/ovnlab/").strip("/")
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = json.loads(environ["wsgi.input"].read(length) or b"{}") if length else {}
            if verb == "exec":
                events = _exec_events(lab, lock, body)
                first = next(events)  # errors in the request surface before the 200
                start_response("200 OK", [("Content-Type", "application/x-ndjson")])
                return itertools.chain([first], events)
            with lock:
                status, reply = _dispatch(lab, verb, body)
        except OvnlabError as exc:
            status, reply = exc.status, {"error": exc.message, "type": exc.type}
        except (ValueError, KeyError, TypeError) as exc:
            status, reply = 400, {"error": f"bad control request: {exc}"}
        data = json.dumps(reply).encode()
        start_response(f"{status} {'OK' if status < 400 else 'Error'}",
                       [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
        return [data]

    return app


def _event(**fields: Any) -> bytes:
    return json.dumps(fields).encode() + b"\n"


def _exec_events(lab: Any, lock: threading.Lock, body: dict[str, Any]) -> Iterator[bytes]:
    node, argv = str(body["node"]), [str(a) for a in body["argv"]]
    cwd = Path(body.get("cwd") or Path.cwd())
    if not wants_live(argv):
        with lock:
            result = lab.exec(node, argv, cwd)
        yield _event(stdout=result.stdout)
        yield _event(stderr=result.stderr)
        yield _event(rc=result.rc)
        return
    with lock:
        try:
            capture = lab.live_capture(node, argv, cwd)
        except ToolError as exc:
            yield _event(stderr=exc.message if exc.message.endswith("\n") else exc.message + "\n")
            yield _event(rc=exc.exit_code)
            return
    try:
        yield _event(stderr=capture.header())
        while not capture.done:
            lines = capture.poll(LIVE_POLL)
            # an empty event now and then: a closed client shows up as a failed write
            yield _event(stdout="".join(line + "\n" for line in lines))
    finally:
        with lock:
            summary = capture.close()
    yield _event(stderr=summary)
    yield _event(rc=0)


def _dispatch(lab: Any, verb: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    if verb == "status":
        return 200, lab.status()
    if verb == "config":
        lab.config_set(str(body["key"]), str(body["value"]))
        return 200, {"key": body["key"], "value": body["value"]}
    if verb == "trace":
        return 200, {"stdout": lab.trace_text(**body)}
    if verb == "export":  # the file's bytes, base64: the CLI writes them
        return 200, {"data": base64.b64encode(lab.export(str(body["database"]))).decode()}
    return 404, {"error": f"unknown control verb {verb!r}"}


def route(api: WSGIApp, control: WSGIApp) -> WSGIApp:
    def app(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO", "").startswith("/ovnlab/"):
            return control(environ, start_response)
        return api(environ, start_response)

    return app


def serve(state: StateDir, host: str = "127.0.0.1", port: int = 0) -> None:
    """Build the lab from its state dir and serve until SIGTERM (`ovnlab down`)."""
    from ovnlab.api import clouds_yaml, make_app
    from ovnlab.api import serve as serve_api
    from ovnlab.lab import Lab

    lock = threading.Lock()
    lab = Lab.open(state.path)
    server = serve_api(lambda e, s: [], host=host, port=port)
    base_url = f"http://{host}:{server.port}"  # bound first: the URL goes into the catalog
    server.set_app(route(make_app(lab.locked_cloud(lock), base_url=base_url),
                         control_app(lab, lock)))
    state.clouds_file.write_text(clouds_yaml(base_url, lab.topology.projects))
    # serve_forever runs in this (the signal's) thread: shutdown() must come from another
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown,
                                                              daemon=True).start())
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
