"""The real `tcpdump` following live in a node's namespace, behind the daemon's live
capture interface (`ovnlab.live.LiveCapture`): its lines as they come, its `-w FILE` bytes
handed to the client in pieces (tcpdump writes them to stdout, `-w -`), its statistics when
it ends or is interrupted (SIGINT, as ^C)."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import threading
from collections.abc import Callable, Mapping, Sequence

from ovnlab.errors import ToolError

HEADER_WAIT = 5.0  # seconds for tcpdump to say it listens (or why it cannot)


class RealLiveCapture:
    def __init__(self, prefix: Sequence[str], argv: list[str], env: Mapping[str, str]) -> None:
        args, self.write_file = _split_write(argv[1:])
        # --immediate-mode: each frame as it comes (libpcap otherwise batches for 1 s)
        real = ["tcpdump", "--immediate-mode",
                *(["-w", "-", "-U"] if self.write_file else ["-l"]), *args]
        self._proc = subprocess.Popen([*prefix, *real], stdin=subprocess.DEVNULL,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                      env=dict(env))
        self._out: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
        self._err: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
        self._pcap_started = False
        self._ended = False
        assert self._proc.stdout is not None and self._proc.stderr is not None
        out = self._proc.stdout
        reader = (lambda: os.read(out.fileno(), 65536)) if self.write_file else out.readline
        for target, source in ((self._out, reader), (self._err, self._proc.stderr.readline)):
            threading.Thread(target=_pump, args=(source, target), daemon=True).start()
        self._header = self._wait_header()

    def _wait_header(self) -> str:
        """tcpdump's first lines on stderr ("listening on eth0, ..."), or its error."""
        lines: list[str] = []
        while True:
            try:
                chunk = self._err.get(timeout=HEADER_WAIT)
            except queue.Empty:
                return "".join(lines)
            if chunk is None:
                rc = self._proc.wait()
                raise ToolError("".join(lines) or f"tcpdump: exited {rc}\n", rc or 1)
            lines.append(chunk.decode(errors="replace"))
            if lines[-1].startswith("listening on"):
                return "".join(lines)

    def header(self) -> str:
        return self._header

    @property
    def done(self) -> bool:
        return self._ended

    def poll(self, timeout: float) -> list[str]:
        if self.write_file:
            return []
        lines: list[str] = []
        try:
            item = self._out.get(timeout=timeout)
            while True:
                if item is None:
                    self._ended = True
                    return lines
                lines.append(item.decode(errors="replace").rstrip("\n"))
                item = self._out.get_nowait()
        except queue.Empty:
            return lines

    def take_pcap(self) -> tuple[bytes, bool]:
        if not self.write_file:
            return b"", False
        data = bytearray()
        try:
            while True:
                item = self._out.get(timeout=0.2 if not data else 0)
                if item is None:
                    self._ended = True
                    break
                data += item
        except queue.Empty:
            pass
        first = not self._pcap_started and bool(data)
        self._pcap_started = self._pcap_started or bool(data)
        return bytes(data), first

    def close(self, interrupted: bool = False) -> str:
        """Stop tcpdump as ^C does; its statistics."""
        if self._proc.poll() is None:
            self._proc.send_signal(signal.SIGINT)
        try:
            self._proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        summary: list[str] = []
        while True:
            try:
                chunk = self._err.get(timeout=1)
            except queue.Empty:
                break
            if chunk is None:
                break
            summary.append(chunk.decode(errors="replace"))
        return "".join(summary)


def _pump(read: Callable[[], bytes], target: queue.SimpleQueue[bytes | None]) -> None:
    while True:
        chunk = read()
        if not chunk:
            target.put(None)
            return
        target.put(chunk)


def _split_write(args: list[str]) -> tuple[list[str], str | None]:
    """argv without its `-w FILE` (the file is the client's), and FILE."""
    out: list[str] = []
    write: str | None = None
    skip = False
    for i, arg in enumerate(args):
        if skip:
            skip = False
            continue
        if arg == "-w" and i + 1 < len(args):
            write, skip = args[i + 1], True
        elif arg.startswith("-w") and len(arg) > 2 and not arg.startswith("--"):
            write = arg[2:]
        else:
            out.append(arg)
    return out, write
