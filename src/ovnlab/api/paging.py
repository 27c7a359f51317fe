"""Neutron's sorting and pagination of a collection (neutron/api/api_common.py): `sort_key`
and `sort_dir` (repeatable, `id` appended as the tie-breaker), `limit`, `marker`,
`page_reverse`, and the `<collection>_links` next/previous links."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cmp_to_key
from typing import Any
from urllib.parse import urlencode

from ovnlab.errors import BadRequest

Item = dict[str, Any]


def _sorts(query: Mapping[str, list[str]], attrs: set[str]) -> list[tuple[str, bool]]:
    keys, dirs = query.get("sort_key", []), query.get("sort_dir", [])
    if len(dirs) > len(keys) or (dirs and len(dirs) != len(keys)):
        raise BadRequest("The number of sort_keys and sort_dirs must be same",
                         type="HTTPBadRequest")
    for d in dirs:
        if d not in ("asc", "desc"):
            raise BadRequest(f"{d} is invalid value for sort_dir, valid value is 'asc' and "
                             "'desc'", type="HTTPBadRequest")
    for k in keys:
        if k not in attrs:
            raise BadRequest(f"{k} is invalid attribute for sort_key", type="HTTPBadRequest")
    sorts = [(k, d == "asc") for k, d in zip(keys, dirs or ["asc"] * len(keys), strict=True)]
    if sorts and "id" not in keys:
        sorts.append(("id", True))
    return sorts


def _limit(query: Mapping[str, list[str]]) -> int | None:
    raw = query.get("limit", [None])[0]
    if raw is None:
        return None
    try:
        limit = int(raw)
    except ValueError:
        limit = -1
    if limit < 0:
        raise BadRequest(f"Limit must be an integer 0 or greater and not '{raw}'",
                         type="HTTPBadRequest")
    return limit or None  # 0: no limit, as Neutron's


def _compare(a: Item, b: Item, sorts: list[tuple[str, bool]]) -> int:
    for key, asc in sorts:
        x, y = a.get(key), b.get(key)
        if x == y:
            continue
        if x is None or y is None:  # NULLs first when ascending, as SQL sorts them here
            order = -1 if x is None else 1
        else:
            try:
                order = -1 if x < y else 1
            except TypeError:
                order = -1 if str(x) < str(y) else 1
        return order if asc else -order
    return 0


def page(items: list[Item], query: Mapping[str, list[str]], attrs: set[str], plural: str,
         url: str) -> dict[str, Any]:
    """The listing body for `items` (already filtered by policy and query)."""
    sorts = _sorts(query, attrs)
    if sorts:
        def cmp(a: Item, b: Item) -> int:
            return _compare(a, b, sorts)
        items = sorted(items, key=cmp_to_key(cmp))
    limit = _limit(query)
    marker = query.get("marker", [None])[0]
    reverse = query.get("page_reverse", ["False"])[0].lower() == "true"
    if limit is None and marker is None:
        return {plural: items}
    ordered = list(reversed(items)) if reverse else items
    start = 0
    if marker is not None:  # a marker the caller cannot see starts from the beginning
        ids = [i.get("id") for i in ordered]
        start = ids.index(marker) + 1 if marker in ids else 0
    chosen = ordered[start:start + limit] if limit else ordered[start:]
    if reverse:
        chosen.reverse()
    body: dict[str, Any] = {plural: chosen}
    if limit:
        body[f"{plural}_links"] = _links(query, chosen, limit, reverse, url)
    return body


def _links(query: Mapping[str, list[str]], items: list[Item], limit: int, reverse: bool,
           url: str) -> list[dict[str, str]]:
    """`get_pagination_links`: next unless a short forward page, previous unless a short
    reversed page (so a first page has a previous link too, as Neutron's)."""
    params = [(k, v) for k, vals in query.items() if k not in ("marker", "page_reverse")
              for v in vals]
    links = []
    if not (len(items) < limit and not reverse):
        marker = [("marker", items[-1]["id"])] if items else []
        links.append({"rel": "next", "href": f"{url}?{urlencode(params + marker)}"})
    if not (len(items) < limit and reverse):
        marker = [("marker", items[0]["id"])] if items else []
        links.append({"rel": "previous",
                      "href": f"{url}?{urlencode(params + marker + [('page_reverse', 'True')])}"})
    return links
