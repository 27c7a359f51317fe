"""The lab process behind `ovnlab up`: one Lab, the OpenStack REST API and a small
control API (`/ovnlab/...`) that `ovnlab exec|status|config|trace` talk to, on loopback.

The lab is single-threaded, like one event loop: every request takes its turn on it
(`ovnlab.turns.Turns`, first come first served). A long `exec` runs in a thread of its own
in slices, letting queued requests in between; its response streams keep-alive events,
and when its client has gone the failed write stops the tool.
"""

from __future__ import annotations

import argparse
import base64
import hmac
import json
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Generator, Iterable, Iterator
from pathlib import Path
from typing import Any

from ovnlab import statelock
from ovnlab.errors import OvnlabError, ToolError, Unauthorized
from ovnlab.live import wants_live
from ovnlab.state import TOKEN_HEADER, Runtime, StateDir
from ovnlab.tools import ToolResult
from ovnlab.tools.files import ClientFiles
from ovnlab.turns import Slicer, Turns

log = logging.getLogger("ovnlab.daemon")
LIVE_POLL = 0.5  # seconds between a live tcpdump's checks for new frames (and a closed client)
KEEPALIVE = 1.0  # seconds between a running exec's empty events (a closed client fails one)

TOKEN_ENVIRON = "HTTP_" + TOKEN_HEADER.upper().replace("-", "_")  # as WSGI's environ names it

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
WSGIApp = Callable[[Environ, StartResponse], Iterable[bytes]]


def control_app(lab: Any, lock: Turns, token: str) -> WSGIApp:
    """`/ovnlab/<verb>`: JSON in; JSON out, except `exec`, which streams NDJSON events
    (`{"stdout": ...}`, `{"stderr": ...}`, `{"file": NAME, "data": BASE64}` for a file the
    tool wrote, finally `{"rc": N}`) so tcpdump can follow live. Every request carries the
    lab's secret (`TOKEN_HEADER`, from the state dir's mode-0600 token file): only the
    user who runs the lab may drive it."""

    def app(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        verb = environ.get("PATH_INFO", "").removeprefix("/ovnlab/").strip("/")
        try:
            offered = environ.get(TOKEN_ENVIRON, "").encode()
            if not hmac.compare_digest(offered, token.encode()):
                raise Unauthorized(f"the control API needs the lab's token ({TOKEN_HEADER})")
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = json.loads(environ["wsgi.input"].read(length) or b"{}") if length else {}
            if verb == "exec":
                events = _exec_events(lab, lock, body)
                first = next(events)  # errors in the request surface before the 200
                start_response("200 OK", [("Content-Type", "application/x-ndjson")])
                return _prepend(first, events)
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


def _prepend(first: bytes, events: Iterator[bytes]) -> Iterator[bytes]:
    """`first`, then `events`; closing it (the server does, when the client has gone)
    closes `events`, which stops the tool."""
    yield first
    yield from events


def _exec_events(lab: Any, lock: Turns, body: dict[str, Any]) -> Iterator[bytes]:
    node, argv = str(body["node"]), [str(a) for a in body["argv"]]
    files = ClientFiles({str(name): base64.b64decode(data, validate=True)
                         for name, data in (body.get("files") or {}).items()})
    if not wants_live(argv):
        result = yield from _sliced_exec(lab, lock, node, argv, files)
        yield _event(stdout=result.stdout)
        yield _event(stderr=result.stderr)
        yield from _file_events(files)
        yield _event(rc=result.rc)
        return
    with lock:
        try:
            capture = lab.live_capture(node, argv)
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
            yield from _pcap_event(capture)
    finally:
        with lock:
            summary = capture.close()
    yield from _pcap_event(capture)
    yield _event(stderr=summary)
    yield _event(rc=0)


def _file_events(files: ClientFiles) -> Iterator[bytes]:
    """The files a tool wrote, for the client to save (`append`: add to what it has)."""
    for name, data in files.written.items():
        yield _event(file=name, data=base64.b64encode(data).decode(), append=False)


def _pcap_event(capture: Any) -> Iterator[bytes]:
    """A live `tcpdump -w`'s new bytes (the first piece starts the client's file)."""
    data, first = capture.take_pcap()
    if data:
        yield _event(file=capture.write_file, data=base64.b64encode(data).decode(),
                     append=not first)


def _sliced_exec(lab: Any, lock: Turns, node: str, argv: list[str],
                 files: ClientFiles) -> Generator[bytes, None, ToolResult]:
    """Run the tool in a thread of its own (taking its turns on the lab) while this
    generator yields keep-alive events; returns the ToolResult. Closed early (the client
    went away), it cancels the tool and waits for it to stop."""
    slicer = Slicer(lock)
    outcome: list[ToolResult | BaseException] = []

    def work() -> None:
        try:
            with lock:
                outcome.append(lab.exec(node, argv, files, checkpoint=slicer))
        except BaseException as exc:  # noqa: BLE001 - re-raised in the request's thread
            outcome.append(exc)

    worker = threading.Thread(target=work, name=f"ovnlab-exec-{node}", daemon=True)
    worker.start()
    try:
        while True:
            worker.join(KEEPALIVE)
            if not worker.is_alive():
                break
            yield _event(stdout="")
    finally:
        if worker.is_alive():
            slicer.cancel()
            log.info("exec %s on %s: client gone, stopping it", argv[0], node)
            worker.join()
    result = outcome[0]
    if isinstance(result, BaseException):
        raise result
    return result


def _dispatch(lab: Any, verb: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    if verb == "status":
        return 200, lab.status()
    if verb == "config":
        lab.config_set(str(body["key"]), str(body["value"]))
        return 200, {"key": body["key"], "value": body["value"]}
    if verb == "trace":
        return 200, {"stdout": lab.trace_text(**body)}
    if verb == "node":  # failures: stop/start a chassis, kill a daemon, a link down/up
        return 200, lab.node_action(str(body["action"]), str(body["node"]),
                                    str(body.get("arg", "")))
    if verb == "export":  # the file's bytes, base64: the CLI writes them
        return 200, {"data": base64.b64encode(lab.export(str(body["database"]))).decode()}
    return 404, {"error": f"unknown control verb {verb!r}"}


def route(api: WSGIApp, control: WSGIApp) -> WSGIApp:
    def app(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO", "").startswith("/ovnlab/"):
            return control(environ, start_response)
        return api(environ, start_response)

    return app


def _error_body(path: str, err: OvnlabError) -> Any:
    """An error the server itself answers (413) in the format of the API it was for."""
    from ovnlab.api.server import api_error_body

    if path.startswith("/ovnlab/"):
        return {"error": err.message, "type": err.type}
    return api_error_body(path, err)


def serve(state: StateDir, host: str = "127.0.0.1", port: int = 0,
          ready: Callable[[], None] = lambda: None) -> None:
    """Build the lab from its state dir and serve until SIGTERM (`ovnlab down`); `ready()`
    once it answers. The caller holds the state dir's lock."""
    from ovnlab.api import clouds_yaml, make_app
    from ovnlab.api import serve as serve_api
    from ovnlab.lab import Lab

    lock = Turns()
    lab = Lab.open(state.path)
    state.mark_db_initialised()
    try:
        server = serve_api(lambda e, s: [], host=host, port=port, error_body=_error_body)
    except OSError as exc:
        lab.close()
        raise OvnlabError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    base_url = f"http://{host}:{server.port}"  # bound first: the URL goes into the catalog
    server.set_app(route(make_app(lab.locked_cloud(lock), base_url=base_url),
                         control_app(lab, lock, state.write_token())))
    state.clouds_file.write_text(clouds_yaml(base_url, lab.topology.projects))
    # serve_forever runs in this (the signal's) thread: shutdown() must come from another
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown,
                                                              daemon=True).start())
    state.write_runtime(Runtime(os.getpid(), host, server.port))
    log.info("lab %s serving on %s", lab.topology.name, base_url)
    ready()
    try:
        server.serve_forever()
    finally:
        state.clear_runtime()
        lab.close()


def main(argv: list[str] | None = None) -> int:
    """The daemon `ovnlab up` starts: `--lock-fd` is the state dir's lock, already held
    (taken here when absent); `--ready-fd` a pipe that gets `ready` or `error: WHY`."""
    parser = argparse.ArgumentParser(prog="ovnlab-daemon")
    parser.add_argument("--state", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--lock-fd", type=int, default=None)
    parser.add_argument("--ready-fd", type=int, default=None)
    args = parser.parse_args(argv)
    state = StateDir(Path(args.state))
    logging.basicConfig(filename=state.log_file, level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    report = StartReport(args.ready_fd)
    try:
        lock_fd = state.lock() if args.lock_fd is None else args.lock_fd
        statelock.adopt(lock_fd)
        statelock.record(lock_fd, os.getpid())
        if args.lock_fd is None:
            state.check()  # `ovnlab up` checked the files under the lock it handed over
        serve(state, args.host, args.port, ready=report.ready)
    except OvnlabError as exc:
        log.error("%s", exc.message)
        report.error(exc.message)
        return 1
    except statelock.LockHeld:
        report.error(f"{state.lock_file}: the lock handed over is not held")
        return 1
    return 0


class StartReport:
    """One line to the `ovnlab up` that waits: `ready`, or `error: WHY` (nothing at all
    when the daemon dies unexpectedly; then its log says why)."""

    def __init__(self, fd: int | None) -> None:
        self._pipe = os.fdopen(fd, "w") if fd is not None else None

    def ready(self) -> None:
        self._send("ready")

    def error(self, message: str) -> None:
        self._send("error: " + message.replace("\n", " "))

    def _send(self, line: str) -> None:
        if self._pipe is not None:
            pipe, self._pipe = self._pipe, None
            try:
                pipe.write(line + "\n")
                pipe.close()
            except OSError:
                pass  # `ovnlab up` gave up waiting


if __name__ == "__main__":
    sys.exit(main())
