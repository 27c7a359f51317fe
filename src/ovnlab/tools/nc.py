"""`nc -z` (OpenBSD netcat) on a lab node: does a TCP port answer?

    nc -z [-v] [-w TIMEOUT] HOST PORT[-PORT]

`checkpoint` is called between the clock's events (see tools/ping.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ovnlab.packet import ip_str
from ovnlab.tools import ToolResult, host_stack
from ovnlab.turns import no_slices

USAGE = "usage: nc [-46CDdFhklNnrStUuvZz] [-I length] [-i interval] [-M ttl]\n" \
        "\t  [-m minttl] [-O length] [-P proxy_username] [-p source_port]\n" \
        "\t  [-q seconds] [-s sourceaddr] [-T keyword] [-V rtable] [-W recvlimit]\n" \
        "\t  [-w timeout] [-X proxy_protocol] [-x proxy_address[:port]]\n" \
        "\t  [destination] [port]"
SERVICES = {21: "ftp", 22: "ssh", 23: "telnet", 25: "smtp", 53: "domain", 80: "http",
            110: "pop3", 143: "imap2", 443: "https", 3306: "mysql", 5432: "postgresql",
            8080: "http-alt"}  # /etc/services


@dataclass(frozen=True, slots=True)
class _Options:
    zero: bool  # -z: scan, send no data
    verbose: bool
    timeout: float | None  # -w
    positional: tuple[str, ...]


def _parse(argv: list[str]) -> _Options | ToolResult:
    """netcat-openbsd's getopt loop over the flags ovnlab knows (-z -v -n -w)."""
    args = list(argv)
    zero = verbose = False
    timeout: float | None = None
    positional: list[str] = []
    while args:
        arg = args.pop(0)
        if arg.startswith("-") and len(arg) > 1:
            letters = arg[1:]
            while letters:
                flag, letters = letters[0], letters[1:]
                if flag == "z":
                    zero = True
                elif flag == "v":
                    verbose = True
                elif flag == "n":
                    pass
                elif flag == "w":
                    value = letters or (args.pop(0) if args else "")
                    letters = ""
                    try:
                        timeout = float(value)
                    except ValueError:
                        return ToolResult(1, "", f"nc: timeout {value} is invalid\n")
                else:
                    return ToolResult(1, "", f"nc: invalid option -- '{flag}'\n{USAGE}\n")
        else:
            positional.append(arg)
    return _Options(zero, verbose, timeout, tuple(positional))


def run(fabric: Any, node: str, argv: list[str],
        checkpoint: Callable[[], None] = no_slices) -> ToolResult:
    opts = _parse(argv)
    if isinstance(opts, ToolResult):
        return opts
    zero, verbose, timeout, positional = opts.zero, opts.verbose, opts.timeout, opts.positional
    if len(positional) != 2 or not zero:
        return ToolResult(1, "", f"{USAGE}\n" if len(positional) != 2 else
                          "nc: only port scans (-z) are emulated in ovnlab\n")
    host, port_text = positional
    lo, _, hi = port_text.partition("-")
    try:
        ports = range(int(lo), int(hi or lo) + 1)
    except ValueError:
        return ToolResult(1, "", f"nc: port number invalid: {port_text}\n")
    if not ports or ports.start < 1 or ports.stop > 65536:
        return ToolResult(1, "", f"nc: port range not valid: {port_text}\n")
    stack = host_stack(fabric, node, "nc", 1)
    if isinstance(stack, ToolResult):
        return stack
    target = fabric.resolve(host)
    if target is None:
        return ToolResult(1, "", f"nc: getaddrinfo for host \"{host}\" port {port_text}: "
                                 "Name or service not known\n")
    err: list[str] = []
    rc = 1
    address = ip_str(target)
    # netcat-openbsd shows the address only when it differs from what was typed
    shown = host if host == address else f"{host} ({address})"
    for port in ports:
        result = _connect(fabric, stack, target, port, timeout, checkpoint)
        service = SERVICES.get(port, "*")
        if result == "open":
            rc = 0
            if verbose:
                err.append(f"Connection to {shown} {port} port [tcp/{service}] succeeded!")
        elif verbose:
            how = "timed out: Operation now in progress" if result == "timed out" \
                else f"failed: {result}"
            err.append(f"nc: connect to {shown} port {port} (tcp) {how}")
    return ToolResult(rc, "", "".join(line + "\n" for line in err))


def _connect(fabric: Any, stack: Any, target: int, port: int, timeout: float | None,
             checkpoint: Callable[[], None]) -> str:
    results: list[str] = []
    stack.connect_tcp(target, port, results.append, timeout)
    clock = fabric.clock
    while not results:
        checkpoint()
        if not clock.step():
            return "Connection timed out"
    return results[0]
