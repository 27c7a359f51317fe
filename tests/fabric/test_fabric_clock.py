import gc

import pytest

from ovnlab.fabric.clock import Clock


def test_events_run_in_time_then_sequence_order() -> None:
    clock = Clock()
    seen: list[str] = []
    clock.call_at(2.0, seen.append, "c")
    clock.call_at(1.0, seen.append, "a")
    clock.call_at(1.0, seen.append, "b")  # same time: scheduling order
    clock.run_until(5.0)
    assert seen == ["a", "b", "c"]
    assert clock.now == 5.0


def test_run_until_stops_at_the_limit_and_keeps_later_events() -> None:
    clock = Clock()
    seen: list[float] = []
    clock.call_at(1.0, lambda: seen.append(clock.now))
    clock.call_at(3.0, lambda: seen.append(clock.now))
    assert clock.run_until(2.0) == 1
    assert seen == [1.0] and clock.now == 2.0
    clock.run_until(3.0)
    assert seen == [1.0, 3.0]


def test_cancelled_events_never_run() -> None:
    clock = Clock()
    seen: list[int] = []
    timer = clock.call_later(1.0, seen.append, 1)
    timer.cancel()
    assert not clock.busy
    assert clock.run_until_idle(10.0)
    assert seen == []


def test_run_until_idle_ignores_daemon_timers_but_runs_them_in_order() -> None:
    clock = Clock()
    ticks: list[float] = []
    clock.every(0.5, lambda: ticks.append(clock.now))
    done: list[float] = []
    clock.call_at(1.2, lambda: done.append(clock.now))
    assert clock.run_until_idle(100.0)
    assert done == [1.2]
    assert ticks == [0.0, 0.5, 1.0]
    assert clock.now == 1.2


def test_run_until_idle_gives_up_at_max_time() -> None:
    clock = Clock()
    clock.call_at(50.0, lambda: None)
    assert not clock.run_until_idle(10.0)
    assert clock.now == 10.0 and clock.busy


def test_consequences_inherit_the_tag_but_periodic_timers_do_not() -> None:
    clock = Clock()
    tags: list[object] = []

    def first() -> None:
        tags.append(clock.tag)
        clock.call_later(1.0, lambda: tags.append(clock.tag))

    with clock.tagged("journey"):
        clock.call_later(1.0, first)
        clock.every(10.0, lambda: tags.append(("tick", clock.tag)), first=5.0)
    clock.call_later(0.5, lambda: tags.append(clock.tag))
    clock.run_until(6.0)
    assert tags == [None, "journey", "journey", ("tick", None)]


def test_scheduling_in_the_past_is_an_error() -> None:
    clock = Clock(start=5.0)
    with pytest.raises(ValueError):
        clock.call_at(4.0, lambda: None)
    with pytest.raises(ValueError):
        clock.call_later(-1.0, lambda: None)


def test_the_collector_waits_while_events_run_and_comes_back_after() -> None:
    clock = Clock()
    during: list[bool] = []
    clock.call_at(1.0, lambda: during.append(gc.isenabled()))
    clock.call_at(2.0, lambda: during.append(gc.isenabled()))
    was = gc.isenabled()
    gc.enable()
    try:
        clock.run_until(1.5)
        assert gc.isenabled()
        clock.run_until_idle(10.0)
        assert during == [False, False] and gc.isenabled()
        gc.disable()  # a caller that turned it off keeps it off
        clock.call_later(1.0, lambda: during.append(gc.isenabled()))
        clock.run_until_idle(10.0)
        assert not gc.isenabled()
        gc.enable()

        def boom() -> None:
            raise RuntimeError("event failed")

        clock.call_later(1.0, boom)
        with pytest.raises(RuntimeError):
            clock.run_until_idle(10.0)
        assert gc.isenabled()
    finally:
        (gc.enable if was else gc.disable)()
