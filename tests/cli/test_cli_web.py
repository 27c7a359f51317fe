"""`ovnlab up` prints the web view's link, `ovnlab web` prints (or opens) it, and
`up --listen ADDR:PORT` moves the view to a listener of its own (Keystone logins off
loopback)."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from cli_helpers import ovnlab

LINK = re.compile(r"Web view: (http://\S+)")


def _post(url: str, body: dict[str, str]) -> tuple[int, dict[str, str]]:
    req = urllib.request.Request(url, data=json.dumps(body).encode(), headers={
        "Content-Type": "application/json", "X-Ovnlab-Web": "1"})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=30) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def test_up_prints_the_link_and_web_prints_it_again(state_dir: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    up = ovnlab(state_dir, "up")
    assert up.returncode == 0, up.stderr
    link = LINK.search(up.stdout)
    assert link, up.stdout
    url = link.group(1)
    api_url = json.loads((state_dir / "lab.json").read_text())
    assert url == (f"http://127.0.0.1:{api_url['port']}/web/?token="
                   f"{(state_dir / 'control.token').read_text().strip()}")
    web = ovnlab(state_dir, "web")  # no display here: it prints the link
    assert web.returncode == 0 and web.stdout == url + "\n"
    assert _get(url) == 200
    base, token = url.split("?token=")
    assert _post(base + "api/login", {"token": token}) == (200, {"ok": True})


def test_listen_on_loopback(state_dir: Path) -> None:
    up = ovnlab(state_dir, "up", "--listen", "127.0.0.1:0")
    assert up.returncode == 0, up.stderr
    url = LINK.search(up.stdout).group(1)  # type: ignore[union-attr]
    runtime = json.loads((state_dir / "lab.json").read_text())
    assert not url.startswith(f"http://127.0.0.1:{runtime['port']}/")  # a listener of its own
    assert ovnlab(state_dir, "web", "--no-browser").stdout == url + "\n"
    base, token = url.split("?token=")
    assert _post(base + "api/login", {"token": token})[0] == 200
    api_base = f"http://127.0.0.1:{runtime['port']}"
    assert _get(api_base + "/web/") == 404  # the API's port no longer serves it
    assert _get(base.removesuffix("/web/") + "/v2.0/networks") == 404  # nor it the APIs


def test_listen_off_loopback_asks_for_keystone(state_dir: Path) -> None:
    up = ovnlab(state_dir, "up", "--listen", "0.0.0.0:0")
    assert up.returncode == 0, up.stderr
    url = LINK.search(up.stdout).group(1)  # type: ignore[union-attr]
    assert "token" not in url and url.startswith("http://0.0.0.0:")
    token = (state_dir / "control.token").read_text().strip()
    status, reply = _post(url + "api/login", {"token": token})
    assert status == 403 and "Keystone credentials only" in reply["error"]
    assert _post(url + "api/login", {"username": "admin", "password": "secret"})[0] == 200


def test_a_bad_listen_address_is_refused_before_anything_starts(state_dir: Path) -> None:
    for bad in ("8080", "localhost:8080", "127.0.0.1:99999", "127.0.0.1:x"):
        up = ovnlab(state_dir, "up", "--listen", bad)
        assert up.returncode == 2
        assert f"invalid listen address {bad!r} (expected ADDR:PORT" in up.stderr
        assert not state_dir.exists()


def test_web_without_a_lab(state_dir: Path) -> None:
    web = ovnlab(state_dir, "web")
    assert web.returncode != 0 and "ovnlab: " in web.stderr and not web.stdout
