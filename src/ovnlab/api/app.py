"""The WSGI application: one port, devstack-style service prefixes, token checks, timing."""

from __future__ import annotations

import itertools
import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

from ovnlab.cloud.services import Services as Cloud
from ovnlab.errors import OvnlabError, Unauthorized

from .compute import Nova, nova_error
from .http import ErrorRenderer, Request, Response, Router, json_response, read_request, start
from .identity import Keystone, TokenStore, keystone_error
from .image import Glance, glance_error
from .network import Neutron, neutron_error

log = logging.getLogger("ovnlab.api")

StartResponse = Callable[..., Any]


@dataclass(frozen=True, slots=True)
class Timing:
    """Server time of one request (parse, cloud call, render), in seconds."""

    method: str
    route: str
    status: int
    seconds: float


def _renderer(path: str) -> ErrorRenderer:
    if path.startswith("/networking"):
        return neutron_error
    if path.startswith("/compute"):
        return nova_error
    if path.startswith("/image"):
        return glance_error
    return keystone_error


class App:
    """WSGI callable. Cloud calls are serialized by `lock`: the lab is single-threaded."""

    def __init__(self, cloud: Cloud, *, base_url: str | None, token_ttl: float,
                 clock: Callable[[], float], lock: threading.Lock | threading.RLock | None,
                 timings: int = 10000) -> None:
        self.cloud = cloud
        self.base_url = base_url.rstrip("/") if base_url else None
        self.lock = lock if lock is not None else threading.RLock()
        self.tokens = TokenStore(token_ttl, clock)
        self.router = Router()
        self.keystone = Keystone(cloud, self.tokens)
        self.keystone.register(self.router)
        Neutron(cloud).register(self.router, "/networking")
        Nova(cloud).register(self.router, "/compute")
        Glance(cloud.nova).register(self.router, "/image")
        self.router.add("GET", "/openapi.json", self._openapi, auth=False)
        self.timings: deque[Timing] = deque(maxlen=timings)
        self._request_ids = itertools.count(1)

    def stats(self) -> dict[str, dict[str, float]]:
        """Server time per route over the recorded requests: count, mean/max milliseconds."""
        per: dict[str, list[float]] = {}
        for t in list(self.timings):
            per.setdefault(f"{t.method} {t.route}", []).append(t.seconds)
        return {k: {"count": len(v), "mean_ms": 1e3 * sum(v) / len(v), "max_ms": 1e3 * max(v)}
                for k, v in sorted(per.items())}

    def _openapi(self, req: Request) -> Response:
        from .openapi import document
        return json_response(200, document(self, req.base_url))

    def handle(self, req: Request) -> tuple[str, Response]:
        """Route, authenticate and run one request; errors become the service's body."""
        route_name = "?"
        try:
            route, params = self.router.match(req.method, req.path)
            route_name = route.template
            req = replace(req, params=params)
            if route.auth:
                token = req.header("X-Auth-Token")
                try:
                    req = replace(req, context=self.tokens.validate(token).context)
                except Unauthorized as e:
                    return route_name, json_response(401, keystone_error(e))
                if not req.context.project_id and _renderer(req.path) is not keystone_error:
                    # keystonemiddleware: "Unable to determine service tenancy."
                    return route_name, json_response(401, keystone_error(Unauthorized(
                        "The request you have made requires authentication.")))
            with self.lock, self._atomic(req):
                return route_name, route.handler(req)
        except OvnlabError as e:
            if not 400 <= e.status < 600:  # the base class (500) or a misuse: still an error
                e = _with_status(e, 500)
            return route_name, json_response(e.status, _renderer(req.path)(e))
        except Exception as e:  # a bug, never a client error: log it, answer 500
            log.exception("internal error on %s %s", req.method, req.path)
            err = OvnlabError(f"Request Failed: internal server error while processing your "
                              f"request: {type(e).__name__}", type="HTTPInternalServerError")
            return route_name, json_response(500, _renderer(req.path)(err))

    @contextmanager
    def _atomic(self, req: Request) -> Iterator[None]:
        """A request that changes the cloud is all or nothing, whatever fails (a 4xx after
        an earlier step, a 5xx while the lab converges after the commit): one store
        transaction around the whole handler. Should an operation's NB write have committed
        in it, the rollback is followed by Neutron's resync so the NB matches the store."""
        store = getattr(self.cloud, "store", None)
        if req.method in ("GET", "HEAD") or store is None:
            yield
            return
        commits = self.cloud.driver_commits
        try:
            with store.transaction():
                yield
        except BaseException:
            if self.cloud.driver_commits != commits:
                log.warning("%s %s failed after its NB write: resyncing the NB",
                            req.method, req.path)
                self.cloud.sync_driver()
            raise

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        t0 = time.perf_counter()
        try:
            req = read_request(environ, self.base_url)
        except OvnlabError as e:
            return start(start_response, json_response(400, keystone_error(e)))
        request_id = f"req-{uuid.UUID(int=next(self._request_ids))}"
        route, resp = self.handle(replace(req, request_id=request_id))
        if req.method == "HEAD":
            resp = Response(resp.status, None, resp.headers)
        ids: tuple[tuple[str, str], ...] = (("X-Openstack-Request-Id", request_id),)
        if req.path.startswith("/compute"):  # Nova sends both
            ids += (("X-Compute-Request-Id", request_id),)
        out = start(start_response, resp, ids)
        seconds = time.perf_counter() - t0
        self.timings.append(Timing(req.method, route, resp.status, seconds))
        log.debug("%s %s -> %d in %.2f ms", req.method, req.path, resp.status, seconds * 1e3)
        return out


def _with_status(e: OvnlabError, status: int) -> OvnlabError:
    if e.status == status:
        return e
    out = OvnlabError(e.message, type=e.type)
    out.status = status
    return out


def make_app(cloud: Cloud, *, base_url: str | None = None, token_ttl: float = 3600.0,
             clock: Callable[[], float] = time.time,
             lock: threading.Lock | threading.RLock | None = None) -> App:
    """The OpenStack API over `cloud`.

    base_url: the scheme://host:port written into catalogs and links; None = taken from
    each request's Host header (useful when serving on port 0). token_ttl: seconds a token
    lives, measured on `clock`. lock: shared with whatever else drives the cloud.
    """
    return App(cloud, base_url=base_url, token_ttl=token_ttl, clock=clock, lock=lock)
