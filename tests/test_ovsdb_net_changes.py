"""What a run sees of a row changed several times since the last one (ovsdb.net_changes):
one change from the row before the first to the row after the last, as an IDL tracks it."""

from __future__ import annotations

from ovnlab.ovsdb import Change, Row, net_changes


def _row(uuid: str, **cols: object) -> Row:
    return Row("Address_Set", uuid, dict(cols))


A0, A1, A2 = _row("a", addresses=("1",)), _row("a", addresses=("1", "2")), _row("a", addresses=())
B1 = _row("b", addresses=("9",))


def test_updates_of_one_row_are_one_update_from_the_first_old_to_the_last_new() -> None:
    out = net_changes([Change("Address_Set", "update", "a", A0, A1),
                       Change("Address_Set", "insert", "b", None, B1),
                       Change("Address_Set", "update", "a", A1, A2)])
    assert out == [Change("Address_Set", "update", "a", A0, A2),
                   Change("Address_Set", "insert", "b", None, B1)]


def test_a_row_inserted_then_changed_is_an_insert_and_then_deleted_is_nothing() -> None:
    inserted = [Change("Address_Set", "insert", "a", None, A0),
                Change("Address_Set", "update", "a", A0, A1)]
    assert net_changes(inserted) == [Change("Address_Set", "insert", "a", None, A1)]
    assert net_changes([*inserted, Change("Address_Set", "delete", "a", A1, None)]) == []


def test_a_row_changed_then_deleted_is_a_delete_of_what_it_was() -> None:
    out = net_changes([Change("Address_Set", "update", "a", A0, A1),
                       Change("Address_Set", "delete", "a", A1, None)])
    assert out == [Change("Address_Set", "delete", "a", A0, None)]


def test_rows_of_two_tables_with_one_uuid_stay_apart() -> None:
    other = Row("Port_Group", "a", {"ports": ()})
    changes = [Change("Address_Set", "insert", "a", None, A0),
               Change("Port_Group", "insert", "a", None, other)]
    assert net_changes(changes) == changes
