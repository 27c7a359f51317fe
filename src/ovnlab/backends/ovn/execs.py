"""`ovnlab exec` on the real backend: which tools it runs, and running one in a node's
namespace with its exit code, the files it reads or writes (`tcpdump -r/-w`) carried
from and to the caller's side."""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from ovnlab.tools import ToolResult
from ovnlab.tools.files import ToolFiles

# the tools `ovnlab exec` runs (udhcpc: busybox's)
TOOLS = ("ovs-vsctl", "ovs-ofctl", "ovs-appctl", "ovn-nbctl", "ovn-sbctl", "ovn-trace",
         "ovn-appctl", "tcpdump", "ping", "traceroute", "ip", "nc", "curl", "arping", "udhcpc")
FILE_OPTIONS = ("-w", "-r")  # tcpdump's file options: the file lives on the client's side


def run_tool(netns_exec: Sequence[str], args: list[str], env: Mapping[str, str],
             files: ToolFiles, checkpoint: Callable[[], None] | None) -> ToolResult:
    """`args` run under `netns_exec` (`ip netns exec NS`) in a scratch directory holding
    the files it names."""
    with tempfile.TemporaryDirectory(prefix="ovnlab-exec-") as work:
        names = _file_args(args)
        for name in names:
            try:
                data = files.read(name)
            except (OSError, FileNotFoundError):
                continue  # a file it will write
            target = Path(work, name)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        proc = subprocess.Popen([*netns_exec, *args], cwd=work, env=dict(env),
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        out, err = _communicate(proc, checkpoint)
        for name in names:
            path = Path(work, name)
            if path.is_file():
                files.write(name, path.read_bytes())
        return ToolResult(proc.returncode, out, err)


def _file_args(args: list[str]) -> list[str]:
    """The files a tcpdump command names (-w FILE, -r FILE, -wFILE)."""
    if args[0] != "tcpdump":
        return []
    names = []
    for i, arg in enumerate(args):
        if arg in FILE_OPTIONS and i + 1 < len(args):
            names.append(args[i + 1])
        elif arg[:2] in FILE_OPTIONS and len(arg) > 2:
            names.append(arg[2:])
    return [n for n in names if n != "-" and not os.path.isabs(n) and ".." not in Path(n).parts]


def _communicate(proc: subprocess.Popen[str],
                 checkpoint: Callable[[], None] | None) -> tuple[str, str]:
    """Wait for the tool, calling `checkpoint` now and then (the daemon lets queued
    requests in there, and stops the tool when its client has gone)."""
    while True:
        try:
            return proc.communicate(timeout=0.2)
        except subprocess.TimeoutExpired:
            if checkpoint is not None:
                try:
                    checkpoint()
                except BaseException:
                    proc.terminate()
                    proc.communicate()
                    raise
