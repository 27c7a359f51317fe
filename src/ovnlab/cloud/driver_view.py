"""The cloud's resources as its driver reads them: a read-only view of the cloud's own
store, in the driver's form (`ovnlab.cloud.driver`), read inside the operation's
transaction. Neutron's OVN driver reads the plugin's DB the same way (`self._plugin.get_port`,
`get_ports(filters=...)`), so there is one copy of each resource and a rolled-back
operation leaves nothing behind in the driver."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ovnlab.cloud.store import Store

Doc = dict[str, Any]
Form = Callable[[Doc], Doc]

# The driver's kinds (a resync snapshot's keys) -> the store's.
STORE_KINDS: Mapping[str, str] = {
    "networks": "network", "subnets": "subnet", "ports": "port", "routers": "router",
    "floatingips": "floatingip", "security_groups": "security_group",
}


class DriverView:
    """`get`, `values` and `find` over the store; `forms` turns a stored document of a kind
    into the driver's form (a router with its gateway port, a floating IP with its port's
    MAC, a security group with its rules)."""

    def __init__(self, store: Store, forms: Mapping[str, Form]) -> None:
        self._store = store
        self._forms = forms

    def _kind(self, kind: str) -> str:
        try:
            return STORE_KINDS[kind]
        except KeyError:
            raise ValueError(f"no such resource kind for the driver: {kind}") from None

    def _form(self, kind: str, doc: Doc) -> Doc:
        form = self._forms.get(kind)
        return form(doc) if form is not None else doc

    def get(self, kind: str, rid: str | None) -> Doc | None:
        stored = self._kind(kind)
        doc = self._store.get(stored, rid) if rid else None
        return None if doc is None else self._form(stored, doc)

    def values(self, kind: str) -> list[Doc]:
        stored = self._kind(kind)
        return [self._form(stored, d) for d in self._store.all(stored)]

    def find(self, kind: str, **attrs: Any) -> list[Doc]:
        stored = self._kind(kind)
        return [self._form(stored, d) for d in self._store.find(stored, **attrs)]
