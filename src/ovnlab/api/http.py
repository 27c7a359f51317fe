"""Minimal WSGI plumbing: requests, JSON responses, a regex router, per-service error bodies.

Stdlib only. Each OpenStack service renders errors its own way, so a handler raises
`ovnlab.errors` exceptions and the service's `ErrorRenderer` turns them into a body.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs

from ovnlab.errors import BadRequest, NotFound, OvnlabError

MAX_BODY = 1 << 20  # 1 MiB: far above any real request, small enough to refuse abuse


class MethodNotAllowed(OvnlabError):
    status = 405


class NotAcceptable(OvnlabError):
    status = 406


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    path: str
    query: Mapping[str, list[str]]
    headers: Mapping[str, str]  # lower-case names
    body: bytes
    base_url: str  # scheme://host[:port] the client used (or the configured one)
    params: Mapping[str, str] = field(default_factory=dict)  # route groups
    context: Any = None  # the cloud Context of the validated token
    request_id: str = ""  # req-<uuid>: the X-Openstack-Request-Id the answer carries

    def json(self) -> Any:
        """The decoded body. A 400 for what is not strict JSON in UTF-8 (RFC 8259): bad bytes
        or syntax, nesting deeper than the parser's stack, the NaN/Infinity constants
        Python's parser would take (and numbers too large for a float), and escaped lone surrogates ("\\ud800"), which are valid
        JSON syntax but no Unicode text: nothing downstream (the store, the NB, a VM's name,
        a terminal) can encode them."""
        if not self.body:
            raise BadRequest("Malformed request body: the body is empty", type="HTTPBadRequest")
        try:
            data = json.loads(self.body.decode("utf-8"), parse_constant=_no_constant,
                              parse_float=_finite)
            json.dumps(data, ensure_ascii=False).encode("utf-8")
        except RecursionError:
            raise BadRequest("Malformed request body: nested too deeply",
                             type="HTTPBadRequest") from None
        except UnicodeEncodeError as e:
            bad = e.object[e.start:e.end].encode("utf-8", "backslashreplace").decode()
            raise BadRequest(f"Malformed request body: {bad} is a lone surrogate, not Unicode "
                             "text", type="HTTPBadRequest") from None
        except (UnicodeDecodeError, ValueError) as e:
            raise BadRequest(f"Malformed request body: {e}", type="HTTPBadRequest") from None
        return data

    def header(self, name: str, default: str = "") -> str:
        return self.headers.get(name.lower(), default)

    def q1(self, name: str) -> str | None:
        """First value of a query parameter."""
        values = self.query.get(name)
        return values[0] if values else None


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    body: Any = None  # JSON-encodable, or None for an empty body
    headers: tuple[tuple[str, str], ...] = ()

    def encoded(self) -> bytes:
        if self.body is None:
            return b""
        return json.dumps(self.body, sort_keys=False).encode("utf-8")


def json_response(status: int, body: Any, *headers: tuple[str, str]) -> Response:
    return Response(status, body, headers)


Handler = Callable[[Request], Response]


@dataclass(frozen=True, slots=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler
    auth: bool = True  # discovery documents are readable without a token
    template: str = ""  # OpenAPI path template


class Router:
    """Ordered (method, regex) routes; 404 when no path matches, 405 when only the method differs."""

    def __init__(self) -> None:
        self.routes: list[Route] = []

    def add(self, method: str, template: str, handler: Handler, *, auth: bool = True) -> None:
        regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template)
        self.routes.append(Route(method, re.compile(f"^{regex}$"), handler, auth, template))

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]]:
        allowed = False
        for route in self.routes:
            m = route.pattern.match(path)
            if m is None:
                continue
            if route.method == method or (method == "HEAD" and route.method == "GET"):
                return route, m.groupdict()
            allowed = True
        if allowed:
            raise MethodNotAllowed(f"The method {method} is not allowed for {path}.",
                                   type="HTTPMethodNotAllowed")
        raise NotFound("The resource could not be found.", type="HTTPNotFound")


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def _finite(text: str) -> float:
    """A JSON number Python would turn into infinity (1e999) is refused as NaN/Infinity
    are: no JSON writer (the store, SQLite's JSON functions) can write it back."""
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number {text} is out of range")
    return value


ErrorRenderer = Callable[[OvnlabError], Any]


def reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def read_request(environ: Mapping[str, Any], base_url: str | None) -> Request:
    """Build a Request from a WSGI environ; the body is capped at MAX_BODY."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > MAX_BODY:
        raise BadRequest("Request body too large", type="HTTPBadRequest")
    stream = environ.get("wsgi.input")
    body = stream.read(length) if (stream is not None and length > 0) else b""
    headers = {k[5:].replace("_", "-").lower(): str(v) for k, v in environ.items()
               if k.startswith("HTTP_")}
    if "CONTENT_TYPE" in environ:
        headers["content-type"] = str(environ["CONTENT_TYPE"])
    raw_path = environ.get("PATH_INFO") or "/"
    # PEP 3333 hands PATH_INFO over as latin-1 decoded bytes; recover the UTF-8 text.
    try:
        path = raw_path.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        path = raw_path
    query = parse_qs(environ.get("QUERY_STRING") or "", keep_blank_values=True)
    return Request(
        method=str(environ.get("REQUEST_METHOD") or "GET").upper(),
        path=path,
        query=query,
        headers=headers,
        body=body,
        base_url=(base_url or _host_url(environ)).rstrip("/"),
    )


def _host_url(environ: Mapping[str, Any]) -> str:
    scheme = environ.get("wsgi.url_scheme", "http")
    host = environ.get("HTTP_HOST")
    if not host:
        host = f"{environ.get('SERVER_NAME', '127.0.0.1')}:{environ.get('SERVER_PORT', '80')}"
    return f"{scheme}://{host}"


def start(start_response: Callable[..., Any], resp: Response,
          extra: Iterable[tuple[str, str]] = ()) -> list[bytes]:
    payload = resp.encoded()
    headers = list(resp.headers) + list(extra)
    if resp.body is not None:
        headers.append(("Content-Type", "application/json"))
    headers.append(("Content-Length", str(len(payload))))
    start_response(f"{resp.status} {reason(resp.status)}", headers)
    return [payload]
