"""The Captures tab following an interface live: the page polls with the mark of the last
frame it saw and gets tcpdump's lines for the frames recorded since.

The mark is the interface's `CaptureBuffer.total`, so the daemon keeps no state per page:
each poll starts a tcpdump `Follower` (the CLI's live tcpdump, one filter compile per
request) and feeds it what the ring holds after the mark, at most the ring's frames."""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from typing import Any

from ovnlab.errors import BadRequest
from ovnlab.tools import tcpdump

# the flags the tab's replay and live view print with: numeric, with the Ethernet header
FLAGS = ("-n", "-e")


@dataclass(frozen=True, slots=True)
class LivePoll:
    lines: list[str]   # tcpdump's stdout lines for the new frames that pass the filter
    mark: int          # the interface's frame total now: the next poll's `since`
    lost: int          # frames after `since` the ring had already let go
    header: str        # tcpdump's "listening on ..." (stderr), for the page to show once
    command: str

    def reply(self) -> dict[str, Any]:
        return {"lines": self.lines, "mark": self.mark, "lost": self.lost,
                "header": self.header, "command": self.command}


def poll(lab: Any, node: str, iface: str, expression: str, since: int | None) -> LivePoll:
    """`tcpdump -n -e -i IFACE EXPRESSION` on NODE for the frames after mark `since`; no
    `since` starts a capture: no lines, only the mark to follow from. The caller holds the
    lab. Bad input raises tcpdump's own error (ToolError) or BadRequest."""
    if iface == "any":
        raise BadRequest("tcpdump: the web view follows one interface at a time, not 'any'")
    if since is not None and since < 0:
        raise BadRequest(f"since: a frame mark is 0 or more, got {since}")
    fabric = lab.fabric
    fabric.node(node)  # NotFound: "no node 'x' in this lab"
    argv = [*FLAGS, "-i", iface, "--", *shlex.split(expression)]
    follower = tcpdump.start(argv, fabric.resolve_name,
                             lambda name: fabric.has_interface(node, name),
                             forward=fabric.resolve)
    ring = fabric.interface(node, iface).captures
    lines: list[str] = []
    lost = 0
    if since is not None:
        lost = max(0, min(ring.total, ring.dropped) - since)
        for frame in ring.since(since):
            lines.extend(follower.feed(frame))
    command = shlex.join(["tcpdump", *FLAGS, "-i", iface, *shlex.split(expression)])
    return LivePoll(lines, ring.total, lost, follower.header(), command)
