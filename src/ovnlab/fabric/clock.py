"""The lab's virtual clock and its deterministic event queue.

Every timed behaviour (link latency, ARP retries and ageing, ping intervals, controller
timers, conntrack ageing through the datapath's injected clock) is an event here. Events
run in (time, sequence) order, so two runs of the same scenario are identical.

Events scheduled while another runs inherit its `tag`: the fabric uses that to follow one
packet's causal chain (its ARP resolution, the controller round trips, the reply) for
`ovnlab trace`. Daemon events (periodic timers) never keep the lab "busy":
`run_until_idle` stops when only they remain.

While the loop runs, the cyclic garbage collector waits (`gc_paused`): what events
allocate (packets, captures, timers, controller iterations) is acyclic and freed by
reference counting, while each collector pass over a big lab's millions of long-lived
objects (compiled flows, database rows) cost more than the packets themselves. It catches
up when the loop returns.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from ovnlab.gc_pause import gc_paused


class Timer:
    """A handle on a scheduled event; `cancel()` makes it a no-op."""

    __slots__ = ("when", "callback", "args", "daemon", "tag", "cancelled", "_clock")

    def __init__(self, clock: Clock, when: float, callback: Callable[..., Any],
                 args: tuple[Any, ...], daemon: bool, tag: object) -> None:
        self._clock = clock
        self.when = when
        self.callback = callback
        self.args = args
        self.daemon = daemon
        self.tag = tag
        self.cancelled = False

    def cancel(self) -> None:
        if not self.cancelled:
            self.cancelled = True
            if not self.daemon:
                self._clock._busy -= 1


class Clock:
    """Virtual seconds since the lab started; nothing here reads the wall clock."""

    def __init__(self, start: float = 0.0) -> None:
        self._now = start
        self._seq = 0
        self._queue: list[tuple[float, int, Timer]] = []
        self._busy = 0  # pending non-daemon events
        self.tag: object = None
        self.events_run = 0

    @property
    def now(self) -> float:
        return self._now

    def __call__(self) -> float:
        """The clock as a `() -> float` time source (injected into conntrack)."""
        return self._now

    # ------------------------------------------------------------ scheduling
    def call_at(self, when: float, callback: Callable[..., Any], *args: Any,
                daemon: bool = False) -> Timer:
        when = round(when, 9)  # nanoseconds: 0.1 ms + 50 us is 0.00015, not 0.000150000...01
        if when < self._now:
            raise ValueError(f"cannot schedule in the past ({when} < {self._now})")
        timer = Timer(self, when, callback, args, daemon, self.tag)
        self._seq += 1
        heapq.heappush(self._queue, (when, self._seq, timer))
        if not daemon:
            self._busy += 1
        return timer

    def call_later(self, delay: float, callback: Callable[..., Any], *args: Any,
                   daemon: bool = False) -> Timer:
        if delay < 0:
            raise ValueError(f"negative delay {delay}")
        return self.call_at(self._now + delay, callback, *args, daemon=daemon)

    def every(self, interval: float, callback: Callable[[], Any], *, first: float | None = None,
              daemon: bool = True) -> Periodic:
        """Run `callback` every `interval` seconds (first at `first`, default now)."""
        if interval <= 0:
            raise ValueError(f"interval must be positive, got {interval}")
        return Periodic(self, interval, callback, self._now if first is None else first, daemon)

    @contextmanager
    def tagged(self, tag: object) -> Iterator[None]:
        """Run a block as if inside an event tagged `tag` (its consequences inherit it)."""
        saved, self.tag = self.tag, tag
        try:
            yield
        finally:
            self.tag = saved

    # ------------------------------------------------------------ running
    @property
    def busy(self) -> bool:
        """True while non-daemon events are pending."""
        return self._busy > 0

    def next_time(self) -> float | None:
        self._drop_cancelled()
        return self._queue[0][0] if self._queue else None

    def _drop_cancelled(self) -> None:
        while self._queue and self._queue[0][2].cancelled:
            heapq.heappop(self._queue)

    def step(self) -> bool:
        """Run the next event; False when the queue is empty."""
        self._drop_cancelled()
        if not self._queue:
            return False
        when, _, timer = heapq.heappop(self._queue)
        self._now = when
        timer.cancelled = True  # fired: a late cancel() must not touch the busy count
        if not timer.daemon:
            self._busy -= 1
        saved, self.tag = self.tag, timer.tag
        try:
            timer.callback(*timer.args)
        finally:
            self.tag = saved
        self.events_run += 1
        return True

    def run_until(self, until: float) -> int:
        """Run every event due at or before `until`, then set the time to `until`."""
        until = round(until, 9)  # on call_at's nanosecond grid, so `now` can be scheduled
        ran = 0
        with gc_paused():
            while True:
                self._drop_cancelled()
                if not self._queue or self._queue[0][0] > until:
                    break
                self.step()
                ran += 1
        self._now = max(self._now, until)
        return ran

    def run_until_idle(self, max_time: float | None = None) -> bool:
        """Run until no non-daemon event is pending (True) or `max_time` is reached (False).

        Daemon events due before the last busy event run too, in order; the time stops at
        the last event run."""
        with gc_paused():
            while self._busy > 0:
                nxt = self.next_time()
                if nxt is None:  # pragma: no cover - busy implies a queued event
                    break
                if max_time is not None and nxt > max_time:
                    self._now = max(self._now, max_time)
                    return False
                self.step()
        return True


class Periodic:
    """A repeating timer (controller wake-ups, GARP rounds)."""

    __slots__ = ("clock", "interval", "callback", "daemon", "_timer", "stopped")

    def __init__(self, clock: Clock, interval: float, callback: Callable[[], Any], first: float,
                 daemon: bool) -> None:
        self.clock = clock
        self.interval = interval
        self.callback = callback
        self.daemon = daemon
        self.stopped = False
        with clock.tagged(None):  # a timer is nobody's consequence
            self._timer = clock.call_at(first, self._fire, daemon=daemon)

    def _fire(self) -> None:
        if self.stopped:
            return
        self._timer = self.clock.call_later(self.interval, self._fire, daemon=self.daemon)
        self.callback()

    def cancel(self) -> None:
        self.stopped = True
        self._timer.cancel()
