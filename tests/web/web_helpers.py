"""The web view served in-process as the daemon serves it, and how to launch Debian's
chromium (Playwright's own browser download is not used)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from ovnlab.api import serve
from ovnlab.daemon import route
from ovnlab.lab import Lab
from ovnlab.turns import Turns
from ovnlab.web import Sessions, web_app

CHROMIUM = os.environ.get("OVNLAB_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
TOKEN = "web-test-token"


@dataclass(frozen=True)
class Served:
    lab: Lab
    lock: Turns
    base: str  # http://127.0.0.1:PORT

    @property
    def link(self) -> str:
        return f"{self.base}/web/?token={TOKEN}"


def _not_found(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("404 Not Found", [("Content-Length", "0")])
    return []


def serve_web(lab: Lab, *, token_allowed: bool = True) -> tuple[Any, Served]:
    lock = Turns()
    server = serve(route(_not_found, _not_found, web_app(
        lab, lock, Sessions(TOKEN, token_allowed=token_allowed))), background=True)
    return server, Served(lab, lock, f"http://127.0.0.1:{server.port}")


