"""OVSDB values as the ctl tools write and read them (lib/ovsdb-data.c: atoms and datums
to and from their string forms, with the quoting and ordering ovs-vsctl uses)."""

from __future__ import annotations

import json
import re
from typing import Any

from ovnlab.ovsdb import Column


class CtlError(Exception):
    """A db-ctl error; the tool prints `<tool>: <message>` and exits 1."""


_UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def is_uuid(s: str) -> bool:
    return bool(_UUID_RE.match(s))


def _needs_quotes(s: str) -> bool:
    """ovsdb-data.c string_needs_quotes."""
    if not s or not (s[0].isascii() and (s[0].isalpha() or s[0] == "_")):
        return True
    if any(not (c.isascii() and (c.isalnum() or c in "_-.")) for c in s[1:]):
        return True
    return s in ("true", "false") or is_uuid(s)


def _json_string(s: str) -> str:
    out = ['"']
    for c in s:
        if c == '"':
            out.append('\\"')
        elif c == "\\":
            out.append("\\\\")
        elif ord(c) < 0x20:
            out.append({"\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(c, f"\\u{ord(c):04x}"))
        else:
            out.append(c)
    out.append('"')
    return "".join(out)


def atom_to_string(value: Any, bare: bool = False) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    s = str(value)
    if bare:
        return s
    return _json_string(s) if _needs_quotes(s) and not (is_uuid(s) and _is_ref_atom(value)) else s


class _Ref(str):
    """A UUID atom (printed bare, unlike a string that looks like a UUID)."""


def _is_ref_atom(value: Any) -> bool:
    return isinstance(value, _Ref)


def _atoms(value: Any, col: Column) -> list[Any]:
    if value is None or (col.kind in ("set", "map") and not value):
        return []
    if col.kind == "set":
        items = list(value)
    elif col.kind == "map":
        return sorted(value.items(), key=lambda kv: _sort_key(kv[0]))
    else:
        items = [value]
    if col.ref_table or col.kind == "uuid":
        items = [_Ref(v) for v in items]
    return sorted(items, key=_sort_key)


def _sort_key(v: Any) -> tuple[int, Any]:
    if isinstance(v, bool):
        return (0, int(v))
    if isinstance(v, int):
        return (1, v)
    return (2, str(v))


def datum_to_string(value: Any, col: Column) -> str:
    """ovsdb_datum_to_string: `[]`/`{}` for empty, brackets for sets and maps."""
    atoms = _atoms(value, col)
    if col.kind == "map":
        body = ", ".join(f"{atom_to_string(k)}={atom_to_string(v)}" for k, v in atoms)
        return "{" + body + "}"
    body = ", ".join(atom_to_string(a) for a in atoms)
    if col.kind == "set" or not atoms:
        return "[" + body + "]"
    return body


def datum_to_bare(value: Any, col: Column) -> str:
    atoms = _atoms(value, col)
    if col.kind == "map":
        return " ".join(f"{atom_to_string(k, True)}={atom_to_string(v, True)}" for k, v in atoms)
    return " ".join(atom_to_string(a, True) for a in atoms)


def uuid_column() -> Column:
    return Column("uuid", "", ref_table="_self")


# ------------------------------------------------------------------ parsing values (find)
def _split_top(s: str, sep: str) -> list[str]:
    parts, depth, quoted, cur = [], 0, False, []
    i = 0
    while i < len(s):
        c = s[i]
        if quoted:
            cur.append(c)
            if c == "\\" and i + 1 < len(s):
                cur.append(s[i + 1])
                i += 1
            elif c == '"':
                quoted = False
        elif c == '"':
            quoted = True
            cur.append(c)
        elif c in "[{":
            depth += 1
            cur.append(c)
        elif c in "]}":
            depth -= 1
            cur.append(c)
        elif c == sep and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(c)
        i += 1
    parts.append("".join(cur))
    return parts


def parse_atom(text: str, kind: str) -> Any:
    text = text.strip()
    if text.startswith('"'):
        try:
            s = json.loads(text)
        except json.JSONDecodeError:
            raise CtlError(f"{text}: syntax error in quoted string") from None
    else:
        s = text
    if kind == "integer":
        try:
            return int(s)
        except ValueError:
            raise CtlError(f'"{s}" is not a valid integer') from None
    if kind == "boolean":
        if s not in ("true", "false"):
            raise CtlError(f'"{s}" is not a valid boolean (use "true" or "false")')
        return s == "true"
    return s


def parse_datum(text: str, col: Column) -> Any:
    """ovsdb_datum_from_string, for the column types NB/SB use."""
    text = text.strip()
    elem = _element_kind(col)
    if col.kind == "map":
        inner = text[1:-1] if text.startswith("{") and text.endswith("}") else text
        out = {}
        for item in _split_top(inner, ",") if inner.strip() else []:
            k, sep, v = item.partition("=")
            if not sep:
                raise CtlError(f"{item}: missing '=' in map")
            out[parse_atom(k, "string")] = parse_atom(v, "string")
        return out
    if col.kind == "set" or col.optional:
        inner = text[1:-1] if text.startswith("[") and text.endswith("]") else text
        items = [parse_atom(i, elem) for i in _split_top(inner, ",")] if inner.strip() else []
        if col.optional:
            if len(items) > 1:
                raise CtlError(f"{text}: too many values for a 0..1 column")
            return items[0] if items else None
        return tuple(items)
    return parse_atom(text, elem)


def _element_kind(col: Column) -> str:
    if col.kind in ("set", "map"):
        return "uuid" if col.ref_table else "string"
    return col.kind
