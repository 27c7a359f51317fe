"""A threaded stdlib WSGI server for the App (loopback by default)."""

from __future__ import annotations

import logging
import threading
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer

log = logging.getLogger("ovnlab.api")


class _Handler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        log.debug("%s " + format, self.address_string(), *args)


class ApiServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True

    _thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    @property
    def url(self) -> str:
        host = self.server_address[0]
        return f"http://{host.decode() if isinstance(host, bytes) else host}:{self.port}"

    def start(self) -> ApiServer:
        """serve_forever in a daemon thread."""
        self._thread = threading.Thread(target=self.serve_forever, name="ovnlab-api",
                                        daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        if self._thread is not None:
            self.shutdown()
            self._thread.join()
            self._thread = None
        self.server_close()


def serve(app: Any, host: str = "127.0.0.1", port: int = 0, *,
          background: bool = False) -> ApiServer:
    """Bind `app` on host:port (0 = any free port; see `.url`/`.port`). Call `serve_forever()`
    (the daemon's main loop) or `start()` (a daemon thread; background=True does it here);
    `close()` stops and unbinds."""
    server = ApiServer((host, port), _Handler)
    server.set_app(app)
    if background:
        server.start()
    return server
