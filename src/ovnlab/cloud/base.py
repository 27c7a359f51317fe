"""What every part of the cloud shares: the store, the driver, the transaction of one
operation, timestamps and revisions, request bodies, filters and field selection."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from ovnlab.cloud import exceptions as exc
from ovnlab.cloud import policy
from ovnlab.cloud.context import Context
from ovnlab.cloud.driver import Driver, NullDriver, WriteCounting
from ovnlab.cloud.driver_view import DriverView, Form
from ovnlab.cloud.ids import META, IdGenerator
from ovnlab.cloud.store import Store
from ovnlab.topology import Topology

Doc = dict[str, Any]
Filters = dict[str, Any]
CONFIG_ID = "config"

# Internal attributes kept with a resource (Neutron keeps them in its DB) but never shown.
HIDDEN: dict[str, tuple[str, ...]] = {
    "floatingip": ("floating_port_id",),
    "router": ("gw_port_id",),
    "server": ("nics", "flavor_id", "image_id", "instance_number"),
}


class CloudBase:
    def __init__(self, store: Store | str | Path | None, topology: Topology,
                 driver: Driver | None = None, *, seed: int = 0,
                 clock: Callable[[], float] | None = None) -> None:
        self.store = store if isinstance(store, Store) else Store(store)
        self.topology = topology
        self.driver: Driver = cast(Driver, WriteCounting(
            driver if driver is not None else NullDriver()))
        self.ids = IdGenerator(self.store, seed)
        self.clock = clock or time.time
        self.driver.bind(DriverView(self.store, self._driver_forms()))
        ovn = topology.neutron.ovn
        with self.store.transaction():
            if self.store.get(META, CONFIG_ID) is None:
                self.store.put(META, CONFIG_ID, {
                    "enable_distributed_floating_ip": ovn.enable_distributed_floating_ip,
                    "ovn_l3_scheduler": ovn.ovn_l3_scheduler,
                })
        # The persisted option (set by `config set`) wins over the topology's on a restart:
        # the driver was built from the topology, tell it before it resyncs.
        persisted = bool(self.config().get("enable_distributed_floating_ip"))
        if driver is not None and persisted != ovn.enable_distributed_floating_ip:
            with self._txn():
                self.driver.set_distributed_floating_ip(persisted, self._port_active)

    def _driver_forms(self) -> dict[str, Form]:
        """How a stored document of a kind reads in the driver's form (none: as stored)."""
        return {}

    def _port_active(self, port_id: str) -> bool:
        port = self.store.get("port", port_id)
        return port is not None and port["status"] == "ACTIVE"

    def close(self) -> None:
        self.store.close()

    # ------------------------------------------------------------ transactions
    @contextmanager
    def _txn(self) -> Iterator[None]:
        """One operation: the SQLite write and the driver's NB write commit together."""
        self._txn_depth += 1
        writes = cast(WriteCounting, self.driver).writes
        try:
            with self.store.transaction(), self.driver.transaction():
                yield
        finally:
            self._txn_depth -= 1
        if not self._txn_depth and cast(WriteCounting, self.driver).writes != writes:
            self.driver_commits += 1  # the driver's (outermost) transaction wrote the NB

    _txn_depth = 0
    driver_commits = 0
    """Operations whose NB write committed (read-only ones are not counted): a caller that wraps several operations in one
    store transaction (the REST API's request) tells from it whether a rollback of the store
    leaves the NB ahead of it (then `sync_driver`, Neutron's resync, puts it back)."""

    def config(self) -> Doc:
        return self.store.get(META, CONFIG_ID) or {}

    # ------------------------------------------------------------ documents
    def _now(self) -> str:
        return datetime.fromtimestamp(self.clock(), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    def _stamp(self, doc: Doc) -> Doc:
        now = self._now()
        doc.update(created_at=now, updated_at=now, revision_number=1)
        return doc

    def _touch(self, doc: Doc) -> Doc:
        doc["updated_at"] = self._now()
        doc["revision_number"] = int(doc.get("revision_number", 0)) + 1
        return doc

    def _doc(self, kind: str, id: object) -> Doc | None:
        return self.store.get(kind, id) if isinstance(id, str) else None

    def _save(self, kind: str, doc: Doc) -> Doc:
        self.store.put(kind, doc["id"], doc)
        return doc

    # ------------------------------------------------------------ requests
    @staticmethod
    def _body(body: object, resource: str) -> Doc:
        """The resource's attributes, from `{resource: {...}}` or the bare dict."""
        if isinstance(body, dict) and len(body) == 1 and isinstance(body.get(resource), dict):
            body = body[resource]
        if not isinstance(body, dict):
            raise exc.BadRequest(f"Resource body required for {resource}",
                                 type="HTTPBadRequest")
        return dict(body)

    @staticmethod
    def _allowed(body: Doc, allowed: Iterable[str]) -> None:
        unknown = sorted(set(body) - set(allowed))
        if unknown:
            raise exc.unrecognized(unknown)

    @staticmethod
    def _immutable(body: Doc, attrs: Iterable[str]) -> None:
        for attr in attrs:
            if attr in body:
                raise exc.read_only(attr)

    @staticmethod
    def _bool(body: Doc, attr: str, default: bool) -> bool:
        value = body.get(attr, default)
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        if not isinstance(value, bool):
            raise exc.invalid_attr(attr, f"'{value}' is not a valid boolean value")
        return value

    @staticmethod
    def _str(body: Doc, attr: str, default: str = "") -> str:
        value = body.get(attr, default)
        if value is None:
            value = ""
        if not isinstance(value, str):
            raise exc.invalid_attr(attr, f"'{value}' is not a valid string")
        return value

    # ------------------------------------------------------------ views
    def _view(self, ctx: Context, kind: str, doc: Doc,
              fields: Iterable[str] | None = None) -> Doc:
        out = {k: v for k, v in doc.items() if k not in HIDDEN.get(kind, ())}
        policy.strip(ctx, kind, out)
        if fields:
            wanted = set(fields)
            out = {k: v for k, v in out.items() if k in wanted}
        return out

    @staticmethod
    def _matches(doc: Doc, filters: Filters | None) -> bool:
        """Neutron's list filters `{attr: [values]}` (query-string values are strings)."""
        for attr, wanted in (filters or {}).items():
            values = list(wanted) if isinstance(wanted, (list, tuple, set)) else [wanted]
            if attr == "fixed_ips":
                if not _fixed_ips_match(doc.get("fixed_ips", []), values):
                    return False
                continue
            if attr not in doc:
                continue  # Neutron ignores filters on attributes a resource lacks
            have = doc[attr]
            if isinstance(have, list):
                if not any(_same(h, v) for h in have for v in values):
                    return False
            elif not any(_same(have, v) for v in values):
                return False
        return True


def _same(have: Any, want: Any) -> bool:
    if have == want and type(have) is type(want):
        return True
    if isinstance(have, bool):
        return str(want).lower() == str(have).lower()
    if isinstance(have, int):
        return str(want) == str(have)
    if have is None:
        return want is None or want == ""
    return isinstance(want, str) and isinstance(have, str) and have == want


def _fixed_ips_match(fixed_ips: list[Doc], values: list[Any]) -> bool:
    """`fixed_ips=ip_address=10.0.0.5` / `fixed_ips=subnet_id=X` (or dicts)."""
    for value in values:
        want = value if isinstance(value, dict) else dict(
            [str(value).split("=", 1)] if "=" in str(value) else [])
        if not any(all(ip.get(k) == v for k, v in want.items()) for ip in fixed_ips):
            return False
    return True
