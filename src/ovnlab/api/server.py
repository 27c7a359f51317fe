"""The production WSGI server for the lab's APIs: cheroot (CherryPy's server), loopback by
default.

What the standard library's development server lacked, and this one sets (`Limits`):
a real listen backlog (a burst of connections queues in the kernel instead of being
reset), a bounded pool of worker threads (idle keep-alive connections wait in cheroot's
selector, not in a thread), a socket timeout that cuts off slow or partial requests, and
a request body limit answered with 413 in the API's own error format (`limit_body`), as
oslo.middleware's sizelimit filter does in front of the real services.
"""

from __future__ import annotations

import io
import json
import logging
import socket
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from cheroot import wsgi

from ovnlab.errors import OvnlabError

from .http import MAX_BODY

log = logging.getLogger("ovnlab.api")

Environ = dict[str, Any]
WSGIApp = Callable[[Environ, Callable[..., Any]], Iterable[bytes]]
ErrorBody = Callable[[str, OvnlabError], Any]  # (PATH_INFO, error) -> the JSON error body


@dataclass(frozen=True, slots=True)
class Limits:
    """How much the server takes on (docs/reference.md, "API server limits")."""

    backlog: int = 1024  # listen(2) backlog: connections the kernel queues before accept
    workers: int = 16  # threads running requests; the lab serialises them anyway
    timeout: int = 10  # seconds a connection may stay silent mid-request (or not read)
    max_header: int = 64 * 1024  # request line + headers, bytes (cheroot answers 413)
    max_body: int = MAX_BODY  # request body, bytes (`limit_body` answers 413)


DRAIN_FACTOR = 4  # a refused body is read up to this many times max_body before the 413


class RequestTooLarge(OvnlabError):
    status = 413


def _reject_body(max_body: int) -> RequestTooLarge:
    # oslo.middleware sizelimit's wording and webob's exception name
    return RequestTooLarge(f"Request is too large. Larger than max_request_body_size "
                           f"({max_body}).", type="HTTPRequestEntityTooLarge")


def limit_body(app: WSGIApp, max_body: int, error_body: ErrorBody) -> WSGIApp:
    """Answer 413 (body from `error_body`) to a request whose body exceeds `max_body`,
    before `app` sees it. A chunked body is read up to the limit and handed on with its
    Content-Length, so the app reads it like any other."""

    def limited(environ: Environ, start_response: Callable[..., Any]) -> Iterable[bytes]:
        chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0  # the app reports the malformed header its own way
        if chunked and length <= max_body:
            body = environ["wsgi.input"].read(max_body + 1)
            length = len(body)
            environ = {**environ, "wsgi.input": io.BytesIO(body), "CONTENT_LENGTH": str(length)}
        if length <= max_body:
            return app(environ, start_response)
        err = _reject_body(max_body)
        data = _json(error_body(environ.get("PATH_INFO", ""), err))
        _drain(environ["wsgi.input"], 0 if chunked else min(length, DRAIN_FACTOR * max_body))
        # cheroot closes the connection after a 413
        start_response("413 Request Entity Too Large",
                       [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
        return [data]

    return limited


def _drain(body: Any, size: int) -> None:
    """Read and drop up to `size` bytes of a refused body: a socket closed with unread data
    is reset, and the reset can destroy the 413 before the client reads it. Beyond the
    bound the body stays unread (what a client sends past it is its own risk)."""
    while size > 0 and (chunk := body.read(min(size, 64 * 1024))):
        size -= len(chunk)


def _json(body: Any) -> bytes:
    return json.dumps(body).encode()


def api_error_body(path: str, err: OvnlabError) -> Any:
    """The error body of the OpenStack service that owns `path` (Neutron, Nova...)."""
    from .app import _renderer

    return _renderer(path)(err)


def _unset_app(environ: Environ, start_response: Callable[..., Any]) -> Iterable[bytes]:
    start_response("503 Service Unavailable", [("Content-Length", "0")])
    return []


def _raise_bind_error(host: str, port: int) -> None:
    """cheroot reports a failed bind as text only; bind once more, as cheroot does, so the
    caller gets the OSError itself (errno, strerror: "Address already in use")."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host, port))


class ApiServer:
    """One bound listening socket served by cheroot; `set_app` swaps the WSGI app (the
    daemon binds first, then builds the app with the bound URL in its catalog)."""

    def __init__(self, host: str, port: int, limits: Limits = Limits(),
                 error_body: ErrorBody = api_error_body) -> None:
        self.limits = limits
        self._error_body = error_body
        self._server = wsgi.Server((host, port), _unset_app, numthreads=limits.workers,
                                   request_queue_size=limits.backlog, timeout=limits.timeout,
                                   shutdown_timeout=1)
        self._server.max_request_header_size = limits.max_header
        self._server.max_request_body_size = 0  # `limit_body` answers in the API's format
        try:
            self._server.prepare()  # bind + listen: the port is known from here on
        except OSError:
            _raise_bind_error(host, port)
            raise
        self._thread: threading.Thread | None = None
        self._closed = False

    def set_app(self, app: WSGIApp) -> None:
        self._server.wsgi_app = limit_body(app, self.limits.max_body, self._error_body)

    @property
    def port(self) -> int:
        return int(self._server.bind_addr[1])

    @property
    def url(self) -> str:
        return f"http://{self._server.bind_addr[0]}:{self.port}"

    def serve_forever(self) -> None:
        """Accept and serve until `shutdown()`/`close()` (from another thread or a signal)."""
        self._server.serve()

    def start(self) -> ApiServer:
        """serve_forever in a daemon thread."""
        self._thread = threading.Thread(target=self.serve_forever, name="ovnlab-api",
                                        daemon=True)
        self._thread.start()
        return self

    def shutdown(self) -> None:
        """Stop accepting and close the socket; requests in flight get `shutdown_timeout`."""
        if not self._closed:
            self._closed = True
            self._server.stop()

    def close(self) -> None:
        self.shutdown()
        if self._thread is not None:
            self._thread.join()
            self._thread = None


def serve(app: WSGIApp, host: str = "127.0.0.1", port: int = 0, *, background: bool = False,
          limits: Limits = Limits(), error_body: ErrorBody = api_error_body) -> ApiServer:
    """Bind `app` on host:port (0 = any free port; see `.url`/`.port`). Call `serve_forever()`
    (the daemon's main loop) or `start()` (a daemon thread; background=True does it here);
    `close()` stops and unbinds. Bodies above `limits.max_body` get 413 rendered by
    `error_body` (default: the OpenStack service's own error format)."""
    server = ApiServer(host, port, limits, error_body)
    server.set_app(app)
    if background:
        server.start()
    return server
