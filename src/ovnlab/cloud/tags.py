"""Neutron's tag API (standard-attr-tag, neutron/services/tag): a resource's `tags` replaced,
added to or cleared by their owner."""

from __future__ import annotations

from typing import Any

from ovnlab.cloud import exceptions as exc
from ovnlab.cloud import policy
from ovnlab.cloud.base import CloudBase
from ovnlab.cloud.context import Context
from ovnlab.errors import NotFound

TAGGABLE = ("network", "subnet", "port", "router", "floatingip", "security_group",
            "subnetpool")
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


class TagOps(CloudBase):
    def get_tags(self, ctx: Context, kind: str, id: str) -> list[str]:
        return list(getattr(self, f"get_{kind}")(ctx, id).get("tags", []))

    def check_tag(self, ctx: Context, kind: str, id: str, tag: str) -> None:
        if tag not in self.get_tags(ctx, kind, id):
            raise NotFound(f"Tag {tag} could not be found for {kind} {id}.",
                           type="TagNotFound")

    def update_tags(self, ctx: Context, kind: str, id: str, tags: list[str]) -> list[str]:
        """Replace the tags (the resource's owner or an admin; others see 403, or 404 for
        what they cannot see). Tags are not the driver's business: nothing reaches the NB,
        and the revision number stays."""
        with self._txn():
            getattr(self, f"get_{kind}")(ctx, id)
            doc = self.store.get(kind, id)
            if doc is None or not policy.owns(ctx, doc):
                raise exc.policy(f"update_{kind}")
            doc["tags"] = list(tags)
            doc["updated_at"] = self._now()
            self._save(kind, doc)
        return list(tags)

    def add_tag(self, ctx: Context, kind: str, id: str, tag: str) -> None:
        tags = self.get_tags(ctx, kind, id)
        self.update_tags(ctx, kind, id, tags + ([] if tag in tags else [_validate_tag(tag)]))

    def remove_tag(self, ctx: Context, kind: str, id: str, tag: str) -> None:
        self.check_tag(ctx, kind, id, tag)
        self.update_tags(ctx, kind, id, [t for t in self.get_tags(ctx, kind, id) if t != tag])
