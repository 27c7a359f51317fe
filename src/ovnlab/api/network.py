"""Neutron v2.0: the collections, filters, router interface actions and error bodies."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ovnlab.cloud.context import Context
from ovnlab.cloud.exceptions import policy as policy_error
from ovnlab.cloud.services import Neutron as Cloud
from ovnlab.cloud.tags import TAGGABLE, Taggable, validate_tags
from ovnlab.errors import BadRequest, NotFound, OvnlabError

from .attrs import (
    Resource,
    Str,
)
from .http import Request, Response, Router, json_response
from .network_crud import crud
from .network_resources import EXTENSIONS, RESOURCES
from .paging import page

# Attributes Neutron shows but no request sets, which are sortable too.
_READ_ONLY_SORT_KEYS = frozenset({"status", "created_at", "updated_at", "revision_number",
                                  "subnets", "router_id", "fixed_ip_address"})
_NOT_FILTERS = frozenset({"fields", "limit", "marker", "sort_key", "sort_dir", "page_reverse",
                          "tags", "tags-any", "not-tags", "not-tags-any"})


def neutron_error(e: OvnlabError) -> dict[str, Any]:
    return {"NeutronError": {"type": e.type, "message": e.message, "detail": ""}}


def _extension(alias: str, name: str, description: str) -> dict[str, Any]:
    return {"alias": alias, "name": name, "description": description,
            "updated": "2013-01-20T00:00:00-00:00", "links": []}


def query_filters(query: Mapping[str, list[str]]) -> dict[str, list[str]]:
    return {k: v for k, v in query.items() if k not in _NOT_FILTERS}


TAG_FILTERS = ("tags", "tags-any", "not-tags", "not-tags-any")


def tags_match(item: Mapping[str, Any], query: Mapping[str, list[str]]) -> bool:
    """Neutron's tag filters, each a comma-separated list: `tags` (all of them), `tags-any`
    (one of them), `not-tags` (not all of them), `not-tags-any` (none of them)."""
    have = set(item.get("tags") or [])
    for key in TAG_FILTERS:
        for value in query.get(key, []):
            want = {t for t in value.split(",") if t}
            hit = {"tags": want <= have, "tags-any": bool(want & have),
                   "not-tags": not want <= have, "not-tags-any": not want & have}[key]
            if not hit:
                return False
    return True


def _value_matches(value: Any, wanted: str) -> bool:
    if isinstance(value, bool):
        return wanted.lower() in (("true", "1") if value else ("false", "0"))
    if value is None:
        return wanted in ("", "None", "null")
    if isinstance(value, dict):
        # fixed_ips=ip_address=1.2.3.4 / fixed_ips=subnet_id=X, as Neutron accepts them
        key, sep, want = wanted.partition("=")
        return bool(sep) and key in value and _value_matches(value[key], want)
    return str(value) == wanted


def matches(item: Mapping[str, Any], filters: Mapping[str, list[str]]) -> bool:
    """Neutron semantics: AND over attributes, OR over the values given for one attribute.
    Filters on attributes the item does not have are ignored."""
    for key, wanted in filters.items():
        if key not in item:
            continue
        value = item[key]
        candidates = value if isinstance(value, list) else [value]
        if not any(_value_matches(c, w) for c in candidates for w in wanted):
            return False
    return True


def project(item: dict[str, Any], fields: list[str] | None) -> dict[str, Any]:
    if not fields:
        return item
    return {k: v for k, v in item.items() if k in fields}




class Neutron:
    """Route handlers bound to one cloud."""

    def __init__(self, cloud: Cloud) -> None:
        self.cloud = cloud

    def register(self, router: Router, prefix: str) -> None:
        router.add("GET", prefix, self.versions, auth=False)
        router.add("GET", prefix + "/", self.versions, auth=False)
        v2 = prefix + "/v2.0"
        router.add("GET", v2, self.resources)
        router.add("GET", v2 + "/", self.resources)
        router.add("GET", v2 + "/extensions", self.extensions)
        router.add("GET", v2 + "/extensions/{alias}", self.extension)
        for res in RESOURCES:
            coll = f"{v2}/{res.collection}"
            router.add("GET", coll, self._list(res))
            router.add("POST", coll, self._create(res))
            router.add("GET", coll + "/{id}", self._show(res))
            if any(a.put for a in res.attrs.values()):
                router.add("PUT", coll + "/{id}", self._update(res))
            router.add("DELETE", coll + "/{id}", self._delete(res))
        for res in RESOURCES:
            if res.member in TAGGABLE:
                tags = f"{v2}/{res.collection}/{{id}}/tags"
                router.add("GET", tags, self._tags(res, "get"))
                router.add("PUT", tags, self._tags(res, "put"))
                router.add("DELETE", tags, self._tags(res, "delete"))
                router.add("GET", tags + "/{tag}", self._tag(res, "get"))
                router.add("PUT", tags + "/{tag}", self._tag(res, "put"))
                router.add("DELETE", tags + "/{tag}", self._tag(res, "delete"))
        quotas = v2 + "/quotas"
        router.add("GET", quotas, self.list_quotas)
        router.add("GET", quotas + "/{project_id}", self._quota(self.cloud.quotas.get_quota))
        router.add("GET", quotas + "/{project_id}/default", self._quota(self.cloud.quotas.get_quota_default))
        router.add("GET", quotas + "/{project_id}/details", self._quota(self.cloud.quotas.get_quota_details))
        router.add("PUT", quotas + "/{project_id}", self.update_quota)
        router.add("DELETE", quotas + "/{project_id}", self.delete_quota)
        router.add("GET", v2 + "/agents", self.agents)
        router.add("GET", v2 + "/agents/{id}", self.agent)
        router.add("PUT", v2 + "/routers/{id}/add_router_interface", self.add_interface)
        router.add("PUT", v2 + "/routers/{id}/remove_router_interface", self.remove_interface)

    # -- discovery
    def versions(self, req: Request) -> Response:
        href = f"{req.base_url}{_prefix(req.path)}/v2.0/"
        return json_response(200, {"versions": [
            {"id": "v2.0", "status": "CURRENT", "links": [{"rel": "self", "href": href}]}]})

    def resources(self, req: Request) -> Response:
        base = f"{req.base_url}{_prefix(req.path)}/v2.0"
        return json_response(200, {"resources": [
            {"name": r.member, "collection": r.plural,
             "links": [{"rel": "self", "href": f"{base}/{r.collection}"}]} for r in RESOURCES]})

    def extensions(self, req: Request) -> Response:
        return json_response(200, {"extensions": [_extension(*e) for e in EXTENSIONS]})

    def extension(self, req: Request) -> Response:
        alias = req.params["alias"]
        for e in EXTENSIONS:
            if e[0] == alias:
                return json_response(200, {"extension": _extension(*e)})
        raise NotFound(f"Extension with alias {alias} does not exist", type="HTTPNotFound")

    # -- CRUD
    def _list(self, res: Resource) -> Callable[[Request], Response]:
        def handler(req: Request) -> Response:
            items = crud(self.cloud, res).list(req.context)
            filters = query_filters(req.query)
            found = [i for i in items if matches(i, filters) and tags_match(i, req.query)]
            url = f"{req.base_url}{req.path}"
            body = page(found, req.query, set(res.attrs) | _READ_ONLY_SORT_KEYS, res.plural,
                        url)
            fields = req.query.get("fields")
            body[res.plural] = [project(i, fields) for i in body[res.plural]]
            return json_response(200, body)
        return handler

    def _show(self, res: Resource) -> Callable[[Request], Response]:
        def handler(req: Request) -> Response:
            item = crud(self.cloud, res).show(req.context, req.params["id"])
            return json_response(200, {res.member: project(item, req.query.get("fields"))})
        return handler

    def _create(self, res: Resource) -> Callable[[Request], Response]:
        def handler(req: Request) -> Response:
            _writer(req, f"create_{res.member}")
            body = req.json()
            create = crud(self.cloud, res).create
            if isinstance(body, dict) and res.plural in body:
                # Bulk: every item is validated before any is created; the request's one
                # store transaction makes the creates all or nothing, as Neutron's bulk is.
                items = [res.validate({res.member: i}, "POST") for i in _bulk(body, res)]
                self._check_quota(req, res, items)
                created = [create(req.context, {res.member: data}) for data in items]
                return json_response(201, {res.plural: created})
            data = res.validate(body, "POST")
            self._check_quota(req, res, [data])
            return json_response(201, {res.member: create(req.context, {res.member: data})})
        return handler

    def _check_quota(self, req: Request, res: Resource, items: list[dict[str, Any]]) -> None:
        """Neutron's API layer reserves quota for what a POST creates, per owning project."""
        per: dict[str, int] = {}
        for data in items:
            owner = data.get("project_id") or data.get("tenant_id") or req.context.project_id
            per[str(owner)] = per.get(str(owner), 0) + 1
        for owner, count in per.items():
            self.cloud.quotas.check_quota(owner, res.member, count)

    def _update(self, res: Resource) -> Callable[[Request], Response]:
        def handler(req: Request) -> Response:
            _writer(req, f"update_{res.member}")
            data = res.validate(req.json(), "PUT")
            update = crud(self.cloud, res).update
            if update is None:
                raise OvnlabError(f"{res.member} cannot be updated")  # no PUT route for it
            item = update(req.context, req.params["id"], {res.member: data})
            return json_response(200, {res.member: item})
        return handler

    def _delete(self, res: Resource) -> Callable[[Request], Response]:
        def handler(req: Request) -> Response:
            _writer(req, f"delete_{res.member}")
            crud(self.cloud, res).delete(req.context, req.params["id"])
            return Response(204)
        return handler

    # -- tags (standard-attr-tag)
    def _tags(self, res: Resource, verb: str) -> Callable[[Request], Response]:
        kind = Taggable(res.member)

        def handler(req: Request) -> Response:
            rid = req.params["id"]
            if verb == "get":
                return json_response(200, {"tags": self.cloud.tags.get_tags(req.context, kind, rid)})
            _writer(req, f"update_{res.member}")
            if verb == "put":
                tags = self.cloud.tags.update_tags(req.context, kind, rid, validate_tags(req.json()))
                return json_response(200, {"tags": tags})
            self.cloud.tags.update_tags(req.context, kind, rid, [])
            return Response(204)
        return handler

    def _tag(self, res: Resource, verb: str) -> Callable[[Request], Response]:
        kind = Taggable(res.member)

        def handler(req: Request) -> Response:
            rid, tag = req.params["id"], req.params["tag"]
            if verb == "get":
                self.cloud.tags.check_tag(req.context, kind, rid, tag)
                return Response(204)
            _writer(req, f"update_{res.member}")
            if verb == "put":
                self.cloud.tags.add_tag(req.context, kind, rid, tag)
                return Response(201)
            self.cloud.tags.remove_tag(req.context, kind, rid, tag)
            return Response(204)
        return handler

    # -- quotas (quotasv2, quota_details)
    def list_quotas(self, req: Request) -> Response:
        return json_response(200, {"quotas": self.cloud.quotas.get_quotas(req.context)})

    def _quota(self, method: Callable[[Context, str], object]) -> Callable[[Request], Response]:
        def handler(req: Request) -> Response:
            quota = method(req.context, req.params["project_id"])
            return json_response(200, {"quota": quota})
        return handler

    def update_quota(self, req: Request) -> Response:
        quota = self.cloud.quotas.update_quota(req.context, req.params["project_id"], req.json())
        return json_response(200, {"quota": quota})

    def delete_quota(self, req: Request) -> Response:
        self.cloud.quotas.delete_quota(req.context, req.params["project_id"])
        return Response(204)

    # -- agents (read only: ML2/OVN's come from the SB chassis)
    def agents(self, req: Request) -> Response:
        items = self.cloud.get_agents(req.context)
        fields = req.query.get("fields")
        body = [project(i, fields) for i in items if matches(i, query_filters(req.query))]
        return json_response(200, {"agents": body})

    def agent(self, req: Request) -> Response:
        item = self.cloud.get_agent(req.context, req.params["id"])
        return json_response(200, {"agent": project(item, req.query.get("fields"))})

    # -- router interfaces (bare bodies, not wrapped)
    def add_interface(self, req: Request) -> Response:
        _writer(req, "add_router_interface")
        body = _interface_body(req.json())
        info = self.cloud.l3.add_router_interface(req.context, req.params["id"], body)
        return json_response(200, info)

    def remove_interface(self, req: Request) -> Response:
        _writer(req, "remove_router_interface")
        body = _interface_body(req.json())
        info = self.cloud.l3.remove_router_interface(req.context, req.params["id"], body)
        return json_response(200, info)


def _writer(req: Request, action: str) -> None:
    """Neutron's default write rules need the member role: a reader is refused."""
    if getattr(req.context, "reader_only", False):
        raise policy_error(action)


def _bulk(body: dict[str, Any], res: Resource) -> list[Any]:
    """`prepare_request_body` for a bulk POST: a non-empty list under the collection key."""
    if len(body) != 1:
        extra = ", ".join(sorted(k for k in body if k != res.plural))
        raise BadRequest(f"Unrecognized attribute(s) '{extra}'", type="HTTPBadRequest")
    items = body[res.plural]
    if not isinstance(items, list) or not items:
        raise BadRequest("Resources required", type="HTTPBadRequest")
    return items


def _interface_body(body: Any) -> dict[str, str]:
    if not isinstance(body, dict):
        raise BadRequest("Bad router request: Either subnet_id or port_id must be specified.",
                         type="BadRequest")
    unknown = sorted(k for k in body if k not in ("subnet_id", "port_id"))
    if unknown:
        raise BadRequest(f"Unrecognized attribute(s) '{', '.join(unknown)}'",
                         type="HTTPBadRequest")
    if "subnet_id" in body and "port_id" in body:
        raise BadRequest("Bad router request: Cannot specify both subnet-id and port-id.",
                         type="BadRequest")
    if not body:
        raise BadRequest("Bad router request: Either subnet_id or port_id must be specified.",
                         type="BadRequest")
    for k, v in body.items():
        Str().convert(v, k)
    return dict(body)


def _prefix(path: str) -> str:
    """The service prefix of a request path ('/networking' or '')."""
    head = path.split("/v2.0", 1)[0].rstrip("/")
    return head
