"""The database commands every OVSDB ctl tool shares (Open vSwitch lib/db-ctl-base.c,
lib/ovsdb-data.c, lib/table.c): `list`, `find`, `get`, with OVSDB's value syntax and
table styles. Works on any `ovsdb.Database`, so ovn-sbctl can reuse it.

Rows are listed in UUID order (ovsdb-server's order is a hash order); sets and maps print
sorted, as OVSDB stores them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ovnlab.nb.ctl_data import (
    CtlError,
    _atoms,
    _Ref,
    _sort_key,
    atom_to_string,
    datum_to_bare,
    datum_to_string,
    is_uuid,
    parse_atom,
    parse_datum,
)
from ovnlab.ovsdb import Column, Database, Row, Schema


@dataclass(frozen=True, slots=True)
class Style:
    """lib/table.h table_style: --format, --data, --no-headings (--bare = list/bare/none)."""

    format: str = "list"  # list | table | csv | json
    data: str = "string"  # string | bare
    headings: bool = True


# ------------------------------------------------------------------ values
RawCommand = tuple[str, list[str], dict[str, str | None]]
MANY = 1 << 30  # "any number of arguments"


@dataclass
class Command:
    name: str
    args: list[str]
    options: dict[str, str | None]


@dataclass(frozen=True, slots=True)
class Syntax:
    """One command of a ctl tool: argument counts, its options as db-ctl-base writes them
    (`--name` a flag, `--name=` needs a value, `--name?` takes one optionally), handler."""

    min_args: int
    max_args: int
    options: tuple[str, ...]
    handler: Callable[[Database, Command, Style], str]


def check_command(raw: RawCommand, commands: Mapping[str, Syntax]) -> Command:
    """db-ctl-base's checks of one command against its syntax, with its messages."""
    name, args, options = raw
    syntax = commands.get(name)
    if syntax is None:
        raise CtlError(f"unknown command '{name}'; use --help for help")
    for opt, val in options.items():
        spec = next((o for o in syntax.options if o.rstrip("=?") == opt), None)
        if spec is None:
            raise CtlError(f"'{name}' command has no '{opt}' option")
        if spec.endswith("=") and val is None:
            raise CtlError(f"missing argument to '{opt}' option on '{name}' command")
        if not spec.endswith(("=", "?")) and val is not None:
            raise CtlError(f"'{opt}' option on '{name}' does not accept an argument")
    if len(args) < syntax.min_args:
        raise CtlError(f"'{name}' command requires at least {syntax.min_args} arguments")
    if len(args) > syntax.max_args:
        if any(a.startswith("-") for a in args):
            raise CtlError(f"'{name}' command takes at most {syntax.max_args} arguments (note that "
                           'options must precede command names and follow a "--" argument)')
        raise CtlError(f"'{name}' command takes at most {syntax.max_args} arguments")
    return Command(name, args, options)


def parse_command_line(argv: Sequence[str], flags: set[str],
                       valued: set[str]) -> tuple[Style, list[RawCommand]]:
    """db-ctl-base's command line: global options (`flags`, `valued`), then commands
    separated by `--`, each with its own `--options`; returns the output style and the
    (name, args, options) of each command for the tool to check against its syntax."""
    fmt, data, headings = "list", "string", True
    args = list(argv)
    i = 0
    pending: dict[str, str | None] = {}
    while i < len(args) and args[i].startswith("-") and args[i] != "--":
        opt, sep, val = args[i].partition("=")
        if args[i] in flags or opt in valued:
            if opt in valued and not sep:
                if i + 1 >= len(args):
                    raise CtlError(f"option '{opt}' requires an argument")
                i += 1
                val = args[i]
            if opt in ("--format", "-f"):
                if val not in ("list", "table", "csv", "json"):
                    raise CtlError(f"{val}: unknown output format")
                fmt = val
            elif opt in ("--data", "-d"):
                if val not in ("string", "bare"):
                    raise CtlError(f"{val}: unknown data format")
                data = val
            elif opt == "--no-headings":
                headings = False
            elif opt == "--bare":
                fmt, data, headings = "list", "bare", False
        else:  # a command option given before the first command, as the ctl tools allow
            pending[opt] = val if sep else None
        i += 1
    segments: list[list[str]] = [[]]
    for arg in args[i:]:
        if arg == "--":
            segments.append([])
        else:
            segments[-1].append(arg)
    commands: list[RawCommand] = []
    for seg in segments:
        if not seg and not pending:
            continue
        options, rest = dict(pending), list(seg)
        pending = {}
        while rest and rest[0].startswith("--"):
            opt, sep, val = rest.pop(0).partition("=")
            if opt in options:
                raise CtlError(f"'{opt}' option specified multiple times")
            options[opt] = val if sep else None
        if not rest:
            raise CtlError("missing command name (use --help for help)")
        commands.append((rest[0], rest[1:], options))
    if not commands:
        raise CtlError("missing command name (use --help for help)")
    return Style(fmt, data, headings), commands


# ------------------------------------------------------------------ tables, columns, rows
def _score(name: str, s: str) -> int:
    """db-ctl-base.c score_partial_match."""
    if name == s:
        return 1 << 30
    def norm(c: str) -> str:
        return "_" if c == "-" else c.lower()
    n = 0
    for a, b in zip(name, s, strict=False):
        if norm(a) != norm(b):
            return 0
        n += 1
    if len(s) == len(name):
        return (1 << 30) - 1
    return n if len(s) < len(name) and n == len(s) else 0


def _best(names: Iterable[str], s: str) -> list[str]:
    scored = [(n, _score(n, s)) for n in names]
    best = max((sc for _, sc in scored), default=0)
    return [n for n, sc in scored if sc and sc == best]


def get_table(schema: Schema, name: str) -> str:
    matches = _best(schema, name)
    if not matches:
        raise CtlError(f'unknown table "{name}"')
    if len(matches) > 1:
        raise CtlError(f'"{name}" matches multiple table names: {", ".join(sorted(matches))}')
    return matches[0]


def get_column(schema: Schema, table: str, name: str) -> str:
    matches = _best(schema[table], name)
    if not matches:
        raise CtlError(f'{table} does not contain a column whose name matches "{name}"')
    if len(matches) > 1:
        raise CtlError(f'{table} contains more than one column whose name matches "{name}": '
                       f'{", ".join(sorted(matches))}')
    return matches[0]


RowIds = Mapping[str, Sequence[tuple[str, str | None]]]


def get_row(db: Database, table: str, record: str, row_ids: RowIds, must_exist: bool = True) -> Row | None:
    """db-ctl-base.c ctl_get_row: UUID, then the table's name columns, then a UUID prefix."""
    rows = db.tables[table]
    row = rows.get(record.lower()) if is_uuid(record) else None
    if row is None and record == "." and len(rows) == 1:
        row = next(iter(rows.values()))
    if row is None:
        for column, key in row_ids.get(table, ()):
            found = [r for r in sorted(rows.values(), key=lambda r: r.uuid)
                     if (r[column].get(key) if key else r[column]) == record]
            if len(found) > 1:
                raise CtlError(f'multiple rows in {table} match "{record}"')
            if found:
                row = found[0]
                break
    if row is None and len(record) >= 4 and re.fullmatch(r"[0-9a-fA-F-]+", record):
        found = [r for u, r in sorted(rows.items()) if u.startswith(record.lower())]
        if len(found) > 1:
            raise CtlError(f"{table} contains 2 or more rows whose UUIDs begin with {record}: "
                           f"at least {found[0].uuid} and {found[1].uuid}")
        row = found[0] if found else None
    if row is None and must_exist:
        raise CtlError(f'no row "{record}" in table {table}')
    return row


def parse_columns(schema: Schema, table: str, spec: str | None) -> list[str]:
    """--columns=a,b (`_uuid` allowed); default: `_uuid` then every column by name."""
    if spec is None:
        return ["_uuid", *sorted(schema[table])]
    cols = [c for c in re.split(r"[, ]+", spec) if c]
    if not cols:
        raise CtlError("must specify at least one column name")
    return ["_uuid" if c.lower() == "_uuid" else get_column(schema, table, c) for c in cols]


# ------------------------------------------------------------------ rendering
def _cell(row: Row, column: str, schema: Schema, style: Style) -> str:
    if column == "_uuid":
        return row.uuid
    col = schema[row.table][column]
    value = row[column]
    return datum_to_bare(value, col) if style.data == "bare" else datum_to_string(value, col)


def datum_to_json(value: Any, col: Column) -> Any:
    """ovsdb_datum_to_json: one atom bare, else ["set", [...]] / ["map", [[k, v]...]]."""
    def atom(a: Any) -> Any:
        return ["uuid", str(a)] if isinstance(a, _Ref) else a
    atoms = _atoms(value, col)
    if col.kind == "map":
        return ["map", [[atom(k), atom(v)] for k, v in atoms]]
    if len(atoms) == 1:
        return atom(atoms[0])
    return ["set", [atom(a) for a in atoms]]


def render(schema: Schema, table: str, rows: Sequence[Row], columns: Sequence[str], style: Style) -> str:
    if style.format == "json":
        data = [[["uuid", r.uuid] if c == "_uuid" else datum_to_json(r[c], schema[table][c])
                 for c in columns] for r in rows]
        return json.dumps({"data": data, "headings": list(columns)}, separators=(",", ":"),
                          ensure_ascii=False) + "\n"
    cells = [[_cell(r, c, schema, style) for c in columns] for r in rows]
    if style.format == "table":
        return _render_table(columns, cells, style)
    if style.format == "csv":
        lines = [",".join(_csv(c) for c in columns)] if style.headings else []
        lines += [",".join(_csv(c) for c in row) for row in cells]
        return "".join(line + "\n" for line in lines)
    out = []
    for i, row_cells in enumerate(cells):
        if i:
            out.append("\n")
        for heading, text in zip(columns, row_cells, strict=True):
            out.append(f"{heading:<20}: {text}\n" if style.headings else f"{text}\n")
    return "".join(out)


def _render_table(columns: Sequence[str], cells: list[list[str]], style: Style) -> str:
    widths = [max([len(r[x]) for r in cells] + ([len(c)] if style.headings else [0]))
              for x, c in enumerate(columns)]
    lines = []
    if style.headings:
        lines.append(" ".join(f"{c:<{w}}" for c, w in zip(columns, widths, strict=True)).rstrip())
        lines.append(" ".join("-" * w for w in widths).rstrip())
    for r in cells:
        lines.append(" ".join(f"{t:<{w}}" for t, w in zip(r, widths, strict=True)).rstrip())
    return "".join(line + "\n" for line in lines)


def _csv(text: str) -> str:
    if any(c in text for c in ',"\n\r'):
        return '"' + text.replace('"', '""') + '"'
    return text


# ------------------------------------------------------------------ commands
def cmd_list(db: Database, table_name: str, records: Sequence[str], *, columns: str | None,
             style: Style, row_ids: RowIds, if_exists: bool = False) -> str:
    table = get_table(db.schema, table_name)
    cols = parse_columns(db.schema, table, columns)
    if records:
        rows = [r for rec in records
                if (r := get_row(db, table, rec, row_ids, must_exist=not if_exists)) is not None]
    else:
        rows = sorted(db.tables[table].values(), key=lambda r: r.uuid)
    return render(db.schema, table, rows, cols, style)


_FIND_OPS = ("{!=}", "{>=}", "{<=}", "{=}", "{<}", "{>}", "!=", ">=", "<=", "=", "<", ">")


def parse_condition(schema: Schema, table: str, arg: str) -> tuple[str, str | None, str, str]:
    """`COLUMN[:KEY]OP VALUE` -> (column, key, op, value text)."""
    m = re.match(r"^([A-Za-z_][A-Za-z0-9_-]*)(?::((?:\"(?:[^\"\\]|\\.)*\")|[^=!<>{]+))?", arg)
    if not m:
        raise CtlError(f'{arg}: argument does not end in "=", "!=", "<", ">", "<=", ">=", "{{=}}", '
                       f'"{{!=}}", "{{<}}", "{{>}}", "{{<=}}", or "{{>=}}" followed by a value.')
    rest = arg[m.end():]
    for op in _FIND_OPS:
        if rest.startswith(op):
            key = m.group(2)
            if key is not None and key.startswith('"'):
                key = json.loads(key)
            return get_column(schema, table, m.group(1)), key, op, rest[len(op):]
    raise CtlError(f'{arg}: argument does not end in "=", "!=", "<", ">", "<=", ">=", "{{=}}", '
                   f'"{{!=}}", "{{<}}", "{{>}}", "{{<=}}", or "{{>=}}" followed by a value.')


def row_matches(row: Row, schema: Schema, column: str, key: str | None, op: str, text: str) -> bool:
    col = schema[row.table][column]
    have: Any = row[column]
    if key is not None:
        if col.kind != "map":
            raise CtlError(f"cannot specify key to check for non-map column {column}")
        want_atom = parse_atom(text, "string")
        if key not in have:
            return op in ("!=", "{!=}")
        have_v = have[key]
        return _compare(have_v, want_atom, op.strip("{}"))
    want = parse_datum(text, col)
    if op.startswith("{"):
        a, b = _as_set(have), _as_set(want)
        return {"=": a == b, "!=": a != b, "<": a < b, ">": a > b, "<=": a <= b, ">=": a >= b}[op[1:-1]]
    if op in ("=", "!="):
        same = _normalize(have) == _normalize(want)
        return same if op == "=" else not same
    return _compare(have, want, op)


def _as_set(v: Any) -> set[Any]:
    if isinstance(v, dict):
        return set(v.items())
    if isinstance(v, tuple):
        return set(v)
    return set() if v is None else {v}


def _normalize(v: Any) -> Any:
    if isinstance(v, tuple):
        return tuple(sorted(v, key=_sort_key))
    return v


def _compare(have: Any, want: Any, op: str) -> bool:
    try:
        return {"=": have == want, "!=": have != want, "<": have < want, ">": have > want,
                "<=": have <= want, ">=": have >= want}[op]
    except TypeError:
        return False


def cmd_find(db: Database, table_name: str, conditions: Sequence[str], *, columns: str | None,
             style: Style) -> str:
    table = get_table(db.schema, table_name)
    cols = parse_columns(db.schema, table, columns)
    conds = [parse_condition(db.schema, table, c) for c in conditions]
    rows = [r for r in sorted(db.tables[table].values(), key=lambda r: r.uuid)
            if all(row_matches(r, db.schema, *c) for c in conds)]
    return render(db.schema, table, rows, cols, style)


def cmd_get(db: Database, table_name: str, record: str, columns: Sequence[str], *, row_ids: RowIds,
            if_exists: bool = False) -> str:
    table = get_table(db.schema, table_name)
    row = get_row(db, table, record, row_ids, must_exist=not if_exists)
    if row is None:
        return ""
    out = []
    for spec in columns:
        if spec.lower() in ("_uuid", "-uuid"):
            out.append(row.uuid)
            continue
        name, sep, key = spec.partition(":")
        column = get_column(db.schema, table, name)
        col = db.schema[table][column]
        if sep:
            if col.kind != "map":
                raise CtlError(f"cannot specify key to get for non-map column {column}")
            k = parse_atom(key, "string")
            if k not in row[column]:
                if if_exists:
                    out.append("")
                    continue
                raise CtlError(f'no key "{key}" in {table} record "{record}" column {column}')
            out.append(atom_to_string(row[column][k]))
        else:
            out.append(datum_to_string(row[column], col))
    return "".join(line + "\n" for line in out)
