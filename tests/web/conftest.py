"""A seed lab after the article's commands with its web view served, and Debian's chromium
driven by Playwright (skipped without them, failed when OVNLAB_REQUIRE_BROWSER=1)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from web_helpers import CHROMIUM, CHROMIUM_ARGS, Served, serve_web

from ovnlab.lab import Lab
from ovnlab.scenario import run_article


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
def shots(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Path:
    """Where the browser tests leave their screenshots: $OVNLAB_WEB_SCREENSHOTS, else a
    pytest temporary directory; the path is printed in the session's summary."""
    chosen = os.environ.get("OVNLAB_WEB_SCREENSHOTS")
    path = Path(chosen) if chosen else tmp_path_factory.mktemp("web-screenshots")
    path.mkdir(parents=True, exist_ok=True)
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(f"web view screenshots: {path}")
    return path
