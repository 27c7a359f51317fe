"""`udhcpc` (busybox 1.35, cirros 0.6's DHCP client) on a lab VM, in virtual time.

    udhcpc [-i IFACE] [-n] [-q] [-t DISCOVERS] [-T SECONDS]

The client is the one a VM boots with (ovnlab.fabric.dhcpclient): DISCOVER, OFFER,
REQUEST ("select"), ACK, and the lease applied as cirros's script does. It always behaves
as with `-n -q` (fail when no lease comes, exit once one is obtained): `ovnlab exec`
cannot leave a daemon behind.

`checkpoint` is called between the clock's events (see tools/ping.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ovnlab.fabric.dhcpclient import DhcpClient, State
from ovnlab.tools import ToolResult, fail, host_stack
from ovnlab.turns import no_slices


@dataclass(slots=True)
class _Options:
    iface: str = "eth0"
    discovers: int = 3
    timeout: float = 3.0


def _parse(argv: list[str]) -> _Options | ToolResult:
    opts = _Options()
    args = list(argv)
    while args:
        arg = args.pop(0)
        if arg in ("-n", "-q", "-f", "-b"):
            continue
        if arg in ("-i", "-t", "-T"):
            if not args:
                return fail(f"udhcpc: option requires an argument -- '{arg[1]}'", 1)
            value = args.pop(0)
            if arg == "-i":
                opts.iface = value
                continue
            try:
                number = int(value)
            except ValueError:
                return fail(f"udhcpc: invalid number '{value}'", 1)
            if arg == "-t":
                opts.discovers = number
            else:
                opts.timeout = float(number)
            continue
        return fail(f"udhcpc: unrecognized option '{arg}'", 1)
    return opts


def run(fabric: Any, node: str, argv: list[str],
        checkpoint: Callable[[], None] = no_slices) -> ToolResult:
    parsed = _parse(argv)
    if isinstance(parsed, ToolResult):
        return parsed
    opts = parsed
    stack = host_stack(fabric, node, "udhcpc", 1)
    if isinstance(stack, ToolResult):
        return stack
    if opts.iface not in stack.interfaces:
        return fail("udhcpc: ioctl 0x8933 failed: No such device", 1)
    client = DhcpClient(stack, opts.iface, discovers=opts.discovers, timeout=opts.timeout)
    client.start()
    clock = fabric.clock
    try:
        while not client.done:
            checkpoint()
            if not clock.step():  # pragma: no cover - the client's own timer is queued
                break
    finally:
        client.stop()  # ^C (the checkpoint's ToolError) leaves no socket or timer behind
    rc = 0 if client.state is State.BOUND else 1
    return ToolResult(rc, "", "\n".join(client.lines) + "\n")
