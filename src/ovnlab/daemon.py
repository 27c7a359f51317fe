"""The lab process behind `ovnlab up`: one Lab, the OpenStack REST API and a small
control API (`/ovnlab/...`) that `ovnlab exec|status|config|trace` talk to, on loopback,
and the web view (`/web/`, or on `--listen ADDR:PORT` alone: `ovnlab.web`).

The lab is single-threaded, like one event loop: every request takes its turn on it
(`ovnlab.turns.Turns`, first come first served). A long `exec` runs in a thread of its own
in slices, letting queued requests in between; its response streams keep-alive events,
and when its client has gone the failed write stops the tool.
"""

from __future__ import annotations

import argparse
import base64
import hmac
import ipaddress
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
    if verb == "wait":  # virtual time passes
        lab.wait(float(body["seconds"]))
        return 200, {"now": lab.fabric.now}
    if verb == "export":  # the file's bytes, base64: the CLI writes them
        return 200, {"data": base64.b64encode(lab.export(str(body["database"]))).decode()}
    return 404, {"error": f"unknown control verb {verb!r}"}


def route(api: WSGIApp, control: WSGIApp, web: WSGIApp | None = None) -> WSGIApp:
    def app(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path.startswith("/ovnlab/"):
            return control(environ, start_response)
        if web is not None and (path == "/web" or path.startswith("/web/")):
            return web(environ, start_response)
        return api(environ, start_response)

    return app


def _error_body(path: str, err: OvnlabError) -> Any:
    """An error the server itself answers (413) in the format of the API it was for."""
    from ovnlab.api.server import api_error_body

    if path.startswith(("/ovnlab/", "/web/")):
        return {"error": err.message, "type": err.type}
    return api_error_body(path, err)


def serve(state: StateDir, host: str = "127.0.0.1", port: int = 0,
          ready: Callable[[], None] = lambda: None,
          listen: tuple[str, int] | None = None) -> None:
    """Build the lab from its state dir and serve until SIGTERM (`ovnlab down`); `ready()`
    once it answers. The caller holds the state dir's lock. The web view is at /web/ on
    the API's address, or on `listen` alone (off loopback it asks for Keystone logins)."""
    from ovnlab.api import clouds_yaml, make_app
    from ovnlab.api import serve as serve_api
    from ovnlab.lab import open_lab
    from ovnlab.web import Sessions, is_loopback, web_app

    lock = Turns()
    lab = open_lab(state.path)
    state.mark_db_initialised()
    servers = []
    try:
        server = _bind(serve_api, host, port)
        servers.append(server)
        web_server = _bind(serve_api, *listen) if listen is not None else None
    except OvnlabError:
        for bound in servers:
            bound.close()
        lab.close()
        raise
    base_url = f"http://{host}:{server.port}"  # bound first: the URL goes into the catalog
    token = state.write_token()
    web_host = listen[0] if listen is not None else host
    web_port = web_server.port if web_server is not None else server.port
    # the web view draws the emulated fabric; the real backend has none (yet)
    web = web_app(lab, lock, Sessions(token, token_allowed=is_loopback(web_host))) \
        if hasattr(lab, "fabric") else _no_web
    server.set_app(route(make_app(lab.locked_cloud(lock), base_url=base_url),
                         control_app(lab, lock, token), None if web_server else web))
    if web_server is not None:
        web_server.set_app(route(_not_here, _not_here, web))
        web_server.start()
    state.clouds_file.write_text(clouds_yaml(base_url, lab.topology.projects))

    def stop() -> None:
        if web_server is not None:
            web_server.close()
        server.shutdown()

    # serve_forever runs in this (the signal's) thread: shutdown() must come from another
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=stop, daemon=True).start())
    web_url = f"http://{_url_host(web_host)}:{web_port}/web/"
    state.write_runtime(Runtime(os.getpid(), host, server.port, web_url))
    log.info("lab %s serving on %s, web view on %s", lab.topology.name, base_url, web_url)
    ready()
    try:
        server.serve_forever()
    finally:
        state.clear_runtime()
        lab.close()


def _bind(serve_api: Callable[..., Any], host: str, port: int) -> Any:
    try:
        return serve_api(lambda e, s: [], host=host, port=port, error_body=_error_body)
    except OSError as exc:
        raise OvnlabError(f"cannot listen on {host}:{port}: {exc.strerror}") from None


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _no_web(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
    """The real backend's lab has no web view yet."""
    data = json.dumps({"error": "the web view is not available on the real OVN backend"}).encode()
    start_response("404 Not Found", [("Content-Type", "application/json"),
                                     ("Content-Length", str(len(data)))])
    return [data]


def _not_here(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
    """The web view's own listener serves the web view only."""
    data = json.dumps({"error": "only the web view (/web/) is served here"}).encode()
    start_response("404 Not Found", [("Content-Type", "application/json"),
                                     ("Content-Length", str(len(data)))])
    return [data]


def main(argv: list[str] | None = None) -> int:
    """The daemon `ovnlab up` starts: `--lock-fd` is the state dir's lock, already held
    (taken here when absent); `--ready-fd` a pipe that gets `ready` or `error: WHY`."""
    parser = argparse.ArgumentParser(prog="ovnlab-daemon")
    parser.add_argument("--state", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--lock-fd", type=int, default=None)
    parser.add_argument("--ready-fd", type=int, default=None)
    parser.add_argument("--listen", type=parse_listen, default=None,
                        help="ADDR:PORT for the web view (default: /web/ on the API's address)")
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
        serve(state, args.host, args.port, ready=report.ready, listen=args.listen)
    except OvnlabError as exc:
        log.error("%s", exc.message)
        report.error(exc.message)
        return 1
    except statelock.LockHeld:
        report.error(f"{state.lock_file}: the lock handed over is not held")
        return 1
    return 0


def parse_listen(text: str) -> tuple[str, int]:
    """`ADDR:PORT` (`[v6]:PORT` for IPv6) -> (addr, port); port 0 picks a free one."""
    addr, sep, port = text.rpartition(":")
    addr = addr.removeprefix("[").removesuffix("]")
    try:
        ipaddress.ip_address(addr)
        number = int(port)
    except ValueError:
        number = -1
    if not sep or not 0 <= number <= 65535:
        raise argparse.ArgumentTypeError(
            f"invalid listen address {text!r} (expected ADDR:PORT, e.g. 127.0.0.1:8080 or "
            "0.0.0.0:8080)")
    return addr, number


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
