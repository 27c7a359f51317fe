"""One shared object per distinct value, within a bound (ovnlab.interning)."""

from __future__ import annotations

from ovnlab.interning import Interner


def test_equal_values_come_back_as_one_object() -> None:
    shared: Interner[tuple[int, ...]] = Interner()
    first = shared(tuple([1, 2, 3]))
    again = shared(tuple([1, 2, 3]))
    assert again is first and shared((4,)) == (4,)


def test_when_full_it_begins_again_and_still_answers_equal_values() -> None:
    shared: Interner[tuple[int, ...]] = Interner(limit=2)
    a = shared(tuple([1]))
    shared((2,))
    b = shared(tuple([3]))  # full: begun again
    assert b == (3,) and shared(tuple([1])) == a and shared((3,)) is b
