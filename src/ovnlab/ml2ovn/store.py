"""The Neutron resources the driver has been told about (what Neutron's OVN driver reads
back from the Neutron DB through `self._plugin`), journaled so that a failed cloud
transaction leaves it exactly as the rolled-back NB."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Protocol

KINDS = ("networks", "subnets", "ports", "routers", "floatingips", "security_groups")
_MISSING = object()

Resource = dict[str, Any]


class Store:
    def __init__(self) -> None:
        self._data: dict[str, dict[str, Resource]] = {k: {} for k in KINDS}
        self._journal: list[tuple[str, str, object]] | None = None

    def get(self, kind: str, rid: str | None) -> Resource | None:
        if not rid:
            return None
        return self._data[kind].get(rid)

    def values(self, kind: str) -> Iterator[Resource]:
        return iter(list(self._data[kind].values()))

    def put(self, kind: str, resource: Resource) -> None:
        rid = resource["id"]
        self._log(kind, rid)
        self._data[kind][rid] = dict(resource)

    def drop(self, kind: str, rid: str) -> None:
        if rid in self._data[kind]:
            self._log(kind, rid)
            del self._data[kind][rid]

    def clear(self) -> None:
        for kind in KINDS:
            for rid in list(self._data[kind]):
                self.drop(kind, rid)

    # --------------------------------------------------------------- journal
    def begin(self) -> None:
        self._journal = []

    def commit(self) -> None:
        self._journal = None

    def rollback(self) -> None:
        journal, self._journal = self._journal or [], None
        for kind, rid, old in reversed(journal):
            if old is _MISSING:
                self._data[kind].pop(rid, None)
            else:
                self._data[kind][rid] = old  # type: ignore[assignment]

    def _log(self, kind: str, rid: str) -> None:
        if self._journal is not None:
            self._journal.append((kind, rid, self._data[kind].get(rid, _MISSING)))


class View(Protocol):
    """The Neutron resources as the driver reads them (what Neutron's OVN driver reads
    back from the plugin): read only."""

    def get(self, kind: str, rid: str | None) -> Resource | None: ...

    def values(self, kind: str) -> Iterator[Resource]: ...
