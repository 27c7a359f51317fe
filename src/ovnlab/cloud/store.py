"""A small document store on SQLite: JSON documents keyed by (kind, id).

Generic on purpose: the cloud keeps Neutron/Nova resources here (kinds `network`, `port`...)
and the lab may keep other rows (kinds like `nb:NAT`). Every write happens inside one SQLite
transaction (`transaction()`, nested calls join the outer one as savepoints), with WAL and
``synchronous=FULL``, so a process killed mid-operation leaves either all of an operation
or none of it.
"""

from __future__ import annotations

import itertools
import json
import sqlite3
import threading
from collections import deque
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ovnlab.errors import BadRequest

# Attributes the cloud looks documents up by; `find` on any other attribute still works
# (a scan of that kind's documents).
DEFAULT_INDEXES = (
    "name", "project_id", "network_id", "device_id", "device_owner", "mac_address",
    "security_group_id", "floating_network_id", "port_id", "router_id",
)

JOURNAL = 4096  # writes remembered for `written_since`

_SCHEMA = """
CREATE TABLE IF NOT EXISTS docs (
    seq  INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    id   TEXT NOT NULL,
    doc  TEXT NOT NULL,
    UNIQUE (kind, id)
)
"""


def _path(attr: str) -> str:
    """A JSON path selecting one top-level key, quoted (keys like `binding:host_id`)."""
    return '$."' + attr.replace('"', '\\"') + '"'


class Store:
    """`Store(path)` on a file, or `Store(None)` in memory."""

    def __init__(self, path: str | Path | None = None,
                 indexes: Iterable[str] = DEFAULT_INDEXES) -> None:
        self.path = None if path is None else Path(path)
        target = ":memory:" if self.path is None else str(self.path)
        self._conn = sqlite3.connect(target, isolation_level=None, check_same_thread=False)
        self._lock = threading.RLock()
        self._depth = 0
        self.writes = 0  # puts and deletes so far: readers skip a rescan when unchanged
        self._written: deque[tuple[str, str]] = deque(maxlen=JOURNAL)  # the last (kind, id)
        if self.path is not None:
            self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=FULL")
        self._conn.execute("PRAGMA busy_timeout=10000")
        with self.transaction():
            self._conn.execute(_SCHEMA)
            for i, attr in enumerate(sorted(set(indexes))):
                self._conn.execute(
                    f"CREATE INDEX IF NOT EXISTS docs_attr_{i} "
                    f"ON docs(kind, json_extract(doc, '{_path(attr)}'))"
                )

    # ------------------------------------------------------------ transactions
    @contextmanager
    def transaction(self) -> Iterator[Store]:
        """One SQLite transaction; nested calls join it; an exception rolls back everything
        since the block began (a nested block that fails is undone even if the outer code
        catches the exception: it runs inside a SAVEPOINT)."""
        with self._lock:
            depth = self._depth
            self._conn.execute("BEGIN IMMEDIATE" if depth == 0 else f"SAVEPOINT sp{depth}")
            self._depth += 1
            try:
                yield self
            except BaseException:
                self._depth -= 1
                if depth == 0:
                    self._conn.execute("ROLLBACK")
                else:
                    self._conn.execute(f"ROLLBACK TO sp{depth}")
                    self._conn.execute(f"RELEASE sp{depth}")
                raise
            self._depth -= 1
            self._conn.execute("COMMIT" if depth == 0 else f"RELEASE sp{depth}")

    @property
    def in_transaction(self) -> bool:
        return self._depth > 0

    # ------------------------------------------------------------ writes
    def put(self, kind: str, id: str, doc: dict[str, Any]) -> None:
        """Insert or replace. What no later reader could read back is refused: text that is
        not Unicode (a lone surrogate: the NB, tools, a restart would fail on it) and NaN or
        infinite numbers (not JSON: SQLite's JSON functions fail on them)."""
        try:
            text = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                              allow_nan=False)
            text.encode("utf-8")
        except UnicodeEncodeError as e:
            bad = e.object[e.start:e.end].encode("utf-8", "backslashreplace").decode()
            raise BadRequest(f"{bad} is a lone surrogate, not Unicode text",
                             type="HTTPBadRequest") from None
        except ValueError:  # NaN or an infinity: not JSON, SQLite's JSON functions fail on it
            raise BadRequest("NaN and infinite numbers are not JSON values",
                             type="HTTPBadRequest") from None
        self._note(kind, id)
        with self.transaction():
            self._conn.execute(
                "INSERT INTO docs(kind, id, doc) VALUES (?, ?, ?) "
                "ON CONFLICT(kind, id) DO UPDATE SET doc = excluded.doc",
                (kind, id, text),
            )

    def delete(self, kind: str, id: str) -> bool:
        self._note(kind, id)
        with self.transaction():
            cur = self._conn.execute("DELETE FROM docs WHERE kind = ? AND id = ?", (kind, id))
            return cur.rowcount > 0

    def _note(self, kind: str, id: str) -> None:
        self.writes += 1
        self._written.append((kind, id))

    def written_since(self, mark: int) -> set[tuple[str, str]] | None:
        """The (kind, id) of the documents put or deleted since `writes` was `mark` (a
        rolled-back write included), or None when that is further back than remembered."""
        n = self.writes - mark
        if mark < 0 or n > len(self._written):
            return None
        return set(itertools.islice(self._written, len(self._written) - n, None))

    # ------------------------------------------------------------ reads
    def get(self, kind: str, id: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._conn.execute(
                "SELECT doc FROM docs WHERE kind = ? AND id = ?", (kind, id)).fetchone()
        return None if row is None else dict(json.loads(row[0]))

    def all(self, kind: str) -> list[dict[str, Any]]:
        """Every document of a kind, in creation order."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT doc FROM docs WHERE kind = ? ORDER BY seq", (kind,)).fetchall()
        return [json.loads(r[0]) for r in rows]

    def find(self, kind: str, **attrs: Any) -> list[dict[str, Any]]:
        """Documents whose top-level attributes equal the given values, in creation order."""
        return [json.loads(text) for text in self._select("doc", kind, attrs)]

    def pluck(self, kind: str, attr: str, **attrs: Any) -> list[Any]:
        """One attribute of the matching documents (without decoding whole documents)."""
        out = []
        for value in self._select(f"json_extract(doc, '{_path(attr)}'), "
                                  f"json_type(doc, '{_path(attr)}')", kind, attrs):
            raw, type_ = value
            out.append(json.loads(raw) if type_ in ("object", "array") else
                       bool(raw) if type_ in ("true", "false") else raw)
        return out

    def _select(self, what: str, kind: str, attrs: dict[str, Any]) -> list[Any]:
        sql = [f"SELECT {what} FROM docs WHERE kind = ?"]
        args: list[Any] = [kind]
        for attr, value in attrs.items():
            expr = f"json_extract(doc, '{_path(attr)}')"
            if value is None:
                sql.append(f"AND {expr} IS NULL")
            elif isinstance(value, (dict, list)):
                sql.append(f"AND json(json_extract(doc, '{_path(attr)}')) = json(?)")
                args.append(json.dumps(value, sort_keys=True, separators=(",", ":")))
            else:
                sql.append(f"AND {expr} = ?")
                args.append(int(value) if isinstance(value, bool) else value)
        with self._lock:
            rows = self._conn.execute(" ".join(sql) + " ORDER BY seq", args).fetchall()
        return [r[0] if len(r) == 1 else r for r in rows]

    def find_one(self, kind: str, **attrs: Any) -> dict[str, Any] | None:
        found = self.find(kind, **attrs)
        return found[0] if found else None

    def kinds(self) -> list[str]:
        with self._lock:
            rows = self._conn.execute("SELECT DISTINCT kind FROM docs ORDER BY kind").fetchall()
        return [r[0] for r in rows]

    def snapshot(self) -> dict[tuple[str, str], dict[str, Any]]:
        """Every document by (kind, id): tests compare two of these for "nothing changed"."""
        with self._lock:
            rows = self._conn.execute("SELECT kind, id, doc FROM docs ORDER BY seq").fetchall()
        return {(k, i): json.loads(d) for k, i, d in rows}

    def close(self) -> None:
        with self._lock:
            self._conn.close()
