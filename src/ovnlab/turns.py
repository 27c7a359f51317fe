"""Taking turns on the lab: the running lab is single-threaded (one event loop), so every
API request and tool holds `Turns` while it touches it.

`Turns` is a first-come first-served lock, so a request queued behind a long tool runs
next, not whenever the lock's wake-up lottery picks it. A long tool (ping, an nc port
scan) runs the virtual clock in slices and calls its `Slicer` between events: at most
every `SLICE` seconds of wall time it hands the lab to everyone queued, and once its
client has gone (`cancel()`) it stops the tool, as ^C stops the real one.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from types import TracebackType

from ovnlab.errors import ToolError

SLICE = 0.05  # seconds of wall time a tool runs before queued requests get their turn
INTERRUPTED_RC = 130  # a shell's status for a command stopped by SIGINT (128 + 2)


class Turns:
    """A FIFO lock: `with turns:` waits for every earlier holder and waiter."""

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._held = False
        self._waiting: deque[threading.Event] = deque()

    def acquire(self) -> None:
        with self._mutex:
            if not self._held and not self._waiting:
                self._held = True
                return
            turn = threading.Event()
            self._waiting.append(turn)
        turn.wait()  # release() hands the lock over: _held stays True

    def release(self) -> None:
        with self._mutex:
            if not self._held:
                raise RuntimeError("release of an unheld Turns")
            if self._waiting:
                self._waiting.popleft().set()
            else:
                self._held = False

    @property
    def queued(self) -> int:
        """How many wait for their turn."""
        return len(self._waiting)

    def pass_turn(self) -> None:
        """Let everyone queued now go first, then continue (the caller holds the lock)."""
        if self._waiting:
            self.release()
            self.acquire()

    def __enter__(self) -> Turns:
        self.acquire()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()


class Interrupted(ToolError):
    """The tool's client went away: it stops as the real one does on ^C."""

    def __init__(self) -> None:
        super().__init__("", INTERRUPTED_RC)


class Slicer:
    """What a long tool calls between events (see the module doc). Without `turns` it
    only watches for cancellation (a lab used from Python, no one else waiting)."""

    def __init__(self, turns: Turns | None = None, slice_s: float = SLICE) -> None:
        self._turns = turns
        self._slice = slice_s
        self._cancelled = threading.Event()
        self._since = time.monotonic()
        self.turns_passed = 0

    def cancel(self) -> None:
        """Stop the tool at its next call (safe from any thread)."""
        self._cancelled.set()

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    def __call__(self) -> None:
        if self._cancelled.is_set():
            raise Interrupted()
        if self._turns is None or time.monotonic() - self._since < self._slice:
            return
        if self._turns.queued:
            self._turns.pass_turn()
            self.turns_passed += 1
            if self._cancelled.is_set():
                raise Interrupted()
        self._since = time.monotonic()


def no_slices() -> None:
    """The checkpoint of a tool run straight through (nobody to yield to, no one to cancel)."""
