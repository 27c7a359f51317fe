"""Turns on the lab: first come first served; a long tool's Slicer passes the lab to those
queued and stops the tool once cancelled."""

from __future__ import annotations

import threading
import time

import pytest

from ovnlab.turns import INTERRUPTED_RC, Interrupted, Slicer, Turns


def _queue_up(turns: Turns, names: list[str], order: list[str]) -> list[threading.Thread]:
    """Start one thread per name, each queued on `turns` before the next starts."""
    threads = []
    for name in names:
        def take(name: str = name) -> None:
            with turns:
                order.append(name)

        thread = threading.Thread(target=take)
        thread.start()
        threads.append(thread)
        deadline = time.monotonic() + 10
        while turns.queued < len(threads) and time.monotonic() < deadline:
            time.sleep(0.001)
    return threads


def test_waiters_get_the_lab_in_the_order_they_came() -> None:
    turns, order = Turns(), []
    with turns:
        threads = _queue_up(turns, ["a", "b", "c", "d"], order)
        assert turns.queued == 4 and order == []
    for t in threads:
        t.join(10)
    assert order == ["a", "b", "c", "d"] and turns.queued == 0


def test_a_slicer_lets_everyone_queued_go_first_then_continues() -> None:
    turns, order = Turns(), []
    slicer = Slicer(turns, slice_s=0)
    with turns:
        threads = _queue_up(turns, ["api-1", "api-2"], order)
        slicer()  # between two events of the tool
        order.append("tool")
    for t in threads:
        t.join(10)
    assert order == ["api-1", "api-2", "tool"] and slicer.turns_passed == 1


def test_a_slicer_keeps_the_lab_within_its_slice_or_when_nobody_waits() -> None:
    turns, order = Turns(), []
    with turns:
        Slicer(turns, slice_s=0)()  # nobody queued: nothing to pass
        threads = _queue_up(turns, ["api"], order)
        Slicer(turns, slice_s=60)()  # the slice is not over yet
        order.append("tool")
    for t in threads:
        t.join(10)
    assert order == ["tool", "api"]


def test_a_cancelled_slicer_stops_the_tool_like_ctrl_c() -> None:
    slicer = Slicer()
    slicer()
    slicer.cancel()
    with pytest.raises(Interrupted) as info:
        slicer()
    assert info.value.exit_code == INTERRUPTED_RC == 130


def test_releasing_an_unheld_lab_is_an_error() -> None:
    with pytest.raises(RuntimeError):
        Turns().release()
