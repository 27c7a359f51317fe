"""Neutron's tag API (standard-attr-tag, neutron/services/tag): a resource's `tags` replaced,
added to or cleared by their owner.

`TagService` is one of the cloud's composed services: it shares the cloud's core (store,
transaction, clock) and finds a resource through the family that owns it (a table from
`Taggable` kind to that family's `get_<member>`), as Neutron's tag plugin looks resources
up through their plugins."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from enum import StrEnum
from typing import Any

from ovnlab.cloud import exceptions as exc
from ovnlab.cloud import policy
from ovnlab.cloud.base import CloudBase, Doc
from ovnlab.cloud.context import Context
from ovnlab.errors import NotFound


class Taggable(StrEnum):
    """The resources with standard-attr-tag: the API's member name, also the store's kind."""

    NETWORK = "network"
    SUBNET = "subnet"
    PORT = "port"
    ROUTER = "router"
    FLOATINGIP = "floatingip"
    SECURITY_GROUP = "security_group"
    SUBNETPOOL = "subnetpool"


TAGGABLE: frozenset[str] = frozenset(Taggable)  # the members, as the API's strings
Reader = Callable[[Context, str], Doc]  # a family's `get_<member>(ctx, id)`: 404/403 as it says
MAX_TAG_LEN = 255


def _validate_tag(tag: Any) -> str:
    if not isinstance(tag, str):
        raise exc.invalid_input(f"'{tag}' is not a valid string")
    if len(tag) > MAX_TAG_LEN:
        raise exc.invalid_input(f"'{tag}' exceeds maximum length of {MAX_TAG_LEN}")
    return tag


def validate_tags(body: Any) -> list[str]:
    """`validate_tags`: `{"tags": [unique strings]}`."""
    if not isinstance(body, dict) or "tags" not in body:
        raise exc.invalid_input("Invalid tags body")
    tags = body["tags"]
    if not isinstance(tags, list):
        raise exc.invalid_input(f"'{tags}' is not a list")
    out = [_validate_tag(t) for t in tags]
    dups = sorted({t for t in out if out.count(t) > 1})
    if dups:
        raise exc.invalid_input(f"Duplicate items in the list: '{', '.join(dups)}'")
    return out


class TagService:
    """`TagService(core, readers)`: `readers` gives, for every `Taggable` kind, the owning
    family's `get_<member>` (what the caller may see of the resource)."""

    def __init__(self, core: CloudBase, readers: Mapping[Taggable, Reader]) -> None:
        missing = set(Taggable) - set(readers)
        if missing:
            raise ValueError(f"no reader for taggable kinds {sorted(missing)}")
        self._core = core
        self._readers = dict(readers)

    def get_tags(self, ctx: Context, kind: Taggable, id: str) -> list[str]:
        return list(self._readers[kind](ctx, id).get("tags", []))

    def check_tag(self, ctx: Context, kind: Taggable, id: str, tag: str) -> None:
        if tag not in self.get_tags(ctx, kind, id):
            raise NotFound(f"Tag {tag} could not be found for {kind} {id}.",
                           type="TagNotFound")

    def update_tags(self, ctx: Context, kind: Taggable, id: str, tags: list[str]) -> list[str]:
        """Replace the tags (the resource's owner or an admin; others see 403, or 404 for
        what they cannot see). Tags are not the driver's business: nothing reaches the NB,
        and the revision number stays."""
        core = self._core
        with core._txn():
            self._readers[kind](ctx, id)
            doc = core.store.get(kind, id)
            if doc is None or not policy.owns(ctx, doc):
                raise exc.policy(f"update_{kind}")
            doc["tags"] = list(tags)
            doc["updated_at"] = core._now()
            core._save(kind, doc)
        return list(tags)

    def add_tag(self, ctx: Context, kind: Taggable, id: str, tag: str) -> None:
        tags = self.get_tags(ctx, kind, id)
        self.update_tags(ctx, kind, id, tags + ([] if tag in tags else [_validate_tag(tag)]))

    def remove_tag(self, ctx: Context, kind: Taggable, id: str, tag: str) -> None:
        self.check_tag(ctx, kind, id, tag)
        self.update_tags(ctx, kind, id, [t for t in self.get_tags(ctx, kind, id) if t != tag])
