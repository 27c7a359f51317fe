"""Helpers for the API tests: a recording driver, a cloud snapshot, and a client that calls
the WSGI app in-process. (A uniquely named module: `conftest` exists in several test dirs.)"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from ovnlab import api, topology
from ovnlab.cloud import Cloud

TOPOLOGY = topology.load("seed")
PROJECTS = TOPOLOGY.projects


class RecordingDriver:
    """A mechanism driver that records the hooks the cloud calls. Like the NB transaction,
    calls made in a transaction that fails are dropped."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self._pending: list[str] | None = None

    @contextmanager
    def transaction(self) -> Iterator[None]:
        if self._pending is not None:  # nested: joins the outer transaction
            yield None
            return
        self._pending = []
        try:
            yield None
            self.calls += self._pending
        finally:
            self._pending = None

    def agents(self, now: str) -> list[dict[str, Any]]:
        return []  # no chassis behind this driver

    def bind(self, plugin: Any) -> None:
        """The cloud's read-only view of its resources (set up, not a hook: not recorded)."""
        self.plugin = plugin

    def __getattr__(self, name: str) -> Callable[..., None]:
        if name.startswith("_"):
            raise AttributeError(name)

        def hook(*args: Any, **kwargs: Any) -> None:
            (self.calls if self._pending is None else self._pending).append(name)
        return hook


def snapshot(cloud: Cloud) -> Any:
    """Everything the cloud holds, for "a failed request changed nothing"."""
    return json.dumps(cloud.resources(), sort_keys=True)


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    raw: bytes

    @property
    def body(self) -> Any:
        return json.loads(self.raw) if self.raw else None


class Client:
    """Calls the WSGI app in-process."""

    def __init__(self, app: api.App) -> None:
        self.app = app
        self.token: str | None = None

    def request(self, method: str, path: str, body: Any = None, *, raw: bytes | None = None,
                headers: dict[str, str] | None = None, token: bool = True) -> Reply:
        path, _, query = path.partition("?")
        data = raw if raw is not None else (b"" if body is None else json.dumps(body).encode())
        environ: dict[str, Any] = {
            # PEP 3333: PATH_INFO carries the raw bytes decoded as latin-1
            "REQUEST_METHOD": method, "PATH_INFO": path.encode().decode("latin-1"),
            "QUERY_STRING": query,
            "CONTENT_LENGTH": str(len(data)), "wsgi.input": io.BytesIO(data),
            "wsgi.url_scheme": "http", "HTTP_HOST": "lab.test:5000",
            "CONTENT_TYPE": "application/json",
        }
        if token and self.token:
            environ["HTTP_X_AUTH_TOKEN"] = self.token
        for k, v in (headers or {}).items():
            environ["HTTP_" + k.upper().replace("-", "_")] = v
        captured: dict[str, Any] = {}

        def start_response(status: str, hdrs: list[tuple[str, str]]) -> None:
            captured["status"] = int(status.split()[0])
            captured["headers"] = {k.lower(): v for k, v in hdrs}

        out = b"".join(self.app(environ, start_response))
        return Reply(captured["status"], captured["headers"], out)

    def login(self, user: str = "admin", project: str = "admin",
              password: str = "secret") -> Reply:
        r = self.request("POST", "/identity/v3/auth/tokens", auth_body(user, password, project),
                         token=False)
        if r.status == 201:
            self.token = r.headers["x-subject-token"]
        return r

    def get(self, path: str, **kw: Any) -> Reply:
        return self.request("GET", path, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> Reply:
        return self.request("POST", path, body, **kw)

    def put(self, path: str, body: Any = None, **kw: Any) -> Reply:
        return self.request("PUT", path, body, **kw)

    def delete(self, path: str, **kw: Any) -> Reply:
        return self.request("DELETE", path, **kw)


def auth_body(user: str, password: str, project: str) -> dict[str, Any]:
    return {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": user, "password": password, "domain": {"name": "Default"}}}},
        "scope": {"project": {"name": project, "domain": {"name": "Default"}}}}}


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now
