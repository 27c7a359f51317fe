"""The cyclic collector pauses around the lab's work and comes back as it was."""

from __future__ import annotations

import gc

from ovnlab.gc_pause import gc_paused


def test_paused_inside_and_restored_after() -> None:
    was = gc.isenabled()
    gc.enable()
    try:
        with gc_paused():
            assert not gc.isenabled()
            with gc_paused():  # nested: the outer state is kept
                assert not gc.isenabled()
            assert not gc.isenabled()
        assert gc.isenabled()
        gc.disable()
        with gc_paused(freeze=True):
            pass
        assert not gc.isenabled(), "a caller that turned it off keeps it off"
    finally:
        (gc.enable if was else gc.disable)()


def test_freeze_moves_the_survivors_out_of_reach_of_collections() -> None:
    was = gc.isenabled()
    gc.enable()
    try:
        before = gc.get_freeze_count()
        with gc_paused(freeze=True):
            kept = [[i] for i in range(1000)]
        assert gc.get_freeze_count() >= before + len(kept)
    finally:
        gc.unfreeze()
        (gc.enable if was else gc.disable)()
