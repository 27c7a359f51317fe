"""ovn-nbctl.c's record lookups: the `*_by_name_or_uuid` helpers and reference sets in the
order the IDL hands them over, shared by the ovn-nbctl commands."""

from __future__ import annotations

from ovnlab.nb import ctl
from ovnlab.nb.ctl import CtlError
from ovnlab.nb.nat import normalize_prefix
from ovnlab.ovsdb import Database, Row


def by_name_or_uuid(nb: Database, table: str, ident: str, noun: str, must_exist: bool = True,
                     multiple: str | None = None) -> Row | None:
    """The `*_by_name_or_uuid` helpers: a UUID, else the name (`multiple` names the rows
    in the error when a name is ambiguous; without it the first match wins)."""
    row = nb.tables[table].get(ident.lower()) if ctl.is_uuid(ident) else None
    if row is None:
        found = [r for r in ordered(nb.rows(table)) if r["name"] == ident]
        if len(found) > 1 and multiple:
            raise CtlError(f"Multiple {multiple} named '{ident}'.  Use a UUID.")
        row = found[0] if found else None
    if row is None and must_exist:
        raise CtlError(f"{ident}: {noun} {'UUID' if ctl.is_uuid(ident) else 'name'} not found")
    return row


def lr_by_name_or_uuid(nb: Database, ident: str, must_exist: bool = True) -> Row | None:
    return by_name_or_uuid(nb, "Logical_Router", ident, "router", must_exist, "logical routers")


def ls_by_name_or_uuid(nb: Database, ident: str, must_exist: bool = True) -> Row | None:
    return by_name_or_uuid(nb, "Logical_Switch", ident, "switch", must_exist, "logical switches")


def lrp_by_name_or_uuid(nb: Database, ident: str) -> Row | None:
    return by_name_or_uuid(nb, "Logical_Router_Port", ident, "port")


def pg_by_name_or_uuid(nb: Database, ident: str, must_exist: bool = True) -> Row | None:
    return by_name_or_uuid(nb, "Port_Group", ident, "port group", must_exist)


def ordered(rows: list[Row]) -> list[Row]:
    return sorted(rows, key=lambda r: r.uuid)


def refs(nb: Database, parent: Row, column: str) -> list[Row]:
    """A reference set in OVSDB order (sorted by UUID), as the IDL hands it to ovn-nbctl."""
    table = nb.schema[parent.table][column].ref_table
    assert table is not None
    return ordered([nb.tables[table][u] for u in parent[column] if u in nb.tables[table]])


def must(row: Row | None) -> Row:
    assert row is not None
    return row




def lsp_by_name_or_uuid(nb: Database, ident: str) -> Row:
    return must(by_name_or_uuid(nb, "Logical_Switch_Port", ident, "port"))


normalize_prefix_str = normalize_prefix  # ovn-nbctl's name for it
