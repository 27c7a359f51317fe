"""A bridge port (OVSDB Port + Interface) whose every change is reported, so that the
bridge's port generation moves whatever path changed it (ovs-vsctl, the BFD sessions,
ovn-controller's tunnels and patch ports, nova's plugging)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

PORT_TYPES = ("", "internal", "system", "patch", "geneve")


def nothing() -> None:
    """No one to tell."""


class MapColumn(dict[str, str]):
    """A Port's map column (options, external_ids, bfd, bfd_status) that says when it
    changes, so that the bridge's port generation moves (see Bridge.port_generation)."""

    __slots__ = ("_changed",)

    def __init__(self, data: Mapping[str, str], changed: Callable[[], None]) -> None:
        super().__init__(data)
        self._changed = changed

    def __setitem__(self, key: str, value: str) -> None:
        if key not in self or self[key] != value:
            super().__setitem__(key, value)
            self._changed()

    def __delitem__(self, key: str) -> None:
        super().__delitem__(key)
        self._changed()

    def clear(self) -> None:
        if self:
            super().clear()
            self._changed()

    def update(self, *args: Any, **kwargs: str) -> None:
        super().update(*args, **kwargs)
        self._changed()

    def pop(self, key: str, *default: Any) -> Any:
        had = key in self
        value = super().pop(key, *default)
        if had:
            self._changed()
        return value

    def popitem(self) -> tuple[str, str]:
        item = super().popitem()
        self._changed()
        return item

    def setdefault(self, key: str, default: str = "") -> str:
        if key not in self:
            self[key] = default
        return self[key]

    def __ior__(self, other: Any) -> MapColumn:  # type: ignore[override,misc]
        self.update(other)
        return self


MAP_COLUMNS = frozenset(("options", "external_ids", "bfd", "bfd_status"))


@dataclass(slots=True)
class Port:
    """A bridge port (OVSDB Port + Interface): `type` "" is a VIF or system NIC. Any
    change to it calls `changed` (its bridge's port generation moves)."""

    name: str
    ofport: int
    type: str = ""
    options: dict[str, str] = field(default_factory=dict)
    external_ids: dict[str, str] = field(default_factory=dict)
    bfd: dict[str, str] = field(default_factory=dict)  # Interface.bfd (enable=true...)
    # Interface.bfd_status: no BFD packets are exchanged here; the session's verdict is
    # set by who knows whether the peer is up (the controller, from set_chassis_alive).
    bfd_status: dict[str, str] = field(default_factory=dict)
    changed: Callable[[], None] = field(default=nothing, repr=False, compare=False)

    def __setattr__(self, name: str, value: Any) -> None:
        if name in MAP_COLUMNS:
            value = MapColumn(value, self._changed)
        object.__setattr__(self, name, value)
        if name != "changed":
            self._changed()

    def _changed(self) -> None:
        getattr(self, "changed", nothing)()  # unset while __init__ runs

    @property
    def may_enable(self) -> bool:
        """OVS's xport->may_enable, which bundle() members are chosen by."""
        return self.bfd_status.get("forwarding") != "false"
