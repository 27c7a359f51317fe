"""`curl` (7.8x, as in cirros 0.6) on a lab VM or host: one HTTP/1.1 GET over the lab's TCP.

    curl [-s] [-S] [-f] [-i] [-I] [-o FILE|-] [-w FORMAT] [-m SECS] [--connect-timeout SECS] URL

The exit codes are curl's: 2 bad usage, 1 unsupported protocol, 3 malformed URL, 6 could
not resolve the host, 7 failed to connect, 22 an HTTP error with `-f`, 28 a timeout, 56 a
reset connection. `-w` knows %{http_code}, %{size_download}, %{content_type},
%{remote_ip}, %{remote_port}, %{url_effective} and \\n. Names resolve as the lab's DNS
does, and only on a node that has a name server (a VM whose lease gave one, or any
non-VM host): no DNS packets cross the lab. Only `http://` is served (no TLS). Without
`-s` the progress meter is not drawn (curl draws it on stderr when stdout is not a
terminal).

`checkpoint` is called between the clock's events (see tools/ping.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ovnlab.errors import NotFound
from ovnlab.fabric.nodes import VM
from ovnlab.fabric.tcpclient import Outcome, TcpExchange
from ovnlab.packet import ip_str
from ovnlab.tools import ToolResult
from ovnlab.turns import no_slices

VERSION = "7.84.0"
TRY_HELP = "curl: try 'curl --help' or 'curl --manual' for more information"
URL_RE = re.compile(r"^(?:(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://)?(?P<host>\[[^\]]*\]|[^/:?#]*)"
                    r"(?::(?P<port>[^/?#]*))?(?P<path>[/?#].*)?$")
WITH_VALUE = {"-o": "output", "--output": "output", "-w": "write_out",
              "--write-out": "write_out", "-m": "max_time", "--max-time": "max_time",
              "--connect-timeout": "connect_timeout"}
FLAGS = {"s": "silent", "S": "show_error", "f": "fail", "i": "include", "I": "head",
         "L": "location"}
LONG_FLAGS = {"--silent": "silent", "--show-error": "show_error", "--fail": "fail",
              "--include": "include", "--head": "head", "--location": "location"}
WRITE_OUT_RE = re.compile(r"%\{([a-z_]+)\}")


@dataclass(slots=True)
class _Options:
    url: str = ""
    silent: bool = False
    show_error: bool = False
    fail: bool = False
    include: bool = False
    head: bool = False
    location: bool = False
    output: str | None = None
    write_out: str = ""
    max_time: float | None = None
    connect_timeout: float | None = None


@dataclass(frozen=True, slots=True)
class _Response:
    status: int
    head: bytes
    body: bytes
    content_type: str


class _Error(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _parse(argv: list[str]) -> _Options:
    opts = _Options()
    args = list(argv)
    urls: list[str] = []
    while args:
        arg = args.pop(0)
        if arg in WITH_VALUE or (arg[:2] in ("-o", "-w", "-m") and len(arg) > 2):
            name, value = (arg, args.pop(0) if args else None) if arg in WITH_VALUE \
                else (arg[:2], arg[2:])
            if value is None:
                raise _Error(2, f"curl: option {arg}: requires parameter\n{TRY_HELP}")
            _set_value(opts, WITH_VALUE[name], value, arg)
        elif arg in LONG_FLAGS:
            setattr(opts, LONG_FLAGS[arg], True)
        elif arg.startswith("--"):
            raise _Error(2, f"curl: option {arg}: is unknown\n{TRY_HELP}")
        elif arg.startswith("-") and len(arg) > 1:
            letters = arg[1:]
            while letters:
                letter, letters = letters[0], letters[1:]
                if letter in FLAGS:
                    setattr(opts, FLAGS[letter], True)
                elif f"-{letter}" in WITH_VALUE:
                    value = letters or (args.pop(0) if args else None)
                    if value is None:
                        raise _Error(2, f"curl: option -{letter}: requires parameter\n{TRY_HELP}")
                    _set_value(opts, WITH_VALUE[f"-{letter}"], value, f"-{letter}")
                    letters = ""
                else:
                    raise _Error(2, f"curl: option -{letter}: is unknown\n{TRY_HELP}")
        else:
            urls.append(arg)
    if not urls:
        raise _Error(2, f"curl: no URL specified!\n{TRY_HELP}")
    opts.url = urls[0]
    return opts


def _set_value(opts: _Options, name: str, value: str, arg: str) -> None:
    if name in ("max_time", "connect_timeout"):
        try:
            seconds = float(value)
        except ValueError:
            raise _Error(2, f"curl: option {arg}: expected a proper numerical parameter\n"
                            f"{TRY_HELP}") from None
        setattr(opts, name, seconds)
    else:
        setattr(opts, name, value)


def run(fabric: Any, node: str, argv: list[str],
        checkpoint: Callable[[], None] = no_slices,
        write_file: Callable[[str, bytes], None] | None = None) -> ToolResult:
    try:
        opts = _parse(argv)
    except _Error as exc:
        return ToolResult(exc.code, "", exc.message + "\n")
    try:
        host_node = fabric.ip_node(node)
    except NotFound as exc:
        return ToolResult(1, "", f"curl: {exc.message}\n")
    stdout = b""
    stats: dict[str, str] = {"http_code": "000", "size_download": "0", "content_type": "",
                             "remote_ip": "", "remote_port": "", "url_effective": opts.url}
    try:
        scheme, host, port, path = _split_url(opts.url)
        stats["url_effective"] = f"{scheme}://{host}{'' if port == 80 else f':{port}'}{path}"
        address = _resolve(fabric, host_node, host)
        stats.update(remote_ip=ip_str(address), remote_port=str(port))
        response = _fetch(fabric, host_node.stack, address, port, host, path, opts, checkpoint)
        stats.update(http_code=f"{response.status:03d}", content_type=response.content_type,
                     size_download=str(len(response.body)))
        if opts.fail and response.status >= 400:
            raise _Error(22, f"The requested URL returned error: {response.status}")
        out = (response.head if opts.include or opts.head else b"") + response.body
        if opts.output not in (None, "-"):
            assert opts.output is not None
            if write_file is None:
                raise _Error(23, "Failure writing output to destination")
            write_file(opts.output, out)
        else:
            stdout = out
        rc, err = 0, ""
    except _Error as exc:
        rc = exc.code
        err = "" if opts.silent and not opts.show_error else f"curl: ({exc.code}) {exc.message}\n"
    text = stdout.decode("utf-8", "replace") + _write_out(opts.write_out, stats)
    return ToolResult(rc, text, err)


def _split_url(url: str) -> tuple[str, str, int, str]:
    m = URL_RE.match(url)
    if m is None or not m.group("host"):
        raise _Error(3, "URL using bad/illegal format or missing URL")
    scheme = (m.group("scheme") or "http").lower()
    if scheme != "http":
        raise _Error(1, f'Protocol "{scheme}" not supported or disabled in libcurl')
    port_text = m.group("port")
    if port_text is not None and (not port_text.isdigit() or not 0 < int(port_text) < 65536):
        raise _Error(3, "URL using bad/illegal format or missing URL")
    path = m.group("path") or "/"
    if not path.startswith("/"):
        path = "/" + path
    return scheme, m.group("host"), int(port_text or 80), path.split("#", 1)[0]


def _resolve(fabric: Any, node: Any, host: str) -> int:
    literal = re.fullmatch(r"\d+\.\d+\.\d+\.\d+", host)
    if literal:
        address = fabric.resolve(host)
        if address is not None:
            return int(address)
    elif not isinstance(node, VM) or node.stack.nameservers:
        address = fabric.resolve(host)
        if address is not None:
            return int(address)
    raise _Error(6, f"Could not resolve host: {host}")


def _fetch(fabric: Any, stack: Any, address: int, port: int, host: str, path: str,
           opts: _Options, checkpoint: Callable[[], None]) -> _Response:
    method = "HEAD" if opts.head else "GET"
    host_header = host if port == 80 else f"{host}:{port}"
    request = (f"{method} {path} HTTP/1.1\r\nHost: {host_header}\r\n"
               f"User-Agent: curl/{VERSION}\r\nAccept: */*\r\n\r\n").encode()
    done: list[Outcome] = []
    exchange = TcpExchange(stack, address, port, request,
                           lambda data: _complete(data, opts.head), done.append,
                           timeout=opts.max_time, connect_timeout=opts.connect_timeout)
    exchange.start()
    try:
        while not done:
            checkpoint()
            if not fabric.clock.step():
                break
    finally:
        if not done:
            exchange.stop()
    return _outcome(done[0] if done else Outcome.TIMEOUT, exchange, address, port)


def _outcome(outcome: Outcome, exchange: TcpExchange, address: int, port: int) -> _Response:
    ms = int(exchange.elapsed * 1000)
    where = f"Failed to connect to {ip_str(address)} port {port} after {ms} ms"
    if outcome is Outcome.DONE:
        return _response(bytes(exchange.response))
    if outcome is Outcome.TIMEOUT:
        if not exchange.connected:
            raise _Error(28, f"Connection timed out after {ms} milliseconds")
        raise _Error(28, f"Operation timed out after {ms} milliseconds with "
                         f"{len(_body_of(bytes(exchange.response)))} bytes received")
    if outcome is Outcome.CONNECT_TIMEOUT:
        raise _Error(28, f"{where}: Connection timed out")
    if outcome is Outcome.RESET:
        raise _Error(56, "Recv failure: Connection reset by peer")
    raise _Error(7, f"{where}: {outcome.value}")


def _complete(data: bytes, head: bool) -> bool:
    if b"\r\n\r\n" not in data:
        return False
    header, body = data.split(b"\r\n\r\n", 1)
    if head:
        return True
    m = re.search(rb"(?im)^content-length:\s*(\d+)\s*$", header)
    return m is not None and len(body) >= int(m.group(1))


def _body_of(data: bytes) -> bytes:
    return data.split(b"\r\n\r\n", 1)[1] if b"\r\n\r\n" in data else b""


def _response(data: bytes) -> _Response:
    header, _, body = data.partition(b"\r\n\r\n")
    status_line = header.split(b"\r\n", 1)[0].decode("latin-1")
    parts = status_line.split(" ")
    if len(parts) < 2 or not parts[1].isdigit():
        raise _Error(8, "Weird server reply")
    ctype = re.search(rb"(?im)^content-type:\s*(.*?)\s*$", header)
    return _Response(int(parts[1]), header + b"\r\n\r\n", body,
                     ctype.group(1).decode("latin-1") if ctype else "")


def _write_out(fmt: str, stats: dict[str, str]) -> str:
    if not fmt:
        return ""
    text = WRITE_OUT_RE.sub(lambda m: stats.get(m.group(1), ""), fmt)
    return text.replace("\\n", "\n").replace("\\t", "\t")
