"""The web view's WSGI app under `/web/`: the page and its assets (shipped in this package,
no CDN), and a small JSON API the page calls. Every call reads the lab through the
interfaces the CLI uses (`Lab.exec`, `Lab.trace`, `Lab.config_set`), taking its turn on
the lab like any request.

    GET  /web/                   the page              GET  /web/static/FILE  its assets
    POST /web/api/login          {"token"} | {"username", "password", "project"}
    GET  /web/api/version        changes when the drawing may (the page polls it)
    GET  /web/api/topology       Cytoscape elements and the selectors' choices
    POST /web/api/trace          {"src", "dst", "proto", "port"}
    POST /web/api/config         {"key", "value"}   (`ovnlab config set`)
    POST /web/api/exec           {"node", "argv"}   inspection tools only
    GET  /web/api/capture?node=&iface=&filter=&since=N   tcpdump's lines after mark N
    GET  /web/api/pcap?node=&iface=&filter=   a capture as a pcap download
"""

from __future__ import annotations

import json
import mimetypes
import shlex
from collections.abc import Callable, Iterable
from http.cookies import SimpleCookie
from importlib import resources
from typing import Any
from urllib.parse import parse_qs

from ovnlab.errors import BadRequest, NotFound, OvnlabError, ToolError
from ovnlab.live import wants_live
from ovnlab.tools.files import ClientFiles
from ovnlab.web import capture, views
from ovnlab.web.auth import COOKIE, SESSION_SECONDS, Sessions

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
WSGIApp = Callable[[Environ, StartResponse], Iterable[bytes]]

PREFIX = "/web"
CSRF_HEADER = "HTTP_X_OVNLAB_WEB"  # a header a cross-site form cannot send
# what the page may run: the read-side tools (no ping/nc: a long run would hold the lab)
INSPECT_TOOLS = ("ovs-ofctl", "ovs-vsctl", "ovs-appctl", "ovn-nbctl", "ovn-sbctl",
                 "ovn-trace", "tcpdump")
MAX_BODY = 64 * 1024


def web_app(lab: Any, lock: Any, sessions: Sessions) -> WSGIApp:
    static = resources.files("ovnlab.web") / "static"

    def app(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "").removeprefix(PREFIX)
        method = environ.get("REQUEST_METHOD", "GET")
        if path in ("", "/"):
            if path == "":
                start_response("301 Moved Permanently", [("Location", PREFIX + "/")])
                return []
            return _file(start_response, static / "index.html")
        if path.startswith("/static/"):
            name = path.removeprefix("/static/")
            target = static.joinpath(*name.split("/"))
            if ".." in name.split("/") or not target.is_file():
                return _json(start_response, 404, {"error": f"no such file: {name}"})
            return _file(start_response, target)
        if not path.startswith("/api/"):
            return _json(start_response, 404, {"error": f"no such page: {path}"})
        verb = path.removeprefix("/api/")
        try:
            if method == "POST" and not environ.get(CSRF_HEADER):
                raise BadRequest("the web API's POSTs carry X-Ovnlab-Web (the page sends it)")
            if verb == "login" and method == "POST":
                sid, _ = sessions.login(_keystone_login(lab, lock), _body(environ))
                return _json(start_response, 200, {"ok": True}, [_cookie(sid)])
            cookie = _cookies(environ).get(COOKIE)
            sessions.check(cookie)
            if verb == "logout" and method == "POST":
                sessions.logout(cookie)
                return _json(start_response, 200, {"ok": True}, [_cookie("", 0)])
            if verb == "pcap" and method == "GET":
                return _pcap(lab, lock, start_response, _query(environ))
            handler = API.get((method, verb))
            if handler is None:
                raise NotFound(f"unknown web API call {method} {verb!r}")
            with lock:
                reply = handler(lab, _body(environ) if method == "POST" else _query(environ))
            return _json(start_response, 200, reply)
        except OvnlabError as exc:
            return _json(start_response, exc.status, {"error": exc.message})
        except (ValueError, KeyError, TypeError) as exc:
            return _json(start_response, 400, {"error": f"bad request: {exc}"})

    return app


# ---------------------------------------------------------------- API handlers


def _capture(lab: Any, query: dict[str, Any]) -> dict[str, Any]:
    since = str(query.get("since") or "")
    if since and not since.isdigit():
        raise BadRequest(f"since: a frame mark is 0 or more, got {since!r}")
    try:
        polled = capture.poll(lab, str(query["node"]), str(query["iface"]),
                              str(query.get("filter") or ""), int(since) if since else None)
    except ToolError as exc:  # tcpdump's own message, as `ovnlab exec` prints it
        raise BadRequest(exc.message.strip()) from None
    return polled.reply()


def _version(lab: Any, _: dict[str, Any]) -> dict[str, Any]:
    return {"version": views.version(lab)}


def _keystone_login(lab: Any, lock: Any) -> Callable[[str, str, str], Any]:
    """Keystone's password login on the lab's cloud (users made through the API too)."""

    def login(user: str, password: str, project: str) -> Any:
        with lock:
            return lab.cloud.identity.authenticate(user, password, project)

    return login


def _topology(lab: Any, _: dict[str, Any]) -> dict[str, Any]:
    return views.topology(lab)


def _trace(lab: Any, body: dict[str, Any]) -> dict[str, Any]:
    journey = lab.trace(str(body["src"]), str(body["dst"]), str(body.get("proto") or "icmp"),
                        int(body.get("port") or 0))
    return views.journey_view(lab, journey)


def _config(lab: Any, body: dict[str, Any]) -> dict[str, Any]:
    lab.config_set(str(body["key"]), str(body["value"]))
    return {"key": body["key"], "value": body["value"], "version": views.version(lab)}


def _exec(lab: Any, body: dict[str, Any]) -> dict[str, Any]:
    argv = _argv(body["argv"])
    result = lab.exec(str(body["node"]), argv, ClientFiles())
    return {"stdout": result.stdout, "stderr": result.stderr, "rc": result.rc,
            "command": shlex.join(argv)}


API: dict[tuple[str, str], Callable[[Any, dict[str, Any]], dict[str, Any]]] = {
    ("GET", "version"): _version,
    ("GET", "capture"): _capture,
    ("GET", "topology"): _topology,
    ("POST", "trace"): _trace,
    ("POST", "config"): _config,
    ("POST", "exec"): _exec,
}


def _argv(raw: Any) -> list[str]:
    """A command line the page may run: an inspection tool; tcpdump replays what the
    interface recorded (`--history`) and never reads or writes a file here."""
    argv = shlex.split(raw) if isinstance(raw, str) else [str(a) for a in raw]
    if not argv or argv[0] not in INSPECT_TOOLS:
        raise BadRequest(f"{argv[0] if argv else '(empty)'}: the web view runs "
                         f"{', '.join(INSPECT_TOOLS)} only")
    if argv[0] == "tcpdump":
        if any(a.startswith("-") and not a.startswith("--") and ("r" in a or "w" in a)
               for a in argv[1:]):
            raise BadRequest("tcpdump: the web view reads no files (use the pcap download)")
        if wants_live(argv):
            argv.insert(1, "--history")
    return argv


def _pcap(lab: Any, lock: Any, start_response: StartResponse,
          query: dict[str, Any]) -> Iterable[bytes]:
    node, iface = str(query["node"]), str(query["iface"])
    expr = shlex.split(str(query.get("filter") or ""))
    files = ClientFiles()
    with lock:
        result = lab.exec(node, ["tcpdump", "--history", "-i", iface, "-w", "capture.pcap",
                                 *expr], files)
    if result.rc != 0:
        return _json(start_response, 400, {"error": result.stderr.strip()})
    data = files.written.get("capture.pcap", b"")
    name = f"{node}-{iface}.pcap".replace('"', "")
    start_response("200 OK", [("Content-Type", "application/vnd.tcpdump.pcap"),
                              ("Content-Disposition", f'attachment; filename="{name}"'),
                              ("Content-Length", str(len(data)))])
    return [data]


# ---------------------------------------------------------------- HTTP plumbing


def _body(environ: Environ) -> dict[str, Any]:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    if length > MAX_BODY:
        raise BadRequest(f"request body over {MAX_BODY} bytes")
    raw = environ["wsgi.input"].read(length) if length else b""
    body = json.loads(raw or b"{}")
    if not isinstance(body, dict):
        raise BadRequest("the request body is a JSON object")
    return body


def _query(environ: Environ) -> dict[str, Any]:
    return {k: v[-1] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}


def _cookies(environ: Environ) -> dict[str, str]:
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(environ.get("HTTP_COOKIE", ""))
    except Exception:  # noqa: BLE001 - a malformed cookie header is no session
        return {}
    return {k: m.value for k, m in jar.items()}


def _cookie(sid: str, max_age: int = SESSION_SECONDS) -> tuple[str, str]:
    return ("Set-Cookie", f"{COOKIE}={sid}; Path={PREFIX}; HttpOnly; SameSite=Strict; "
                          f"Max-Age={max_age}")


def _json(start_response: StartResponse, status: int, reply: Any,
          headers: list[tuple[str, str]] | None = None) -> list[bytes]:
    data = json.dumps(reply).encode()
    start_response(f"{status} {'OK' if status < 400 else 'Error'}",
                   [("Content-Type", "application/json"), ("Content-Length", str(len(data))),
                    ("Cache-Control", "no-store"), *(headers or [])])
    return [data]


def _file(start_response: StartResponse, target: Any) -> list[bytes]:
    data = target.read_bytes()
    kind = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
    if kind.startswith("text/") or kind.endswith("javascript"):
        kind += "; charset=utf-8"
    start_response("200 OK", [("Content-Type", kind), ("Content-Length", str(len(data))),
                              ("X-Content-Type-Options", "nosniff")])
    return [data]
