"""The Neutron resources as the driver reads them.

Neutron's OVN driver keeps no copy of Neutron's resources: it reads them back from the
plugin (`self._plugin.get_port(context, id)`, `get_ports(context, filters=...)`) in the
transaction of the operation it is told about (precommit), so what it reads is what that
transaction has written, and a rollback undoes both. ovnlab's driver does the same through
a `View` its caller binds: the cloud's store (`ovnlab.cloud`), `MiniNeutron`'s dicts, or a
`sync` snapshot. Read only: the driver writes the NB, never the resources.

Routers, floating IPs and security groups are read in the driver's form (see
`ovnlab.cloud.driver`): a router with `gw_port_id`/`gw_port`, a floating IP with
`floating_port_id`/`floating_port_mac`, a security group with its rules embedded.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Any, Protocol

Resource = dict[str, Any]


class Kind(StrEnum):
    """The resource families the driver reads (the `snapshot` keys of a resync)."""

    NETWORKS = "networks"
    SUBNETS = "subnets"
    PORTS = "ports"
    ROUTERS = "routers"
    FLOATINGIPS = "floatingips"
    SECURITY_GROUPS = "security_groups"


class View(Protocol):
    """Read-only access to the Neutron resources (the plugin's `get_<kind>` calls)."""

    def get(self, kind: Kind, rid: str | None) -> Resource | None: ...

    def values(self, kind: Kind) -> Iterable[Resource]:
        """Every resource of a kind, in creation order."""
        ...

    def find(self, kind: Kind, **attrs: Any) -> list[Resource]:
        """The resources whose top-level attributes equal `attrs` (`get_ports(filters=)`)."""
        ...


class DictView:
    """A `View` over dicts of resources by id, read where they are (`MiniNeutron`'s, which
    change as it calls the driver) or over a snapshot's lists (`of_lists`)."""

    def __init__(self, tables: Mapping[Kind, Mapping[str, Resource]]) -> None:
        self._tables = tables

    @classmethod
    def of_lists(cls, snapshot: Mapping[str, Iterable[Resource]]) -> DictView:
        return cls({kind: {r["id"]: r for r in snapshot.get(kind.value) or []}
                    for kind in Kind})

    def get(self, kind: Kind, rid: str | None) -> Resource | None:
        return self._tables.get(kind, {}).get(rid) if rid else None

    def values(self, kind: Kind) -> list[Resource]:
        return list(self._tables.get(kind, {}).values())

    def find(self, kind: Kind, **attrs: Any) -> list[Resource]:
        return [r for r in self.values(kind) if all(r.get(k) == v for k, v in attrs.items())]


EMPTY = DictView({})
