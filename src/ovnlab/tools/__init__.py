"""The operator's tools as they run on an emulated node (`ovnlab exec NODE -- TOOL ...`).

Each tool module exposes `run(<what it inspects>, argv) -> ToolResult` and only parses
arguments and renders; the lab dispatches `argv[0]` to the right module.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ovnlab.errors import NotFound

if TYPE_CHECKING:
    from ovnlab.fabric.host import HostStack


@dataclass(frozen=True, slots=True)
class ToolResult:
    rc: int = 0
    stdout: str = ""
    stderr: str = ""


def ok(stdout: str = "") -> ToolResult:
    return ToolResult(0, stdout if not stdout or stdout.endswith("\n") else stdout + "\n")


def fail(message: str, rc: int = 1) -> ToolResult:
    return ToolResult(rc, "", message if message.endswith("\n") else message + "\n")


def host_stack(fabric: Any, node: str, prog: str, rc: int) -> HostStack | ToolResult:
    """The IP stack a host tool runs on, or the tool's error (`prog: ...`, exit `rc`) for
    a node that has none."""
    try:
        stack: HostStack = fabric.ip_node(node).stack
    except NotFound as exc:
        return fail(f"{prog}: {exc.message}", rc)
    return stack
