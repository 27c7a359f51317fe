"""A seed lab after the article's commands, its web view served as the daemon serves it,
and Debian's chromium driven by Playwright (its own browser download is not used)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ovnlab.api import serve
from ovnlab.daemon import route
from ovnlab.lab import Lab
from ovnlab.scenario import run_article
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


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    lab = Lab.build("seed")
    run_article(lab.openstack)
    server, info = serve_web(lab)
    try:
        yield info
    finally:
        server.close()
        lab.close()


def _browser_missing() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install playwright)"
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        return f"no chromium at {CHROMIUM} (apt-get install chromium)"
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    missing = _browser_missing()
    if missing:
        if os.environ.get("OVNLAB_REQUIRE_BROWSER") == "1":
            pytest.fail(f"OVNLAB_REQUIRE_BROWSER=1: {missing}")
        pytest.skip(missing)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the browser tests leave their screenshots (printed: pytest -s shows it)."""
    path = tmp_path_factory.mktemp("web-screenshots")
    print(f"\nweb view screenshots: {path}")
    return path
